"""BFCL's ground-truth call strings (`cd(folder='document')`, `sort('report.pdf')`) read as data: the name and
literal arguments, through ast and literal_eval, never eval."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from edgefc.errors import EdgefcError


@dataclass(frozen=True)
class Call:
    """One call: a function name with positional and keyword arguments (plain Python literals)."""

    name: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)


def parse_call(text: str) -> Call:
    """The call a BFCL call string spells; anything but `name(literal, ..., key=literal, ...)` is refused."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            raise ValueError("not a call of a plain name")
        if any(keyword.arg is None for keyword in node.keywords) or any(
                isinstance(arg, ast.Starred) for arg in node.args):
            raise ValueError("* and ** arguments are not literals")
        return Call(node.func.id, [ast.literal_eval(arg) for arg in node.args],
                    {keyword.arg: ast.literal_eval(keyword.value) for keyword in node.keywords})
    except (SyntaxError, ValueError, TypeError) as exc:
        raise EdgefcError(f"cannot read the BFCL call {text!r} ({exc})") from exc
