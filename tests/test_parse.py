"""Tests for edgefc.protocol.parse: model text -> calls, refusal, text and thinking, exactly and without raising."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from edgefc.protocol.parse import REFUSAL, ParseError, ParseResult, ToolCall, format_tool_calls, parse, to_bfcl

WEATHER: ToolCall = {"name": "get_weather", "arguments": {"city": "Tokyo"}}
TIME: ToolCall = {"name": "get_time", "arguments": {"timezone": "Asia/Tokyo", "format": 24}}


def call(name: str, **arguments: Any) -> ToolCall:
    return {"name": name, "arguments": arguments}


# The reference format: <tool_call> blocks


def test_single_call_with_inner_newlines() -> None:
    result = parse('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Tokyo"}}\n</tool_call>')
    assert result.calls == [WEATHER]
    assert (result.kind, result.format, result.content, result.errors, result.refusal) == (
        "calls", "tool_call", "", [], False,
    )


def test_single_call_without_inner_newlines() -> None:
    result = parse('<tool_call>{"name": "get_weather", "arguments": {"city": "Tokyo"}}</tool_call>')
    assert result.calls == [WEATHER]
    assert result.format == "tool_call"


def test_whitespace_around_json_is_tolerated() -> None:
    result = parse('  <tool_call>  \n\t {"name":"get_weather","arguments":{"city":"Tokyo"}} \n\n </tool_call>  ')
    assert result.calls == [WEATHER]
    assert result.content == ""


def test_two_parallel_blocks() -> None:
    text = (
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Tokyo"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "get_time", "arguments": {"timezone": "Asia/Tokyo", "format": 24}}\n</tool_call>'
    )
    result = parse(text)
    assert result.calls == [WEATHER, TIME]
    assert result.content == ""
    assert result.errors == []


def test_list_of_calls_inside_one_block() -> None:
    text = '<tool_call>[{"name": "get_weather", "arguments": {"city": "Tokyo"}}, {"name": "get_time", "arguments": {"timezone": "Asia/Tokyo", "format": 24}}]</tool_call>'
    assert parse(text).calls == [WEATHER, TIME]


def test_json_fence_inside_a_block() -> None:
    text = '<tool_call>\n```json\n{"name": "get_weather", "arguments": {"city": "Tokyo"}}\n```\n</tool_call>'
    result = parse(text)
    assert result.calls == [WEATHER]
    assert result.format == "tool_call"


def test_unclosed_final_block_runs_to_the_end() -> None:
    text = '<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>\n<tool_call>\n{"name": "get_time", "arguments": {}}'
    result = parse(text)
    assert result.calls == [call("get_weather"), call("get_time")]
    assert result.unclosed_calls == 1  # BFCL's decoding reads the first call only: the protocol says so


def test_unclosed_block_followed_by_text_keeps_the_text() -> None:
    result = parse('<tool_call>{"name": "get_weather", "arguments": {"city": "Tokyo"}}\nAnything else?')
    assert result.calls == [WEATHER]
    assert result.content == "Anything else?"
    assert result.unclosed_calls == 1


def test_block_without_closing_tag_before_the_next_block() -> None:
    text = '<tool_call>{"name": "a", "arguments": {}}<tool_call>{"name": "b", "arguments": {}}</tool_call>'
    result = parse(text)
    assert result.calls == [call("a"), call("b")]
    assert result.unclosed_calls == 1
    assert parse(format_tool_calls([call("a"), call("b")])).unclosed_calls == 0


def test_closing_tag_inside_an_argument_string() -> None:
    calls = [call("echo", text="</tool_call>\n<tool_call>```"), call("echo", text="done")]
    assert parse(format_tool_calls(calls)).calls == calls


def test_stray_closing_tag_is_not_content() -> None:
    result = parse('Here it is.</tool_call>')
    assert result.content == "Here it is."


# Qwen2.5-Coder style: ```json fences


QWEN_CODER = '```json\n{\n  "name": "get_weather",\n  "arguments": {\n    "city": "Tokyo"\n  }\n}\n```'


def test_pretty_printed_json_fence() -> None:
    result = parse(QWEN_CODER)
    assert result.calls == [WEATHER]
    assert (result.kind, result.format, result.content) == ("calls", "json_fence", "")


def test_fence_with_a_list_of_two_calls() -> None:
    text = "```json\n" + json.dumps([WEATHER, TIME], indent=2) + "\n```"
    result = parse(text)
    assert result.calls == [WEATHER, TIME]
    assert result.format == "json_fence"


@pytest.mark.parametrize("label", ["", "json", "JSON", "tool_call", " json"])
def test_accepted_fence_labels(label: str) -> None:
    assert parse(f'```{label}\n{{"name": "get_weather", "arguments": {{"city": "Tokyo"}}}}\n```').calls == [WEATHER]


def test_two_fences_and_text_around_them() -> None:
    text = f"I will check both.\n{QWEN_CODER}\nand\n```json\n{json.dumps(TIME)}\n```\nDone."
    result = parse(text)
    assert result.calls == [WEATHER, TIME]
    assert result.content == "I will check both.\n\nand\n\nDone."


def test_non_call_json_in_a_fence_stays_content() -> None:
    text = 'The config is:\n```json\n{"city": "Tokyo", "units": "metric"}\n```'
    result = parse(text)
    assert result.calls == []
    assert result.errors == []
    assert result.content == text
    assert result.kind == "text"


def test_json_schema_property_is_not_a_call() -> None:
    assert parse('```json\n{"name": "city", "type": "string"}\n```').calls == []


def test_python_fence_is_not_a_call_fence() -> None:
    result = parse("```python\nprint({'name': 'x'})\n```")
    assert result.calls == []
    assert result.errors == []


def test_broken_call_in_a_fence_is_an_error_and_stays_content() -> None:
    text = '```json\n{"name": "get_weather", "arguments": {"city": "Tokyo"\n```'
    result = parse(text)
    assert result.calls == []
    assert len(result.errors) == 1
    assert "invalid JSON" in result.errors[0].reason
    assert result.content == text


def test_prose_mentioning_the_tag_still_gets_the_fence() -> None:
    result = parse(f"I answer in the <tool_call> format:\n{QWEN_CODER}")
    assert result.calls == [WEATHER]
    assert result.format == "json_fence"


def test_unclosed_fence_runs_to_the_end() -> None:
    assert parse('```json\n{"name": "get_weather", "arguments": {"city": "Tokyo"}}').calls == [WEATHER]


# Bare JSON and JSON in prose


def test_bare_json_object() -> None:
    result = parse('  {"name": "get_weather", "arguments": {"city": "Tokyo"}}\n')
    assert result.calls == [WEATHER]
    assert (result.format, result.content) == ("json", "")


def test_bare_json_list() -> None:
    assert parse(json.dumps([WEATHER, TIME])).calls == [WEATHER, TIME]


def test_untagged_json_without_arguments_is_never_a_call() -> None:
    """A name alone outside tags is data (a person, a city), not a call: the issue's two examples and kin."""
    for text in ('{"name": "Alice"}', '```json\n{"name": "Tokyo", "id": 3}\n```', '{"name": "list_files"}',
                 '[{"name": "a"}, {"name": "b"}]', '{"function": {"name": "x"}}', '{"type": "function", "name": "x"}',
                 'Result: {"name": "Tokyo", "id": 3}'):
        result = parse(text)
        assert (result.calls, result.kind) == ([], "text"), text


