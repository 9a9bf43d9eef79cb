"""bfcl-eval's multi-turn verdict (multi_turn_checker, as eval_runner calls it) over recorded data: per turn, the
results of the model's calls by step, the ground truth's results, and both states after the turn.

Rules, in bfcl-eval's order: the model must have as many turns as the ground truth; a turn whose ground truth is
empty (miss_func/miss_param) is not checked at all (its calls still change later states); otherwise the model
needs a call in the turn, every instance's public attributes must equal the ground truth's, and the results of
all the model's calls so far must contain this turn's ground-truth results as a multiset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TurnRecord:
    """One turn: the model's call results per step (steps without calls are ignored), the ground truth's call
    results (empty: nothing to do this turn), and both executors' states after the turn."""

    model_steps: list[list[str]]
    ground_truth: list[str]
    model_state: dict[str, dict[str, Any]]
    ground_truth_state: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Verdict:
    """Pass, or the first failure: bfcl-eval's error type, a one-line reason and the turn (None: whole entry)."""

    valid: bool
    error_type: str = ""
    reason: str = ""
    turn: int | None = None


def check(turns: list[TurnRecord], expected_turns: int) -> Verdict:
    """bfcl-eval's verdict for one entry whose ground truth has `expected_turns` turns."""
    if len(turns) != expected_turns:
        return Verdict(False, "multi_turn:force_terminated",
                       f"the model has {len(turns)} turns, the ground truth {expected_turns}")
    results_so_far: list[str] = []
    for index, turn in enumerate(turns):
        steps = [step for step in turn.model_steps if step]
        results_so_far += [result for step in steps for result in step]
        if not turn.ground_truth:
            continue
        if not steps:
            return Verdict(False, "multi_turn:empty_turn_model_response", "the model made no call", index)
        mismatch = state_mismatch(turn.model_state, turn.ground_truth_state)
        if mismatch:
            return Verdict(False, "multi_turn:instance_state_mismatch", mismatch, index)
        missing = missing_results(turn.ground_truth, results_so_far)
        if missing:
            return Verdict(False, "multi_turn:execution_response_mismatch",
                           f"no model call so far returned {missing[0]!r}" +
                           (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""), index)
    return Verdict(True)


def state_mismatch(model: dict[str, dict[str, Any]], ground_truth: dict[str, dict[str, Any]]) -> str:
    """Which instance's attributes differ, in the ground truth's class order ("" when none does)."""
    for class_name, expected in ground_truth.items():
        actual = model[class_name]
        differing = [attr for attr, value in expected.items() if attr not in actual or actual[attr] != value]
        if differing:
            return f"{class_name} differs from the ground truth in {', '.join(differing)}"
    return ""


def missing_results(expected: list[str], actual: list[str]) -> list[str]:
    """The expected results not found in actual, each actual result matching at most one expected one."""
    left = list(actual)
    missing = []
    for result in expected:
        if result in left:
            left.remove(result)
        else:
            missing.append(result)
    return missing
