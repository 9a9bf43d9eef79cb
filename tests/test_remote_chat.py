"""`--api chat`: a served model asked through its own /v1/chat/completions, its tool_calls scored as returned;
against edgefc serve on the tiny model, and against scripted servers for what a peer may return."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest
from typer.testing import CliRunner

from edgefc.agent.loop import Agent
from edgefc.agent.tools import Toolbox, from_callable
from edgefc.cli import app
from edgefc.errors import EdgefcError
from edgefc.runtimes import Runtime, load
from edgefc.runtimes.chat_endpoint import returned_calls, tool_choice_field
from tests.test_remote import ASK, TOOLS  # `served` and `base` (the tiny model on loopback) are conftest's


def test_edgefc_serve_returns_what_the_local_model_answers(served: Runtime, base: str, tiny_gguf: Path) -> None:
    """edgefc serve constrains calls on its side: asked through its chat API, its tool_calls are the calls the
    same model makes locally under the grammar, returned as structured calls, none left in content."""
    local = served.generate(ASK, TOOLS, max_tokens=48, tool_choice="required")
    remote = load(tiny_gguf, endpoint=base, api="chat")
    try:
        assert remote.takes_messages and remote.name == "remote-chat"
        gen = remote.generate(ASK, TOOLS, max_tokens=48, tool_choice="required")
    finally:
        remote.close()
    assert local.parsed.calls and gen.parsed.calls == local.parsed.calls
    assert gen.parsed.format == "tool_calls" and gen.calls_in_content == 0 and not gen.parsed.errors
    assert gen.timings.completion_tokens > 0 and gen.timings.ttft_s > 0


class Scripted:
    """An OpenAI chat server on loopback that streams the next of its canned answers to each request (each a
    list of chunk deltas plus a finish reason) and keeps the request bodies."""

    def __init__(self, answers: list[tuple[list[dict[str, Any]], str]]):
        self.answers, self.bodies = list(answers), []
        scripted = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._send(json.dumps({"object": "list", "data": [{"id": "peer", "object": "model"}]}).encode(),
                           "application/json")

            def do_POST(self) -> None:
                scripted.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                deltas, finish = scripted.answers.pop(0)
                chunks = [{"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
                chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
                chunks.append({"choices": [], "usage": {"prompt_tokens": 50, "completion_tokens": 9,
                                                        "total_tokens": 59}})
                head = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "peer"}
                body = "".join(f"data: {json.dumps({**head, **c})}\n\n" for c in chunks) + "data: [DONE]\n\n"
                self._send(body.encode(), "text/event-stream")

            def _send(self, body: bytes, kind: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @contextlib.contextmanager
    def running(self) -> Iterator[str]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        finally:
            self.server.shutdown()


def _call_delta(index: int, name: str | None, arguments: str, call_id: str | None = None) -> dict[str, Any]:
    function = {"arguments": arguments, **({"name": name} if name else {})}
    return {"tool_calls": [{"index": index, **({"id": call_id, "type": "function"} if call_id else {}),
                            "function": function}]}


PARALLEL = ([_call_delta(0, "get_weather", '{"city": ', "a"), _call_delta(1, "get_weather", "", "b"),
             _call_delta(0, None, '"Tokyo"}'), _call_delta(1, None, '{"city": "Hà Nội"}')], "tool_calls")


def test_streamed_calls_are_joined_by_index(tiny_gguf: Path) -> None:
    """Two parallel calls whose arguments arrive interleaved in pieces are two whole calls, in index order; the
    request carries the tools, tool_choice and parallel_tool_calls as OpenAI's API names them."""
    peer = Scripted([PARALLEL, ([{"content": "Sunny."}], "stop")])
    with peer.running() as url:
        rt = load(tiny_gguf, endpoint=url, api="chat")
        try:
            gen = rt.generate(ASK, TOOLS, tool_choice="get_weather", parallel_tool_calls=False)
            text = rt.generate("hi", None)
        finally:
            rt.close()
    assert gen.parsed.calls == [{"name": "get_weather", "arguments": {"city": "Tokyo"}},
                                {"name": "get_weather", "arguments": {"city": "Hà Nội"}}]
    assert gen.timings.prompt_tokens == 50 and gen.timings.completion_tokens == 9
    body = peer.bodies[0]
    assert body["tools"][0]["function"]["name"] == "get_weather" and body["parallel_tool_calls"] is False
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}} and body["stream"]
    assert text.parsed.kind == "text" and text.parsed.content == "Sunny." and "tools" not in peer.bodies[1]


