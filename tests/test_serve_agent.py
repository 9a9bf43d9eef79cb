"""The agent endpoint of edgefc serve (POST /v1/agent) and its chat page at /: events streamed over the served
model and the server's tools, confirmations answered by the client, the API key, and the page in a real headless
browser (Debian's chromium driven by Selenium)."""

from __future__ import annotations

import importlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from edgefc.agent import Toolbox, from_callable
from edgefc.protocol.parse import REFUSAL
from tests.serving import serving
from tests.test_agent import Scripted, calls, call

ARTIFACTS = Path(os.environ.get("EDGEFC_TEST_ARTIFACTS", Path(__file__).parents[1] / "test-artifacts"))


class Streaming(Scripted):
    """Scripted answers handed to the token sink in pieces, as a real model streams them."""

    def complete(self, prompt_tokens: list[int], *, max_tokens: int, sampling: Any, constraint: Any = None,
                 on_tokens: Any = None) -> Any:
        completion = super().complete(prompt_tokens, max_tokens=max_tokens, sampling=sampling)
        if on_tokens is not None:
            for at in range(0, len(completion.tokens), 5):
                on_tokens(completion.tokens[at:at + 5])
        return completion


def get_weather(city: str) -> dict:
    """Current weather in a city.

    Args:
        city: The city, e.g. Tokyo or Hà Nội.
    """
    return {"city": city, "temp_c": 21, "sky": "sunny"}


def delete_note(title: str) -> str:
    """Delete a note for good.

    Args:
        title: The note's title.
    """
    return f"deleted {title}"


def _toolbox() -> Toolbox:
    return Toolbox([from_callable(get_weather), from_callable(delete_note, confirm=True)])


def _events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    for line in response.iter_lines():
        if line.startswith("data: "):
            yield json.loads(line[len("data: "):])


@pytest.fixture()
def weather_server() -> Iterator[tuple[str, Streaming]]:
    rt = Streaming([calls(call("get_weather", city="Tokyo")), "It is sunny in Tokyo, 21°C."])
    with serving(rt, toolbox=_toolbox()) as url:
        yield url, rt


