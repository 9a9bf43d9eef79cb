"""BFCL's Qwen FC decoding, as bfcl-eval's handler applies it (strict), next to edgefc's tolerant parser."""

from __future__ import annotations

import edgefc
from edgefc.bfcl.decode import official_decode


def test_exact_blocks_decode() -> None:
    text = ('<tool_call>\n{"name": "math.factorial", "arguments": {"n": 5}}\n</tool_call>\n'
            '<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>')
    assert official_decode(text) == [{"math.factorial": {"n": 5}}, {"f": {}}]


def test_what_bfcl_does_not_read() -> None:
    fenced = '```json\n{"name": "get_weather", "arguments": {"city": "Tokyo"}}\n```'
    no_newlines = '<tool_call>{"name": "get_weather", "arguments": {"city": "Tokyo"}}</tool_call>'
    assert official_decode(fenced) == [] and official_decode(no_newlines) == []
    assert edgefc.to_bfcl(edgefc.parse(fenced).calls) == [{"get_weather": {"city": "Tokyo"}}]  # tolerant reads it
    assert official_decode("<tool_call>\nnot json\n</tool_call>") == []  # skipped, not an error
    assert official_decode("None of the provided tools can answer this question.") == []


def test_malformed_calls_fail_the_decode() -> None:
    assert official_decode('<tool_call>\n{"name": "f", "arguments": "{\\"a\\": 1}"}\n</tool_call>') is None
    assert official_decode('<tool_call>\n{"arguments": {}}\n</tool_call>') is None
    assert official_decode('<tool_call>\n[1, 2]\n</tool_call>') is None


def test_only_the_text_after_thinking_counts() -> None:
    text = ('<think>\n<tool_call>\n{"name": "a", "arguments": {}}\n</tool_call>\n</think>\n\n'
            '<tool_call>\n{"name": "b", "arguments": {"x": 1}}\n</tool_call>')
    assert official_decode(text) == [{"b": {"x": 1}}]
