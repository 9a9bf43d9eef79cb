"""Rows of a source file that is a JSON list of objects or JSON lines (xLAM and ToolACE ship both ways)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from edgefc.errors import EdgefcError


def read_rows(path: str | Path, what: str, columns: Sequence[str], skipped: Counter[str]) -> Iterator[dict[str, Any]]:
    """The object rows of a .json list or a .jsonl file; lines that are not objects are counted in `skipped`.

    A file that is neither, or whose rows never hold all of `columns`, is not `what` data: EdgefcError.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EdgefcError(f"cannot read {path} ({exc})") from exc
    rows = _rows(text, skipped)
    if rows is None or not any(isinstance(row, dict) and all(c in row for c in columns) for row in rows):
        raise EdgefcError(f"{path} is not {what} data (a JSON list or JSON lines of rows with "
                          f"{', '.join(repr(c) for c in columns)})")
    for row in rows:
        if isinstance(row, dict):
            yield row
        else:
            skipped["a row that is not a JSON object"] += 1


def _rows(text: str, skipped: Counter[str]) -> list[Any] | None:
    """The rows of the whole text as one JSON value, else as JSON lines; None when neither parses at all."""
    try:
        value = json.loads(text)
    except ValueError:
        pass
    else:
        return value if isinstance(value, list) else [value]
    rows: list[Any] = []
    bad = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError:
            bad += 1
    if not rows:
        return None
    if bad:
        skipped["a line that is not valid JSON"] += bad
    return rows