def test_a_message_streams_the_agents_steps(weather_server: tuple[str, Streaming]) -> None:
    url, _ = weather_server
    with httpx.stream("POST", f"{url}/v1/agent", json={"message": "What's the weather in Tokyo?"},
                      timeout=30) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = list(_events(r))
    kinds = [e["type"] for e in events]
    assert kinds.count("partial") >= 2 and kinds[-1] == "done"  # the answer arrives as it is written
    steps = [k for k in kinds if k != "partial"]
    assert steps == ["generation", "call", "result", "generation", "answer", "done"]
    by_type = {e["type"]: e for e in events}
    assert by_type["call"]["name"] == "get_weather" and by_type["call"]["arguments"] == {"city": "Tokyo"}
    assert json.loads(by_type["result"]["output"]) == get_weather("Tokyo") and not by_type["result"]["error"]
    assert by_type["answer"]["content"] == "It is sunny in Tokyo, 21°C." and by_type["generation"]["timings"]
    roles = [m["role"] for m in by_type["done"]["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant"]


def test_the_conversation_comes_back_and_goes_on() -> None:
    """The client sends the `done` messages back with its next message: the model reads the whole conversation."""
    rt = Streaming([calls(call("get_weather", city="Tokyo")), "Sunny.", "You asked about Tokyo."])
    with serving(rt, toolbox=_toolbox()) as url:
        with httpx.stream("POST", f"{url}/v1/agent", json={"message": "Weather in Tokyo?"}, timeout=30) as r:
            history = [e for e in _events(r) if e["type"] == "done"][0]["messages"]
        with httpx.stream("POST", f"{url}/v1/agent", json={"messages": history, "message": "Which city was it?"},
                          timeout=30) as r:
            events = list(_events(r))
    assert [e for e in events if e["type"] == "answer"][0]["content"] == "You asked about Tokyo."
    assert "Weather in Tokyo?" in rt.prompts[-1] and "Which city was it?" in rt.prompts[-1]


@pytest.mark.parametrize("allow", [True, False])
def test_a_tool_that_needs_a_yes_asks_the_client(allow: bool) -> None:
    rt = Streaming([calls(call("delete_note", title="shopping")), "Done."])
    with serving(rt, toolbox=_toolbox()) as url:
        with httpx.stream("POST", f"{url}/v1/agent", json={"message": "Delete my shopping note"}, timeout=30) as r:
            events = []
            for event in _events(r):
                events.append(event)
                if event["type"] == "confirm":
                    assert event["name"] == "delete_note" and event["arguments"] == {"title": "shopping"}
                    answered = httpx.post(f"{url}/v1/agent/confirm", json={"id": event["id"], "allow": allow})
                    assert answered.status_code == 200
    result = next(e for e in events if e["type"] == "result")
    assert (result["output"] == "deleted shopping") is allow and result["error"] is not allow
    if not allow:
        assert "declined" in result["output"]


def test_confirmations_and_bodies_are_checked(weather_server: tuple[str, Streaming]) -> None:
    url, _ = weather_server
    assert httpx.post(f"{url}/v1/agent/confirm", json={"id": "nope", "allow": True}).status_code == 404
    assert httpx.post(f"{url}/v1/agent/confirm", json={"id": "x"}).status_code == 400
    bad = httpx.post(f"{url}/v1/agent", json={"message": ""})
    assert bad.status_code == 400 and "'message'" in bad.json()["error"]["message"]
    bad = httpx.post(f"{url}/v1/agent", json={"message": "hi", "messages": [{"role": "robot"}]})
    assert bad.status_code == 400


def test_the_key_guards_the_agent_not_the_page() -> None:
    rt = Streaming(["hi"])
    with serving(rt, toolbox=_toolbox(), api_key="sk-page") as url:
        assert httpx.post(f"{url}/v1/agent", json={"message": "hi"}).status_code == 401
        assert httpx.post(f"{url}/v1/agent/confirm", json={"id": "x", "allow": True}).status_code == 401
        page = httpx.get(f"{url}/")
        assert page.status_code == 200 and "/v1/agent" in page.text and "sk-page" not in page.text
        with httpx.stream("POST", f"{url}/v1/agent", json={"message": "hi"},
                          headers={"Authorization": "Bearer sk-page"}, timeout=30) as r:
            assert r.status_code == 200 and [e["type"] for e in _events(r)][-1] == "done"
        for path in ("/page.html", "/edgefc/serve/page.html", "/static/app.js", "/../pyproject.toml"):
            assert httpx.get(f"{url}{path}").status_code == 404, path  # one page, nothing else served


def test_no_ui_and_no_tools() -> None:
    with serving(Streaming([]), ui=False) as url:
        assert httpx.get(f"{url}/").status_code == 404
        missing = httpx.post(f"{url}/v1/agent", json={"message": "hi"})
        assert missing.status_code == 404 and "--tools" in missing.json()["error"]["message"]


def test_a_failing_model_is_an_error_event_and_the_server_goes_on() -> None:
    class Broken(Streaming):
        def complete(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("the model fell over")

    with serving(Broken([]), toolbox=_toolbox()) as url:
        with httpx.stream("POST", f"{url}/v1/agent", json={"message": "hi"}, timeout=30) as r:
            events = list(_events(r))
        assert [e["type"] for e in events] == ["error", "done"] and "fell over" in events[0]["message"]
        assert httpx.get(f"{url}/health").status_code == 200


# --- the page, in a real browser ---

def _browser() -> Any:
    """Headless Debian chromium through Selenium and chromium-driver (installed by .ci/run); skipped locally
    without them, a failure under CI."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        if os.environ.get("CI"):
            raise AssertionError("CI installs chromium and chromium-driver (.ci/run)")
        pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    webdriver = importlib.import_module("selenium.webdriver")  # the dev extra installs it
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1000,900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver), options=options)


def _wait(browser: Any, css: str, count: int = 1, timeout: float = 30.0) -> list[Any]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout).until(
        lambda b: (found := b.find_elements(By.CSS_SELECTOR, css)) and len(found) >= count and found)


def _say(browser: Any, text: str) -> None:
    from selenium.webdriver.common.by import By

    box = browser.find_element(By.ID, "input")
    box.send_keys(text)
    browser.find_element(By.ID, "send").click()


def test_the_chat_page_in_a_browser() -> None:
    """The page loads with no console error; a weather question shows a get_weather card with its result and a
    final answer; a tool that needs a yes asks, and a No declines it; a Vietnamese conversation renders. Two
    screenshots are kept as test artifacts."""
    from selenium.webdriver.common.by import By

    answers = [calls(call("get_weather", city="Tokyo")), "It is sunny in Tokyo, 21°C.",
               calls(call("delete_note", title="shopping")), "I did not delete it.",
               calls(call("get_weather", city="Hà Nội")), "Trời nắng ở Hà Nội, 21°C."]
    browser = _browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        with serving(Streaming(answers), toolbox=_toolbox()) as url:
            browser.get(f"{url}/")
            _wait(browser, "#model")
            _say(browser, "What's the weather in Tokyo?")
            card = _wait(browser, ".call-card[data-name='get_weather'] .result")[0]
            assert '"temp_c": 21' in card.text
            final = _wait(browser, ".answer[data-final='1']")[0]
            assert final.text == "It is sunny in Tokyo, 21°C."
            browser.save_screenshot(str(ARTIFACTS / "chat-page-call.png"))

            _say(browser, "Delete my shopping note")
            _wait(browser, ".confirm .deny")[0].click()
            declined = _wait(browser, ".call-card[data-name='delete_note'] .result.error")[0]
            assert "declined" in declined.text
            _wait(browser, ".answer[data-final='1']", count=2)

            _say(browser, "Thời tiết ở Hà Nội thế nào?")
            answers_shown = _wait(browser, ".answer[data-final='1']", count=3)
            assert answers_shown[-1].text == "Trời nắng ở Hà Nội, 21°C."
            users = browser.find_elements(By.CSS_SELECTOR, ".msg.user")
            assert users[-1].text == "Thời tiết ở Hà Nội thế nào?"  # diacritics as typed
            browser.save_screenshot(str(ARTIFACTS / "chat-page-vietnamese.png"))
            errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
            assert errors == [], errors
    finally:
        browser.quit()
    assert (ARTIFACTS / "chat-page-call.png").stat().st_size > 5000


def test_refusal_renders_as_such() -> None:
    rt = Streaming([REFUSAL])
    with serving(rt, toolbox=_toolbox()) as url:
        with httpx.stream("POST", f"{url}/v1/agent", json={"message": "Book me a flight"}, timeout=30) as r:
            answer = [e for e in _events(r) if e["type"] == "answer"][0]
    assert answer["refusal"] and answer["content"] == REFUSAL


def test_edgefc_serve_with_tools_from_the_command_line(tiny_gguf: Path, tmp_path: Path) -> None:
    """`edgefc serve MODEL --tools FILE` serves the page and runs the agent over the real (tiny) model and the
    example's tools: the stream ends with the conversation, whatever the model answered."""
    from edgefc.bench.server_process import edgefc_argv, free_port, launched

    port = free_port()
    tools = Path(__file__).parents[1] / "examples" / "agent" / "customer_service.py"
    argv = edgefc_argv(tiny_gguf, port, 1, 2048) + ["--tools", str(tools), "--timeout", "5"]
    with launched("edgefc", argv, port, "/health", tmp_path / "serve.log"):
        assert "/v1/agent" in httpx.get(f"http://127.0.0.1:{port}/").text
        with httpx.stream("POST", f"http://127.0.0.1:{port}/v1/agent", json={"message": "Where is order 12345?"},
                          timeout=120) as r:
            events = list(_events(r))
    done = events[-1]
    assert done["type"] == "done" and done["messages"][0]["role"] == "system"  # the tools file's SYSTEM
    assert done["messages"][1] == {"role": "user", "content": "Where is order 12345?"}
    assert any(e["type"] == "generation" for e in events)
