"""The agent behind one endpoint, `POST /v1/agent`: edgefc's agent loop (the one `edgefc agent` runs) over the
served model and the tools `edgefc serve --tools/--mcp` was given, its events streamed as Server-Sent Events.
The chat page at `/` is its client; any other client may be.

Request: `{"messages": [...earlier OpenAI messages...], "message": "the new user message"}` (the client keeps
the conversation: each answer ends with a `done` event carrying the messages to send back next time).
Events, one JSON object each (`type` first): `partial` (the answer so far, as it is generated), `generation` (one
model answer ended: timings), `call` (name, arguments), `confirm` (a tool that needs a yes: answer it with
`POST /v1/agent/confirm {"id": ..., "allow": true|false}`), `result` (output, error, seconds), `answer` (the
final text, or `refusal`), `limit`, `error`, `done`. Each model answer runs on the server's generation queue,
between other clients' requests, so a tool that runs or a confirmation that waits holds no one up.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, AsyncIterator, Callable

from edgefc.errors import EdgefcError
from edgefc.runtimes.base import Generation, Runtime
from edgefc.serve.jobs import Watch

CONFIRM_TIMEOUT_S = 300.0  # a confirmation nobody answers is a no
STEP_KINDS = {"generation", "call", "result", "text", "refusal", "limit"}  # the agent's events, passed on


class QueuedRuntime:
    """The served runtime as the agent sees it: each answer runs through `submit` (the server's generation queue,
    from the agent's thread) and its text so far reaches `on_text` as it is generated; the rest is the runtime's."""

    def __init__(self, runtime: Runtime, submit: Callable[[Callable[[], Generation]], Generation],
                 on_text: Callable[[str], None]):
        self._runtime, self._submit, self._on_text = runtime, submit, on_text

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runtime, name)

    def answer(self, prompt: str, tools: Any = None, **options: Any) -> Generation:
        # serve's Watch: the text so far, detokenized incrementally (not the whole answer again at every token)
        sink = Watch(self._runtime, (), False, emit=self._on_text)
        return self._submit(lambda: self._runtime.answer(prompt, tools, on_tokens=sink, **options))


@dataclass
class Confirmations:
    """Questions the agent is waiting on, by id: the agent's thread asks and waits; a request answers."""

    timeout_s: float = CONFIRM_TIMEOUT_S
    pending: dict[str, tuple[threading.Event, list[bool]]] = field(default_factory=dict)

    def ask(self, call: dict[str, Any], emit: Callable[[dict[str, Any]], None]) -> bool:
        """Emit a `confirm` event for `call` and wait for its answer (no after the timeout)."""
        ident = uuid.uuid4().hex
        done, answer = threading.Event(), [False]
        self.pending[ident] = (done, answer)
        emit({"type": "confirm", "id": ident, "name": call["name"], "arguments": call["arguments"]})
        try:
            done.wait(self.timeout_s)
            return answer[0]
        finally:
            self.pending.pop(ident, None)

    def answer(self, ident: str, allow: bool) -> bool:
        """Give the waiting call its answer; False when no call waits under `ident`."""
        waiting = self.pending.get(ident)
        if waiting is None:
            return False
        waiting[1][0] = allow
        waiting[0].set()
        return True


def parse_agent_request(body: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The earlier messages and the new user message of a `POST /v1/agent` body; EdgefcError names what is wrong."""
    message, messages = body.get("message"), body.get("messages", [])
    if not isinstance(message, str) or not message.strip():
        raise EdgefcError("'message' must be the new user message, a non-empty string")
    if not isinstance(messages, list) or not all(isinstance(m, dict) and m.get("role") in
                                                 ("system", "user", "assistant", "tool") for m in messages):
        raise EdgefcError("'messages' must be a list of OpenAI messages (role system, user, assistant or tool)")
    return messages, message


def event_of(kind: str, step: int, data: dict[str, Any]) -> dict[str, Any]:
    """An agent event as the endpoint sends it: its kind first ("text" and "refusal" become the `answer`)."""
    if kind in ("text", "refusal"):
        return {"type": "answer", "step": step, "refusal": kind == "refusal", "content": data.get("content", "")}
    return {"type": kind, "step": step, **data}


async def agent_events(make_agent: Callable[[Callable[[dict[str, Any]], None]], Any], message: str
                       ) -> AsyncIterator[dict[str, Any]]:
    """Run `make_agent(emit)`'s `send(message)` on a thread and yield what it emits, then `done` with the
    conversation (or `error`, then `done`)."""
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    def emit(event: dict[str, Any]) -> None:
        loop.call_soon_threadsafe(events.put_nowait, event)

    def run() -> None:
        agent = None
        try:
            agent = make_agent(emit)
            for e in agent.send(message):
                if e.kind in STEP_KINDS:
                    emit(event_of(e.kind, e.step, _jsonable(e.data)))
            emit({"type": "done", "messages": agent.conversation.messages})
        except Exception as exc:  # the model or a tool broke: the page says so, the server goes on
            emit({"type": "error", "message": f"{type(exc).__name__}: {exc}" if not isinstance(exc, EdgefcError)
                  else str(exc)})
            emit({"type": "done", "messages": agent.conversation.messages if agent else []})
        finally:
            if agent is not None:
                agent.close()
            loop.call_soon_threadsafe(events.put_nowait, None)

    worker = asyncio.ensure_future(asyncio.to_thread(run))
    try:
        while (event := await events.get()) is not None:
            yield event
    finally:
        await worker


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """An event's data with dataclasses (timings) as dicts."""
    return {k: asdict(v) if hasattr(v, "__dataclass_fields__") else v for k, v in data.items()}


def sse(event: dict[str, Any]) -> str:
    """One event as a Server-Sent Events message."""
    return f"data: {json.dumps(event, ensure_ascii=False)}\n\n"
