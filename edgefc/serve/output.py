"""Model text -> what the OpenAI API returns: content, or tool calls with JSON-string arguments.

Under the tool grammar a call is always the canonical `<tool_call>\\n{"name": N, "arguments": A}\\n</tool_call>`
(see edgefc.protocol.grammar), so the calls can be read while the text grows (edgefc.protocol.parse.read_calls):
a streamed call's name is sent once it is complete, then its arguments' text as it arrives. The same reading of the final text gives the
non-streamed answer, so both forms always agree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from edgefc.protocol.parse import is_call_text, read_calls


def cut_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """Text up to the first stop string, and whether one was found."""
    found = [i for i in (text.find(s) for s in stop) if i >= 0]
    return (text[: min(found)], True) if found else (text, False)


def safe_text(text: str, stop: tuple[str, ...]) -> str:
    """The part of growing text that no stop string can still claim, and no incomplete UTF-8 character ends."""
    text = text.rstrip("\ufffd")
    hold = max((len(s) - 1 for s in stop), default=0)
    for n in range(min(hold, len(text)), 0, -1):
        if any(s.startswith(text[-n:]) for s in stop):
            return text[:-n]
    return text


def call_id() -> str:
    return "call_" + uuid.uuid4().hex[:24]


@dataclass
class AnswerDeltas:
    """Turns the growing text of one answer (a chat or a text completion) into OpenAI delta objects, each part sent
    exactly once."""

    tools: bool  # whether calls are possible (tools offered and tool_choice not "none")
    stop: tuple[str, ...]
    mode: bool | None = None  # True: calls, False: text, None: not yet known
    sent_text: int = 0
    sent_args: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    def feed(self, text: str, final: bool = False) -> list[dict[str, Any]]:
        """Deltas for what `text` (the whole answer so far) adds to what was sent; `final` when it is complete."""
        if self.mode is None:
            self.mode = is_call_text(text) if self.tools else (False if text else None)
            if self.mode is None and final:
                self.mode = False
        if self.mode is None:
            return []
        if self.mode:
            return self._calls(text)
        content = cut_at_stop(text, self.stop)[0] if final else safe_text(cut_at_stop(text, self.stop)[0], self.stop)
        if len(content) <= self.sent_text:
            return []
        delta = content[self.sent_text:]
        self.sent_text = len(content)
        return [{"content": delta}]

    def _calls(self, text: str) -> list[dict[str, Any]]:
        deltas = []
        for index, call in enumerate(read_calls(text)):
            if index == len(self.ids):
                self.ids.append(call_id())
                self.sent_args.append(0)
                deltas.append({"tool_calls": [{"index": index, "id": self.ids[index], "type": "function",
                                               "function": {"name": call.name, "arguments": ""}}]})
            if len(call.arguments) > self.sent_args[index]:
                fragment = call.arguments[self.sent_args[index]:]
                self.sent_args[index] = len(call.arguments)
                deltas.append({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
        return deltas


def chat_message(text: str, tools: bool, stop: tuple[str, ...]) -> tuple[dict[str, Any], bool]:
    """The assistant message of a complete answer, and whether it holds calls (a call cut by max_tokens before
    its name was complete leaves neither content nor calls)."""
    if tools and is_call_text(text):
        calls = [{"id": call_id(), "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                 for c in read_calls(text)]
        return {"role": "assistant", "content": None, **({"tool_calls": calls} if calls else {})}, bool(calls)
    return {"role": "assistant", "content": cut_at_stop(text, stop)[0]}, False


def finish_reason(generated: str, calls: bool) -> str:
    """OpenAI's finish_reason: "length" when cut by max_tokens, "tool_calls" after complete calls."""
    if generated == "length":
        return "length"
    return "tool_calls" if calls else "stop"


def usage(prompt_tokens: int, completion_tokens: int, cached_tokens: int) -> dict[str, Any]:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens}}
