"""Fuzz: thousands of generated model outputs and tool schemas through the agent loop. No exception escapes,
and no tool ever runs with arguments its schema rejects (checked by the tests' own validator)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgefc.agent import Agent, Limits, Toolbox, from_callable
from edgefc.protocol.parse import format_tool_calls
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


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[str]]:
    tools = draw(tool_sets())
    return tools, draw(st.lists(outputs(tools), min_size=1, max_size=6))


@pytest.mark.slow
@settings(PROPERTY, max_examples=600)  # about 2,000 model outputs
@given(scenario=scenarios())
def test_no_output_crashes_the_loop_or_runs_a_tool_with_invalid_arguments(scenario: Any) -> None:
    tools, answers = scenario
    runs: list[tuple[str, Any, bool]] = []

    def handler_for(spec: dict[str, Any]) -> Any:
        def handler(**arguments: Any) -> str:
            runs.append((spec["function"]["name"], arguments, valid(arguments, spec["function"]["parameters"])))
            return "ok"
        return handler

    toolbox = Toolbox(from_callable(handler_for(spec), spec=spec) for spec in tools)
    agent = Agent(Scripted(answers), toolbox, limits=Limits(max_steps=len(answers), timeout_s=5))
    try:
        events = [e.to_dict() for e in agent.send("go")]
    finally:
        agent.close()
    assert events[-1]["kind"] in ("text", "refusal", "limit")
    assert all(ok for _, _, ok in runs), [r for r in runs if not r[2]]
    json.dumps(agent.transcript())  # the transcript is always JSON
