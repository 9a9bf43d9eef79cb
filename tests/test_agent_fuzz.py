"""Fuzz: 10,000 generated model outputs and tool schemas through the agent loop (CI's profile derandomizes it).
No exception escapes, no tool ever runs with arguments its schema rejects (checked by the tests' own validator),
and none runs for an answer that holds no well-formed call of it (prose, a cut tag, another name)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgefc.agent import Agent, Limits, Toolbox, from_callable
from edgefc.protocol.parse import format_tool_calls, parse
from tests.test_agent import Scripted
from tests.test_grammar import PROPERTY, json_values, tool_sets, valid, values


def outputs(tools: list[dict[str, Any]]) -> st.SearchStrategy[str]:
    """What a model might write: canonical calls with valid or arbitrary arguments, unknown names, broken tags,
    fences, bare JSON, prose."""
    names = [t["function"]["name"] for t in tools]
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in tools}
    name = st.sampled_from(names) | st.text(min_size=1, max_size=8)
    good_call = st.sampled_from(names).flatmap(
        lambda n: values(schemas[n]).map(lambda args: {"name": n, "arguments": args}))
    any_call = st.builds(lambda n, a: {"name": n, "arguments": a}, name, json_values)
    calls = st.lists(good_call | any_call, min_size=1, max_size=3).map(format_tool_calls)
    broken = st.builds(lambda c, cut: c[:cut], calls, st.integers(0, 60))
    fenced = st.builds(lambda c: "```json\n" + json.dumps(c) + "\n```", good_call | any_call)
    return st.one_of(calls, broken, fenced, st.text(max_size=40), any_call.map(json.dumps))


OUTPUTS = 10_000  # model outputs the agent loop must read in all
PER_SCENARIO = 5


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[str]]:
    tools = draw(tool_sets())
    return tools, draw(st.lists(outputs(tools), min_size=PER_SCENARIO, max_size=PER_SCENARIO))


@pytest.fixture(scope="module")
def fed() -> Any:
    """The outputs the agent loop read over every example, checked once they have all run."""
    count = [0]
    yield count
    assert count[0] >= OUTPUTS, f"the fuzz fed only {count[0]} outputs"


def _key(name: str, arguments: Any) -> str:
    return json.dumps([name, arguments], sort_keys=True)


@pytest.mark.slow
@settings(PROPERTY, max_examples=2 * OUTPUTS // PER_SCENARIO, deadline=None)  # the agent reads ~half of each five
@given(scenario=scenarios())
def test_no_output_crashes_the_loop_or_runs_a_tool_with_invalid_arguments(scenario: Any, fed: list[int]) -> None:
    tools, answers = scenario
    runs: list[tuple[str, Any, bool]] = []

    def handler_for(spec: dict[str, Any]) -> Any:
        def handler(**arguments: Any) -> str:
            runs.append((spec["function"]["name"], arguments, valid(arguments, spec["function"]["parameters"])))
            return "ok"
        return handler

    toolbox = Toolbox(from_callable(handler_for(spec), spec=spec) for spec in tools)
    runtime = Scripted(answers)
    agent = Agent(runtime, toolbox, limits=Limits(max_steps=len(answers), timeout_s=5))
    try:
        events = [e.to_dict() for e in agent.send("go")]
    finally:
        agent.close()
    read = answers[:len(answers) - len(runtime.answers)]
    fed[0] += len(read)
    assert events[-1]["kind"] in ("text", "refusal", "limit")
    assert all(ok for _, _, ok in runs), [r for r in runs if not r[2]]
    called = {_key(c["name"], c["arguments"]) for answer in read for c in parse(answer).calls}
    assert all(_key(name, arguments) in called for name, arguments, _ in runs)  # only well-formed calls run
    json.dumps(agent.transcript())  # the transcript is always JSON
