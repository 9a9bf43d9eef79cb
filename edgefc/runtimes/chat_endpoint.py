"""A served model asked through its own `/v1/chat/completions`: messages and tools go to the server as they are,
and its `tool_calls` come back as its answer (`--api chat`).

This measures the server as its users meet it: its chat template, its tool-call parser, its `tool_choice` and
`parallel_tool_calls`, its own decoding (a grammar, if it has one). The local copy of the model only counts tokens
the server does not report. The answer's calls are the `tool_calls` the server returned, exactly; a call the
model wrote into `content` instead is not a call here (the server did not return it), and `Generation.
calls_in_content` counts it, so a report can say how often that happens (as bench/serve_compare.py does).
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from edgefc.errors import EdgefcError, EndpointError
from edgefc.protocol.parse import ParseError, ParseResult, ToolCall, format_tool_calls, parse
from edgefc.protocol.schema import normalize_tools
from edgefc.runtimes.base import Clock, Generation, Message, Sampling, TokenSink
from edgefc.runtimes.remote import RemoteRuntime, _chunks, _Stopped


def tool_choice_field(tool_choice: Any) -> Any:
    """OpenAI's `tool_choice` for edgefc's: "auto", "none", "required" as they are; a tool's name as the named
    form; an already OpenAI-shaped dict as it is."""
    if isinstance(tool_choice, dict) or tool_choice in ("auto", "none", "required"):
        return tool_choice
    return {"type": "function", "function": {"name": str(tool_choice)}}


def returned_calls(deltas: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Streamed `tool_calls` deltas joined into whole calls, by their `index` (id and name arrive once, the
    arguments' text in pieces), in index order: [{"id", "name", "arguments": text}]."""
    calls: dict[int, dict[str, Any]] = {}
    for delta in deltas:
        call = calls.setdefault(int(delta.get("index") or 0), {"id": None, "name": "", "arguments": ""})
        call["id"] = delta.get("id") or call["id"]
        function = delta.get("function") or {}
        call["name"] += function.get("name") or ""
        call["arguments"] += function.get("arguments") or ""
    return [calls[i] for i in sorted(calls)]


def answer_of(content: str, read: ParseResult, calls: list[dict[str, Any]],
              offered: list[dict[str, Any]]) -> ParseResult:
    """The protocol's reading of a chat answer: its returned calls (arguments that are not a JSON object are
    errors, as a malformed call in text would be; names not in `offered`, OpenAI-form tools, are flagged), its
    content whole as text (`read`, the protocol's parse of it, says whether that is the refusal sentence)."""
    good: list[ToolCall] = []
    errors = []
    for call in calls:
        try:
            arguments = json.loads(call["arguments"] or "{}")
        except ValueError:
            arguments = None
        if isinstance(arguments, dict):
            good.append({"name": call["name"], "arguments": arguments})
        else:
            errors.append(ParseError(f"{call['name']}({call['arguments'][:200]})",
                                     "tool_calls arguments are not a JSON object"))
    names = {t["function"]["name"] for t in offered}
    unknown = [name for name in dict.fromkeys(c["name"] for c in good) if name not in names]
    return ParseResult(good, content.strip(), read.think, read.refusal and not calls,
                       "tool_calls" if calls else "none", errors, unknown)


class ChatEndpointRuntime(RemoteRuntime):
    """The model behind `endpoint`, asked through its `/v1/chat/completions` with tools (see the module doc)."""

    name = "remote-chat"
    takes_messages = True  # it answers a conversation, never a prompt rendered here

    def generate(self, messages: str | Iterable[Message], tools: Any = None, *, max_tokens: int = 256,
                 sampling: Sampling = Sampling(), enable_thinking: bool = False, constrain: bool | None = None,
                 tool_choice: Any = "auto", parallel_tool_calls: bool = True, jump_forward: bool = True,
                 on_tokens: TokenSink | None = None) -> Generation:
        """Send the conversation and tools to the server's chat completions, streamed; the answer is its
        content and the tool_calls it returned (`constrain=True` is refused: the server decides how it
        decodes)."""
        if constrain:
            raise EdgefcError("--api chat asks the server's own /v1/chat/completions: how it decodes (a grammar or "
                              "not) is the server's; edgefc's grammar cannot travel there")
        conversation = [{"role": "user", "content": messages}] if isinstance(messages, str) else list(messages)
        offered = normalize_tools(tools) if tools else []
        body: dict[str, Any] = {"model": self.served_model, "messages": conversation, "max_tokens": max_tokens,
                                "stream": True, "stream_options": {"include_usage": True},
                                "temperature": sampling.temperature, "top_p": sampling.top_p}
        if not sampling.greedy:
            body["seed"] = sampling.seed
        if offered:
            body.update(tools=offered, tool_choice=tool_choice_field(tool_choice),
                        parallel_tool_calls=parallel_tool_calls)
        elif tool_choice not in ("auto", "none"):
            raise EdgefcError(f"tool_choice {tool_choice!r} needs tools")
        content, deltas, finish, usage, clock = self._stream(body, on_tokens)
        calls = returned_calls(deltas)
        in_text = parse(content)  # once: the answer's text, and any call the model left in it
        read = answer_of(content, in_text, calls, offered)
        text = "\n".join(p for p in (content.strip(), format_tool_calls(read.calls)) if p)
        prompt_tokens = usage.get("prompt_tokens") or len(self.tokenize(json.dumps(conversation)))
        completion_tokens = usage.get("completion_tokens") or len(self.tokenize(content + json.dumps(
            [c["arguments"] for c in calls])))
        cached = ((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
        clock.steps = max(clock.steps, completion_tokens)
        in_content = 0 if calls else len(in_text.calls)
        return Generation(self.name, "", text, read, self.tokenize(text), finish,
                          clock.timings(prompt_tokens, completion_tokens, cached), calls_in_content=in_content)

    def answer(self, prompt: str, tools: Any = None, **options: Any) -> Generation:
        raise EdgefcError("--api chat sends a conversation, not a prompt rendered here: use generate(messages)")

    def _stream(self, body: dict[str, Any], on_tokens: TokenSink | None
                ) -> tuple[str, list[dict[str, Any]], str, dict[str, Any], Clock]:
        """One streamed chat completion: its content, tool_call deltas, finish reason, usage and clock."""
        clock = Clock()
        stream = self._call(lambda: self.client.chat.completions.create(**body))
        parts: list[str] = []
        deltas: list[dict[str, Any]] = []
        finish, usage = None, {}
        try:
            for chunk in _chunks(stream, self._call):
                usage = chunk.usage.model_dump() if chunk.usage else usage
                for choice in chunk.choices:
                    delta = choice.delta
                    if delta is not None and delta.content:
                        parts.append(delta.content)
                        clock.token()
                        if on_tokens is not None and not on_tokens(self.tokenize(delta.content)):
                            raise _Stopped
                    if delta is not None and delta.tool_calls:
                        deltas += [d.model_dump() for d in delta.tool_calls]
                        clock.token()
                    finish = choice.finish_reason or finish
        except _Stopped:
            stream.close()
            finish = "stop"
        if finish is None:
            raise EndpointError(f"{self.endpoint} ended its stream before the answer finished")
        return "".join(parts), deltas, "length" if finish == "length" else "stop", usage, clock