def test_tagged_name_only_means_no_arguments() -> None:
    """Inside <tool_call> the model said it is a call: a missing `arguments` means none."""
    assert parse('<tool_call>{"name": "list_files"}</tool_call>').calls == [call("list_files")]


def test_calls_to_tools_not_offered_are_kept_and_flagged() -> None:
    text = format_tool_calls([WEATHER, call("delete_everything"), call("delete_everything")])
    offered = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    result = parse(text, offered)
    assert result.calls == [WEATHER, call("delete_everything"), call("delete_everything")]
    assert result.unknown_tools == ["delete_everything"]
    assert result.to_dict()["unknown_tools"] == ["delete_everything"]
    for names in (["get_weather", "delete_everything"], [{"name": "get_weather"}, {"name": "delete_everything"}]):
        assert parse(text, names).unknown_tools == []
    assert parse(text).unknown_tools == []  # no tools given: nothing to check against
    assert parse(text, []).unknown_tools == ["get_weather", "delete_everything"]


def test_bare_json_that_is_not_a_call_is_text() -> None:
    result = parse('{"name": "John", "age": 30}')
    assert result.calls == []
    assert result.errors == []
    assert result.kind == "text"


def test_call_embedded_in_prose() -> None:
    result = parse('I will call {"name": "get_weather", "arguments": {"city": "Tokyo"}} for you.')
    assert result.calls == [WEATHER]
    assert result.format == "json"
    assert result.content == "I will call  for you."


def test_list_embedded_in_prose() -> None:
    result = parse(f"Calls: {json.dumps([WEATHER, TIME])} done")
    assert result.calls == [WEATHER, TIME]
    assert result.content == "Calls:  done"


def test_prose_json_needs_explicit_arguments() -> None:
    assert parse('The user {"name": "Bob"} asked.').calls == []


