"""The agent loop: generate under the tool grammar, parse, validate, run the calls, feed results back, repeat.

One user message runs until the model answers in text (or refuses), or `max_steps` answers were generated.
An answer whose calls all repeat earlier ones is followed by a text-only answer (tool_choice none): small
models tend to call the same tool again instead of reading its result.
Nothing the model writes can crash the loop or run a tool it should not: an unknown tool, arguments that do
not validate against the tool's schema, a declined confirmation, an exception, a timeout, or the same call
repeated within one user message become a tool error the model reads and can recover from. Progress comes
out as events (generation, call, result, text, refusal, limit), so a UI shows each step as it happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from edgefc.agent.loopthread import LoopThread
from edgefc.agent.prompt import Conversation, tools_prefix
from edgefc.agent.tools import Tool, Toolbox
from edgefc.errors import EdgefcError
from edgefc.protocol.parse import ToolCall
from edgefc.runtimes.base import Generation, Runtime, Sampling

Confirm = Callable[[ToolCall], bool]  # asked before a tool marked confirm runs; False declines


@dataclass(frozen=True)
class Limits:
    """How far one user message may go."""

    max_steps: int = 8  # model answers per user message (BFCL allows 20 per turn)
    timeout_s: float = 30.0  # per tool call
    max_output_chars: int = 4000  # a tool result longer than this is cut, with a note saying so
    max_tokens: int = 512  # per answer


@dataclass(frozen=True)
class Event:
    """One thing that happened: kind is generation, call, result, text, refusal or limit."""

    kind: str
    step: int
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "step": self.step, **self.data}


@dataclass(frozen=True)
class Outcome:
    """What running one call produced: the text the model reads, and whether it is an error."""

    output: str
    error: bool
    seconds: float
    repeated: bool = False  # the same call was already made for this user message


class Agent:
    """A model, its tools, and one conversation; `send` runs a user message to its answer."""

    def __init__(self, runtime: Runtime, toolbox: Toolbox, *, system: str | None = None, limits: Limits = Limits(),
                 sampling: Sampling = Sampling(), confirm: Confirm | None = None, thinking: bool = False,
                 constrain: bool | None = None, refuse_repeats: bool = True):
        """`constrain` is the runtime's (None: the tool grammar when there are tools); `refuse_repeats=False`
        runs a repeated call again and forces no text-only answer (a benchmark harness that has no such guard)."""
        self.runtime = runtime
        self.toolbox = toolbox
        self.limits = limits
        self.sampling = sampling
        self.confirm = confirm
        self.thinking = thinking
        self.constrain = constrain
        self.refuse_repeats = refuse_repeats
        self.conversation = Conversation(runtime.template, toolbox.specs() or None, system=system, thinking=thinking)
        self.events: list[Event] = []
        self._validators = {name: _validator(tool) for name, tool in toolbox.tools.items()}
        self._loop = LoopThread("edgefc-tools")  # parallel calls run concurrently; sync tools in its threads
        self._calls = 0

    def warm(self, cache_dir: Path | None = None) -> str | None:
        """Before the first message: make the runtime hold the system + tools prefix, from its state on disk
        when this model saw these tools before (a restarted agent answers warm); see Runtime.warm_prefix."""
        system = self.conversation.messages[0]["content"] if self.conversation.messages else None
        prefix = tools_prefix(self.runtime.template, self.toolbox.specs() or None, system, thinking=self.thinking)
        return self.runtime.warm_prefix(prefix, cache_dir)

    def send(self, message: str) -> Iterator[Event]:
        """Run one user message; yields events as they happen and ends after a text answer, a refusal, or
        the step limit."""
        self.conversation.add({"role": "user", "content": message})
        seen: dict[str, str] = {}  # call key -> its output, within this user message
        text_only = False
        for step in range(1, self.limits.max_steps + 1):
            gen = self._answer(text_only)
            prompt = gen.prompt
            parsed = gen.parsed
            calls = [{"id": self._call_id(), "type": "function",
                      "function": {"name": c["name"], "arguments": c["arguments"]}} for c in parsed.calls]
            self.conversation.answered(prompt, gen.text, parsed.content, calls)
            yield self._event("generation", step, text=gen.text, finish_reason=gen.finish_reason,
                              constrained=gen.constrained, call_share=gen.call_share, timings=asdict(gen.timings))
            if not calls and not parsed.errors:
                yield self._event("refusal" if parsed.refusal else "text", step, content=parsed.content)
                return
            for call in calls:
                yield self._event("call", step, id=call["id"], name=call["function"]["name"],
                                  arguments=call["function"]["arguments"])
            # A tool's prints go to stderr: stdout is the caller's (`edgefc agent --json` writes its JSON there).
            with contextlib.redirect_stdout(sys.stderr):
                outcomes = self._loop.run(self._run_all(calls, seen))
            # Only repeats: calling again cannot tell the model more, so its next answer must be text.
            # (free decoding cannot forbid calls, so then the repeats' refusals are all the model gets)
            text_only = (self.refuse_repeats and self.constrain is not False and bool(outcomes)
                         and all(outcome.repeated for outcome in outcomes))
            results = []
            for call, outcome in zip(calls, outcomes):
                results.append({"role": "tool", "tool_call_id": call["id"], "name": call["function"]["name"],
                                "content": outcome.output})
                yield self._event("result", step, id=call["id"], name=call["function"]["name"],
                                  output=outcome.output, error=outcome.error, seconds=outcome.seconds)
            for error in parsed.errors:  # a malformed call (free decoding): say so, as a tool result
                results.append({"role": "tool", "name": "error", "content": _error(
                    f"your tool call could not be read ({error.reason}); write it as <tool_call> JSON")})
                yield self._event("result", step, id=None, name=None, output=results[-1]["content"], error=True,
                                  seconds=0.0)
            self.conversation.add(*results)
        yield self._event("limit", self.limits.max_steps, max_steps=self.limits.max_steps)

    def _answer(self, text_only: bool) -> Generation:
        """The model's next answer: to the conversation's next prompt, or to its messages where the runtime
        takes a conversation (a server's chat API, which renders it with its own template)."""
        options: dict[str, Any] = dict(max_tokens=self.limits.max_tokens, sampling=self.sampling,
                                       enable_thinking=self.thinking, constrain=self.constrain,
                                       tool_choice="none" if text_only else "auto")
        if self.runtime.takes_messages:
            return self.runtime.generate(self.conversation.messages, self.toolbox.specs() or None, **options)
        return self.runtime.answer(self.conversation.prompt(), self.toolbox.specs() or None, **options)

    async def _run_all(self, calls: list[dict[str, Any]], seen: dict[str, str]) -> list[Outcome]:
        """Every call of one answer, concurrently (repeats of an earlier call are answered from memory)."""
        outcomes = await asyncio.gather(*(self._run_one(c["function"]["name"], c["function"]["arguments"], seen)
                                          for c in calls))
        return list(outcomes)

    async def _run_one(self, name: str, arguments: Any, seen: dict[str, str]) -> Outcome:
        started = time.perf_counter()
        key = _call_key(name, arguments)
        repeated = key in seen
        refusal = self._refuse(name, arguments, key, seen)
        if refusal is not None:
            return Outcome(_error(refusal), True, 0.0, repeated)
        tool = self.toolbox[name]
        try:
            result = await asyncio.wait_for(tool.handler(dict(arguments)), timeout=self.limits.timeout_s)
            output, error = self._cap(_as_text(result)), False
        except asyncio.TimeoutError:
            output, error = _error(f"{name} did not finish within {self.limits.timeout_s:g} s"), True
        except Exception as exc:  # a tool's failure is the model's to read, never the loop's to die of
            output, error = _error(f"{name} failed: {type(exc).__name__}: {exc}"), True
        seen[key] = output
        return Outcome(output, error, time.perf_counter() - started)

    def _refuse(self, name: str, arguments: Any, key: str, seen: dict[str, str]) -> str | None:
        """Why this call must not run, or None: unknown tool, invalid arguments, repeated, or declined."""
        if name not in self.toolbox:
            return f"there is no tool named {name!r}; the tools are {', '.join(self.toolbox.tools) or 'none'}"
        if not isinstance(arguments, dict):
            return f"the arguments of {name} must be a JSON object"
        problems = sorted(self._validators[name].iter_errors(arguments), key=lambda e: list(e.path))
        if problems:
            where = "/".join(str(p) for p in problems[0].path) or "arguments"
            return f"invalid arguments for {name}: {where}: {problems[0].message}"
        if key in seen and self.refuse_repeats:
            return f"this exact call was already made for this message; its result was: {seen[key]}"
        seen[key] = "(not back yet: the same call earlier in this answer)"
        tool: Tool = self.toolbox[name]
        if tool.confirm and not (self.confirm and self.confirm({"name": name, "arguments": arguments})):
            return f"the user declined to run {name}"
        return None

    def _cap(self, text: str) -> str:
        limit = self.limits.max_output_chars
        return text if len(text) <= limit else f"{text[:limit]}... [cut: {len(text) - limit} more characters]"

    def _call_id(self) -> str:
        self._calls += 1
        return f"call_{self._calls}"

    def _event(self, kind: str, step: int, **data: Any) -> Event:
        event = Event(kind, step, data)
        self.events.append(event)
        return event

    def transcript(self) -> dict[str, Any]:
        """The tools offered, the messages and the events, JSON-able: saved by `edgefc agent --save` and read
        back by `replay`."""
        return {"tools": self.toolbox.specs(), "messages": self.conversation.messages,
                "events": [e.to_dict() for e in self.events]}

    def close(self) -> None:
        """Stop the tools' event loop (the runtime belongs to the caller)."""
        self._loop.close()


def replay(transcript: dict[str, Any]) -> Iterator[Event]:
    """The events of a saved transcript, in order, as `send` yielded them."""
    for item in transcript.get("events", []):
        data = {k: v for k, v in item.items() if k not in ("kind", "step")}
        yield Event(item["kind"], item["step"], data)


def _validator(tool: Tool) -> Draft202012Validator:
    """The validator of a tool's arguments; a schema JSON Schema itself rejects is the user's error."""
    try:
        Draft202012Validator.check_schema(tool.parameters)
    except SchemaError as exc:
        raise EdgefcError(f"tool {tool.name!r} has an invalid parameters schema: {exc.message}") from None
    return Draft202012Validator(tool.parameters)


def _call_key(name: str, arguments: Any) -> str:
    return name + json.dumps(arguments, sort_keys=True, ensure_ascii=False)


def _as_text(result: Any) -> str:
    """A tool's return value as the text the model reads: strings as they are, anything else as JSON."""
    if isinstance(result, str):
        return result
    return json.dumps(result, ensure_ascii=False, default=str)


def _error(message: str) -> str:
    return json.dumps({"error": message}, ensure_ascii=False)
