"""Held-out scoring with the bench's scorer: a training record becomes a BFCL entry, its greedy answer is decoded
as BFCL decodes it and judged by edgefc's BFCL checker (the one tests hold equal to bfcl-eval's).

A record with no call is an irrelevance entry; one call among one tool is simple, among several multiple; several
calls are parallel_multiple (any order). Tools become BFCL function docs (JSON Schema types mapped to BFCL's), the
ground truth one option per argument, and optional parameters the truth leaves out may be left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edgefc.bfcl.checker import check
from edgefc.bfcl.data import Entry
from edgefc.bfcl.decode import official_decode
from edgefc.protocol.facts import states
from edgefc.protocol.parse import parse, to_bfcl
from edgefc.train.data.record import column_value

_BFCL_TYPES = {"string": "string", "integer": "integer", "number": "float", "boolean": "boolean", "array": "array",
               "object": "dict"}
_PY_TYPES = {str: "string", int: "integer", float: "float", bool: "boolean", list: "array", dict: "dict"}


def _bfcl_type(schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    """A JSON Schema property as a BFCL doc property (arrays keep an item type: the checker reads it)."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    name = _BFCL_TYPES.get(kind) if kind else _PY_TYPES.get(type(example), "any")
    out: dict[str, Any] = {"type": name or "any"}
    if out["type"] == "array":
        first = example[0] if isinstance(example, list) and example else None
        out["items"] = _bfcl_type(schema.get("items") or {}, first)
    return out


def to_entry(record: dict[str, Any]) -> Entry:
    """The BFCL entry a training record stands for (see the module doc)."""
    tools = column_value(record["tools"])
    calls = column_value(record["calls"])
    truth = {call["name"]: call["arguments"] for call in calls}
    docs = []
    for tool in tools:
        fn = tool["function"]
        params = fn.get("parameters") or {}
        given = truth.get(fn["name"], {})
        properties = {key: _bfcl_type(schema, given.get(key)) for key, schema in (params.get("properties") or {}).items()}
        docs.append({"name": fn["name"], "description": fn.get("description", ""),
                     "parameters": {"type": "dict", "properties": properties, "required": params.get("required", [])}})
    if not calls:
        category, answer = "irrelevance", None
    else:
        category = "parallel_multiple" if len(calls) > 1 else "multiple" if len(tools) > 1 else "simple_python"
        answer = []
        for call in calls:
            doc = next(d for d in docs if d["name"] == call["name"])
            options = {key: [value] for key, value in call["arguments"].items()}
            options.update({key: [""] for key in doc["parameters"]["properties"] if key not in options})
            answer.append({call["name"]: options})
    return Entry(id=str(record.get("id", "")), category=category, question=column_value(record["messages"]),
                 functions=docs, answer=answer)


def score_answer(record: dict[str, Any], text: str) -> tuple[bool, bool]:
    """(BFCL-decoded verdict, verdict on edgefc's tolerant reading) of one answer to one record. A record due a text
    answer (after a tool result) passes when no call decodes and the text states every fact."""
    parsed = parse(text, column_value(record["tools"]))
    if record.get("answer"):
        stated = all(states(text, fact) for fact in column_value(record.get("facts") or "[]"))
        return stated and not official_decode(text), stated and not parsed.calls
    entry = to_entry(record)
    tolerant = None if parsed.errors and not parsed.calls else to_bfcl(parsed.calls)
    return check(entry, official_decode(text)).valid, check(entry, tolerant).valid


def score(records: list[dict[str, Any]], texts: Sequence[str]) -> dict[str, Any]:
    """Accuracy of the model's `texts` (one per record, in order) over held-out records: BFCL-decoded and tolerant,
    the BFCL-decoded accuracy per family (or source, for loaded records), and `decision`: the share of records
    where the model called exactly when the reference does (a run that calls always, or never, shows here first)."""
    verdicts = [score_answer(r, text) for r, text in zip(records, texts, strict=True)]
    n = max(len(verdicts), 1)
    families: dict[str, list[bool]] = {}
    for record, verdict in zip(records, verdicts):
        families.setdefault(record.get("family") or record.get("source", ""), []).append(verdict[0])
    decided = sum(bool(parse(text).calls) == bool(column_value(r["calls"])) for r, text in zip(records, texts))
    return {"accuracy": sum(v[0] for v in verdicts) / n, "accuracy_tolerant": sum(v[1] for v in verdicts) / n,
            "decision": decided / n, "n": len(verdicts),
            "by_family": {k: sum(v) / len(v) for k, v in sorted(families.items())}}