def test_concatenated_json_objects() -> None:
    assert parse(json.dumps(WEATHER) + "\n" + json.dumps(TIME)).calls == [WEATHER, TIME]


def test_truncated_bare_call_is_an_error() -> None:
    result = parse('{"name": "get_weather", "arguments": {"city": "To')
    assert result.calls == []
    assert len(result.errors) == 1


# Call shapes


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "get_weather", "arguments": {"city": "Tokyo"}}',
        '{"name": "get_weather", "parameters": {"city": "Tokyo"}}',
        '{"name": "get_weather", "arguments": "{\\"city\\": \\"Tokyo\\"}"}',
        '{"function": {"name": "get_weather", "arguments": {"city": "Tokyo"}}}',
        '{"type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Tokyo\\"}"}}',
        '{"id": "call_1", "type": "function", "function": {"name": "get_weather", "parameters": {"city": "Tokyo"}}}',
    ],
)
def test_accepted_call_shapes(body: str) -> None:
    for text in (f"<tool_call>{body}</tool_call>", f"```json\n{body}\n```", body):
        assert parse(text).calls == [WEATHER], text


@pytest.mark.parametrize("arguments", ["null", '""', '"  "'])
def test_missing_arguments_mean_none(arguments: str) -> None:
    assert parse(f'<tool_call>{{"name": "list_files", "arguments": {arguments}}}</tool_call>').calls == [call("list_files")]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"name": "f", "arguments": "{not json"}', "not JSON"),
        ('{"name": "f", "arguments": [1, 2]}', "must be a JSON object"),
        ('{"name": "f", "arguments": "[1, 2]"}', "must be a JSON object"),
        ('{"name": "", "arguments": {}}', "non-empty"),
        ('{"name": "  ", "arguments": {}}', "non-empty"),
        ('{"name": 3, "arguments": {}}', "non-empty"),
        ('{"arguments": {}}', "non-empty"),
        ('"get_weather"', "expected a JSON object"),
        ("[]", "empty list"),
        ('[{"name": "a", "arguments": {}}, 5]', "must be a JSON object"),
        ("", "got nothing"),
    ],
)
def test_bad_call_in_a_block_is_an_error(body: str, reason: str) -> None:
    result = parse(f"<tool_call>{body}</tool_call>")
    assert result.calls == []
    assert len(result.errors) == 1
    assert reason in result.errors[0].reason
    assert result.kind == "empty"


def test_extra_keys_are_tolerated_inside_a_block_only() -> None:
    body = '{"name": "get_weather", "arguments": {"city": "Tokyo"}, "confidence": 0.9}'
    assert parse(f"<tool_call>{body}</tool_call>").calls == [WEATHER]
    assert parse(f"```json\n{body}\n```").calls == []


def test_arguments_are_not_reordered_or_coerced() -> None:
    arguments = {"b": 1, "a": "1", "c": 1.5, "d": None, "e": [True, False], "f": {"g": []}}
    result = parse(format_tool_calls([{"name": "f", "arguments": arguments}]))
    assert result.calls == [{"name": "f", "arguments": arguments}]
    assert list(result.calls[0]["arguments"]) == ["b", "a", "c", "d", "e", "f"]


# Repair


@pytest.mark.parametrize(
    "body",
    [
        "{'name': 'get_weather', 'arguments': {'city': 'Tokyo'}}",
        '{"name": "get_weather", "arguments": {"city": "Tokyo",},}',
        '{"name": "get_weather", "arguments": {"city": "Tokyo"}}}',
        '{"name": "get_weather", "arguments": {"city": "Tokyo"}}]',
        '{"name": "get_weather", "arguments": {"city": "Tokyo"},}',
    ],
)
def test_repairs(body: str) -> None:
    assert parse(f"<tool_call>{body}</tool_call>").calls == [WEATHER]


def test_python_literals_map_to_json() -> None:
    result = parse("<tool_call>{'name': 'f', 'arguments': {'a': True, 'b': None, 'c': (1, 2)}}</tool_call>")
    assert result.calls == [{"name": "f", "arguments": {"a": True, "b": None, "c": [1, 2]}}]


def test_python_literals_that_are_not_json_are_errors() -> None:
    result = parse("<tool_call>{'name': 'f', 'arguments': {1: 'x', 'b': {1, 2}}}</tool_call>")
    assert result.calls == []
    assert len(result.errors) == 1


def test_trailing_comma_inside_a_string_is_kept() -> None:
    result = parse('<tool_call>{"name": "f", "arguments": {"s": "a, }", "t": [1,],}}</tool_call>')
    assert result.calls == [{"name": "f", "arguments": {"s": "a, }", "t": [1]}}]


