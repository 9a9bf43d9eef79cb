"""ToolACE (Team-ACE): rows `system, conversations`; the tools are a JSON list inside the system prose, the calls
are bracketed Python-call text such as `[Weather API(city="Oslo"), Other(x=1)]` whose names may contain spaces.

One record per assistant turn that calls tools, with the conversation before it (user, earlier assistant turns,
tool results). Earlier call turns are rewritten in edgefc's protocol (format_tool_calls), the form the model is
trained to write. The system prose is dropped: it only carries the tools (the `tools` column) and instructions for
ToolACE's own bracketed call format. Call text is read with Python's ast after the names are swapped for
placeholders, never evaluated. Rows with no call turn (clarifying questions, refusals in free text) are counted.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edgefc.protocol.parse import format_tool_calls
from edgefc.train.data.jsonrows import read_rows
from edgefc.train.data.record import Record, RecordError, make_record, records_from

SOURCE = "toolace"
COLUMNS = ("system", "conversations")
ROLES = {"user": "user", "assistant": "assistant", "tool": "tool"}
_JSON_WORDS = {"true": True, "false": False, "null": None}  # JSON literals ToolACE sometimes writes in calls
_DECODER = json.JSONDecoder()
_QUOTES = "'\""
_OPENERS = {"(": ")", "[": "]", "{": "}"}


def load(path: str | Path, skipped: Counter[str]) -> Iterator[Record]:
    """The records of a ToolACE .json list or .jsonl file; bad rows are counted in `skipped` by reason."""
    yield from records_from(read_rows(path, "ToolACE", COLUMNS, skipped), _records, skipped)


def _records(row: dict[str, Any]) -> list[Record]:
    """Every call turn of one conversation as a record; RecordError when the row is unusable."""
    if not isinstance(row.get("system"), str) or not isinstance(row.get("conversations"), list):
        raise RecordError("a row without system text and a conversations list")
    tools = tools_in_text(row["system"])
    names = [tool["name"] for tool in tools]
    history: list[dict[str, str]] = []
    records: list[Record] = []
    for turn in row["conversations"]:
        if not isinstance(turn, dict) or turn.get("from") not in ROLES or not isinstance(turn.get("value"), str):
            raise RecordError("a conversation turn that is not {from: user|assistant|tool, value: text}")
        role, text = ROLES[turn["from"]], turn["value"]
        calls = parse_calls(text, names) if role == "assistant" and _looks_like_calls(text) else None
        if calls is not None:
            records.append(make_record(history, tools, calls, SOURCE))
            text = format_tool_calls(calls)
        history = [*history, {"role": role, "content": text}]
    if not records:
        raise RecordError("no assistant turn calls a tool")
    return records


def tools_in_text(text: str) -> list[dict[str, Any]]:
    """The first JSON list of named tool objects inside prose; RecordError if there is none."""
    start = text.find("[")
    while start >= 0:
        try:
            value, _ = _DECODER.raw_decode(text, start)
        except ValueError:
            value = None
        if isinstance(value, list) and value and all(isinstance(t, dict) and "name" in t for t in value):
            return value
        start = text.find("[", start + 1)
    raise RecordError("no JSON list of tools in the system text")


def _looks_like_calls(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith("[") and stripped.endswith("]") and "(" in stripped


def parse_calls(text: str, names: list[str]) -> list[dict[str, Any]]:
    """`[Name A(x=1), b(y="z")]` as calls; the names must be among `names`. RecordError if it does not parse."""
    inner = text.strip()[1:-1]
    found: list[str] = []
    source = _protect_names(inner, found)
    try:
        tree = ast.parse(f"[{source}]", mode="eval").body
    except SyntaxError as exc:
        raise RecordError("an assistant call turn that does not parse") from exc
    if not isinstance(tree, ast.List) or len(tree.elts) != len(found):
        raise RecordError("an assistant call turn that does not parse")
    calls = []
    for node, name in zip(tree.elts, found):
        if not isinstance(node, ast.Call) or node.args or any(k.arg is None for k in node.keywords):
            raise RecordError("an assistant call with positional or ** arguments")
        if name not in names:
            raise RecordError("a call to a tool not offered")
        calls.append({"name": name, "arguments": {k.arg: _literal(k.value) for k in node.keywords}})
    return calls


def _protect_names(inner: str, found: list[str]) -> str:
    """The call list with every top-level call name (any characters, spaces too) replaced by `_fN`.

    Names are read at bracket depth 0 outside strings: from the start or the last top-level comma up to `(`.
    """
    out: list[str] = []
    depth, quote, start, i = 0, "", 0, 0
    while i < len(inner):
        char = inner[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in _QUOTES:
            quote = char
        elif char == "(" and depth == 0:
            found.append(inner[start:i].strip())
            out.append(f"_f{len(found) - 1}")
            depth, start = 1, i
        elif char in _OPENERS:
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                out.append(inner[start:i + 1])
                start = i + 1
        elif char == "," and depth == 0:
            out.append(",")
            start = i + 1
        i += 1
    if depth or quote or inner[start:].strip():
        raise RecordError("an assistant call turn that does not parse")
    return "".join(out)


def _literal(node: ast.expr) -> Any:
    """A Python literal argument value; the JSON words true/false/null are read as such."""
    if isinstance(node, ast.Name) and node.id in _JSON_WORDS:
        return _JSON_WORDS[node.id]
    if isinstance(node, ast.List):
        return [_literal(item) for item in node.elts]
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_literal(key): _literal(value) for key, value in zip(node.keys, node.values)}
    try:
        return ast.literal_eval(node)
    except ValueError as exc:
        raise RecordError("an assistant call with an argument that is not a literal") from exc
