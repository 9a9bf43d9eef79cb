"""What a well-formed OpenAI chat completion is on the wire, as data checks: a whole body, and a stream of
Server-Sent Events folded line by line. The load bench judges every answer of `edgefc serve` (and of a peer's
server) with them; each returns what is wrong, "" when nothing is."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

CHAT = "/v1/chat/completions"
FINISH_REASONS = frozenset({"stop", "length", "tool_calls"})


def completion_problem(data: Any) -> str:
    """What is wrong with a chat.completion body ("" when nothing)."""
    if not isinstance(data, dict):
        return "not a JSON object"
    choices = data.get("choices")
    if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], dict):
        return "not exactly one choice"
    message, finish = choices[0].get("message"), choices[0].get("finish_reason")
    if not isinstance(message, dict) or message.get("role") != "assistant":
        return "no assistant message"
    if finish not in FINISH_REASONS:
        return f"finish_reason {finish!r}"
    if message.get("content") is not None and not isinstance(message["content"], str):
        return "content is neither a string nor null"
    usage = data.get("usage")
    if not isinstance(usage, dict) or not isinstance(usage.get("completion_tokens"), int):
        return "no usage.completion_tokens"
    return calls_problem(message.get("tool_calls"), finish)


def calls_problem(calls: Any, finish: str | None) -> str:
    """What is wrong with a message's tool_calls: each needs an id, type "function", a name and string
    arguments, which must be a JSON object once the answer ended on its calls (finish_reason "tool_calls")."""
    if calls is None:
        return ""
    if not isinstance(calls, list) or not calls:
        return "tool_calls is not a non-empty list"
    for call in calls:
        fn = call.get("function") if isinstance(call, dict) else None
        if not (isinstance(fn, dict) and isinstance(call.get("id"), str) and call.get("type") == "function"
                and isinstance(fn.get("name"), str) and fn["name"] and isinstance(fn.get("arguments"), str)):
            return f"a tool call without id, type, name or string arguments: {call!r}"[:300]
        if finish == "tool_calls" and not isinstance(_json(fn["arguments"]), dict):
            return f"arguments of a finished call are not a JSON object: {fn['arguments'][:200]!r}"
    return ""


@dataclass
class StreamCheck:
    """One streamed chat completion, its Server-Sent Events fed line by line: completion chunks, tool-call deltas
    that open in order and then only add argument text, `[DONE]` and nothing after it. `feed` says what is wrong
    with a line, `end` what the whole stream lacks; meanwhile it holds the calls, finish reason and token count."""

    calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    done: bool = False
    finish: str | None = None
    tokens: Any = None  # usage.completion_tokens of the usage chunk
    answering: bool = False  # a content or tool-call delta has arrived

    def feed(self, line: str) -> str:
        """Fold one line of the stream in; what is wrong with it ("" when nothing)."""
        if self.done:
            return f"data after [DONE]: {line[:200]}" if line.strip() else ""
        if not line.startswith("data:"):
            return ""  # event separators, comments (pings), other fields
        data = line[len("data:"):].strip()
        if data == "[DONE]":
            self.done = True
            return ""
        chunk = _json(data)
        if not isinstance(chunk, dict) or "error" in chunk or not isinstance(chunk.get("choices"), list):
            return f"not a completion chunk: {data[:200]}"
        for choice in chunk["choices"]:
            delta = choice.get("delta") or {}
            self.answering = self.answering or bool(delta.get("content") or delta.get("tool_calls"))
            for part in delta.get("tool_calls") or []:
                problem = self._add_call_part(part)
                if problem:
                    return problem
            self.finish = choice.get("finish_reason") or self.finish
        if isinstance(chunk.get("usage"), dict):
            self.tokens = chunk["usage"].get("completion_tokens")
        return ""

    def end(self) -> str:
        """What the stream, now over, lacks ("" when nothing)."""
        if not self.done:
            return "the stream ended without [DONE]"
        if self.finish not in FINISH_REASONS:
            return f"finish_reason {self.finish!r}"
        problem = calls_problem([self.calls[i] for i in sorted(self.calls)] or None, self.finish)
        return problem or ("" if isinstance(self.tokens, int) else "no usage chunk")

    def _add_call_part(self, part: Any) -> str:
        """Fold one streamed tool-call delta in: the first part of an index opens the call (id, type, name),
        later ones add argument text."""
        fn = part.get("function") if isinstance(part, dict) else None
        if not isinstance(fn, dict) or not isinstance(part.get("index"), int):
            return f"a tool-call delta without index or function: {part!r}"[:300]
        index = part["index"]
        if index not in self.calls:
            if index != len(self.calls):
                return f"tool call {index} opened before call {len(self.calls)}"
            self.calls[index] = {"id": part.get("id"), "type": part.get("type"),
                                 "function": {"name": fn.get("name"), "arguments": fn.get("arguments") or ""}}
        elif "name" in fn or "id" in part:
            return f"tool call {index} named twice"
        else:
            self.calls[index]["function"]["arguments"] += fn.get("arguments") or ""
        return ""


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
