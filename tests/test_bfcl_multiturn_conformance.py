"""edgefc's BFCL multi-turn verdict against bfcl-eval's own, case by case: on a fixed sample of real entries
of every multi-turn category, the same model-side call sequences (the ground truth, split into steps, with a
call dropped, an argument changed, a turn left empty, an unknown or repeated call added, calls made in a turn
meant to have none, a turn missing) go through edgefc (two API workers + checker.check) and through bfcl-eval's
eval_runner in $EDGEFC_BFCL_PYTHON (tests/bfcl_official_multiturn_check.py). Without that venv the test skips
(fails under CI).
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from edgefc.bfcl.multiturn.calls import parse_call
from edgefc.bfcl.multiturn.checker import TurnRecord, Verdict, check
from edgefc.bfcl.categories import names
from edgefc.bfcl.multiturn.data import MultiTurnEntry, load_multi_turn
from edgefc.bfcl.multiturn.executor import Executor
from tests.bfcl_support import official_python, real_wheel

HELPER = Path(__file__).with_name("bfcl_official_multiturn_check.py")
PER_CATEGORY = 20

Steps = list[list[list[str]]]  # per turn, per step, call strings


def _spelled(name: str, args: list[Any], kwargs: dict[str, Any]) -> str:
    """A call string BFCL evaluates to the same call."""
    return f"{name}({', '.join([repr(a) for a in args] + [f'{k}={v!r}' for k, v in kwargs.items()])})"


def _changed(value: Any) -> Any:
    """A different value of the same kind."""
    if type(value) is bool:
        return not value
    if type(value) in (int, float):
        return value + 7
    if type(value) is str:
        return value + "zz"
    if type(value) is list:
        return value[:-1] if value else ["zz"]
    if type(value) is dict:
        return {**value, "zz": 1}
    return "zz"


def _cases(entry: MultiTurnEntry) -> Iterator[tuple[str, Steps]]:
    """Model-side sequences for an entry, chosen with a seed of its own."""
    rng = random.Random(entry.id)
    truth = entry.ground_truth
    as_steps = [[list(turn)] if turn else [] for turn in truth]
    busy = [i for i, turn in enumerate(truth) if turn]
    yield "ground truth", as_steps
    yield "one call per step", [[[call] for call in turn] for turn in truth]
    turn = rng.choice([i for i in busy if len(truth[i]) > 1] or busy)  # a turn left with calls, where possible
    dropped = copy.deepcopy(as_steps)
    dropped[turn][0].pop(rng.randrange(len(truth[turn])))
    yield "drop a call", dropped
    keyword = [(t, c) for t in busy for c, text in enumerate(truth[t]) if parse_call(text).kwargs]
    if keyword:
        t, c = rng.choice(keyword)
        call = parse_call(truth[t][c])
        key = rng.choice(sorted(call.kwargs))
        changed = copy.deepcopy(as_steps)
        changed[t][0][c] = _spelled(call.name, call.args, {**call.kwargs, key: _changed(call.kwargs[key])})
        yield f"change {key}", changed
    emptied = copy.deepcopy(as_steps)
    emptied[rng.choice(busy)] = []
    yield "empty turn", emptied
    unknown = copy.deepcopy(as_steps)
    unknown[turn].append(["no_such_function(x=1)"])
    yield "unknown call", unknown
    repeated = copy.deepcopy(as_steps)
    repeated[turn].append([truth[turn][-1]])
    yield "repeat a call", repeated
    idle = [i for i, turn in enumerate(truth) if not turn and i + 1 < len(truth)]
    if idle:
        early = copy.deepcopy(as_steps)
        early[idle[0]] = [list(truth[idle[0] + 1])]
        yield "calls in a turn meant to have none", early
    yield "a turn missing", as_steps[:-1]


def _edgefc_verdict(entry: MultiTurnEntry, steps: Steps, truth: list[tuple[list[str], dict]], wheel: Path) -> Verdict:
    """edgefc's verdict: the model's calls run in a worker, recorded against the ground truth's turns."""
    records = []
    with Executor(entry, wheel=wheel) as model:
        for turn_steps, (results, state) in zip(steps, truth):
            records.append(TurnRecord([model.run(step) for step in turn_steps], results, model.state(), state))
    return check(records, len(entry.ground_truth))


def _ground_truth_run(entry: MultiTurnEntry, wheel: Path) -> list[tuple[list[str], dict]]:
    """The ground truth's results and state after each turn."""
    with Executor(entry, wheel=wheel) as truth:
        return [(truth.run(turn), truth.state()) for turn in entry.ground_truth]


@pytest.mark.slow
def test_multi_turn_verdicts_agree_with_bfcl_eval() -> None:
    wheel, python = real_wheel(), official_python()
    cases, ours = [], []
    for category in names(multi_turn=True):
        for entry in load_multi_turn(category, limit=PER_CATEGORY, seed=0, wheel=wheel):
            truth = _ground_truth_run(entry, wheel)
            for label, steps in _cases(entry):
                cases.append((entry, label, steps))
                ours.append(_edgefc_verdict(entry, steps, truth, wheel))
    lines = [json.dumps({"entry": {"id": e.id, "initial_config": e.initial_config,
                                   "involved_classes": e.involved_classes},
                         "ground_truth": e.ground_truth, "model": steps}) for e, _, steps in cases]
    done = subprocess.run([python, str(HELPER)], input="\n".join(lines) + "\n", capture_output=True, text=True,
                          timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    theirs = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(theirs) == len(cases)
    disagreements = [
        f"{entry.id} [{label}]: edgefc {mine.valid} {mine.error_type} ({mine.reason}), bfcl-eval {official}"
        for (entry, label, _), mine, official in zip(cases, ours, theirs)
        if "exception" in official or (mine.valid, mine.error_type) != (official["valid"], official["error_type"])]
    assert not disagreements, f"{len(disagreements)} of {len(cases)}:\n" + "\n".join(disagreements[:40])
    kinds = {verdict.error_type for verdict in ours}
    assert {"", "multi_turn:instance_state_mismatch", "multi_turn:execution_response_mismatch",
            "multi_turn:empty_turn_model_response", "multi_turn:force_terminated"} <= kinds
