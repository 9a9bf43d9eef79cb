"""The agent loop driven by a scripted runtime: calls, parallel calls, tool errors, timeouts, invalid arguments,
unknown tools, refusal, the step limit, repeated and malformed calls, confirmation, append-only prompts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Sequence

import pytest

from edgefc.agent import Agent, Limits, Toolbox, from_callable, needs_confirmation, replay
from edgefc.errors import EdgefcError
from edgefc.protocol.parse import REFUSAL, format_tool_calls
from edgefc.protocol.render import ChatTemplate
from edgefc.runtimes.base import Clock, Completion, Runtime, Sampling
from tests.tiny import qwen3_template

ORDERS = {"12345": "shipped", "777": "processing"}


class Scripted(Runtime):
    """A runtime whose answers are given in advance; it records every prompt it was asked to answer."""

    name = "scripted"
    format = "none"

    def __init__(self, answers: list[str], template: ChatTemplate | None = None):
        super().__init__(Path("scripted"), template or ChatTemplate(qwen3_template()), threads=1)
        self.answers = list(answers)
        self.prompts: list[str] = []
        self.tool_choices: list[Any] = []

    def constraint(self, tools: Any, tool_choice: Any = "auto", *args: Any, **kwargs: Any) -> None:
        self.tool_choices.append(tool_choice)
        return None  # scripted answers are what the test says, grammar or not

    def tokenize(self, prompt: str) -> list[int]:
        self.prompts.append(prompt)
        return [ord(c) for c in prompt]

    def detokenize(self, tokens: Sequence[int]) -> str:
        return "".join(chr(t) for t in tokens)

    def complete(self, prompt_tokens: list[int], *, max_tokens: int, sampling: Sampling,
                 constraint: Any = None, on_tokens: Any = None) -> Completion:
        text = self.answers.pop(0) if self.answers else "Done."
        clock = Clock()
        clock.token(len(text) + 1)
        return Completion([ord(c) for c in text], "stop", clock.timings(len(prompt_tokens), len(text)))

    def logits(self, tokens: list[int], last: int) -> Any:
        raise NotImplementedError

    def _grammar_vocab(self) -> Any:
        raise NotImplementedError


def call(tool: str, **arguments: Any) -> dict[str, Any]:
    return {"name": tool, "arguments": arguments}


def calls(*items: dict[str, Any]) -> str:
    return format_tool_calls(list(items))


def order_status(order_id: str) -> str:
    """Where an order is.

    Args:
        order_id: The order number.
    """
    if order_id not in ORDERS:
        raise KeyError(f"no order {order_id}")
    return ORDERS[order_id]


def run(agent: Agent, message: str) -> list[dict[str, Any]]:
    return [event.to_dict() for event in agent.send(message)]


def test_call_result_then_answer() -> None:
    runtime = Scripted([calls(call("order_status", order_id="12345")), "Order 12345 has shipped."])
    agent = Agent(runtime, Toolbox([from_callable(order_status)]))
    events = run(agent, "Where is order 12345?")
    assert [e["kind"] for e in events] == ["generation", "call", "result", "generation", "text"]
    assert events[2]["output"] == "shipped" and not events[2]["error"]
    assert events[-1]["content"] == "Order 12345 has shipped."
    roles = [m["role"] for m in agent.transcript()["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant"]
    assert agent.conversation.messages[1]["tool_calls"][0]["function"] == call("order_status", order_id="12345")
    assert "<tool_response>\nshipped\n</tool_response>" in runtime.prompts[1]
    agent.close()


def test_prompts_are_append_only_even_with_qwen3_history_rewrites() -> None:
    answers = [calls(call("order_status", order_id="12345")), "Shipped.", calls(call("order_status", order_id="777")),
               "Processing."]
    runtime = Scripted(answers)
    agent = Agent(runtime, Toolbox([from_callable(order_status)]), system="You are a shop assistant.")
    run(agent, "Where is order 12345?")
    run(agent, "And order 777?")
    prompts, answered = runtime.prompts, ["", *answers]
    assert len(prompts) == 4
    for before, answer, after in zip(prompts, answers, prompts[1:]):
        assert after.startswith(before + answer), "a later prompt rewrote what the model had already read"
    # what the template writes for a new turn is its own: the generation prompt's empty think block, the
    # tool responses as a user turn
    assert prompts[1].endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert "<|im_start|>user\n<tool_response>\nshipped\n</tool_response><|im_end|>\n" in prompts[1]
    full = runtime.template.render(agent.conversation.messages, agent.toolbox.specs())
    assert full != prompts[-1]  # a full rendering differs (Qwen3 drops old think blocks): hence append-only
    agent.close()


def test_parallel_calls_run_concurrently() -> None:
    both_started = asyncio.Event()
    started: list[str] = []

    async def wait_for_other(label: str) -> str:
        """Start, then wait until both calls have started (sequential execution would time out).

        Args:
            label: Which call this is.
        """
        started.append(label)
        if len(started) == 2:
            both_started.set()
        await asyncio.wait_for(both_started.wait(), timeout=5)
        return f"{label} done"

    runtime = Scripted([calls(call("wait_for_other", label="a"), call("wait_for_other", label="b")), "Both done."])
    agent = Agent(runtime, Toolbox([from_callable(wait_for_other)]), limits=Limits(timeout_s=10))
    events = run(agent, "go")
    results = [e for e in events if e["kind"] == "result"]
    assert [r["output"] for r in results] == ["a done", "b done"] and not any(r["error"] for r in results)
    agent.close()


@pytest.mark.parametrize("answer, expected", [
    (calls(call("order_status", order_id="999")), "order_status failed: KeyError"),  # the tool raises
    (calls(call("order_status", id="12345")), "invalid arguments for order_status"),  # wrong argument name
    (calls(call("order_status", order_id=12345)), "invalid arguments for order_status: order_id: 12345 is not"),
    (calls(call("cancel_order", order_id="12345")), "there is no tool named 'cancel_order'"),
    ('<tool_call>\n{"name": "order_status", "arguments": {"order_id": \n</tool_call>', "could not be read"),
])
def test_errors_go_back_to_the_model(answer: str, expected: str) -> None:
    runs: list[Any] = []

    def order_status_counted(order_id: str) -> str:
        """Count the runs.

        Args:
            order_id: The order number.
        """
        runs.append(order_id)
        return order_status(order_id)

    tool = from_callable(order_status_counted, spec={**json.loads(json.dumps(from_callable(order_status).spec))})
    agent = Agent(Scripted([answer, "Sorry, something went wrong."]), Toolbox([tool]))
    events = run(agent, "Where is order 12345?")
    result = next(e for e in events if e["kind"] == "result")
    assert result["error"] and expected in json.loads(result["output"])["error"]
    assert events[-1]["kind"] == "text"  # the model read the error and answered
    if "failed" not in expected:
        assert runs == []  # nothing ran that should not have
    agent.close()


def test_timeout_and_output_cap() -> None:
    async def slow() -> str:
        """Never finishes in time."""
        await asyncio.sleep(30)
        return "late"

    def chatty() -> str:
        """Too much to read."""
        return "x" * 100

    agent = Agent(Scripted([calls(call("slow"), call("chatty")), "ok"]),
                  Toolbox([from_callable(slow), from_callable(chatty)]), limits=Limits(timeout_s=0.2,
                                                                                       max_output_chars=10))
    events = run(agent, "go")
    slow_result, chatty_result = [e for e in events if e["kind"] == "result"]
    assert slow_result["error"] and "did not finish within 0.2 s" in slow_result["output"]
    assert chatty_result["output"] == "x" * 10 + "... [cut: 90 more characters]"
    agent.close()


def test_hostile_python_tools_end_as_errors_in_time(capsys: pytest.CaptureFixture[str]) -> None:
    """A tool that raises, one that blocks its thread past the timeout, one that returns what JSON cannot hold,
    and one that prints: each ends as a result within the timeout, the loop goes on, and prints go to stderr
    (stdout is the caller's: `edgefc agent --json` writes its JSON there)."""
    import time

    def boom() -> str:
        """Raises."""
        raise RuntimeError("kaboom")

    def stuck() -> str:
        """Blocks its thread."""
        time.sleep(3)
        return "late"

    def loop_value() -> dict:
        """A value that refers to itself."""
        value: dict = {}
        value["self"] = value
        return value

    def noisy() -> str:
        """Prints, then answers."""
        print("debug output from a tool")
        return "quiet answer"

    tools = Toolbox([from_callable(f) for f in (boom, stuck, loop_value, noisy)])
    agent = Agent(Scripted([calls(call("boom"), call("stuck"), call("loop_value"), call("noisy")), "ok"]), tools,
                  limits=Limits(timeout_s=0.5))
    started = time.perf_counter()
    results = {e["name"]: e for e in run(agent, "go") if e["kind"] == "result"}
    assert time.perf_counter() - started < 2.5  # the blocked thread is not waited for
    assert results["boom"]["error"] and "RuntimeError: kaboom" in results["boom"]["output"]
    assert results["stuck"]["error"] and "did not finish within 0.5 s" in results["stuck"]["output"]
    assert results["loop_value"]["error"] and "Circular reference" in results["loop_value"]["output"]
    assert results["noisy"]["output"] == "quiet answer" and not results["noisy"]["error"]
    printed = capsys.readouterr()
    assert "debug output from a tool" in printed.err and "debug output" not in printed.out
    agent.close()


def test_refusal_step_limit_and_repeated_calls() -> None:
    agent = Agent(Scripted([REFUSAL]), Toolbox([from_callable(order_status)]))
    assert run(agent, "Book a flight")[-1]["kind"] == "refusal"
    agent.close()

    same = calls(call("order_status", order_id="12345"))
    runtime = Scripted([same] * 5)
    agent = Agent(runtime, Toolbox([from_callable(order_status)]), limits=Limits(max_steps=3))
    events = run(agent, "Where is order 12345?")
    assert [e["kind"] for e in events].count("generation") == 3 and events[-1]["kind"] == "limit"
    assert runtime.tool_choices == ["auto", "auto", "none"]  # after a repeat, the next answer must be text
    results = [e for e in events if e["kind"] == "result"]
    assert results[0]["output"] == "shipped"
    assert all(r["error"] and "already made" in r["output"] for r in results[1:])
    agent.close()


def test_confirmation_is_asked_and_declined_by_default() -> None:
    done: list[str] = []

    @needs_confirmation
    def unlock_door(door: str) -> str:
        """Unlock a door.

        Args:
            door: Which door.
        """
        done.append(door)
        return "unlocked"

    answer = calls(call("unlock_door", door="front"))
    agent = Agent(Scripted([answer, "I could not."]), Toolbox([from_callable(unlock_door)]))
    assert "declined" in [e for e in run(agent, "open up") if e["kind"] == "result"][0]["output"] and done == []
    agent.close()
    asked: list[Any] = []
    agent = Agent(Scripted([answer, "Unlocked."]), Toolbox([from_callable(unlock_door)]),
                  confirm=lambda c: asked.append(c) or True)
    run(agent, "open up")
    assert done == ["front"] and asked == [call("unlock_door", door="front")]
    agent.close()


def test_transcript_round_trip(tmp_path: Path) -> None:
    agent = Agent(Scripted([calls(call("order_status", order_id="12345")), "Shipped."]),
                  Toolbox([from_callable(order_status)]))
    events = run(agent, "Where is order 12345?")
    path = tmp_path / "t.json"
    path.write_text(json.dumps(agent.transcript()))
    assert [e.to_dict() for e in replay(json.loads(path.read_text()))] == events
    agent.close()


def test_duplicate_tool_names_and_bad_schemas_are_user_errors() -> None:
    with pytest.raises(EdgefcError, match="two tools are named 'order_status'"):
        Toolbox([from_callable(order_status), from_callable(order_status)])
    bad = from_callable(order_status, spec={"name": "x", "parameters": {"type": "object", "properties": {
        "a": {"type": "string", "minLength": -1}}}})
    with pytest.raises(EdgefcError, match="invalid parameters schema"):
        Agent(Scripted([]), Toolbox([bad]))


# --- tool files ---------------------------------------------------------------------------------------


def test_python_tool_files(tmp_path: Path) -> None:
    from edgefc.agent import load_tool_file

    listed = load_tool_file(Path(__file__).parents[1] / "examples" / "agent" / "smart_home.py")
    assert [t.name for t in listed.tools] == ["list_devices", "set_light", "set_thermostat", "unlock_door"]
    assert [t.confirm for t in listed.tools] == [False, False, False, True] and "smart home" in listed.system
    room = listed.tools[1].parameters["properties"]["room"]
    assert room["enum"] == ["living_room", "bedroom", "kitchen", "entrance"]
    plain = tmp_path / "plain.py"
    plain.write_text("import os\n\ndef add(a: int, b: int) -> int:\n    '''Add.'''\n    return a + b\n\n"
                     "def _helper() -> None:\n    pass\n")
    assert [t.name for t in load_tool_file(plain).tools] == ["add"]  # public functions defined there only


def test_json_tool_files_with_handlers(tmp_path: Path) -> None:
    from edgefc.agent import load_tool_file

    (tmp_path / "impl.py").write_text("def shout(text):\n    return text.upper()\n")
    spec = {"name": "shout", "description": "Upper-case a text.",
            "parameters": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}}
    good = tmp_path / "tools.json"
    good.write_text(json.dumps({"system": "Be loud.", "tools": [{**spec, "handler": "impl.py:shout",
                                                                "confirm": True}]}))
    loaded = load_tool_file(good)
    assert loaded.system == "Be loud." and loaded.tools[0].confirm and loaded.tools[0].name == "shout"
    agent = Agent(Scripted([calls(call("shout", text="hi")), "HI"]), Toolbox(loaded.tools), confirm=lambda c: True)
    assert [e for e in run(agent, "shout hi") if e["kind"] == "result"][0]["output"] == "HI"
    agent.close()


