"""The BFCL multi-turn runner on scripted runtimes over real entries (right sequence, wrong state, a missing
parameter asked for in text, a withheld function), and a tiny model through `edgefc bench` end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edgefc.bfcl.multiturn.data import MultiTurnEntry, load_multi_turn
from edgefc.bfcl.multiturn.prompts import ADDITIONAL_FUNCTION_PROMPT, MAX_STEPS_PER_TURN
from edgefc.bfcl.multiturn.runner import run_entry
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


def test_multi_turn_aggregates_weigh_bfcl_v4s_measured_parts() -> None:
    from edgefc.bfcl.score import aggregates

    single = {"simple_python": 0.8, "multiple": 0.6, "parallel": 0.5, "parallel_multiple": 0.3,
              "irrelevance": 0.9, "live_simple": 0.5, "live_multiple": 0.4, "live_parallel": 0.25,
              "live_parallel_multiple": 0.5, "live_irrelevance": 0.7}
    multi = {"multi_turn_base": 0.2, "multi_turn_miss_func": 0.1, "multi_turn_miss_param": 0.15,
             "multi_turn_long_context": 0.05}
    values = {a.name: a.value for a in aggregates({**single, **multi})}
    assert values["multi_turn"] == pytest.approx(0.125)
    overall = (0.55 + 566.2 / 1351 + 0.8) / 3  # the single-turn overall, unchanged
    assert values["overall"] == pytest.approx(overall)
    assert values["overall_v4"] == pytest.approx((10 * 0.55 + 10 * 566.2 / 1351 + 10 * 0.8 + 30 * 0.125) / 60)
    only_multi = {a.name: a.value for a in aggregates(multi)}
    assert only_multi["multi_turn"] == pytest.approx(0.125) and only_multi["overall_v4"] is None
    assert "overall_v4" not in {a.name for a in aggregates(single)}  # single-turn runs report as before


def test_a_tiny_model_runs_two_entries_through_edgefc_bench_and_resumes(tiny_gguf: Path, wheel: Path,
                                                                         tmp_path: Path) -> None:
    from edgefc.bench.runner import read_jsonl
    from tests.test_bench_runner import _bench

    out = tmp_path / "run"
    args = (str(tiny_gguf), "--suite", "bfcl", "--categories", "multi_turn_base", "--limit", "2", "--max-tokens", "8",
            "--threads", "1", "--out", str(out))
    proc = _bench(*args, "--json", home=tmp_path, wheel=wheel)
    stdout, stderr = proc.communicate(timeout=900)
    assert proc.returncode == 0, stderr
    rows = list(read_jsonl(out / "results.jsonl"))
    assert len(rows) == 2 and {r["category"] for r in rows} == {"multi_turn_base"}
    for row in rows:  # a random model fails them; the wiring is what is checked
        assert row["valid"] is False and row["error_type"].startswith(("multi_turn:", "edgefc:"))
        assert row["turns"] and row["generations"] >= len(row["turns"]) and row["model"] == str(tiny_gguf)
        assert row["prompt_tokens"] == row["evaluated_tokens"] + row["cached_tokens"] > 0
    bfcl = json.loads(stdout)["models"][0]["bfcl"]
    assert bfcl["scores"]["categories"]["multi_turn_base"]["n"] == 2
    assert bfcl["multi_turn"]["entries"] == 2 and bfcl["multi_turn"]["cached_tokens"] > 0  # later turns hit
    assert "## BFCL V4 Overall over what edgefc measures" in (out / "report.md").read_text()
    # resume: the entry whose row is gone runs again, the other is kept as it was
    lines = (out / "results.jsonl").read_text().splitlines(keepends=True)
    (out / "results.jsonl").write_text(lines[0])
    again = _bench(*args, "--resume", home=tmp_path, wheel=wheel)
    _, stderr = again.communicate(timeout=900)
    assert again.returncode == 0, stderr
    after = list(read_jsonl(out / "results.jsonl"))
    assert [r["id"] for r in after] == [r["id"] for r in rows] and after[0] == rows[0]


def test_multi_turn_stands_for_the_four_categories() -> None:
    from edgefc.bfcl.categories import expand

    assert expand(["simple_python", "multi_turn"]) == ["simple_python", "multi_turn_base", "multi_turn_miss_func",
                                                       "multi_turn_miss_param", "multi_turn_long_context"]
