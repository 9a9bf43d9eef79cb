"""The BFCL multi-turn runner on scripted runtimes over real entries (right sequence, wrong state, a missing
parameter asked for in text, a withheld function), and a tiny model through `edgefc bench` end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edgefc.bench.bfcl.multiturn.data import MultiTurnEntry, load_multi_turn
from edgefc.bench.bfcl.multiturn.prompts import ADDITIONAL_FUNCTION_PROMPT, MAX_STEPS_PER_TURN
from edgefc.bench.bfcl.multiturn.runner import run_entry
from tests.bfcl_support import real_wheel
from tests.test_agent import Scripted, call, calls


@pytest.fixture(scope="module")
def wheel() -> Path:
    return real_wheel()


def entry(wheel: Path, entry_id: str) -> MultiTurnEntry:
    return next(e for e in load_multi_turn(entry_id.rsplit("_", 1)[0], wheel=wheel) if e.id == entry_id)


def test_the_ground_truth_sequence_passes(wheel: Path) -> None:
    # multi_turn_base_100: NVDA's price, then fund the account with 10 shares' worth
    runtime = Scripted([calls(call("get_stock_info", symbol="NVDA")), "NVDA is at 220.34.",
                        calls(call("fund_account", amount=2203.4)), "Funded."])
    row = run_entry(runtime, entry(wheel, "multi_turn_base_100"), wheel=wheel)
    assert row["valid"] and row["error_type"] == "" and "error" not in row
    assert [[c["name"] for c in t["calls"]] for t in row["turns"]] == [["get_stock_info"], ["fund_account"]]
    assert '"price": 220.34' in row["turns"][0]["calls"][0]["result"]
    assert [t["answer"] for t in row["turns"]] == ["NVDA is at 220.34.", "Funded."]
    assert row["generations"] == 4 and row["calls"] == 2
    assert row["prompt_tokens"] == sum(len(p) for p in runtime.prompts)  # the scripted runtime: a token a char
    assert row["evaluated_tokens"] == row["prompt_tokens"] - row["cached_tokens"]
    json.dumps(row)  # a results.jsonl row
    # the conversation carries over: turn 2's first prompt extends turn 1's last prompt and answer
    assert runtime.prompts[2].startswith(runtime.prompts[1] + "NVDA is at 220.34.")


def test_a_wrong_state_fails_at_its_turn(wheel: Path) -> None:
    runtime = Scripted([calls(call("get_stock_info", symbol="NVDA")), "220.34.",
                        calls(call("fund_account", amount=1000.0)), "Funded."])
    row = run_entry(runtime, entry(wheel, "multi_turn_base_100"), wheel=wheel)
    assert not row["valid"]
    assert row["error_type"] == "multi_turn:instance_state_mismatch" and row["failed_turn"] == 1
    assert "TradingBot" in row["reason"]


def test_calls_of_one_answer_run_in_order(wheel: Path) -> None:
    # multi_turn_base_46: cd into Drafts, remove its file, come back up, remove the folder, all in one answer
    steps = [call("cd", folder="Drafts"), call("rm", file_name="DylanProject.txt"), call("cd", folder=".."),
             call("rmdir", dir_name="Drafts")]
    row = run_entry(Scripted([calls(*steps), "Deleted."]), entry(wheel, "multi_turn_base_46"), wheel=wheel)
    assert row["valid"], row["reason"]
    assert {c["step"] for c in row["turns"][0]["calls"]} == {1}


def test_a_missing_parameter_asked_for_in_text_passes(wheel: Path) -> None:
    # multi_turn_miss_param_50: turn 1 does not say which doors; its ground truth is empty (nothing is checked)
    runtime = Scripted(["Which doors should I unlock?",
                        calls(call("lockDoors", unlock=True, door=["driver", "passenger", "rear_left", "rear_right"]),
                              call("setHeadlights", mode="on")), "Done."])
    row = run_entry(runtime, entry(wheel, "multi_turn_miss_param_50"), wheel=wheel)
    assert row["valid"], row["reason"]
    assert row["turns"][0]["calls"] == [] and row["turns"][0]["answer"] == "Which doors should I unlock?"


def test_a_turn_without_a_call_where_one_was_due_fails(wheel: Path) -> None:
    row = run_entry(Scripted(["Which doors?", "I cannot."]), entry(wheel, "multi_turn_miss_param_50"), wheel=wheel)
    assert not row["valid"] and row["error_type"] == "multi_turn:empty_turn_model_response"


def test_a_withheld_function_is_offered_and_callable_at_its_turn(wheel: Path) -> None:
    # multi_turn_miss_func_50: lockDoors is withheld in turn 0 and comes back in turn 1
    runtime = Scripted([calls(call("lockDoors", unlock=True, door=["driver"])), "I have no way to unlock doors.",
                        calls(call("lockDoors", unlock=True, door=["driver", "passenger", "rear_left", "rear_right"]),
                              call("setHeadlights", mode="on")), "Done."])
    row = run_entry(runtime, entry(wheel, "multi_turn_miss_func_50"), wheel=wheel)
    assert row["valid"], row["reason"]
    refused, = row["turns"][0]["calls"]
    assert refused["error"] and "no tool named 'lockDoors'" in refused["result"]  # not offered yet: not run
    assert '"name": "lockDoors"' not in runtime.prompts[0]
    returned = runtime.prompts[2]
    assert '"name": "lockDoors"' in returned and returned.count(ADDITIONAL_FUNCTION_PROMPT) == 1
    assert [c["error"] for c in row["turns"][1]["calls"]] == [False, False]


def test_repeated_calls_run_again_and_the_step_limit_force_quits(wheel: Path) -> None:
    # bfcl-eval executes every call (repeats too) and quits the entry after the 21st answer with calls
    answers = [calls(call("get_stock_info", symbol="NVDA"))] * (MAX_STEPS_PER_TURN + 1)
    row = run_entry(Scripted(answers), entry(wheel, "multi_turn_base_100"), wheel=wheel)
    turn, = row["turns"]
    assert turn["force_quit"] and turn["steps"] == MAX_STEPS_PER_TURN + 1
    assert not any(c["error"] for c in turn["calls"]) and len(turn["calls"]) == MAX_STEPS_PER_TURN + 1
    assert row["error_type"] == "multi_turn:force_terminated"


def test_a_runtime_failure_is_a_failed_row(wheel: Path) -> None:
    class TooLong(Scripted):
        def complete(self, prompt_tokens: list[int], **kwargs: Any) -> Any:
            from edgefc.errors import ModelError
            raise ModelError("prompt exceeds the context")

    row = run_entry(TooLong([]), entry(wheel, "multi_turn_base_100"), wheel=wheel)
    assert not row["valid"] and row["error_type"] == "edgefc:generation_failed"
    assert "exceeds the context" in row["error"] and len(row["turns"]) == 1