@pytest.mark.parametrize("content, message", [
    ([{"name": "x", "parameters": {"type": "object", "properties": {}}}], "has no 'handler'"),
    ([{"name": "x", "parameters": {"type": "object", "properties": {}}, "handler": "impl.py:nope"}],
     "has no function 'nope'"),
    ([{"name": "x", "parameters": {"type": "object", "properties": {}}, "handler": "no_such_module_x:f"}],
     "cannot be imported"),
    ("{not json", "is not valid JSON"),
])
def test_bad_json_tool_files_are_one_sentence(content: Any, message: str, tmp_path: Path) -> None:
    from edgefc.agent import load_tool_file

    (tmp_path / "impl.py").write_text("def f():\n    return 1\n")
    path = tmp_path / "tools.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(EdgefcError, match=message):
        load_tool_file(path)


def test_bad_python_tool_files_are_one_sentence(tmp_path: Path) -> None:
    from edgefc.agent import load_tool_file

    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(EdgefcError, match="failed to import: RuntimeError: boom"):
        load_tool_file(broken)
    untyped = tmp_path / "untyped.py"
    untyped.write_text("def f(x):\n    return x\n")
    with pytest.raises(EdgefcError, match="has no type hint"):
        load_tool_file(untyped)
    with pytest.raises(EdgefcError, match="neither Python"):
        load_tool_file(Path(__file__).parents[1] / "README.md")
