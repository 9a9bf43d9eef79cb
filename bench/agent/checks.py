"""The agent suite's checks, pure functions over what a run did: each returns None when it passes, else one
sentence saying what was wrong.

Comparisons are loose where a model's wording may differ from the task writer's without being wrong: text is
folded (Unicode decomposed, accents and Vietnamese tone marks dropped, đ read as d, case and runs of spaces
ignored, so "Hà Nội" matches "ha noi"), and numbers compare by value ("21", 21 and 21.0 are one value).
"""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from edgefc.protocol.facts import fold, states

# Folded phrases that say "I cannot do that" in English or Vietnamese; the refusal sentence is one of them.
DECLINES = ("none of the provided tools", "i can't", "i cannot", "i can not", "i am unable", "i'm unable",
            "i am not able", "i'm not able", "not able to", "unable to", "i don't have", "i do not have", "no tool",
            "sorry", "khong the", "xin loi", "khong co cong cu", "khong ho tro", "khong co kha nang")


def loose(value: Any) -> Any:
    """A value as compared: numbers (and strings that read as one) as floats, other strings folded, booleans
    apart from numbers (true is not 1), lists and objects item by item."""
    if isinstance(value, bool):
        return ("bool", value)
    if value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return fold(value)
        return number if math.isfinite(number) else fold(value)  # "Nan" the name is not a number
    if isinstance(value, Mapping):
        return {str(k): loose(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [loose(v) for v in value]
    return value


def _covers(expected: Mapping[str, Any], made: Mapping[str, Any]) -> bool:
    """Whether a made call is the expected one: the same name, and every expected argument with a loosely equal
    value (arguments the task does not name may be anything)."""
    arguments = made.get("arguments")
    return (made.get("name") == expected["name"] and isinstance(arguments, Mapping)
            and all(k in arguments and loose(arguments[k]) == loose(v) for k, v in expected["arguments"].items()))


def check_calls(expected: Sequence[Mapping[str, Any]], made: Sequence[Mapping[str, Any]]) -> str | None:
    """Every expected call matched by a call of its own among those made, in any order; more calls may have been
    made (a lookup before the action, a retry after an error)."""
    def match(i: int, free: frozenset[int]) -> bool:
        return i == len(expected) or any(match(i + 1, free - {j}) for j in free if _covers(expected[i], made[j]))

    if match(0, frozenset(range(len(made)))):
        return None
    missing = [e for e in expected if not any(_covers(e, m) for m in made)] or list(expected)
    shown = ", ".join(f"{m['name']}({_args(m.get('arguments'))})" for m in made) or "none"
    return f"expected {missing[0]['name']}({_args(missing[0]['arguments'])}); calls made: {shown}"


def _args(arguments: Any) -> str:
    if not isinstance(arguments, Mapping):
        return repr(arguments)
    return ", ".join(f"{k}={v!r}" for k, v in arguments.items())


def check_facts(facts: Sequence[Sequence[str]], answer: str | None) -> str | None:
    """Every fact stated in the answer (edgefc.protocol.facts: folded, numbers not read inside longer ones)."""
    for spellings in facts:
        if not states(answer or "", spellings):
            return f"the answer does not state {' / '.join(repr(s) for s in spellings)}"
    return None


def check_sql(db: Path, query: str, expect: Sequence[Sequence[Any]]) -> str | None:
    """The database after the run: the query's rows equal the expected ones, loosely and in any order. A database
    the tools never created fails (its state cannot be what the task expects)."""
    if not db.is_file():
        return "no tool opened the database"
    try:
        with sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True) as con:
            rows = con.execute(query).fetchall()
    except sqlite3.Error as exc:
        return f"the query failed: {exc}"
    got, want = _canonical(rows), _canonical(expect)
    if got == want:
        return None
    return f"the query gave {[list(r) for r in rows]!r}, expected {[list(r) for r in expect]!r}"


def _canonical(rows: Iterable[Sequence[Any]]) -> list[str]:
    """Rows as a sorted list of their loose forms: equal lists mean equal rows, order aside."""
    return sorted(repr(loose(list(row))) for row in rows)


def declines(answer: str | None) -> bool:
    """Whether a text answer declines (the refusal sentence, or an "I can't" in English or Vietnamese)."""
    said = fold(answer or "")
    return any(phrase in said for phrase in DECLINES)


def check_negative(made: Sequence[Mapping[str, Any]], answer: str | None, refused: bool) -> str | None:
    """A request no tool serves: no call made, and an answer that refuses or declines."""
    if made:
        return f"the model called {', '.join(m['name'] for m in made)}"
    if not (refused or declines(answer)):
        return f"the answer does not decline: {answer!r}"
    return None
