"""Fuzz edgefc.protocol.parse: it never raises, always returns well-typed results, and round-trips exactly.

10,500 generated outputs in all (5,000 + 2,500 + 1,250 + 1,250 + 500); the database is off so runs leave nothing behind.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgefc.protocol.parse import REFUSAL, ParseError, ParseResult, ToolCall, format_tool_calls, parse

FUZZ = settings(max_examples=2_500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

FORMATS = {"tool_call", "json_fence", "json", "none"}
KINDS = {"calls", "refusal", "text", "empty"}

# Think tags are recognised anywhere (thinking comes first and may mention <tool_call>), so argument
# strings that contain them are the one thing format_tool_calls -> parse does not round-trip.
THINK_TAGS = ("<think>", "</think>")


def _no_think_tags(text: str) -> bool:
    return not any(tag in text for tag in THINK_TAGS)


# Strings that look like protocol inside argument values, which must survive the round trip untouched.
PROTOCOL_LOOKALIKES = ["<tool_call>", "</tool_call>", "```", "```json\n", "{", "}", '"', "\\", REFUSAL, '{"name": "x"}']
text_values = st.text(max_size=12).filter(_no_think_tags) | st.sampled_from(PROTOCOL_LOOKALIKES)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text_values,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text_values, children, max_size=4),
    max_leaves=4,
)
names = (st.text(min_size=1, max_size=20) | st.sampled_from(PROTOCOL_LOOKALIKES)).filter(lambda name: bool(name.strip()) and _no_think_tags(name))
tool_calls = st.builds(
    lambda name, arguments: {"name": name, "arguments": arguments},
    names,
    st.dictionaries(text_values, json_values, max_size=3),
)
call_lists = st.lists(tool_calls, min_size=1, max_size=3)

FRAGMENTS = [
    "<tool_call>", "</tool_call>", "<think>", "</think>", "```json", "```", "```tool_call", "```python",
    "{", "}", "[", "]", '"name"', '"arguments"', '"parameters"', '"function"', '"type"', ":", ",", '"', "'",
    "\\", '\\"', "\n", " ", "null", "true", "True", "None", "1e999", "-0", "NaN", "Tiếng Việt", "東京", "😀",
    "\u2028", "\x00", REFUSAL, REFUSAL.lower(), '{"name": "f", "arguments": {}}', '"get_weather"',
    format_tool_calls([{"name": "get_weather", "arguments": {"city": "Hà Nội"}}]),
]
fragments = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.text(max_size=6),
    json_values.map(lambda value: json.dumps(value, ensure_ascii=False)),
)


def check(result: ParseResult) -> None:
    """Every result is well-typed, self-consistent and JSON-serialisable; no error comes from a parser bug."""
    assert isinstance(result, ParseResult)
    assert isinstance(result.calls, list)
    for call in result.calls:
        assert isinstance(call, dict) and set(call) == {"name", "arguments"}
        assert isinstance(call["name"], str) and call["name"].strip()
        assert isinstance(call["arguments"], dict)
    assert isinstance(result.content, str) and result.content == result.content.strip()
    assert isinstance(result.think, list) and all(isinstance(t, str) and t for t in result.think)
    assert isinstance(result.refusal, bool) and not (result.refusal and result.calls)
    assert result.format in FORMATS and (result.format == "none") == (not result.calls)
    assert result.kind in KINDS
    for error in result.errors:
        assert isinstance(error, ParseError)
        assert isinstance(error.source, str) and len(error.source) <= 200
        assert isinstance(error.reason, str) and error.reason
        assert not error.reason.startswith("internal")
    json.dumps(result.to_dict())


def _same(a: Any, b: Any) -> bool:
    """Equality that also tells -0.0 from 0.0 and 1 from 1.0 from True, as exact round trips must."""
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return type(a) is type(b) and a == b


@settings(FUZZ, max_examples=5_000)
@given(st.text(max_size=400))
def test_arbitrary_text(text: str) -> None:
    check(parse(text))


@FUZZ
@given(st.lists(fragments, max_size=30).map("".join))
def test_adversarial_fragments(text: str) -> None:
    check(parse(text))


@settings(FUZZ, max_examples=1_250)
@given(call_lists, st.sampled_from(["truncate", "insert", "delete"]), st.integers(min_value=0), st.characters())
def test_mutated_calls(calls: list[ToolCall], mutation: str, position: int, char: str) -> None:
    text = format_tool_calls(calls)
    at = position % (len(text) + 1)
    if mutation == "truncate":
        result = parse(text[:at])
        check(result)
        assert _same(result.calls, calls[: len(result.calls)])  # a cut never invents or changes a call
    elif mutation == "insert":
        check(parse(text[:at] + char + text[at:]))
    else:
        check(parse(text[:at] + text[at + 1 :]))


@settings(FUZZ, max_examples=1_250)
@given(call_lists)
def test_round_trip(calls: list[ToolCall]) -> None:
    result = parse(format_tool_calls(calls))
    check(result)
    assert _same(result.calls, calls)
    assert (result.format, result.content, result.errors, result.think) == ("tool_call", "", [], [])


@settings(FUZZ, max_examples=500)
@given(st.lists(tool_calls, min_size=1, max_size=2), st.text(max_size=40), st.text(max_size=40))
def test_qwen_coder_fence_round_trip(calls: list[ToolCall], before: str, after: str) -> None:
    fence = "```json\n" + json.dumps(calls if len(calls) > 1 else calls[0], ensure_ascii=False, indent=2) + "\n```"
    result = parse(f"{before.replace('`', '')}\n{fence}\n{after.replace('`', '')}")
    check(result)
    if _no_think_tags(before + after):
        assert _same(result.calls, calls)