def test_raw_newline_inside_a_string_is_tolerated() -> None:
    result = parse('<tool_call>{"name": "run", "arguments": {"code": "print(1)\nprint(2)"}}</tool_call>')
    assert result.calls == [call("run", code="print(1)\nprint(2)")]


def test_malformed_json_in_a_block_is_an_error_not_a_call() -> None:
    text = 'Calling now.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": }\n</tool_call>'
    result = parse(text)
    assert result.calls == []
    assert len(result.errors) == 1
    error = result.errors[0]
    assert isinstance(error, ParseError)
    assert error.source == '{"name": "get_weather", "arguments": {"city": }'
    assert error.reason.startswith("invalid JSON")
    assert result.content == "Calling now."
    assert result.kind == "text"
    assert result.format == "none"


def test_one_bad_block_does_not_hide_the_good_ones() -> None:
    text = format_tool_calls([WEATHER]) + "\n<tool_call>{broken</tool_call>\n" + format_tool_calls([TIME])
    result = parse(text)
    assert result.calls == [WEATHER, TIME]
    assert [error.source for error in result.errors] == ["{broken"]


def test_error_source_is_truncated() -> None:
    result = parse("<tool_call>{" + "x" * 1000 + "</tool_call>")
    assert len(result.errors[0].source) <= 200


# Thinking


def test_closed_think_block_is_removed_and_collected() -> None:
    text = "<think>\nThe user wants the weather.\n</think>\n\n" + format_tool_calls([WEATHER])
    result = parse(text)
    assert result.think == ["The user wants the weather."]
    assert result.calls == [WEATHER]
    assert result.content == ""


def test_several_think_blocks() -> None:
    result = parse("<think>one</think>Hello<think>two</think> world")
    assert result.think == ["one", "two"]
    assert result.content == "Hello world"


def test_empty_think_block_is_dropped() -> None:
    result = parse("<think>\n\n</think>\n\nHi there.")
    assert result.think == []
    assert result.content == "Hi there."


def test_unclosed_think_takes_the_rest() -> None:
    result = parse('Hmm <think>maybe <tool_call>{"name": "a"}</tool_call>')
    assert result.think == ['maybe <tool_call>{"name": "a"}</tool_call>']
    assert result.calls == []
    assert result.content == "Hmm"


def test_closing_only_think_takes_what_came_before() -> None:
    text = "The user asks about Tokyo, so I call <tool_call> with get_weather.\n</think>\n\n" + format_tool_calls([WEATHER])
    result = parse(text)
    assert result.think == ["The user asks about Tokyo, so I call <tool_call> with get_weather."]
    assert result.calls == [WEATHER]
    assert result.errors == []


def test_refusal_inside_thinking_does_not_count() -> None:
    result = parse(f"<think>Maybe: {REFUSAL}</think>It is sunny.")
    assert result.refusal is False
    assert result.kind == "text"


# Content and refusal


def test_text_around_calls_is_kept() -> None:
    text = "Sure, here you go:\n" + format_tool_calls([WEATHER]) + "\nLet me know if you need more."
    result = parse(text)
    assert result.calls == [WEATHER]
    assert result.content == "Sure, here you go:\n\nLet me know if you need more."


@pytest.mark.parametrize(
    "text",
    [
        REFUSAL,
        REFUSAL.lower(),
        REFUSAL.upper(),
        "None  of the provided\ttools can\n answer   this question.",
        REFUSAL.rstrip("."),
        f"I'm sorry, but {REFUSAL.lower()} Try a search engine.",
        f"<think>No tool fits.</think>\n{REFUSAL}",
    ],
)
def test_refusal(text: str) -> None:
    result = parse(text)
    assert result.refusal is True
    assert result.kind == "refusal"
    assert result.calls == []
    assert result.format == "none"


def test_refusal_and_call_means_calls_win() -> None:
    result = parse(REFUSAL + "\n" + format_tool_calls([WEATHER]))
    assert result.calls == [WEATHER]
    assert result.refusal is False
    assert result.kind == "calls"
    assert result.content == REFUSAL


def test_plain_text() -> None:
    result = parse("The weather in Tokyo is sunny.")
    assert (result.kind, result.calls, result.content, result.format) == ("text", [], "The weather in Tokyo is sunny.", "none")


@pytest.mark.parametrize("text", ["", "   \n\t", "<think>only thinking</think>", "</tool_call>"])
def test_empty(text: str) -> None:
    assert parse(text).kind == "empty"


