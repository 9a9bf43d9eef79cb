"""The OpenAI API over one loaded model: a Starlette app (chat and text completions, models, health), and with
tools the agent endpoint and its chat page (edgefc/serve/agent_api.py, edgefc/serve/page.html).

Requests are checked and rendered on the event loop's side (rendering and tokenizing run in a helper thread),
then generated one at a time on the queue's worker thread; streams are Server-Sent Events in OpenAI's chunk
format, fed token by token. A stream whose client goes away stops its generation at the next token.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any, AsyncIterator, Awaitable, Callable, Sequence

from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from edgefc.agent.loop import Agent, Limits
from edgefc.agent.tools import Toolbox
from edgefc.errors import EdgefcError
from edgefc.runtimes.base import Generation, Runtime
from edgefc.serve import output
from edgefc.serve.agent_api import Confirmations, QueuedRuntime, agent_events, parse_agent_request, sse
from edgefc.serve.jobs import Prepared, Watch, generate, prepare_chat, prepare_completion
from edgefc.serve.queue import DEFAULT_SIZE, DEFAULT_WAIT_S, GenerationQueue, QueueFull
from edgefc.serve.schemas import ApiError, decode_body, parse_chat, parse_completion

log = logging.getLogger("edgefc.serve")
MAX_BODY_BYTES = 8 * 2**20  # BFCL's longest prompts are ~30 KB; a body this large is a mistake or an attack
_DONE = object()  # the end of a stream's texts
PAGE = "page.html"  # package data beside this module


@dataclass
class Stats:
    """Counters /health reports."""

    served: int = 0
    rejected: int = 0  # refused with 429
    cancelled: int = 0  # generations stopped because their client went away
    generated_tokens: int = 0


@dataclass
class Server:
    """The app's state: the model, its queue, the generations in flight."""

    runtime: Runtime
    model: str
    queue: GenerationQueue
    api_keys: tuple[str, ...]  # any of them is accepted; each is a client whose requests take turns with the others
    toolbox: Toolbox | None = None  # the agent endpoint's tools (serve --tools/--mcp); None: no agent endpoint
    system: str | None = None  # the agent's system message (the tools files' SYSTEM)
    limits: Limits = field(default_factory=Limits)  # the agent's steps, tool timeout, answer length
    confirmations: Confirmations = field(default_factory=Confirmations)
    created: int = field(default_factory=lambda: int(time.time()))
    stats: Stats = field(default_factory=Stats)
    watches: set[Watch] = field(default_factory=set)

    async def run(self, prepared: Prepared, watch: Watch, key: str = "") -> asyncio.Future[Generation]:
        """Wait for the generation's turn and start it (QueueFull becomes a 429); the future of its answer."""
        try:
            future = await self.queue.start(lambda: generate(self.runtime, prepared, watch), key)
        except QueueFull as exc:
            raise self.refused(exc) from None
        self.watches.add(watch)
        future.add_done_callback(lambda f: self._finished(f, watch))
        return future

    def refused(self, exc: QueueFull) -> ApiError:
        """A 429 for a request the queue had no place for, with its Retry-After."""
        self.stats.rejected += 1
        return ApiError(str(exc), status=429, kind="rate_limit_error", code="queue_full",
                        headers={"Retry-After": str(exc.retry_after)})

    def _finished(self, future: asyncio.Future[Generation], watch: Watch) -> None:
        self.watches.discard(watch)
        self.stats.generated_tokens += len(watch.tokens)
        if watch.cancel.is_set():
            self.stats.cancelled += 1
        elif not future.cancelled() and future.exception() is None:
            self.stats.served += 1


