"""Tool calls through `edgefc serve` and through llama-cpp-python's own server, on the same GGUF and requests.

The requests are BFCL entries (N per category) as OpenAI messages and tools (edgefc.bfcl.prompts.build),
sent one at a time by one client with tool_choice "auto" and temperature 0, after one warm-up request. The
servers run one after the other (never both generating: edge CPUs are few), with the same threads and
context. Per server: how many answers carry tool_calls; how many of those validate (every call names an
offered tool and its arguments are a JSON object valid against that tool's parameters); how many answered
in content with text that holds a call (edgefc.protocol.parse reads one, or a call-looking snippet it cannot
read); BFCL's verdict on the tool_calls as returned, and on what a client that also reads content would get;
the mean latency and edgefc's over llama.cpp's. llama-cpp-python's server renders with the GGUF's chat
template unless --llama-chat-format names one of its formats (e.g. chatml-function-calling); with the
template, tool_choice "auto" returns whatever the model writes as content.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from rich.table import Table

from edgefc.bench.http_client import post_json
from edgefc.bench.latency import COLD_MESSAGE, TOOLS
from edgefc.bench.server_process import edgefc_argv, free_port, launched
from edgefc.bfcl import checker
from edgefc.bfcl.data import Entry, load_category
from edgefc.bfcl.prompts import build
from edgefc.errors import EdgefcError
from edgefc.progress import report
from edgefc.protocol.parse import parse, to_bfcl
from edgefc.serve.conformance import CHAT

DEFAULT_CATEGORIES = ("simple_python", "multiple", "live_simple")
NOTES = ["the requests are plain OpenAI bodies; llama-cpp-python fills the fields they leave out with its defaults "
         "(repeat_penalty 1.1, which changes even greedy choices; top_k 40 and min_p 0.05, which do not), edgefc "
         "decodes greedily without a penalty",
         "llama_cpp.server runs with --logits_all False (its default True computes logits for every prompt token)"]
TEMPLATE = "template"  # --llama-chat-format value for the GGUF's own chat template (llama_cpp.server's default)


@dataclass(frozen=True)
class ToolRequest:
    """One BFCL entry as an OpenAI request's messages and tools."""

    entry: Entry
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]


def unavailable(model_format: str) -> str:
    """Why the comparison cannot run here ("" when it can): it needs a GGUF and llama-cpp-python's [server]
    extra, whose requirements are read from the installed package's own metadata."""
    if model_format != "gguf":
        return f"llama.cpp's server needs a GGUF, and the model is {model_format}"
    try:
        requires = importlib.metadata.requires("llama-cpp-python") or []
    except importlib.metadata.PackageNotFoundError:
        return "llama-cpp-python is not installed"
    missing = []
    for req in requires:
        if re.search(r"""extra\s*==\s*["']server["']""", req):
            name = re.match(r"[A-Za-z0-9_.-]+", req).group(0)  # type: ignore[union-attr]
            try:
                importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                missing.append(name)
    if missing:
        return (f"llama-cpp-python's server extra is not installed (missing {', '.join(missing)}): "
                "pip install 'edgefc[bench]'")
    return ""


def tool_requests(categories: list[str], per_category: int, seed: int = 0,
                  wheel: str | Path | None = None) -> list[ToolRequest]:
    """`per_category` sampled entries of each category, as requests; their tools must be canonical already."""
    requests = []
    for category in categories:
        for entry in load_category(category, per_category, seed, wheel):
            messages, tools = build(entry)
            for tool in tools:
                if tool.get("type") != "function" or set(tool["function"]) - {"name", "description", "parameters"}:
                    raise AssertionError(f"{entry.id}: build() gave a tool not in canonical OpenAI form: {tool}")
                Draft202012Validator.check_schema(tool["function"]["parameters"])
            requests.append(ToolRequest(entry, messages, tools))
    return requests


