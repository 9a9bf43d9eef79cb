"""A report's table as data (title, columns, rows of text cells), laid out once and rendered both to a rich table
for the terminal and to Markdown for the report file, so the two never list different columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from rich.markup import escape
from rich.table import Table


@dataclass(frozen=True)
class Section:
    """One table: the first column names the row (left-aligned), the others are figures (right-aligned). `note` is
    the prose the Markdown report puts between `heading` and the table; the terminal shows the title alone."""

    title: str
    columns: tuple[str, ...]
    rows: list[list[str]] = field(default_factory=list)
    heading: str = ""  # the Markdown heading ("" for none: the table follows the lines before it)
    note: str = ""


def fmt(value: Any, spec: str, unit: str = "") -> str:
    """A figure formatted with `spec` and `unit`, or "-" where it was not measured."""
    return "-" if value is None else format(value, spec) + unit


def to_rich(section: Section) -> Table:
    """The section as a rich table; cells are text, never markup (a `[free]` label stays as written)."""
    table = Table(title=escape(section.title))
    for i, column in enumerate(section.columns):
        table.add_column(escape(column), justify="left" if i == 0 else "right")
    for row in section.rows:
        table.add_row(*(escape(cell) for cell in row))
    return table


def to_markdown(section: Section) -> list[str]:
    """The section as Markdown lines: heading, note and table, each followed by a blank line where present."""
    lines = [f"## {section.heading}", ""] if section.heading else []
    lines += [section.note, ""] if section.note else []
    lines += [_markdown_row(section.columns), "|" + "---|" * len(section.columns)]
    return lines + [_markdown_row(row) for row in section.rows]


def _markdown_row(cells: Iterable[str]) -> str:
    return "|" + "".join(f" {cell} |" if cell else " |" for cell in cells)
