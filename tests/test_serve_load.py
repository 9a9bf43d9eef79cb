"""The serve load benchmark and the tool-call comparison, on the tiny GGUF (a random model: the assertions are on
accounting, never on what it answers), plus how each attempt is judged, against a deliberately broken server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from edgefc.bench.latency import TOOLS
from edgefc.bench.serve_compare import ToolRequest, compare, judge, tool_requests, unavailable
from edgefc.bench.serve_load import KINDS, attempt, request_body
from tests.bfcl_support import real_wheel

LOAD = ["--clients", "6", "--requests", "24", "--queue", "1", "--max-tokens", "24", "--threads", "1",
        "--ctx", "1024", "--no-compare"]


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgefc.cli", "bench", "serve-load", *args], capture_output=True,
                          text=True, timeout=300)


def test_load_run_accounts_for_every_request(tiny_gguf: Path, tmp_path: Path) -> None:
    proc = bench(str(tiny_gguf), *LOAD, "--out", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    load, rows = result["load"], result["load"]["rows"]
    f = load["figures"]
    assert f["planned"] == f["sent"] == len(rows) == 24 and f["unsent"] == 0
    assert f["lost"] == 0 and f["abandoned"] == 0 and f["answered"] == 24
    assert sorted(r["index"] for r in rows) == list(range(24)) and {r["kind"] for r in rows} == set(KINDS)
    # 6 clients against one generation + one waiting: some were refused, retried and then answered.
    assert f["rejections"] >= 1 and f["rejections"] == sum(r["rejections"] for r in rows)
    assert 1 <= f["requests_rejected"] <= f["rejections"] and f["max_rejections_one_request"] >= 1
    assert sum(f["answers_per_client"]["all"]) == 24 and len(f["answers_per_client"]["all"]) == 6
    assert load["server_counters"]["rejected"] == f["rejections"]
    assert load["server_counters"]["served"] == f["answered"] + 1  # the warm-up
    for spread in (f["latency_s"], f["total_s"]):
        assert 0 < spread["p50"] <= spread["p95"] <= spread["max"]
    assert f["total_s"]["max"] >= 1  # a refused request waited its Retry-After (at least 1 s)
    assert all(r["ttft_s"] is not None for r in rows if KINDS[r["kind"]].stream)
    assert f["completion_tokens"] == sum(r["completion_tokens"] for r in rows) > 0
    rss = load["rss_mib"]
    assert rss["start"] > 0 and rss["end"] > 0 and rss["peak"] >= max(rss["start"], rss["end"])
    assert rss["growth"] == pytest.approx(rss["end"] - rss["start"], abs=0.2) and rss["within_bound"]
    assert load["stopped"] == {**load["stopped"], "returncode": 130, "clean": True}
    assert result["problems"] == [] and result["compare"] == {"skipped": "--no-compare"}
    assert len(result["load_average_start"]) == len(result["load_average_end"]) == 3
    assert "lost" in proc.stdout and "result.json" in proc.stdout


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    missing = bench(str(tmp_path / "nope.gguf"), "--no-compare", "--out", str(tmp_path / "a"))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "does not exist" in missing.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = bench(str(tmp_path / "nope.gguf"), "--port", str(port), "--out", str(tmp_path / "b"))
    assert busy.returncode == 2 and busy.stderr.count("\n") == 1 and "in use" in busy.stderr
    assert not (tmp_path / "a" / "result.json").exists() and not (tmp_path / "b").exists()


# --- how an attempt is judged, against a server that breaks the contract on purpose -------------------

GOOD = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Hanoi"}'}}


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    chunk = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def _answer(message: dict[str, Any], finish: str) -> list[bytes]:
    return [json.dumps({**GOOD, "choices": [{"index": 0, "finish_reason": finish, "message": message}]}).encode()]


def _args(fragment: str) -> bytes:
    return _chunk({"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]})


USAGE = b'data: {"choices": [], "usage": {"completion_tokens": 5}}\n\n'
OPENED = _chunk({"tool_calls": [{**CALL, "index": 0, "function": {"name": "get_weather", "arguments": ""}}]})
STREAMED_CALL = [_chunk({"role": "assistant"}), OPENED, _args('{"city": '), _args('"Hanoi"}'), _chunk({}, "tool_calls"),
                 USAGE]
CUT_CALL = {**CALL, "function": {"name": "get_weather", "arguments": '{"city": '}}
JSON, SSE = "application/json", "text/event-stream"
ANSWERS: dict[str, tuple[int, str, list[bytes]]] = {  # path -> status, content type, body parts
    "/good": (200, JSON, [json.dumps(GOOD).encode()]),
    "/good-call": (200, JSON, _answer({"role": "assistant", "content": None, "tool_calls": [CALL]}, "tool_calls")),
    "/broken-call": (200, JSON, _answer({"role": "assistant", "tool_calls": [CUT_CALL]}, "tool_calls")),
    "/not-json": (200, JSON, [b"{oops"]),
    "/no-choices": (200, JSON, [b'{"choices": []}']),
    "/500": (500, JSON, [b'{"error": {"message": "boom"}}']),
    "/400": (400, JSON, [b'{"error": {"message": "bad"}}']),
    "/429": (429, JSON, [b'{"error": {"message": "busy"}}']),
    "/stream": (200, SSE, [*STREAMED_CALL, b"data: [DONE]\n\n"]),
    "/stream-no-done": (200, SSE, STREAMED_CALL),
    "/stream-error": (200, SSE, [_chunk({"role": "assistant"}), b'data: {"error": {"message": "x"}}\n\n',
                                 b"data: [DONE]\n\n"]),
    "/stream-after-done": (200, SSE, [*STREAMED_CALL, b"data: [DONE]\n\n", _chunk({})]),
}


class _Broken(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/hang-up":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, ctype, parts = ANSWERS[self.path]
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if status == 429:
            self.send_header("Retry-After", "3")
        self.send_header("Connection", "close")
        self.end_headers()
        for part in parts:
            self.wfile.write(part)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def broken() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Broken)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    thread.join()


@pytest.mark.parametrize("path, outcome, reason", [
    ("/good", "answered", ""), ("/good-call", "answered", ""), ("/stream", "answered", ""),
    ("/429", "rejected", ""), ("/500", "lost", "HTTP 500"), ("/400", "lost", "HTTP 400"),
    ("/not-json", "lost", "malformed"), ("/no-choices", "lost", "malformed"),
    ("/broken-call", "lost", "not a JSON object"), ("/stream-no-done", "lost", "without [DONE]"),
    ("/stream-error", "lost", "not a completion chunk"), ("/stream-after-done", "lost", "after [DONE]"),
    ("/hang-up", "lost", "RemoteDisconnected"),
])
def test_each_attempt_is_answered_rejected_or_lost(broken: int, monkeypatch: pytest.MonkeyPatch, path: str,
                                                   outcome: str, reason: str) -> None:
    monkeypatch.setattr("edgefc.bench.serve_load.CHAT", path)
    body = request_body(2 if "stream" in path else 0, "m", 8)[1]
    result = attempt(broken, body, timeout=10)
    assert result.outcome == outcome and reason in result.reason, result
    if path == "/429":
        assert result.retry_after == 3
    if path in ("/stream", "/good-call"):
        assert result.calls == 1 and result.finish_reason == "tool_calls"
    if path == "/stream":
        assert result.completion_tokens == 5 and result.ttft_s is not None


def test_connection_refused_is_lost() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        result = attempt(port, request_body(0, "m", 8)[1], timeout=5)
    assert result.outcome == "lost" and result.status is None and "ConnectionRefused" in result.reason


# --- the tool-call comparison -------------------------------------------------------------------------


def test_judge_reads_calls_validation_and_content() -> None:
    req = ToolRequest(tool_requests(["simple_python"], 1, wheel=real_wheel())[0].entry, [], TOOLS)
    ok = judge({"tool_calls": [CALL]}, req)
    assert ok["tool_calls"] == 1 and ok["validated"] and not ok["call_in_content"] and not ok["problems"]
    wrong = [{**CALL, "function": {"name": "nope", "arguments": "{}"}},
             {**CALL, "function": {"name": "get_weather", "arguments": '{"unit": "kelvin"}'}},
             {**CALL, "function": {"name": "get_weather", "arguments": '{"city": '}}]
    for call in wrong:
        bad = judge({"tool_calls": [call]}, req)
        assert bad["tool_calls"] == 1 and not bad["validated"] and bad["problems"], call
    fenced = judge({"content": '```json\n{"name": "get_weather", "arguments": {"city": "Hanoi"}}\n```'}, req)
    assert fenced["tool_calls"] == 0 and fenced["call_in_content"] and not fenced["validated"]
    assert not judge({"content": "It is sunny."}, req)["call_in_content"]


def test_bfcl_requests_carry_canonical_tools() -> None:
    requests = tool_requests(["simple_python", "multiple", "live_simple"], 3, wheel=real_wheel())
    assert len(requests) == 9
    for req in requests:
        assert req.messages[-1]["role"] == "user" and req.tools
        assert all(t["type"] == "function" and t["function"]["parameters"]["type"] == "object" for t in req.tools)


def test_compare_with_llama_cpp_server(tiny_gguf: Path, tmp_path: Path) -> None:
    why_not = unavailable("gguf")
    if why_not:
        pytest.skip(why_not)
    formats = ("template", "no-such-format")  # (chatml-function-calling ran ~50 s past max_tokens on the random model)
    result = compare(tiny_gguf, threads=1, ctx=2048, port=0, out=tmp_path, categories=["simple_python", "live_simple"],
                     per_category=1, max_tokens=16, timeout=60, chat_formats=formats, wheel=real_wheel())
    names = ["edgefc", *(f"llama.cpp ({f})" for f in formats)]
    assert list(result["servers"]) == names and result["requests"] == 2
    broken = result["servers"].pop(names[-1])  # a peer that cannot start is recorded, and the others still ran
    assert "no-such-format" in broken["failed"] and Path(broken["log"]).exists()
    for name, server in result["servers"].items():
        s = server["summary"]
        assert s["requests"] == len(server["rows"]) == 2 and s["errors"] == 0, (name, server["rows"])
        assert s["validated"] <= s["with_tool_calls"] and s["with_tool_calls"] + s["call_in_content"] <= s["answered"]
        assert s["bfcl_pass"] <= s["bfcl_pass_reading_content"] <= s["answered"]
        assert s["mean_latency_s"] > 0 and server["stopped"]["clean"], (name, server["stopped"])
    assert (tmp_path / "compare-edgefc.log").exists() and (tmp_path / "compare-llama.cpp-template.log").exists()
    mine = result["servers"]["edgefc"]["summary"]["mean_latency_s"]
    assert result["latency_ratio"] == {n: pytest.approx(mine / result["servers"][n]["summary"]["mean_latency_s"])
                                       for n in names[1:2]}