def judge(message: dict[str, Any], req: ToolRequest) -> dict[str, Any]:
    """What one answer holds: its tool_calls and whether they validate, a call left in content, BFCL's verdicts."""
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in req.tools}
    calls = message.get("tool_calls") or []
    decoded, problems = [], []
    for call in calls:
        name, arguments = call["function"]["name"], _json(call["function"]["arguments"])
        decoded.append({name: arguments})
        if name not in schemas:
            problems.append(f"{name}: not an offered tool")
        elif not isinstance(arguments, dict):
            problems.append(f"{name}: arguments are not a JSON object")
        else:
            errors = sorted(Draft202012Validator(schemas[name]).iter_errors(arguments), key=lambda e: list(e.path))
            problems += [f"{name}: {'/'.join(map(str, e.path)) or 'arguments'}: {e.message}" for e in errors[:1]]
    content = message.get("content") or ""
    read = parse(content, req.tools)
    in_content = not calls and bool(read.calls or read.errors)
    as_returned = decoded if calls else []
    with_content = as_returned or to_bfcl(read.calls)
    return {"tool_calls": len(calls), "validated": bool(calls) and not problems, "problems": problems,
            "call_in_content": in_content,
            "bfcl_pass": checker.check(req.entry, as_returned).valid,
            "bfcl_pass_reading_content": checker.check(req.entry, with_content).valid,
            "content": content[:500], "calls": [c["function"] for c in calls]}


def _json(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


def _body(messages: list[dict[str, Any]], tools: list[dict[str, Any]], model: str, max_tokens: int) -> dict[str, Any]:
    return {"model": model, "messages": messages, "tools": tools, "tool_choice": "auto", "temperature": 0,
            "max_tokens": max_tokens}


def run_server(name: str, argv: list[str], port: int, ready_path: str, requests: list[ToolRequest], *,
               model: str, max_tokens: int, timeout: float, log: Path) -> dict[str, Any]:
    """Start one server, warm it with one request, send every request in turn, stop it; rows and summary."""
    rows = []
    with launched(name, argv, port, ready_path, log) as server:
        status, _, data, warm_s = post_json(port, CHAT, _body([{"role": "user", "content": COLD_MESSAGE}], TOOLS,
                                                              model, max_tokens), timeout)
        if status != 200:
            raise EdgefcError(f"the warm-up request to {name} failed with HTTP {status}: {str(data)[:200]}")
        rss_mib = round(server.rss_bytes() / 2**20, 1)
        for req in requests:
            rows.append(_ask(port, req, model, max_tokens, timeout))
            report(f"tool calls via {name}", len(rows), len(requests))
        stopped = server.stop()
    return {"command": argv, "warm_up_s": warm_s, "rss_mib_after_warm_up": rss_mib, "stopped": stopped,
            "summary": summarize(rows), "rows": rows}


def _ask(port: int, req: ToolRequest, model: str, max_tokens: int, timeout: float) -> dict[str, Any]:
    row: dict[str, Any] = {"id": req.entry.id, "category": req.entry.category}
    try:
        status, _, data, seconds = post_json(port, CHAT, _body(req.messages, req.tools, model, max_tokens), timeout)
    except OSError as exc:
        return {**row, "status": None, "error": f"{type(exc).__name__}: {exc}"}
    try:
        choice = data["choices"][0]
        message, finish, tokens = choice["message"], choice["finish_reason"], data["usage"]["completion_tokens"]
    except (TypeError, KeyError, IndexError):
        return {**row, "status": status, "latency_s": seconds, "error": str(data)[:300]}
    return {**row, "status": status, "latency_s": seconds, "finish_reason": finish, "completion_tokens": tokens,
            **judge(message, req)}


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and mean latency over one server's rows."""
    ok = [r for r in rows if "error" not in r]
    n = len(ok)
    return {"requests": len(rows), "answered": n, "errors": len(rows) - n,
            "with_tool_calls": sum(r["tool_calls"] > 0 for r in ok),
            "validated": sum(r["validated"] for r in ok),
            "call_in_content": sum(r["call_in_content"] for r in ok),
            "bfcl_pass": sum(r["bfcl_pass"] for r in ok),
            "bfcl_pass_reading_content": sum(r["bfcl_pass_reading_content"] for r in ok),
            "mean_latency_s": sum(r["latency_s"] for r in ok) / n if n else None,
            "mean_completion_tokens": sum(r["completion_tokens"] for r in ok) / n if n else None,
            "finish_reasons": {f: sum(r["finish_reason"] == f for r in ok)
                               for f in sorted({r["finish_reason"] for r in ok})}}


def llama_argv(model: Path, port: int, threads: int, ctx: int, chat_format: str = TEMPLATE) -> list[str]:
    """llama-cpp-python's server on the same file, threads (prompt and generation) and context. Its default
    --logits_all True computes the logits of every prompt token (only logprobs need them; edgefc computes the
    last position's): turned off, so the latency compared is the work both have to do."""
    argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
            "--port", str(port), "--n_ctx", str(ctx), "--n_threads", str(threads), "--n_threads_batch", str(threads),
            "--logits_all", "False", "--verbose", "False"]
    return argv + ([] if chat_format == TEMPLATE else ["--chat_format", chat_format])


