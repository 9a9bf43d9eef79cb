"""Toucan-1.5M (Agent-Ark): parquet with columns `uuid, subset_name, messages, question, available_tools, ...`.

`messages` is a JSON list in Qwen-Agent's form: a system message (the generating model's tool declaration), user
and assistant text, assistant messages with `function_call` {name, arguments: JSON text} (consecutive ones are
parallel calls of one turn) and `function` messages with the results. `available_tools` is JSON, OpenAI form.

Rows of subset `irrelevant` (questions paired with another server's tools) become server_shuffle negatives of
their first user message. Other rows give one record per assistant turn that calls tools, with the conversation
before it; earlier call turns are rewritten in edgefc's protocol, their prose dropped, as the model is trained to
answer; the system message is dropped (the tools are the `tools` column).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edgefc.errors import EdgefcError, require
from edgefc.protocol.parse import format_tool_calls
from edgefc.train.data.record import Record, RecordError, make_record, records_from

SOURCE = "toucan"
COLUMNS = ("uuid", "subset_name", "messages", "available_tools")
IRRELEVANT = "irrelevant"
_BATCH_ROWS = 1024


def load(path: str | Path, skipped: Counter[str]) -> Iterator[Record]:
    """The records of one Toucan parquet file, read in batches; bad rows are counted in `skipped` by reason."""
    pq = require("pyarrow.parquet", "train")
    try:
        parquet = pq.ParquetFile(path)
        names = parquet.schema_arrow.names
    except (OSError, ValueError) as exc:
        raise EdgefcError(f"{path} is not a readable parquet file ({exc})") from exc
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise EdgefcError(f"{path} is not Toucan data: it has no column {', '.join(map(repr, missing))}")
    rows = (row for batch in parquet.iter_batches(batch_size=_BATCH_ROWS, columns=list(COLUMNS))
            for row in batch.to_pylist())
    yield from records_from(rows, _records, skipped)


def _records(row: dict[str, Any]) -> list[Record]:
    """One Toucan row's records; RecordError when the row is unusable."""
    messages = _json_column(row, "messages")
    tools = _json_column(row, "available_tools")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise RecordError("messages is not a list of objects")
    if row["subset_name"] == IRRELEVANT:
        first_user = next((m for m in messages if m.get("role") == "user"), None)
        if first_user is None:
            raise RecordError("no user message")
        return [make_record([first_user], tools, [], SOURCE, negative_type="server_shuffle")]
    records = []
    history: list[dict[str, str]] = []
    for role, content, calls in _turns(messages):
        if calls:
            records.append(make_record(history, tools, calls, SOURCE))
            content = format_tool_calls(calls)
        history.append({"role": role, "content": content})
    if not records:
        raise RecordError("no assistant turn calls a tool")
    return records


def _turns(messages: list[dict[str, Any]]) -> Iterator[tuple[str, str, list[dict[str, Any]]]]:
    """(role, text, calls) per turn, consecutive assistant messages merged into one; system messages left out."""
    turn: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role == "assistant":
            turn.append(message)
            continue
        if turn:
            yield _assistant_turn(turn)
            turn = []
        if role == "user":
            yield "user", _text(message), []
        elif role == "function":
            yield "tool", _text(message), []
        elif role != "system":
            raise RecordError(f"a message with an unknown role: {str(role)[:30]!r}")
    if turn:
        yield _assistant_turn(turn)


def _assistant_turn(messages: list[dict[str, Any]]) -> tuple[str, str, list[dict[str, Any]]]:
    """One assistant turn: its prose joined, and its calls in order."""
    text = "\n".join(_text(m) for m in messages if _text(m))
    return "assistant", text, [_call(m["function_call"]) for m in messages if m.get("function_call")]


def _call(function_call: object) -> dict[str, Any]:
    """A Qwen-Agent function_call {name, arguments: JSON text} as {name, arguments}."""
    if not isinstance(function_call, dict) or not isinstance(function_call.get("name"), str):
        raise RecordError("a function_call without a name")
    arguments = function_call.get("arguments") or "{}"
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError as exc:
            raise RecordError("function_call arguments that are not valid JSON") from exc
    return {"name": function_call["name"], "arguments": arguments}


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if content is None:
        return ""
    if not isinstance(content, str):
        raise RecordError("a message whose content is not text")
    return content


def _json_column(row: dict[str, Any], column: str) -> Any:
    """A column holding JSON text."""
    value = row[column]
    if not isinstance(value, str):
        raise RecordError(f"{column} is not JSON text")
    try:
        return json.loads(value)
    except ValueError as exc:
        raise RecordError(f"{column} is not valid JSON") from exc