def create_app(runtime: Runtime, *, model: str, queue_size: int = DEFAULT_SIZE,
               api_key: str | Sequence[str] | None = None, wait_s: float = DEFAULT_WAIT_S, toolbox: Toolbox | None = None, system: str | None = None,
               limits: Limits | None = None, ui: bool = True) -> Starlette:
    """The API over a loaded runtime; `model` is the name /v1/models reports and answers carry. `api_key` is
    one key or several (clients whose requests take turns); `queue_size` requests may wait, each `wait_s`
    seconds at most. With `toolbox`, the agent endpoint runs those tools; with `ui`, `/` serves the chat page."""
    keys = (api_key,) if isinstance(api_key, str) else tuple(api_key or ())
    queue = GenerationQueue(queue_size, wait_s, keys=len(keys))
    server = Server(runtime, model, queue, keys, toolbox, system, limits or Limits())

    def endpoint(handler: Callable[[Server, Request], Awaitable[Response]], auth: bool = True) -> Callable:
        async def call(request: Request) -> Response:
            try:
                request.state.client_key = _authorize(server, request) if auth else ""
                return await handler(server, request)
            except ApiError as exc:
                return _error(exc)
        return call

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        for watch in list(server.watches):
            watch.cancel.set()
        await asyncio.to_thread(server.queue.close)

    routes = [Route("/v1/chat/completions", endpoint(chat_completions), methods=["POST"]),
              Route("/v1/completions", endpoint(completions), methods=["POST"]),
              Route("/v1/models", endpoint(models), methods=["GET"]),
              Route("/health", endpoint(health, auth=False), methods=["GET"]),
              Route("/v1/agent", endpoint(agent), methods=["POST"]),
              Route("/v1/agent/confirm", endpoint(confirm), methods=["POST"])]
    if ui:  # the one page, everything inline: a device may be offline
        routes.append(Route("/", endpoint(page, auth=False), methods=["GET"]))
    return Starlette(routes=routes, lifespan=lifespan,
                     exception_handlers={HTTPException: _http_error, Exception: _server_error})


def _authorize(server: Server, request: Request) -> str:
    """Which key the request carries ("" when the server needs none; the queue takes turns by it); 401 else."""
    if not server.api_keys:
        return ""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    given = token.strip().encode()
    matches = [i for i, key in enumerate(server.api_keys) if hmac.compare_digest(given, key.encode())]
    if scheme.lower() != "bearer" or not matches:
        raise ApiError("missing or wrong API key (send 'Authorization: Bearer KEY')", status=401,
                       code="invalid_api_key")
    return f"key-{matches[0]}"


