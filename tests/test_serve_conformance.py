"""The OpenAI wire checks the load bench judges answers with: whole bodies and streams, line by line."""

from __future__ import annotations

import json

from edgefc.serve.conformance import StreamCheck, completion_problem

CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Hanoi"}'}}


def _body(**message: object) -> dict:
    return {"choices": [{"message": {"role": "assistant", "content": None, **message},
                         "finish_reason": "tool_calls" if "tool_calls" in message else "stop"}],
            "usage": {"completion_tokens": 7}}


def _events(*chunks: dict, done: bool = True) -> list[str]:
    lines = [line for chunk in chunks for line in (f"data: {json.dumps(chunk)}", "")]
    return lines + (["data: [DONE]", ""] if done else [])


def _check(lines: list[str]) -> str:
    check = StreamCheck()
    return next((p for p in map(check.feed, lines) if p), "") or check.end()


def test_a_whole_body_is_judged_by_its_shape() -> None:
    assert completion_problem(_body(content="It is sunny.")) == ""
    assert completion_problem(_body(tool_calls=[CALL])) == ""
    assert completion_problem([]) == "not a JSON object"
    assert completion_problem({**_body(content="x"), "usage": {}}) == "no usage.completion_tokens"
    broken = {**CALL, "function": {"name": "get_weather", "arguments": "{not json"}}
    assert "not a JSON object" in completion_problem(_body(tool_calls=[broken]))
    assert "without id" in completion_problem(_body(tool_calls=[{"type": "function"}]))


def test_a_stream_is_judged_line_by_line() -> None:
    opened = {"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                                     "function": {"name": "get_weather", "arguments": ""}}]}}]}
    args = {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"city": "Hanoi"}'}}]},
                         "finish_reason": "tool_calls"}]}
    usage = {"choices": [], "usage": {"completion_tokens": 9}}
    check = StreamCheck()
    assert [check.feed(line) for line in _events(opened, args, usage)] == [""] * 8 and check.end() == ""
    assert check.answering and check.tokens == 9 and check.calls[0]["function"]["arguments"] == '{"city": "Hanoi"}'
    assert _check(_events(opened, args, usage, done=False)) == "the stream ended without [DONE]"
    assert _check(_events(opened, args, usage) + ["data: {}"]).startswith("data after [DONE]")
    assert _check(_events(opened, args)) == "no usage chunk"
    assert _check(_events(opened, opened, args, usage)) == "tool call 0 named twice"
    late = {"choices": [{"delta": {"tool_calls": [{"index": 1, "function": {"name": "x"}}]}}]}
    assert _check(_events(late, args, usage)) == "tool call 1 opened before call 0"
    assert _check(["data: {\"error\": \"boom\"}"]).startswith("not a completion chunk")
