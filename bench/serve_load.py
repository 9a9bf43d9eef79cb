"""Load on `edgefc serve`: concurrent clients mixing plain chat, tool calls and streams, every request accounted for.

    python -m edgefc.bench.serve_load [MODEL] [--clients 32] [--requests 300] [--max-seconds 600] [--out DIR]

The server runs as a real subprocess (`python -m edgefc.cli serve`) on a free loopback port. After one
warm-up request, `--clients` threads send `--requests` requests (plain chat, chat with tools under
tool_choice auto, and both streamed, in rotation), each on a new connection. A request refused with 429
waits its Retry-After (plus jitter; a short jittered pause without one) and is sent again, each refusal
counted. Every request sent ends answered, lost (no response, a timeout, a status other than 200 and 429, a
body that is not a well-formed chat completion, a stream that ends without [DONE]) or abandoned (still
being refused when the time budget ran out). The server's RSS is read after the warm-up, while the load
runs and at the end; then it gets SIGINT and must exit cleanly. How the answers spread over the clients is
reported too: a client that honours Retry-After can lose each freed place to a client that resubmits at once.
Exit 1 when a request was lost, RSS grew past its bound, the server did not stop cleanly or its counters
disagree with what the clients saw.

By default the same run then compares tool calls with llama-cpp-python's own server on the same GGUF
(edgefc.bench.serve_compare). It writes `result.json` (all figures and one row per request) and the
servers' logs into the run folder, and prints a table.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from rich.console import Console
from rich.table import Table

from edgefc.bench.latency import TOOLS
from edgefc.errors import EdgefcError, require
from edgefc.progress import step_progress

HOST = "127.0.0.1"
CHAT = "/v1/chat/completions"
QUESTIONS = ("What's the weather in Tokyo right now?", "How much is 20 euros in US dollars?",
             "Write a haiku about autumn.", "Is it raining in Hanoi today?", "Convert 100 yen to British pounds.")
FINISH_REASONS = frozenset({"stop", "length", "tool_calls"})
STARTUP_S = 300  # loading a model from a cold disk on a busy 2-core machine
STOP_S = 30  # the server's own grace for answers in flight is 3 s; the rest is freeing the model
RSS_EVERY_S = 0.5
NO_RETRY_AFTER_S = (0.2, 1.0)  # a 429 without Retry-After: wait a random pause in this range
RETRY_JITTER = 0.25  # a 429 with Retry-After R: wait R * (1 + up to this), so refused clients do not return together
# RSS may grow by this much from the warm-up to the end. After the warm-up every weight has been read (each
# forward pass uses all layers) and the context's buffers exist; what can still become resident, once, is the part
# of the KV cache the warm-up's prompt did not reach (12 KiB per token for the 0.5B model, 48 MiB for a whole
# 4096-token context; the load's prompts stay under 400 tokens, as the warm-up's does) and what concurrency brings
# the first time it happens: the event loop's helper threads with their stacks and malloc arenas, buffers for
# --clients connections; and the heap rises and falls as garbage is collected. Measured here: the 0.5B model, 300
# requests from 32 clients, +33 MiB (+3.4 MiB of it over the second half of the answers); the tiny test model,
# 3,000 requests from 8 clients, a sawtooth between +6 and +46 MiB whose peaks stopped rising after the first
# 1,000. 64 MiB covers that with room, and a leak of 256 KiB per request (less than one copy of a request's
# logits, 151,936 floats = 594 KiB) crosses it within 300 requests. The growth over the second half of the
# answers is reported beside it: one-time costs stop, a leak keeps going.
RSS_GROWTH_BOUND_MIB = 64


@dataclass(frozen=True)
class Kind:
    """One kind of request in the mix."""

    stream: bool
    tools: bool


KINDS = {"chat": Kind(False, False), "tools": Kind(False, True),
         "stream_chat": Kind(True, False), "stream_tools": Kind(True, True)}


@dataclass
class Attempt:
    """One HTTP exchange: answered, rejected (429) or lost, and what came back."""

    outcome: str  # "answered", "rejected" or "lost"
    seconds: float
    status: int | None = None  # None: no HTTP response
    reason: str = ""  # why it was lost
    retry_after: float | None = None
    ttft_s: float | None = None  # streams: the first content or tool-call delta
    completion_tokens: int | None = None
    finish_reason: str | None = None
    calls: int = 0


@dataclass
class Row:
    """One request of the load, over all its attempts."""

    index: int
    kind: str
    client: int
    outcome: str  # "answered", "lost" or "abandoned"
    rejections: int
    started_s: float  # since the load began
    total_s: float  # first attempt sent -> last one finished, pauses after 429 included
    latency_s: float | None = None  # the last attempt alone (queueing in the server included)
    status: int | None = None
    reason: str = ""
    ttft_s: float | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    calls: int = 0


# --- the server process ------------------------------------------------------------------------


def free_port(requested: int = 0) -> int:
    """`requested` if nothing listens there on loopback (0: any free port)."""
    with socket.socket() as sock:
        try:
            sock.bind((HOST, requested))
        except OSError:
            raise EdgefcError(f"port {requested} on {HOST} is in use; pick another with --port (0: a free one)"
                              ) from None
        return sock.getsockname()[1]


def edgefc_argv(model: Path, port: int, threads: int, ctx: int, queue: int | None = None) -> list[str]:
    """`edgefc serve` as the tests start it: this interpreter, `-m edgefc.cli` (queue None: its default)."""
    argv = [sys.executable, "-m", "edgefc.cli", "serve", str(model), "--host", HOST, "--port", str(port),
            "--threads", str(threads), "--ctx", str(ctx)]
    return argv + (["--queue", str(queue)] if queue is not None else [])


@dataclass
class Launched:
    """A server subprocess, ready on `port`, its output going to `log`."""

    name: str
    proc: subprocess.Popen
    port: int
    log: Path

    def rss_bytes(self) -> int:
        """Resident memory of the server and any children it started."""
        return sum(p.memory_info().rss for p in self._processes())

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server and its children have used: set against the wall time, it tells
        a slow server from one that other processes kept off the CPUs."""
        return sum(t.user + t.system for t in (p.cpu_times() for p in self._processes()))

    def _processes(self) -> list[Any]:
        psutil = require("psutil", "bench")
        root = psutil.Process(self.proc.pid)
        return [root, *root.children(recursive=True)]

    def stop(self) -> dict[str, Any]:
        """SIGINT (Ctrl-C), then how it exited: clean when it stopped in time, with the status Ctrl-C gives
        (130, or death by SIGINT; 0 where a server swallows it) and no traceback in its output."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(timeout=STOP_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return {"returncode": None, "seconds": STOP_S, "clean": False,
                    "problem": f"still running {STOP_S} s after SIGINT; killed"}
        seconds = time.monotonic() - started
        traceback = "Traceback (most recent call last)" in self.log.read_text(errors="replace")
        problem = ("a traceback in its output" if traceback else
                   "" if code in (0, 130, -signal.SIGINT) else f"exit status {code}")
        return {"returncode": code, "seconds": seconds, "clean": not problem, "problem": problem}


def _sigint_default() -> None:
    """In the child: Ctrl-C as in a terminal (a runner started in the background passes SIGINT on ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def launched(name: str, argv: list[str], port: int, ready_path: str, log: Path) -> Iterator[Launched]:
    """Start a server, wait until GET `ready_path` answers 200, yield it; stop it on the way out if still up."""
    with log.open("wb") as sink:
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=_sigint_default)
        try:
            _wait_ready(name, proc, port, ready_path, log)
            yield Launched(name, proc, port, log)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=STOP_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _wait_ready(name: str, proc: subprocess.Popen, port: int, path: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while True:
        if proc.poll() is not None:
            raise EdgefcError(f"{name} exited with status {proc.returncode} before it was ready: {_last_line(log)}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if get_json(port, path, timeout=5)[0] == 200:
                return
        if time.monotonic() > deadline:
            raise EdgefcError(f"{name} was not ready within {STARTUP_S} s; see {log}")
        time.sleep(0.2)


def _last_line(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


# --- HTTP ---------------------------------------------------------------------------------------


def get_json(port: int, path: str, timeout: float = 10) -> tuple[int, Any]:
    """GET on loopback: the status and the JSON body (None when it is not JSON)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, _loads(resp.read())
    finally:
        conn.close()


def post_json(port: int, path: str, body: dict[str, Any], timeout: float) -> tuple[int, dict[str, str], Any, float]:
    """POST a JSON body on loopback: status, headers, JSON answer (None when not JSON) and seconds taken."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    started = time.perf_counter()
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, dict(resp.getheaders()), _loads(data), time.perf_counter() - started
    finally:
        conn.close()


def _loads(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def request_body(index: int, model: str, max_tokens: int) -> tuple[str, dict[str, Any]]:
    """The kind and body of request `index`: the kinds in rotation, the questions in another."""
    name = list(KINDS)[index % len(KINDS)]
    kind = KINDS[name]
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "temperature": 0,
                            "messages": [{"role": "user", "content": QUESTIONS[index % len(QUESTIONS)]}]}
    if kind.tools:
        body |= {"tools": TOOLS, "tool_choice": "auto"}
    if kind.stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    return name, body


def attempt(port: int, body: dict[str, Any], timeout: float) -> Attempt:
    """Send one chat request and judge what comes back (`timeout`: the longest silence on the socket)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    started = time.perf_counter()
    elapsed = lambda: time.perf_counter() - started  # noqa: E731
    try:
        conn.request("POST", CHAT, json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        if resp.status == 429:
            resp.read()
            return Attempt("rejected", elapsed(), 429, retry_after=_seconds(resp.getheader("Retry-After")))
        if resp.status != 200:
            text = resp.read().decode(errors="replace")
            return Attempt("lost", elapsed(), resp.status, f"HTTP {resp.status}: {text[:300]}")
        if body.get("stream"):
            return _read_stream(resp, started)
        return _judge_body(_loads(resp.read()), elapsed())
    except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out (socket.timeout is an OSError)
        return Attempt("lost", elapsed(), None, f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


def _seconds(header: str | None) -> float | None:
    try:
        return float(header) if header is not None else None
    except ValueError:
        return None


def _judge_body(data: Any, seconds: float) -> Attempt:
    """An answered attempt, or lost when the body is not a well-formed chat completion."""
    problem = _completion_problem(data)
    if problem:
        return Attempt("lost", seconds, 200, f"malformed body: {problem}")
    choice = data["choices"][0]
    return Attempt("answered", seconds, 200, completion_tokens=data["usage"]["completion_tokens"],
                   finish_reason=choice["finish_reason"], calls=len(choice["message"].get("tool_calls") or []))


def _completion_problem(data: Any) -> str:
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
    return _calls_problem(message.get("tool_calls"), finish)


def _calls_problem(calls: Any, finish: str | None) -> str:
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
        if finish == "tool_calls" and not isinstance(_loads(fn["arguments"].encode()), dict):
            return f"arguments of a finished call are not a JSON object: {fn['arguments'][:200]!r}"
    return ""


def _read_stream(resp: http.client.HTTPResponse, started: float) -> Attempt:
    """Read Server-Sent Events to the end: chunks of one chat completion, then [DONE] and nothing after."""
    calls: dict[int, dict[str, Any]] = {}
    done, finish, tokens, first = False, None, None, None
    for raw in resp:
        line = raw.decode(errors="replace").rstrip("\r\n")
        if done:
            if line.strip():
                return _lost_stream(started, f"data after [DONE]: {line[:200]}")
            continue
        if not line.startswith("data:"):
            continue  # event separators, comments (pings), other fields
        data = line[len("data:"):].strip()
        if data == "[DONE]":
            done = True
            continue
        chunk = _loads(data.encode())
        if not isinstance(chunk, dict) or "error" in chunk or not isinstance(chunk.get("choices"), list):
            return _lost_stream(started, f"not a completion chunk: {data[:200]}")
        for choice in chunk["choices"]:
            delta = choice.get("delta") or {}
            if first is None and (delta.get("content") or delta.get("tool_calls")):
                first = time.perf_counter() - started
            for part in delta.get("tool_calls") or []:
                problem = _add_call_part(calls, part)
                if problem:
                    return _lost_stream(started, problem)
            finish = choice.get("finish_reason") or finish
        if isinstance(chunk.get("usage"), dict):
            tokens = chunk["usage"].get("completion_tokens")
    if not done:
        return _lost_stream(started, "the stream ended without [DONE]")
    if finish not in FINISH_REASONS:
        return _lost_stream(started, f"finish_reason {finish!r}")
    problem = _calls_problem([calls[i] for i in sorted(calls)] or None, finish)
    if problem or not isinstance(tokens, int):
        return _lost_stream(started, problem or "no usage chunk")
    return Attempt("answered", time.perf_counter() - started, 200, ttft_s=first, completion_tokens=tokens,
                   finish_reason=finish, calls=len(calls))


def _add_call_part(calls: dict[int, dict[str, Any]], part: Any) -> str:
    """Fold one streamed tool-call delta into `calls`: the first part of an index opens the call (id, type,
    name), later ones add argument text. Returns what is wrong with it ("" when nothing)."""
    fn = part.get("function") if isinstance(part, dict) else None
    if not isinstance(fn, dict) or not isinstance(part.get("index"), int):
        return f"a tool-call delta without index or function: {part!r}"[:300]
    index = part["index"]
    if index not in calls:
        if index != len(calls):
            return f"tool call {index} opened before call {len(calls)}"
        calls[index] = {"id": part.get("id"), "type": part.get("type"),
                        "function": {"name": fn.get("name"), "arguments": fn.get("arguments") or ""}}
    elif "name" in fn or "id" in part:
        return f"tool call {index} named twice"
    else:
        calls[index]["function"]["arguments"] += fn.get("arguments") or ""
    return ""


def _lost_stream(started: float, reason: str) -> Attempt:
    return Attempt("lost", time.perf_counter() - started, 200, f"stream: {reason}")


# --- the load -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadPlan:
    """What the clients send: `requests` requests of `max_tokens` each, within `max_seconds`."""

    model: str
    requests: int
    clients: int
    max_tokens: int
    max_seconds: float
    timeout: float  # the longest silence on a request's socket before it counts as lost
    seed: int = 0


def run_load(port: int, plan: LoadPlan, on_done: Callable[[Row], None] | None = None) -> tuple[list[Row], float]:
    """Every request of the plan through `plan.clients` threads; the rows (in index order) and the wall time."""
    lock = threading.Lock()
    issued = iter(range(plan.requests))
    rows: list[Row] = []
    started = time.perf_counter()
    deadline = started + plan.max_seconds

    def next_index() -> int | None:
        with lock:
            return next(issued, None) if time.perf_counter() < deadline else None

    def client(number: int) -> None:
        rng = random.Random(plan.seed * 1000 + number)
        while (index := next_index()) is not None:
            row = _one_request(port, plan, index, number, rng, started, deadline)
            with lock:
                rows.append(row)
                if on_done is not None:
                    on_done(row)

    threads = [threading.Thread(target=client, args=(n,), name=f"load-client-{n}", daemon=True)  # Ctrl-C ends them
               for n in range(plan.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(rows, key=lambda r: r.index), time.perf_counter() - started


def _one_request(port: int, plan: LoadPlan, index: int, client: int, rng: random.Random, started: float,
                 deadline: float) -> Row:
    """Send request `index` until it is answered or lost; after a 429 wait and retry, or give up once the time
    budget is spent (abandoned)."""
    kind, body = request_body(index, plan.model, plan.max_tokens)
    first = time.perf_counter()
    rejections = 0
    while True:
        result = attempt(port, body, plan.timeout)
        if result.outcome != "rejected":
            break
        rejections += 1
        pause = (result.retry_after * (1 + rng.uniform(0, RETRY_JITTER)) if result.retry_after
                 else rng.uniform(*NO_RETRY_AFTER_S))
        if time.perf_counter() + pause > deadline:
            return Row(index, kind, client, "abandoned", rejections, first - started, time.perf_counter() - first,
                       status=429, reason="still refused when the time budget ran out")
        time.sleep(pause)
    return Row(index, kind, client, result.outcome, rejections, first - started, time.perf_counter() - first,
               result.seconds, result.status, result.reason, result.ttft_s, result.completion_tokens,
               result.finish_reason, result.calls)


class RssSampler:
    """Reads a server's RSS and CPU time every RSS_EVERY_S in a thread, with the answers so far and the machine's
    1-minute load average."""

    def __init__(self, server: Launched):
        self.server, self.samples = server, []  # (seconds, RSS MiB, server CPU s, answered, load average)
        self.answered = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._started = time.perf_counter()

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(RSS_EVERY_S):
            with contextlib.suppress(Exception):  # the process may be gone between two reads; the end says why
                self.samples.append((round(time.perf_counter() - self._started, 2), _mib(self.server.rss_bytes()),
                                     round(self.server.cpu_seconds(), 2), self.answered, os.getloadavg()[0]))


def _mib(n: int) -> float:
    return round(n / 2**20, 1)


def spread(values: list[float]) -> dict[str, float] | None:
    """p50, p95, mean and max of some seconds (None without any)."""
    if not values:
        return None
    a = np.asarray(values, dtype=float)
    return {"p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)), "mean": float(a.mean()),
            "max": float(a.max()), "n": len(values)}


def summarize(rows: list[Row], planned: int, wall_s: float, clients: int) -> dict[str, Any]:
    """Counts, latency percentiles, throughput and fairness (answers per client) of a load run."""
    answered = [r for r in rows if r.outcome == "answered"]
    per_client = [sum(r.client == c for r in answered) for c in range(clients)]
    lost = [r for r in rows if r.outcome == "lost"]
    tokens = sum(r.completion_tokens or 0 for r in answered)
    by_kind = {k: {"answered": sum(r.kind == k for r in answered), "lost": sum(r.kind == k for r in lost),
                   "latency_s": spread([r.latency_s for r in answered if r.kind == k])} for k in KINDS}
    return {
        "planned": planned, "sent": len(rows), "unsent": planned - len(rows), "answered": len(answered),
        "lost": len(lost), "abandoned": sum(r.outcome == "abandoned" for r in rows),
        "rejections": sum(r.rejections for r in rows), "requests_rejected": sum(r.rejections > 0 for r in rows),
        "max_rejections_one_request": max((r.rejections for r in rows), default=0),
        "answers_per_client": {"min": min(per_client), "max": max(per_client), "all": per_client},
        "latency_s": spread([r.latency_s for r in answered]),  # the answered attempt, server queueing included
        "total_s": spread([r.total_s for r in answered]),  # from the first attempt, pauses after 429 included
        "stream_ttft_s": spread([r.ttft_s for r in answered if r.ttft_s is not None]),
        "wall_s": wall_s, "answered_per_s": len(answered) / wall_s if wall_s else 0.0,
        "completion_tokens": tokens, "completion_tokens_per_s": tokens / wall_s if wall_s else 0.0,
        "answers_with_tool_calls": sum(r.calls > 0 for r in answered),
        "finish_reasons": {f: sum(r.finish_reason == f for r in answered) for f in sorted(FINISH_REASONS)},
        "lost_reasons": sorted({r.reason for r in lost}), "by_kind": by_kind,
    }


def measure_load(model: Path, plan: LoadPlan, *, threads: int, ctx: int, queue: int, port: int,
                 out: Path) -> dict[str, Any]:
    """Start `edgefc serve`, warm it, run the load, read its RSS and counters, stop it (see the module doc)."""
    port = free_port(port)
    argv = edgefc_argv(model, port, threads, ctx, queue)
    with launched("edgefc serve", argv, port, "/health", out / "edgefc-serve.log") as server:
        warm = attempt(port, request_body(1, plan.model, plan.max_tokens)[1], plan.timeout)  # a tools request
        if warm.outcome != "answered":
            raise EdgefcError(f"the warm-up request to edgefc serve failed: {warm.reason or warm.status}")
        rss_start, cpu_start = server.rss_bytes(), server.cpu_seconds()
        with step_progress() as bar, RssSampler(server) as sampler:
            task = bar.add_task("load", total=plan.requests)

            def done(row: Row) -> None:
                sampler.answered += row.outcome == "answered"
                bar.advance(task)

            rows, wall_s = run_load(port, plan, done)
        rss_end, cpu_s = server.rss_bytes(), server.cpu_seconds() - cpu_start
        health = get_json(port, "/health")[1]
        stopped = server.stop()
    figures = summarize(rows, plan.requests, wall_s, plan.clients)
    figures |= {"server_cpu_s": cpu_s, "server_cpus_used": cpu_s / wall_s if wall_s else 0.0}
    half = next((s[1] for s in sampler.samples if s[3] >= figures["answered"] / 2), None)
    growth = _mib(rss_end - rss_start)
    counters = {"served": health["served"], "rejected": health["rejected"], "cancelled": health["cancelled"],
                "expected_served": figures["answered"] + 1, "expected_rejected": figures["rejections"]}
    counters["agree"] = (counters["served"] == counters["expected_served"]
                         and counters["rejected"] == counters["expected_rejected"])
    rss = {"start": _mib(rss_start), "at_half": half, "end": _mib(rss_end),
           "peak": max([_mib(rss_end), _mib(rss_start), *(s[1] for s in sampler.samples)]),
           "growth": growth, "growth_second_half": None if half is None else round(_mib(rss_end) - half, 1),
           "bound": RSS_GROWTH_BOUND_MIB, "within_bound": growth <= RSS_GROWTH_BOUND_MIB}
    samples = {"fields": ["seconds", "rss_mib", "server_cpu_s", "answered", "load_average_1m"], "every_s": RSS_EVERY_S,
               "rows": sampler.samples}
    return {"command": argv, "warm_up_s": warm.seconds, "figures": figures, "server_counters": counters,
            "rss_mib": rss, "samples": samples, "stopped": stopped, "rows": [asdict(r) for r in rows]}


def problems(load: dict[str, Any]) -> list[str]:
    """Why a load run fails (empty when it passes)."""
    f, rss = load["figures"], load["rss_mib"]
    found = []
    if f["lost"]:
        found.append(f"{f['lost']} requests lost ({'; '.join(f['lost_reasons'])[:500]})")
    if not rss["within_bound"]:
        found.append(f"RSS grew {rss['growth']} MiB, more than the {rss['bound']} MiB bound")
    if not load["stopped"]["clean"]:
        found.append(f"edgefc serve did not stop cleanly: {load['stopped']['problem']}")
    if not load["server_counters"]["agree"]:
        found.append(f"the server's counters disagree with the clients': {load['server_counters']}")
    return found


# --- the command --------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The whole benchmark as the command line asks; the result written to `args.out / result.json`."""
    from edgefc.bench import serve_compare
    from edgefc.models.resolve import resolve

    require("psutil", "bench")
    require("uvicorn", "serve")
    out = args.out or Path("bench-results") / f"serve-load-{datetime.now():%Y%m%d-%H%M%S}"
    if (out / "result.json").exists():
        raise EdgefcError(f"{out / 'result.json'} already exists; choose another --out")
    free_port(args.port)  # a port in use fails before the model is fetched or loaded
    model = resolve(args.model)
    compare_why_not = serve_compare.unavailable(model.format)
    if args.compare and compare_why_not:
        raise EdgefcError(f"--compare: {compare_why_not}")
    out.mkdir(parents=True, exist_ok=True)
    plan = LoadPlan(model.path.name, args.requests, args.clients, args.max_tokens, args.max_seconds, args.timeout,
                args.seed)
    result: dict[str, Any] = {
        "bench_command": [sys.executable, "-m", "edgefc.bench.serve_load", *sys.argv[1:]],
        "model": str(model.path), "threads": args.threads, "ctx": args.ctx, "queue": args.queue,
        "plan": asdict(plan), "kinds": list(KINDS), "started": datetime.now().astimezone().isoformat(),
        "load_average_start": os.getloadavg(), "cpus": os.cpu_count(),
        "notes": [f"load requests ask for max_tokens {args.max_tokens} at temperature 0, their kinds in rotation "
                  f"({', '.join(KINDS)}); tool requests offer {len(TOOLS)} tools with tool_choice auto"]}
    found = []
    if args.load:
        result["load"] = measure_load(model.path, plan, threads=args.threads, ctx=args.ctx, queue=args.queue,
                                      port=args.port, out=out)
        found += problems(result["load"])
    if args.compare is False or compare_why_not:
        result["compare"] = {"skipped": compare_why_not or "--no-compare"}
    else:
        result["compare"] = serve_compare.compare(
            model.path, threads=args.threads, ctx=args.ctx, port=args.port, out=out,
            categories=args.categories.split(","), per_category=args.entries, seed=args.seed,
            max_tokens=args.compare_max_tokens, timeout=args.timeout,
            chat_formats=tuple(args.llama_chat_format or [serve_compare.TEMPLATE]))
        found += serve_compare.problems(result["compare"])
    result["load_average_end"] = os.getloadavg()
    result["problems"] = found
    (out / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    result["out"] = str(out)
    return result


def table(result: dict[str, Any]) -> Table:
    """The load's figures as a rich table."""
    load = result["load"]
    f, rss, stopped = load["figures"], load["rss_mib"], load["stopped"]
    lat, total = f["latency_s"] or {}, f["total_s"] or {}
    t = Table(title=f"edgefc serve under load · {Path(result['model']).name} · {result['plan']['clients']} "
                    f"clients · {result['threads']} threads · ctx {result['ctx']} · queue {result['queue']} · "
                    f"max_tokens {result['plan']['max_tokens']}")
    t.add_column("figure")
    t.add_column("value", justify="right")
    for name, value in [
        ("requests planned / sent", f"{f['planned']} / {f['sent']}"),
        ("answered", str(f["answered"])),
        ("rejected (429, each retry counted)", f"{f['rejections']} over {f['requests_rejected']} requests"),
        ("lost", str(f["lost"])),
        ("abandoned (time budget)", str(f["abandoned"])),
        ("most 429s for one request · answers per client", f"{f['max_rejections_one_request']} · "
                                                           f"{f['answers_per_client']['min']} to "
                                                           f"{f['answers_per_client']['max']}"),
        ("latency p50 / p95 (answered attempt)", f"{lat.get('p50', 0):.2f} / {lat.get('p95', 0):.2f} s"),
        ("latency p50 / p95 (with 429 pauses)", f"{total.get('p50', 0):.2f} / {total.get('p95', 0):.2f} s"),
        ("throughput", f"{f['answered_per_s']:.2f} answers/s · {f['completion_tokens_per_s']:.1f} tokens/s"),
        ("wall time", f"{f['wall_s']:.1f} s"),
        ("server CPU use (of --threads)", f"{f['server_cpus_used']:.2f} of {result['threads']}"),
        ("load average at start / end", f"{result['load_average_start'][0]:.2f} / {result['load_average_end'][0]:.2f}"),
        ("RSS start / end / peak", f"{rss['start']} / {rss['end']} / {rss['peak']} MiB"),
        ("RSS growth (bound) · over the second half", f"{rss['growth']:+} MiB ({rss['bound']} MiB) · "
                                                       f"{rss['growth_second_half'] or 0:+} MiB"),
        ("server counters agree", str(load["server_counters"]["agree"])),
        ("stopped on SIGINT", f"status {stopped['returncode']} in {stopped['seconds']:.1f} s"
                              + ("" if stopped["clean"] else f" · {stopped['problem']}")),
    ]:
        t.add_row(name, value)
    return t


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def parser() -> argparse.ArgumentParser:
    from edgefc.bench.serve_compare import DEFAULT_CATEGORIES
    from edgefc.models.catalog import DEFAULT_MODEL

    p = argparse.ArgumentParser(prog="python -m edgefc.bench.serve_load", description=__doc__.splitlines()[0])
    p.add_argument("model", nargs="?", default=DEFAULT_MODEL, help="catalog name or model file (default: %(default)s)")
    p.add_argument("--out", type=Path, default=None, help="run folder (default: bench-results/serve-load-<time>)")
    p.add_argument("--clients", type=_positive, default=32)
    p.add_argument("--requests", type=_positive, default=300)
    p.add_argument("--max-seconds", type=float, default=600.0, help="time budget of the load: no request starts "
                   "and no refused one is retried after it")
    p.add_argument("--max-tokens", type=_positive, default=64, help="max_tokens of each load request")
    p.add_argument("--threads", type=_positive, default=2)
    p.add_argument("--ctx", type=_positive, default=4096, help="context size of the server(s)")
    p.add_argument("--queue", type=int, default=8, help="edgefc serve --queue: requests that may wait")
    p.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds of silence on a request before it is lost")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--compare", action=argparse.BooleanOptionalAction, default=None,
                   help="also compare tool calls with llama-cpp-python's server (default: when it is installed)")
    p.add_argument("--entries", type=_positive, default=8, help="BFCL entries per category for the comparison")
    p.add_argument("--categories", default=",".join(DEFAULT_CATEGORIES))
    p.add_argument("--compare-max-tokens", type=_positive, default=256)
    p.add_argument("--llama-chat-format", action="append", default=None,
                   help="llama_cpp.server --chat_format for the comparison, repeatable: one run of its server each "
                   "('template': the GGUF's own chat template, the default; e.g. chatml-function-calling)")
    p.add_argument("--load", action=argparse.BooleanOptionalAction, default=True,
                   help="run the load (--no-load: only the comparison)")
    return p


def main() -> None:
    args = parser().parse_args()
    console, err = Console(), Console(stderr=True)
    try:
        result = run(args)
    except EdgefcError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    from edgefc.bench.serve_compare import compare_table

    if "load" in result:
        console.print(table(result))
    compare = result["compare"]
    if "skipped" in compare:
        console.print(f"tool-call comparison with llama-cpp-python's server not run: {compare['skipped']}")
    else:
        console.print(compare_table(compare))
        for name, server in compare["servers"].items():
            if "failed" in server:
                console.print(f"{name} did not run: {server['failed']}")
    for note in [*result["notes"], *compare.get("notes", [])]:
        console.print(f"note: {note}", highlight=False)
    console.print(f"figures and per-request rows: {Path(result['out']) / 'result.json'}")
    for problem in result["problems"]:
        err.print(f"[red]FAIL:[/] {problem}", highlight=False, soft_wrap=True)
    sys.exit(1 if result["problems"] else 0)


if __name__ == "__main__":
    main()