def _error(exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error(ApiError(str(exc.detail), status=exc.status_code, code=str(exc.status_code)))


async def _server_error(_: Request, exc: Exception) -> Response:
    log.error("request failed", exc_info=exc)
    return _error(ApiError(f"internal error: {exc!r}", status=500, kind="server_error"))


async def _body(request: Request) -> dict[str, Any]:
    """The JSON body, refused once it grows past MAX_BODY_BYTES."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return decode_body(b"".join(chunks))


def _too_large() -> ApiError:
    return ApiError(f"the request body is larger than {MAX_BODY_BYTES} bytes", status=413, code="body_too_large")


async def _answer(future: asyncio.Future[Generation], watch: Watch, request: Request | None = None) -> Generation:
    """The generation's result; a request cancelled while waiting, or whose client goes away (given `request`),
    stops it. A user error in it is a 400."""
    gone = asyncio.ensure_future(_disconnect(request)) if request is not None else None
    try:
        if gone is not None:
            await asyncio.wait({future, gone}, return_when=asyncio.FIRST_COMPLETED)
            if not future.done():
                _stop(future, watch)
                raise ApiError("the client closed the connection", status=499, code="client_closed")
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        _stop(future, watch)
        raise
    except EdgefcError as exc:
        raise ApiError(str(exc)) from None
    finally:
        if gone is not None:
            gone.cancel()


def _stop(future: asyncio.Future[Generation], watch: Watch) -> None:
    """Stop a generation at its next token, or before it starts."""
    watch.cancel.set()
    future.cancel()


async def _disconnect(request: Request) -> None:
    """Return once the client has closed the connection (its body was read already)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _streamed_watch(prepared: Prepared, runtime: Runtime) -> tuple[Watch, asyncio.Queue[Any]]:
    """A watch whose texts reach an asyncio queue from the worker thread."""
    loop = asyncio.get_running_loop()
    texts: asyncio.Queue[Any] = asyncio.Queue()
    emit = lambda text: loop.call_soon_threadsafe(texts.put_nowait, text)  # noqa: E731
    return Watch(runtime, prepared.stop, prepared.calls_possible, emit), texts


async def _latest(texts: asyncio.Queue[Any]) -> Any:
    """The newest text (older ones are superseded: each is the whole answer so far), or _DONE."""
    item = await texts.get()
    while not texts.empty() and item is not _DONE:
        item = texts.get_nowait()
    return item


async def _stream(texts: asyncio.Queue[Any], watch: Watch, future: asyncio.Future[Generation],
                  opening: list[dict[str, Any]], chunks: Callable[[str, bool], list[dict[str, Any]]],
                  last: Callable[[Generation], list[dict[str, Any]]]) -> AsyncIterator[dict[str, str]]:
    """SSE events of one generation: `opening`, then `chunks(text, final)` as the text grows, `last(gen)`."""
    future.add_done_callback(lambda _: texts.put_nowait(_DONE))
    try:
        for chunk in opening:
            yield {"data": _json(chunk)}
        while (text := await _latest(texts)) is not _DONE:
            for chunk in chunks(text, False):
                yield {"data": _json(chunk)}
        try:
            gen = await _answer(future, watch)
        except ApiError as exc:
            yield {"data": _json(exc.body())}
            return
        except Exception as exc:  # noqa: BLE001 - the status line is sent; the client still learns it failed
            log.error("generation failed", exc_info=exc)
            yield {"data": _json(ApiError(f"internal error: {exc!r}", status=500, kind="server_error").body())}
            return
        for chunk in [*chunks(watch.text, True), *last(gen)]:
            yield {"data": _json(chunk)}
        yield {"data": "[DONE]"}
    finally:
        if not future.done():
            _stop(future, watch)


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


async def chat_completions(server: Server, request: Request) -> Response:
    """POST /v1/chat/completions."""
    req = parse_chat(await _body(request))
    prepared = await asyncio.to_thread(prepare_chat, server.runtime, req)
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if not req.common.stream:
        watch = Watch(server.runtime, prepared.stop, prepared.calls_possible)
        gen = await _answer(await server.run(prepared, watch, request.state.client_key), watch, request)
        message, calls = output.chat_message(gen.text, prepared.calls_possible, prepared.stop)
        return JSONResponse({"id": ident, "object": "chat.completion", "created": created, "model": server.model,
                             "choices": [{"index": 0, "message": message, "logprobs": None,
                                          "finish_reason": output.finish_reason(gen.finish_reason, calls)}],
                             "usage": _usage(gen)})

    watch, texts = _streamed_watch(prepared, server.runtime)
    future = await server.run(prepared, watch, request.state.client_key)
    deltas = output.AnswerDeltas(prepared.calls_possible, prepared.stop)

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"id": ident, "object": "chat.completion.chunk", "created": created, "model": server.model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

    def chunks(text: str, final: bool) -> list[dict[str, Any]]:
        return [chunk(d) for d in deltas.feed(text, final)]

    def last(gen: Generation) -> list[dict[str, Any]]:
        end = [chunk({}, output.finish_reason(gen.finish_reason, bool(deltas.mode and deltas.ids)))]
        if req.common.include_usage:
            end.append({**chunk({}), "choices": [], "usage": _usage(gen)})
        return end

    opening = [chunk({"role": "assistant"})]
    return EventSourceResponse(_stream(texts, watch, future, opening, chunks, last), sep="\n")


async def completions(server: Server, request: Request) -> Response:
    """POST /v1/completions: a raw prompt, decoded without a grammar (BFCL's harness uses it)."""
    req = parse_completion(await _body(request))
    prepared = await asyncio.to_thread(prepare_completion, server.runtime, req)
    ident, created = f"cmpl-{uuid.uuid4().hex}", int(time.time())

    def choice(text: str, finish: str | None) -> dict[str, Any]:
        return {"id": ident, "object": "text_completion", "created": created, "model": server.model,
                "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}]}

    if not req.common.stream:
        watch = Watch(server.runtime, prepared.stop, False)
        gen = await _answer(await server.run(prepared, watch, request.state.client_key), watch, request)
        return JSONResponse({**choice(output.cut_at_stop(gen.text, prepared.stop)[0],
                                      output.finish_reason(gen.finish_reason, False)), "usage": _usage(gen)})

    watch, texts = _streamed_watch(prepared, server.runtime)
    future = await server.run(prepared, watch, request.state.client_key)
    deltas = output.AnswerDeltas(False, prepared.stop)

    def chunks(text: str, final: bool) -> list[dict[str, Any]]:
        return [choice(d["content"], None) for d in deltas.feed(text, final)]

    def last(gen: Generation) -> list[dict[str, Any]]:
        end = [choice("", output.finish_reason(gen.finish_reason, False))]
        if req.common.include_usage:
            end.append({**choice("", None), "choices": [], "usage": _usage(gen)})
        return end

    return EventSourceResponse(_stream(texts, watch, future, [], chunks, last), sep="\n")


async def models(server: Server, request: Request) -> Response:
    """GET /v1/models: the one model served."""
    return JSONResponse({"object": "list", "data": [{"id": server.model, "object": "model", "created": server.created,
                                                     "owned_by": "edgefc"}]})


async def health(server: Server, request: Request) -> Response:
    """GET /health: up, with the queue and counters (no key needed)."""
    return JSONResponse({"status": "ok", "model": server.model,
                         "queue": {"admitted": server.queue.admitted, "size": server.queue.size,
                                   "waiting": server.queue.waiting, "wait_s": server.queue.wait_s,
                                   "keys": len(server.api_keys), "waits": server.queue.waits()},
                         **asdict(server.stats)})


async def agent(server: Server, request: Request) -> Response:
    """POST /v1/agent: one user message through the agent loop, its events streamed (see agent_api)."""
    if server.toolbox is None:
        raise ApiError("this server has no tools: start it with edgefc serve --tools FILE or --mcp CONFIG",
                       status=404, code="no_agent")
    try:
        messages, message = parse_agent_request(await _body(request))
    except EdgefcError as exc:
        raise ApiError(str(exc)) from None
    loop = asyncio.get_running_loop()
    toolbox, key = server.toolbox, request.state.client_key

    def make_agent(emit: Callable[[dict[str, Any]], None]) -> Agent:
        def submit(job: Callable[[], Generation]) -> Generation:
            async def queued() -> Generation:
                try:
                    return await server.queue.submit(job, key)
                except QueueFull as exc:
                    raise EdgefcError(str(server.refused(exc))) from None
            return asyncio.run_coroutine_threadsafe(queued(), loop).result()

        runtime = QueuedRuntime(server.runtime, submit, lambda text: emit({"type": "partial", "text": text}))
        has_system = any(m["role"] == "system" for m in messages)
        bot = Agent(runtime, toolbox, system=None if has_system else server.system,  # type: ignore[arg-type]
                    limits=server.limits, confirm=lambda call: server.confirmations.ask(call, emit))
        bot.conversation.add(*messages)
        return bot

    async def stream() -> AsyncIterator[str]:
        async for event in agent_events(make_agent, message):
            yield sse(event)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


async def confirm(server: Server, request: Request) -> Response:
    """POST /v1/agent/confirm: {"id": ..., "allow": bool} answers a tool call waiting for a yes."""
    body = await _body(request)
    ident, allow = body.get("id"), body.get("allow")
    if not isinstance(ident, str) or not isinstance(allow, bool):
        raise ApiError("the body must be {\"id\": \"...\", \"allow\": true|false}")
    if not server.confirmations.answer(ident, allow):
        raise ApiError(f"no tool call waits for confirmation {ident!r}", status=404, code="no_such_confirmation")
    return JSONResponse({"id": ident, "allow": allow})


async def page(server: Server, request: Request) -> Response:
    """GET /: the chat page (one file, scripts and styles inline)."""
    html = resources.files("edgefc.serve").joinpath(PAGE).read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def _usage(gen: Generation) -> dict[str, Any]:
    t = gen.timings
    return output.usage(t.prompt_tokens, t.completion_tokens, t.cached_tokens)
