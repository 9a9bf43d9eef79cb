"""Load on `edgefc serve`: concurrent clients mixing plain chat, tool calls and streams, every request accounted for.

    edgefc bench serve-load [MODEL] [--clients 32] [--requests 300] [--max-seconds 600] [--out DIR]

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

import http.client
import itertools
import json
import os
import random
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import numpy as np
from rich.table import Table

from edgefc.bench.http_client import HOST, get_json, loads
from edgefc.bench.latency import TOOLS
from edgefc.bench.server_process import RSS_EVERY_S, RssSampler, edgefc_argv, free_port, launched, mib
from edgefc.errors import EdgefcError, require
from edgefc.progress import report
from edgefc.serve.conformance import CHAT, FINISH_REASONS, StreamCheck, completion_problem

QUESTIONS = ("What's the weather in Tokyo right now?", "How much is 20 euros in US dollars?",
             "Write a haiku about autumn.", "Is it raining in Hanoi today?", "Convert 100 yen to British pounds.")
NO_RETRY_AFTER_S = (0.2, 1.0)  # a 429 without Retry-After: wait a random pause in this range
RETRY_JITTER = 0.25  # a 429 with Retry-After R: wait R * (1 + up to this), so refused clients do not return together
# RSS may grow by this much from the warm-up to the end: what can still become resident once (the KV cache the
# warm-up did not reach, what concurrency brings the first time) stays under it, and a leak of 256 KiB per request
# crosses it within 300 requests. The measurements it was set from are in bench/serve_load.md.
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
        return _judge_body(loads(resp.read()), elapsed())
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
    problem = completion_problem(data)
    if problem:
        return Attempt("lost", seconds, 200, f"malformed body: {problem}")
    choice = data["choices"][0]
    return Attempt("answered", seconds, 200, completion_tokens=data["usage"]["completion_tokens"],
                   finish_reason=choice["finish_reason"], calls=len(choice["message"].get("tool_calls") or []))


def _read_stream(resp: http.client.HTTPResponse, started: float) -> Attempt:
    """Read Server-Sent Events to the end, checked as they come; the first content or call delta's time is TTFT."""
    check, first = StreamCheck(), None
    for raw in resp:
        problem = check.feed(raw.decode(errors="replace").rstrip("\r\n"))
        if first is None and check.answering:
            first = time.perf_counter() - started
        if problem:
            return _lost_stream(started, problem)
    problem = check.end()
    if problem:
        return _lost_stream(started, problem)
    return Attempt("answered", time.perf_counter() - started, 200, ttft_s=first, completion_tokens=check.tokens,
                   finish_reason=check.finish, calls=len(check.calls))


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
        with RssSampler(server) as sampler:
            finished = itertools.count(1)  # the clients' threads count through it (next() holds the GIL)

            def done(row: Row) -> None:
                sampler.answered += row.outcome == "answered"
                report("load", next(finished), plan.requests)

            rows, wall_s = run_load(port, plan, done)
        rss_end, cpu_s = server.rss_bytes(), server.cpu_seconds() - cpu_start
        health = get_json(port, "/health")[1]
        stopped = server.stop()
    figures = summarize(rows, plan.requests, wall_s, plan.clients)
    figures |= {"server_cpu_s": cpu_s, "server_cpus_used": cpu_s / wall_s if wall_s else 0.0}
    half = next((s[1] for s in sampler.samples if s[3] >= figures["answered"] / 2), None)
    growth = mib(rss_end - rss_start)
    counters = {"served": health["served"], "rejected": health["rejected"], "cancelled": health["cancelled"],
                "expected_served": figures["answered"] + 1, "expected_rejected": figures["rejections"]}
    counters["agree"] = (counters["served"] == counters["expected_served"]
                         and counters["rejected"] == counters["expected_rejected"])
    rss = {"start": mib(rss_start), "at_half": half, "end": mib(rss_end),
           "peak": max([mib(rss_end), mib(rss_start), *(s[1] for s in sampler.samples)]),
           "growth": growth, "growth_second_half": None if half is None else round(mib(rss_end) - half, 1),
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


@dataclass(frozen=True)
class LoadRun:
    """What `edgefc bench serve-load` was asked (see its help)."""

    model: str
    out: Path | None
    clients: int
    requests: int
    max_seconds: float
    max_tokens: int
    threads: int
    ctx: int
    queue: int
    port: int
    timeout: float
    seed: int
    compare: bool | None  # None: when llama-cpp-python's server is installed
    entries: int
    categories: list[str]
    compare_max_tokens: int
    chat_formats: tuple[str, ...]
    load: bool
    command: list[str] = field(default_factory=list)  # the command line, recorded in result.json


def run(args: LoadRun) -> dict[str, Any]:
    """The whole benchmark as `args` asks; the result written to `args.out / result.json`."""
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
        "bench_command": list(args.command),
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
            categories=list(args.categories), per_category=args.entries, seed=args.seed,
            max_tokens=args.compare_max_tokens, timeout=args.timeout,
            chat_formats=args.chat_formats)
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


if __name__ == "__main__":  # the old entry point, kept: `edgefc bench serve-load` is the command
    from edgefc.cli import main

    sys.argv = ["edgefc", "bench", "serve-load", *sys.argv[1:]]
    main()