def test_a_call_left_in_content_is_counted_not_returned(tiny_gguf: Path) -> None:
    """A server that returns the model's call as content did not return a call: no call is scored, one is
    counted in content; arguments that are not JSON are an error, not a call."""
    written = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Tokyo"}}\n</tool_call>'
    peer = Scripted([([{"content": written[:20]}, {"content": written[20:]}], "stop"),
                     ([_call_delta(0, "get_weather", '{"city": Tokyo', "x")], "tool_calls")])
    with peer.running() as url:
        rt = load(tiny_gguf, endpoint=url, api="chat")
        try:
            in_content = rt.generate(ASK, TOOLS)
            broken = rt.generate(ASK, TOOLS)
        finally:
            rt.close()
    assert in_content.parsed.calls == [] and in_content.calls_in_content == 1
    assert in_content.parsed.format == "none" and in_content.parsed.content == written
    assert broken.parsed.calls == [] and broken.parsed.errors and broken.parsed.format == "tool_calls"


def test_the_agent_sends_the_conversation_with_tool_results(tiny_gguf: Path) -> None:
    """Through a chat API the agent runs the returned call and sends the whole conversation back: its assistant
    message with the call, and the tool's result under the call's id."""
    peer = Scripted([([_call_delta(0, "get_weather", '{"city": "Tokyo"}', "call_x")], "tool_calls"),
                     ([{"content": "It is 21 degrees in Tokyo."}], "stop")])

    def get_weather(city: str) -> dict:
        """The weather in a city.

        Args:
            city: The city.
        """
        return {"city": city, "temp_c": 21}

    with peer.running() as url:
        rt = load(tiny_gguf, endpoint=url, api="chat")
        agent = Agent(rt, Toolbox([from_callable(get_weather)]))
        try:
            events = list(agent.send("Weather in Tokyo?"))
        finally:
            agent.close()
            rt.close()
    assert [e.kind for e in events] == ["generation", "call", "result", "generation", "text"]
    sent = peer.bodies[1]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool"]
    assert sent[1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert json.loads(sent[2]["content"]) == {"city": "Tokyo", "temp_c": 21}


def test_bench_api_chat_scores_returned_calls(base: str, tiny_gguf: Path, tmp_path: Path) -> None:
    """`edgefc bench --endpoint URL --api chat`: every row says how many calls stayed in content, the run's
    settings name the API, and a grammar asked of it is refused before anything is written."""
    runner = CliRunner()
    common = [str(tiny_gguf), "--suite", "bfcl", "-c", "simple_python,irrelevance", "-n", "2", "--max-tokens", "24",
              "--endpoint", base, "--api", "chat", "--json"]
    result = runner.invoke(app, ["bench", *common, "--out", str(tmp_path / "chat")])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "chat" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(r["calls_in_content"] == 0 for r in rows)  # edgefc serve returns its calls
    assert all(r["decoded"] is not None for r in rows)
    settings = json.loads((tmp_path / "chat" / "run.json").read_text())["settings"]
    assert settings["api"] == "chat" and settings["constrain"] == "off"
    refused = runner.invoke(app, ["bench", *common, "--constrain", "on", "--out", str(tmp_path / "refused")])
    assert isinstance(refused.exception, EdgefcError) and "decodes as the server does" in str(refused.exception)
    assert not (tmp_path / "refused").exists()
    no_endpoint = runner.invoke(app, ["chat", "hi", "--model", str(tiny_gguf), "--api", "chat"])
    assert isinstance(no_endpoint.exception, EdgefcError) and "give the --endpoint" in str(no_endpoint.exception)


def test_tool_choice_and_deltas_as_data() -> None:
    assert tool_choice_field("auto") == "auto" and tool_choice_field("none") == "none"
    assert tool_choice_field("f") == {"type": "function", "function": {"name": "f"}}
    assert returned_calls([]) == []
    assert returned_calls([{"index": 1, "id": "b", "function": {"name": "g", "arguments": "{}"}},
                           {"index": 0, "id": "a", "function": {"name": "f", "arguments": "{"}},
                           {"index": 0, "function": {"arguments": "}"}}]) == [
        {"id": "a", "name": "f", "arguments": "{}"}, {"id": "b", "name": "g", "arguments": "{}"}]


def test_bench_api_chat_against_llama_cpp_python_server(tiny_gguf: Path, tmp_path: Path) -> None:
    """The same bench through llama-cpp-python's own server (the GGUF's chat template, its tool handling):
    every entry is answered and scored, streamed (TTFT measured), with the calls it left in content counted."""
    from edgefc.bench.serve_compare import llama_argv, unavailable
    from edgefc.bench.server_process import free_port, launched

    if unavailable("gguf"):
        pytest.skip(unavailable("gguf"))
    port = free_port()
    with launched("llama.cpp", llama_argv(tiny_gguf, port, 1, 2048), port, "/v1/models", tmp_path / "llama.log"):
        result = CliRunner().invoke(app, ["bench", str(tiny_gguf), "--suite", "bfcl", "-c", "simple_python,multiple",
                                          "-n", "2", "--max-tokens", "24", "--endpoint", f"http://127.0.0.1:{port}/v1",
                                          "--api", "chat", "--out", str(tmp_path / "peer"), "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "peer" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all("error" not in r for r in rows)
    assert all(isinstance(r["calls_in_content"], int) and r["ttft_s"] > 0 for r in rows)
    summary = json.loads((tmp_path / "peer" / "summary.json").read_text())
    assert summary["models"][0]["bfcl"]["entries"] == 4


def test_a_local_file_and_a_server_side_by_side(base: str, tiny_gguf: Path, tmp_path: Path) -> None:
    """A URL among the models is a served variant beside the local ones, paired with the run's first on the
    same entries: edgefc serve, asked through its chat API, answers as the same file does locally under the
    grammar, so every entry ties."""
    result = CliRunner().invoke(app, ["bench", str(tiny_gguf), base, "--suite", "bfcl", "-c",
                                      "simple_python,irrelevance", "-n", "2", "--max-tokens", "24", "--threads", "1",
                                      "--api", "chat", "--out", str(tmp_path / "both"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "both" / "summary.json").read_text())
    assert [m["model"] for m in summary["models"]] == [str(tiny_gguf), base]
    rows = [json.loads(line) for line in (tmp_path / "both" / "results.jsonl").read_text().splitlines()]
    ours = {r["id"]: r for r in rows if r["model"] == str(tiny_gguf)}
    theirs = {r["id"]: r for r in rows if r["model"] == base}
    assert len(ours) == len(theirs) == 4 and all(not r["constrain"] for r in theirs.values())
    assert {i: r["decoded"] for i, r in ours.items()} == {i: r["decoded"] for i, r in theirs.items()}
    (delta,) = summary["deltas"]
    assert (delta["against"], delta["model"]) == (str(tiny_gguf), base)
    pooled = delta["bfcl_paired"]["pooled"]
    assert (pooled["n"], pooled["lost"], pooled["gained"]) == (4, 0, 0)
    no_local = CliRunner().invoke(app, ["bench", base, "--suite", "bfcl", "-n", "1", "--api", "chat"])
    assert isinstance(no_local.exception, EdgefcError) and "borrows a local model" in str(no_local.exception)


def test_agent_suite_through_a_chat_api(base: str, tiny_gguf: Path, tmp_path: Path) -> None:
    """The agent suite's tasks run against a served model: the agent loop sends each conversation to the
    server's chat API and runs the calls it returns, and every task is judged."""
    tasks = Path(__file__).parents[1] / "examples" / "agent" / "tasks.yaml"
    result = CliRunner().invoke(app, ["bench", str(tiny_gguf), "--suite", "agent", "--tasks", str(tasks), "-n", "3",
                                      "--max-tokens", "8", "--endpoint", base, "--api", "chat",
                                      "--out", str(tmp_path / "agent")])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "agent" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and all(r["steps"] >= 1 and isinstance(r["pass"], bool) for r in rows)


def test_bfcl_multi_turn_through_a_chat_api(tiny_gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A BFCL multi-turn entry asked through a server's chat API: its runner (the agent loop) sends each turn's
    conversation to the server, and the entry is scored."""
    from tests.bfcl_support import real_wheel
    from tests.serving import serving

    monkeypatch.setenv("EDGEFC_BFCL_WHEEL", str(real_wheel()))
    rt = load(tiny_gguf, threads=1, n_ctx=8192)  # multi-turn prompts run to ~5K tokens
    try:
        with serving(rt) as url:
            result = CliRunner().invoke(app, ["bench", str(tiny_gguf), "--suite", "bfcl", "-c", "multi_turn_base",
                                              "-n", "1", "--max-tokens", "8", "--endpoint", f"{url}/v1", "--api",
                                              "chat", "--out", str(tmp_path / "mt")])
    finally:
        rt.close()
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "mt" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["category"] == "multi_turn_base" and isinstance(rows[0]["valid"], bool)
    assert not rows[0].get("error"), rows[0]
