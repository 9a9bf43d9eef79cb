"""The remote runtime (`--endpoint`): bench and chat against edgefc serve on loopback read the served model exactly
as they read the same file locally."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgefc.cli import app
from edgefc.errors import EdgefcError, EndpointError
from edgefc.runtimes import Runtime, load
from tests.serving import serving

TOOLS = json.loads((Path(__file__).parents[1] / "examples" / "tools" / "weather.json").read_text())
ASK = [{"role": "user", "content": "What's the weather in Tokyo?"}]
KEY = "sk-remote-test"


def test_same_answer_as_local(served: Runtime, base: str, tiny_gguf: Path) -> None:
    """Greedy and free, the served answer is the local one, token for token, with its usage counted."""
    local = served.generate(ASK, TOOLS, max_tokens=24, constrain=False)
    remote = load(tiny_gguf, endpoint=base)
    try:
        assert remote.served_model == "tiny"
        gen = remote.generate(ASK, TOOLS, max_tokens=24)
    finally:
        remote.close()
    assert gen.prompt == local.prompt
    assert gen.text == local.text
    assert gen.tokens == local.tokens
    assert gen.timings.prompt_tokens == local.timings.prompt_tokens
    assert gen.timings.completion_tokens == len(local.tokens)
    assert gen.finish_reason == local.finish_reason and not gen.constrained
    assert gen.parsed.to_dict() == local.parsed.to_dict()


def test_folder_copy_renders_the_same_prompt(base: str, tiny_gguf: Path, tiny_qwen3: Path) -> None:
    """A model folder (tokenizer.json + template) lends its template as the GGUF does."""
    from_gguf, from_folder = load(tiny_gguf, endpoint=base), load(tiny_qwen3, endpoint=base)
    try:
        assert from_folder.render(ASK, TOOLS) == from_gguf.render(ASK, TOOLS)
        text = from_gguf.generate(ASK, max_tokens=8).text
        assert from_folder.tokenize(text) == from_gguf.tokenize(text)
    finally:
        from_gguf.close()
        from_folder.close()


def test_grammar_and_tool_choice_refused(base: str, tiny_gguf: Path) -> None:
    remote = load(tiny_gguf, endpoint=base)
    try:
        for options in ({"constrain": True}, {"tool_choice": "required"}):
            with pytest.raises(EdgefcError, match="no tool grammar"):
                remote.generate(ASK, TOOLS, **options)
    finally:
        remote.close()


def test_sink_stops_the_stream(base: str, tiny_gguf: Path) -> None:
    seen: list[int] = []

    def sink(ids: list[int]) -> bool:
        seen.extend(ids)
        return len(seen) < 3

    remote = load(tiny_gguf, endpoint=base)
    try:
        gen = remote.generate(ASK, max_tokens=40, on_tokens=sink)
    finally:
        remote.close()
    assert 3 <= len(seen) < 40
    assert gen.finish_reason == "stop"


def test_errors_are_one_sentence(served: Runtime, base: str, tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(EndpointError, match="cannot use http://127.0.0.1:9"):
        load(tiny_gguf, endpoint="http://127.0.0.1:9/v1")
    with pytest.raises(EdgefcError, match="--runtime and --ctx do not apply"):
        load(tiny_gguf, "llamacpp", endpoint=base)
    remote = load(tiny_gguf, endpoint=base)
    try:  # a prompt longer than the served context is this request's fault (4xx), not the server's
        with pytest.raises(EdgefcError, match="refused the request") as caught:
            remote.generate("word " * 3000, max_tokens=4)
        assert not isinstance(caught.value, EndpointError)
    finally:
        remote.close()
    with serving(served, api_key=KEY) as url:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        with pytest.raises(EndpointError, match="401.*OPENAI_API_KEY"):
            load(tiny_gguf, endpoint=url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        remote = load(tiny_gguf, endpoint=url)
        try:
            assert remote.generate(ASK, max_tokens=4).timings.prompt_tokens > 0
        finally:
            remote.close()


def test_bench_endpoint_equals_local_free(served: Runtime, base: str, tiny_gguf: Path, tmp_path: Path) -> None:
    """`edgefc bench --endpoint` scores the served model's answers as `edgefc bench --constrain off` scores the
    same file's: same texts, same verdicts; a constrained endpoint run is refused before anything is written."""
    runner = CliRunner()
    common = [str(tiny_gguf), "--suite", "bfcl", "-c", "simple_python,irrelevance", "-n", "2", "--max-tokens", "24",
              "--threads", "1", "--json"]
    local = runner.invoke(app, ["bench", *common, "--constrain", "off", "--out", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output
    remote = runner.invoke(app, ["bench", *common, "--endpoint", base, "--out", str(tmp_path / "remote")])
    assert remote.exit_code == 0, remote.output

    def rows(folder: str) -> dict[str, dict]:
        lines = (tmp_path / folder / "results.jsonl").read_text().splitlines()
        return {r["id"]: r for r in map(json.loads, lines)}

    ours, theirs = rows("local"), rows("remote")
    assert set(ours) == set(theirs) and len(ours) == 4
    for key in ("text", "valid", "valid_edgefc", "decoded", "prompt_tokens", "completion_tokens"):
        assert {i: r[key] for i, r in ours.items()} == {i: r[key] for i, r in theirs.items()}, key
    settings = json.loads((tmp_path / "remote" / "run.json").read_text())["settings"]
    assert settings["endpoint"] == base and settings["constrain"] == "off"

    refused = runner.invoke(app, ["bench", *common, "--endpoint", base, "--constrain", "on",
                                  "--out", str(tmp_path / "refused")])
    assert isinstance(refused.exception, EdgefcError) and "--constrain off" in str(refused.exception)
    assert not (tmp_path / "refused").exists()


def test_chat_endpoint(base: str, tiny_gguf: Path) -> None:
    result = CliRunner().invoke(app, ["chat", "Weather in Oslo?", "--model", str(tiny_gguf), "--endpoint", base,
                                      "--max-tokens", "8", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["runtime"] == "remote" and data["constrained"] is False and data["timings"]["prompt_tokens"] > 0


def test_a_cut_stream_is_an_endpoint_error(tiny_gguf: Path) -> None:
    """A server whose stream stops before any finish_reason (a crash, a dropped connection) fails the request
    loudly: the partial text is not an answer to score."""
    import http.server
    import threading

    class Cut(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"object": "list", "data": [{"id": "m", "object": "model"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            chunk = {"id": "c", "object": "text_completion", "created": 0, "model": "m",
                     "choices": [{"index": 0, "text": "<tool_call>", "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Cut)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    remote = load(tiny_gguf, endpoint=f"http://127.0.0.1:{server.server_address[1]}/v1")
    try:
        with pytest.raises(EndpointError, match="ended its stream before the answer finished"):
            remote.generate(ASK, max_tokens=8)
    finally:
        remote.close()
        server.shutdown()