@pytest.mark.parametrize("value", [None, 42, b"<tool_call>", ["<tool_call>"], {"name": "x"}, object()])
def test_non_str_input_reads_as_empty(value: object) -> None:
    result = parse(value)
    assert result.kind == "empty"
    assert result.errors == []


# Unicode


def test_vietnamese_arguments_are_preserved() -> None:
    calls = [call("tim_kiem", query="Thời tiết ở Hà Nội hôm nay thế nào?", thanh_pho="Hồ Chí Minh")]
    text = format_tool_calls(calls)
    assert "Thời tiết ở Hà Nội" in text
    assert "\\u" not in text
    assert parse(text).calls == calls


def test_vietnamese_in_a_fence_and_prose() -> None:
    result = parse('Tôi sẽ gọi công cụ:\n```json\n{"name": "dich", "arguments": {"van_ban": "Xin chào"}}\n```')
    assert result.calls == [call("dich", van_ban="Xin chào")]
    assert result.content == "Tôi sẽ gọi công cụ:"


# Public helpers


def test_to_bfcl() -> None:
    assert to_bfcl([WEATHER, TIME]) == [
        {"get_weather": {"city": "Tokyo"}},
        {"get_time": {"timezone": "Asia/Tokyo", "format": 24}},
    ]
    assert to_bfcl([]) == []


def test_format_tool_calls_is_the_canonical_text() -> None:
    assert format_tool_calls([WEATHER, call("ping")]) == (
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Tokyo"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "ping", "arguments": {}}\n</tool_call>'
    )
    assert format_tool_calls([]) == ""


@pytest.mark.parametrize(
    "calls",
    [
        [WEATHER],
        [WEATHER, TIME],
        [call("f", nested={"a": [1, {"b": None}]}, s='quote " and \\ backslash', n=-1.5e-7)],
        [call("f", code="```json\n{}\n```", tag="<tool_call>")],
    ],
)
def test_format_tool_calls_round_trips(calls: list[ToolCall]) -> None:
    result = parse(format_tool_calls(calls))
    assert result.calls == calls
    assert (result.format, result.content, result.errors) == ("tool_call", "", [])


def test_to_dict_is_json_serialisable() -> None:
    result = parse("<think>hm</think>Ok " + format_tool_calls([WEATHER]) + "<tool_call>{bad</tool_call>")
    data = json.loads(json.dumps(result.to_dict()))
    assert data == {
        "kind": "calls",
        "calls": [WEATHER],
        "content": "Ok",
        "think": ["hm"],
        "refusal": False,
        "format": "tool_call",
        "unknown_tools": [],
        "unclosed_calls": 0,
        "errors": [{"source": "{bad", "reason": data["errors"][0]["reason"]}],
    }


def test_result_is_frozen() -> None:
    result = parse("hi")
    assert isinstance(result, ParseResult)
    with pytest.raises(AttributeError):
        result.content = "changed"  # type: ignore[misc]


# Hostile input


@pytest.mark.parametrize(
    "text",
    [
        "[" * 10_000,
        "{" * 10_000,
        "<tool_call>" + "[" * 10_000,
        "```json\n" + "[" * 10_000 + "\n```",
        '{"name": "f", "arguments": ' + "[" * 10_000,
        "<tool_call>{'name': 'f', 'arguments': " + "(" * 5_000 + "</tool_call>",
        "<tool_call>{'a': " + "1" * 5_000 + "}</tool_call>",
        '<tool_call>{"a": ' + "1" * 5_000 + "}</tool_call>",
    ],
)
def test_deep_or_huge_input_does_not_raise(text: str) -> None:
    result = parse(text)
    assert result.calls == []


ADVERSARIAL = {
    "open tags": "<tool_call>" * 9_000,
    "open tags with braces": '<tool_call>{"' * 7_500,
    "fences": "```json\n{" * 11_000,
    "brackets": "[{" * 50_000,
    "nested lists in prose": ("[" + "1," * 250) * 200,
    "unterminated string": 'x {"name": "' + "a" * 100_000,
    "python literals": ("<tool_call>{'name': 'a', 'arguments': {'x': " + "1," * 20 + "}") * 1_200,
    "many calls": format_tool_calls([WEATHER] * 1_500),
}


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_100kb_inputs_never_backtrack_without_end(name: str) -> None:
    """A guard against catastrophic backtracking, not a speed target: a quadratic scan of 100 KB is some 1e10 steps
    (minutes), while the parser takes under 1.5 s on an idle 2-core machine; 20 s leaves a loaded CI room."""
    text = ADVERSARIAL[name]
    assert len(text) >= 90_000
    start = time.perf_counter()
    parse(text)
    assert time.perf_counter() - start < 20.0