def compare(model: Path, *, threads: int, ctx: int, port: int, out: Path, categories: list[str], per_category: int,
            seed: int = 0, max_tokens: int = 256, timeout: float = 300.0, chat_formats: tuple[str, ...] = (TEMPLATE,),
            wheel: str | Path | None = None) -> dict[str, Any]:
    """The same tool-call requests through edgefc serve, then through llama-cpp-python's server once per chat
    format; ratios are edgefc's mean latency over each peer's. A peer that fails to start is recorded, not fatal."""
    requests = tool_requests(categories, per_category, seed, wheel)
    launches = {"edgefc": (lambda p: edgefc_argv(model, p, threads, ctx), "/health")}
    for fmt in chat_formats:
        launches[f"llama.cpp ({fmt})"] = (lambda p, fmt=fmt: llama_argv(model, p, threads, ctx, fmt), "/v1/models")
    servers: dict[str, Any] = {}
    for server, (argv_for, ready) in launches.items():
        chosen = free_port(port)
        log = out / ("compare-" + re.sub(r"[^\w.]+", "-", server).strip("-") + ".log")
        try:
            servers[server] = run_server(server, argv_for(chosen), chosen, ready, requests, model=model.name,
                                         max_tokens=max_tokens, timeout=timeout, log=log)
        except EdgefcError as exc:
            if server == "edgefc":
                raise
            servers[server] = {"failed": str(exc), "log": str(log)}
    mine = servers["edgefc"]["summary"]["mean_latency_s"]
    ratios = {name: mine / s["summary"]["mean_latency_s"] for name, s in servers.items()
              if name != "edgefc" and "summary" in s and mine and s["summary"]["mean_latency_s"]}
    return {"categories": categories, "per_category": per_category, "seed": seed, "max_tokens": max_tokens,
            "requests": len(requests), "servers": servers, "latency_ratio": ratios, "notes": NOTES}


def problems(result: dict[str, Any]) -> list[str]:
    """Why the comparison fails edgefc (the peer's shortcomings are figures, not failures)."""
    if "skipped" in result:
        return []
    mine = result["servers"]["edgefc"]
    found = []
    if mine["summary"]["errors"]:
        found.append(f"edgefc serve failed {mine['summary']['errors']} tool-call requests")
    if not mine["stopped"]["clean"]:
        found.append(f"edgefc serve (comparison) did not stop cleanly: {mine['stopped']['problem']}")
    return found


def compare_table(result: dict[str, Any]) -> Table:
    """The comparison as a rich table, one column per server."""
    names = [n for n, server in result["servers"].items() if "summary" in server]
    s = {name: result["servers"][name]["summary"] for name in names}
    t = Table(title=f"tool calls: {result['per_category']} BFCL entries each of {', '.join(result['categories'])} · "
                    f"tool_choice auto · temperature 0 · max_tokens {result['max_tokens']}")
    t.add_column("")
    for name in names:
        t.add_column(name, justify="right")
    for label, key in [("answers with tool_calls", "with_tool_calls"), ("tool_calls that validate", "validated"),
                       ("call left in content", "call_in_content"), ("BFCL pass (tool_calls)", "bfcl_pass"),
                       ("BFCL pass (reading content too)", "bfcl_pass_reading_content"), ("errors", "errors")]:
        t.add_row(label, *(f"{s[n][key]}/{s[n]['requests']}" for n in names))
    t.add_row("mean completion tokens", *(f"{s[n]['mean_completion_tokens'] or 0:.1f}" for n in names))
    t.add_row("mean latency", *(f"{s[n]['mean_latency_s'] or 0:.2f} s" for n in names))
    ratios = result["latency_ratio"]
    t.add_row("latency ratio edgefc / this", *("" if n == "edgefc" else f"{ratios[n]:.2f}" if n in ratios else "n/a"
                                                for n in names))
    return t
