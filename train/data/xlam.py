"""xLAM function-calling-60k (Salesforce): rows `id, query, answers, tools`, answers and tools as JSON strings.

Tools have xLAM's flat parameter maps with Python-style types ("List[int]", "str, optional"), which
protocol.schema understands. One record per row: the query as the user message, the answers as the calls.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edgefc.train.data.jsonrows import read_rows
from edgefc.train.data.record import Record, RecordError, make_record, records_from

SOURCE = "xlam"
COLUMNS = ("query", "answers", "tools")


def load(path: str | Path, skipped: Counter[str]) -> Iterator[Record]:
    """The records of an xLAM .json list or .jsonl file; bad rows are counted in `skipped` by reason."""
    yield from records_from(read_rows(path, "xLAM function-calling", COLUMNS, skipped), lambda row: [_record(row)],
                            skipped)


def _record(row: dict[str, Any]) -> Record:
    """One xLAM row as a record."""
    if not all(column in row for column in COLUMNS):
        raise RecordError("a row without query, answers and tools")
    query = row["query"]
    if not isinstance(query, str) or not query.strip():
        raise RecordError("an empty query")
    calls = _json_column(row, "answers")
    if not isinstance(calls, list):
        raise RecordError("answers is not a list")
    return make_record([{"role": "user", "content": query}], _json_column(row, "tools"), calls, SOURCE)


def _json_column(row: dict[str, Any], column: str) -> Any:
    """A column holding a JSON string (or, tolerated, the decoded value itself)."""
    value = row[column]
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as exc:
        raise RecordError(f"{column} is not valid JSON") from exc
