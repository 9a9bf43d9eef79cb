"""edgefc serve on the tiny GGUF, through the official `openai` client against a real uvicorn server on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import jsonschema
import openai
import pytest

from edgefc.runtimes import Runtime, load
from edgefc.serve.app import MAX_BODY_BYTES
from edgefc.protocol.parse import read_calls
from edgefc.serve.output import AnswerDeltas
from edgefc.serve.server import is_loopback
from tests.serving import serving

TOOLS = json.loads((Path(__file__).parents[1] / "examples" / "tools" / "weather.json").read_text())
SCHEMAS = {tool["function"]["name"]: tool["function"]["parameters"] for tool in TOOLS}
ASK = [{"role": "user", "content": "What's the weather in Tokyo?"}]
CTX = 4096
KEY = "sk-test-key"


@pytest.fixture(scope="module")
def runtime(tiny_gguf: Path) -> Iterator[Runtime]:
    rt = load(tiny_gguf, threads=1, n_ctx=CTX)
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def base(runtime: Runtime) -> Iterator[str]:
    with serving(runtime) as url:
        yield url


@pytest.fixture(scope="module")
def client(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)


def health(base: str) -> dict[str, Any]:
    return httpx.get(f"{base}/health").json()


def assert_valid_calls(calls: Any, names: set[str]) -> None:
    assert calls, "no tool_calls"
    for call in calls:
        assert call.type == "function" and call.id.startswith("call_")
        assert call.function.name in names
        arguments = json.loads(call.function.arguments)  # a JSON string, as OpenAI sends it
        jsonschema.validate(arguments, SCHEMAS[call.function.name])


# --- chat completions -------------------------------------------------------------------------


def test_required_tool_choice_returns_tool_calls(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(model="tiny", messages=ASK, tools=TOOLS, tool_choice="required", max_tokens=100)
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    assert_valid_calls(choice.message.tool_calls, set(SCHEMAS))
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert isinstance(r.usage.prompt_tokens_details.cached_tokens, int)


def test_named_tool_choice_calls_that_tool(client: openai.OpenAI) -> None:
    for name in SCHEMAS:
        r = client.chat.completions.create(model="tiny", messages=ASK, tools=TOOLS, max_tokens=100,
                                           tool_choice={"type": "function", "function": {"name": name}},
                                           parallel_tool_calls=False)
        calls = r.choices[0].message.tool_calls
        assert_valid_calls(calls, {name})
        assert len(calls) == 1


def test_none_tool_choice_returns_content_only(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(model="tiny", messages=ASK, tools=TOOLS, tool_choice="none", max_tokens=12)
    message = r.choices[0].message
    assert message.tool_calls is None and message.content and "<tool_call>" not in message.content
    assert r.choices[0].finish_reason in ("stop", "length")


def test_auto_tool_choice_is_calls_or_text(client: openai.OpenAI) -> None:
    for question in ("What's the weather in Tokyo?", "Tell me a joke.", "What time is it in Hanoi?"):
        r = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": question}],
                                           tools=TOOLS, max_tokens=40)
        message = r.choices[0].message
        if message.tool_calls:
            assert message.content is None and r.choices[0].finish_reason == "tool_calls"
            assert_valid_calls(message.tool_calls, set(SCHEMAS))
        else:
            assert message.content and "<tool_call>" not in message.content


def test_a_call_cut_by_max_tokens_is_never_content(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(model="tiny", messages=ASK, tools=TOOLS, tool_choice="required", max_tokens=2)
    assert r.choices[0].finish_reason == "length" and r.choices[0].message.content is None
    chunks = list(client.chat.completions.create(model="tiny", messages=ASK, tools=TOOLS, tool_choice="required",
                                                 max_tokens=2, stream=True))
    assert all(c.choices[0].delta.content is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "length"


def test_message_forms(client: openai.OpenAI) -> None:
    messages = [{"role": "developer", "content": "Answer briefly."},
                {"role": "user", "content": [{"type": "text", "text": "What's the weather "},
                                             {"type": "text", "text": "in Tokyo?"}]}]
    r = client.chat.completions.create(model="tiny", messages=messages, tools=TOOLS, tool_choice="required",
                                       max_tokens=100, seed=3, temperature=0.7, top_p=0.9)
    assert_valid_calls(r.choices[0].message.tool_calls, set(SCHEMAS))


def test_round_trip_call_result_answer(client: openai.OpenAI, runtime: Runtime) -> None:
    first = client.chat.completions.create(model="tiny", messages=ASK, tools=TOOLS, tool_choice="required",
                                           max_tokens=100)
    call = first.choices[0].message.tool_calls[0]
    conversation = [*ASK,
                    {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
                    {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temperature_c": 21})}]
    second = client.chat.completions.create(model="tiny", messages=conversation, tools=TOOLS, max_tokens=20)
    message = second.choices[0].message
    assert (message.content is None) != (message.tool_calls is None)  # calls or text, never both
    assert second.usage.prompt_tokens > first.usage.prompt_tokens
    # The conversation grew at its end, so the prefix cache held the first prompt, all but the empty think block
    # the template writes only into the turn being generated.
    think = len(runtime.tokenize("<think>\n\n</think>\n\n"))
    assert second.usage.prompt_tokens_details.cached_tokens == first.usage.prompt_tokens - think


def test_stream_tool_call_deltas(client: openai.OpenAI) -> None:
    whole = client.chat.completions.create(model="tiny", messages=ASK, tools=TOOLS, tool_choice="required",
                                           max_tokens=100)
    stream = client.chat.completions.create(model="tiny", messages=ASK, tools=TOOLS, tool_choice="required",
                                            max_tokens=100, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert deltas[0].role == "assistant"
    tool_deltas = [t for d in deltas for t in d.tool_calls or []]
    assert all(d.content is None for d in deltas)  # calls never arrive as content
    head = tool_deltas[0]
    assert head.index == 0 and head.id.startswith("call_") and head.function.name
    assert len(tool_deltas) >= 2 and all(t.id is None and t.function.name is None for t in tool_deltas[1:])
    expected = whole.choices[0].message.tool_calls[0]
    assert head.function.name == expected.function.name
    assert "".join(t.function.arguments for t in tool_deltas) == expected.function.arguments
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    # The client's own accumulator reassembles the same calls the non-streamed answer holds.
    with client.chat.completions.stream(model="tiny", messages=ASK, tools=TOOLS, tool_choice="required",
                                        max_tokens=100) as events:
        final = events.get_final_completion().choices[0]
    assert final.finish_reason == "tool_calls"
    assert_valid_calls(final.message.tool_calls, set(SCHEMAS))
    assert ([(c.function.name, c.function.arguments) for c in final.message.tool_calls]
            == [(c.function.name, c.function.arguments) for c in whole.choices[0].message.tool_calls])


def test_stop_strings_cut_text_streamed_or_not(client: openai.OpenAI) -> None:
    text = client.chat.completions.create(model="tiny", messages=ASK, max_tokens=30).choices[0].message.content
    stop = text[10:13]
    cut = text[: text.index(stop)]
    r = client.chat.completions.create(model="tiny", messages=ASK, max_tokens=30, stop=[stop])
    assert r.choices[0].message.content == cut and r.choices[0].finish_reason == "stop"
    streamed = client.chat.completions.create(model="tiny", messages=ASK, max_tokens=30, stop=stop, stream=True)
    chunks = list(streamed)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == cut
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_max_tokens_beyond_the_context_is_capped(client: openai.OpenAI, runtime: Runtime) -> None:
    prompt = "hello " * (CTX - 8)
    n = len(runtime.tokenize(prompt))
    assert n < CTX
    r = client.completions.create(model="tiny", prompt=prompt, max_tokens=10 * CTX)
    assert r.choices[0].finish_reason == "length"
    assert r.usage.prompt_tokens == n and r.usage.completion_tokens == CTX - n


def test_prompt_longer_than_the_context_is_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.completions.create(model="tiny", prompt="hello " * (CTX + 10), max_tokens=5)
    assert info.value.body["code"] == "context_length_exceeded"
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "hi " * CTX}])
    assert info.value.body["code"] == "context_length_exceeded" and info.value.body["param"] == "messages"


# --- text completions, models, health -----------------------------------------------------------


def test_completions_stream_and_not(client: openai.OpenAI) -> None:
    r = client.completions.create(model="/some/hf/folder", prompt="<|im_start|>user\nhi<|im_end|>\n", max_tokens=16,
                                  temperature=0.001)
    assert r.object == "text_completion" and r.model == "tiny"
    assert r.choices[0].finish_reason == "length" and r.usage.completion_tokens == 16
    chunks = list(client.completions.create(model="tiny", prompt="<|im_start|>user\nhi<|im_end|>\n", max_tokens=16,
                                            temperature=0.001, stream=True))
    assert "".join(c.choices[0].text for c in chunks) == r.choices[0].text
    assert chunks[-1].choices[0].finish_reason == "length"


def test_models_and_health(client: openai.OpenAI, base: str) -> None:
    assert [m.id for m in client.models.list()] == ["tiny"]
    state = health(base)
    assert state["status"] == "ok" and state["model"] == "tiny" and state["served"] > 0


# --- errors -------------------------------------------------------------------------------------


def post(base: str, path: str, body: Any, **kwargs: Any) -> httpx.Response:
    content = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return httpx.post(f"{base}{path}", content=content, headers={"content-type": "application/json"}, **kwargs)


@pytest.mark.parametrize(("body", "param"), [
    ({"messages": "hi"}, "messages"),
    ({"messages": ASK, "temperature": "hot"}, "temperature"),
    ({"messages": ASK, "max_tokens": 0}, "max_tokens"),
    ({"messages": ASK, "stream": "yes"}, "stream"),
    ({"messages": ASK, "tools": {"name": "f"}}, "tools"),
    ({"messages": ASK, "stop": [1]}, "stop"),
    ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role"),
    ({"messages": ASK, "tools": [{"type": "function", "function": {"name": 3}}]}, "tools"),
    ({"messages": ASK, "tools": [{"type": "function", "function": {
        "name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "bogus"}}}}}]}, "tools"),
    ({"messages": ASK, "tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "nope"}}},
     "tool_choice"),
    ({"messages": ASK, "tool_choice": "sometimes"}, "tool_choice"),
    ({"messages": [*ASK, {"role": "assistant", "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "get_time", "arguments": "{not json"}}]}]},
     "messages[1].tool_calls[0].function.arguments"),
])
def test_bad_chat_requests_are_one_sentence_400s(base: str, body: dict[str, Any], param: str) -> None:
    r = post(base, "/v1/chat/completions", body)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert error["message"] and "\n" not in error["message"]


def test_bad_bodies(base: str) -> None:
    r = post(base, "/v1/chat/completions", b"{not json")
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]["message"]
    assert post(base, "/v1/completions", {"prompt": 5}).json()["error"]["param"] == "prompt"
    assert post(base, "/v1/completions", {"max_tokens": 3}).status_code == 400
    r = post(base, "/v1/completions", b"x" * (MAX_BODY_BYTES + 1))
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"
    assert httpx.get(f"{base}/v1/nothing").json()["error"]["message"]
    # Unknown fields are ignored; the server is still up after all of the above.
    r = post(base, "/v1/completions", {"prompt": "hi", "max_tokens": 2, "frobnicate": {"x": 1}, "user": "u"})
    assert r.status_code == 200 and r.json()["usage"]["completion_tokens"] == 2


def test_api_key(runtime: Runtime) -> None:
    with serving(runtime, api_key=KEY) as url:
        wrong = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as info:
            wrong.models.list()
        assert info.value.status_code == 401 and info.value.body["code"] == "invalid_api_key"
        assert httpx.post(f"{url}/v1/completions", json={"prompt": "hi"}).status_code == 401
        right = openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0)
        assert right.completions.create(model="tiny", prompt="hi", max_tokens=2).usage.completion_tokens == 2
        assert httpx.get(f"{url}/health").status_code == 200  # health needs no key


# --- queue and cancellation ---------------------------------------------------------------------


def test_full_queue_is_429_with_retry_after(runtime: Runtime) -> None:
    with serving(runtime, queue_size=1) as url:
        start = threading.Barrier(6)
        results: list[httpx.Response] = []

        def ask() -> None:
            start.wait()
            results.append(post(url, "/v1/completions", {"prompt": "hi", "max_tokens": 400}, timeout=60))

        threads = [threading.Thread(target=ask) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results)
        assert codes.count(200) >= 2 and codes.count(429) >= 1 and set(codes) == {200, 429}, codes
        refused = next(r for r in results if r.status_code == 429)
        assert int(refused.headers["retry-after"]) >= 1 and refused.json()["error"]["code"] == "queue_full"
        assert all(r.json()["usage"]["completion_tokens"] == 400 for r in results if r.status_code == 200)
        assert health(url)["rejected"] == codes.count(429)


def test_client_disconnect_stops_the_generation(client: openai.OpenAI, base: str) -> None:
    before = health(base)
    stream = client.completions.create(model="tiny", prompt="hi", max_tokens=CTX - 10, stream=True)
    for _, _chunk in zip(range(3), stream):
        pass
    stream.close()
    deadline = time.monotonic() + 30
    while (after := health(base))["cancelled"] == before["cancelled"]:
        assert time.monotonic() < deadline, "the generation was not cancelled"
        time.sleep(0.05)
    assert after["queue"]["admitted"] == 0
    assert 3 <= after["generated_tokens"] - before["generated_tokens"] < CTX - 10
    # The model is free again at once.
    assert client.completions.create(model="tiny", prompt="hi", max_tokens=2).usage.completion_tokens == 2


def test_client_that_gives_up_on_a_plain_request_stops_it(base: str) -> None:
    before = health(base)
    with pytest.raises(httpx.ReadTimeout):
        post(base, "/v1/completions", {"prompt": "hi", "max_tokens": CTX - 10}, timeout=httpx.Timeout(5, read=0.5))
    deadline = time.monotonic() + 30
    while (after := health(base))["cancelled"] == before["cancelled"]:
        assert time.monotonic() < deadline, "the generation was not cancelled"
        time.sleep(0.05)
    assert after["generated_tokens"] - before["generated_tokens"] < CTX - 10


# --- pieces -------------------------------------------------------------------------------------


def test_streamed_call_fragments_always_prefix_the_final_arguments() -> None:
    calls = ('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Tokyo}}", "unit": "celsius"}}\n'
             '</tool_call>\n<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>')
    deltas = AnswerDeltas(tools=True, stop=())
    sent: dict[int, str] = {}
    names: dict[int, str] = {}
    for end in range(len(calls) + 1):
        for delta in deltas.feed(calls[:end], final=end == len(calls)):
            for part in delta["tool_calls"]:
                names.setdefault(part["index"], part["function"].get("name"))
                sent[part["index"]] = sent.get(part["index"], "") + part["function"]["arguments"]
    assert names == {0: "get_weather", 1: "get_time"}
    assert sent == {0: '{"city": "Tokyo}}", "unit": "celsius"}', 1: "{}"}
    assert [c.arguments for c in read_calls(calls)] == [sent[0], sent[1]]


def test_token_hook_can_stop_generation(runtime: Runtime, tiny_qwen3: Path) -> None:
    reference = load(tiny_qwen3, threads=1)
    try:
        # llama.cpp's own loop, edgefc's under a grammar, and transformers (stepwise once a hook is given)
        for rt, tools, choice in ((runtime, None, "auto"), (runtime, TOOLS, "none"), (reference, None, "auto")):
            seen: list[int] = []

            def hook(ids: list[int]) -> bool:
                seen.extend(ids)
                return len(seen) < 5

            gen = rt.generate(ASK, tools, tool_choice=choice, max_tokens=50, on_tokens=hook)
            assert gen.tokens == seen and len(seen) >= 5 and gen.finish_reason == "stop", rt.name
        free = runtime.generate(ASK, None, max_tokens=8)
        assert reference.generate(ASK, None, max_tokens=8, on_tokens=lambda ids: True).tokens == free.tokens
    finally:
        reference.close()


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")


def test_cli_serves_until_ctrl_c(tiny_gguf: Path) -> None:
    port_probe = httpx.Client()
    proc = subprocess.Popen([sys.executable, "-m", "edgefc.cli", "serve", str(tiny_gguf), "--port", "0",
                             "--ctx", "512", "--threads", "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            # as in a terminal: a CI runner started in the background passes SIGINT on ignored
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        url = None
        for line in proc.stdout:
            if "Uvicorn running on" in line:
                url = line.split("running on ")[1].split()[0]
                break
        assert url, "the server did not start"
        assert port_probe.get(f"{url}/health").json()["model"] == tiny_gguf.name
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130  # uvicorn shuts down, then re-raises SIGINT: the shell's Ctrl-C status
        rest = proc.stdout.read()
        assert "Finished server process" in rest and "Traceback" not in rest
    finally:
        port_probe.close()
        if proc.poll() is None:
            proc.kill()
