"""BFCL multi-turn foundation: entries out of the real wheel, the API worker (ground truth reaches the state of an
in-process run, errors come back as text, a runaway call is stopped), and the multi-turn verdict's rules."""

from __future__ import annotations

import ast
import json
import os
import sys
from pathlib import Path

import pytest

from edgefc.bfcl.multiturn import worker
from edgefc.bfcl.multiturn.apis import MODULES, PACKAGE, api_root
from edgefc.bfcl.multiturn.calls import parse_call
from edgefc.bfcl.multiturn.checker import TurnRecord, check
from edgefc.bfcl.categories import names
from edgefc.bfcl.multiturn.data import API_CLASSES, MultiTurnEntry, function_docs, load_multi_turn
from edgefc.bfcl.multiturn.prompts import ADDITIONAL_FUNCTION_PROMPT, tools_at, turn_messages
from edgefc.bfcl.prompts import PYTHON_HINT
from edgefc.bfcl.multiturn.executor import Executor
from edgefc.errors import EdgefcError
from tests.bfcl_support import real_wheel


@pytest.fixture(scope="module")
def wheel() -> Path:
    return real_wheel()


def _entry(wheel: Path, category: str, classes: set[str]) -> MultiTurnEntry:
    """The first entry of a category involving all of `classes`."""
    return next(e for e in load_multi_turn(category, wheel=wheel) if classes <= set(e.involved_classes))


@pytest.mark.parametrize("category", names(multi_turn=True))
def test_each_category_loads_with_bfcls_function_list(wheel: Path, category: str) -> None:
    entries = load_multi_turn(category, wheel=wheel)
    docs = function_docs(wheel)
    assert len(entries) == 200 and len({e.id for e in entries}) == 200
    for entry in entries:
        assert entry.id.rsplit("_", 1)[0] == category
        assert len(entry.turns) == len(entry.ground_truth) and entry.turns[0]
        every = [doc["name"] for name in entry.involved_classes for doc in docs[name]]
        withheld = [doc["name"] for held in entry.missed_function.values() for doc in held]
        offered = [doc["name"] for doc in entry.functions]
        assert sorted(offered + withheld) == sorted(every) and not set(offered) & set(withheld)
        for turn, held in entry.missed_function.items():
            assert entry.turns[turn] == [] and entry.ground_truth[turn - 1] == []  # asked before, brought back here
            names = [tool["function"]["name"] for tool in tools_at(entry, turn)]
            assert names[-len(held):] == [doc["name"] for doc in held]
            assert held[0]["name"] not in [tool["function"]["name"] for tool in tools_at(entry, turn - 1)]
            assert turn_messages(entry, turn) == [{"role": "user", "content": ADDITIONAL_FUNCTION_PROMPT}]
    assert any(e.missed_function for e in entries) == (category == "multi_turn_miss_func")
    assert all(e.long_context for e in entries) == (category == "multi_turn_long_context")


def test_tools_carry_bfcls_python_hint_except_returned_ones(wheel: Path) -> None:
    entry = next(e for e in load_multi_turn("multi_turn_miss_func", wheel=wheel) if e.missed_function)
    turn, held = next(iter(entry.missed_function.items()))
    tools = [tool["function"] for tool in tools_at(entry, turn)]
    assert all(tool["description"].endswith(PYTHON_HINT) for tool in tools[:-len(held)])
    assert not any(tool["description"].endswith(PYTHON_HINT) for tool in tools[-len(held):])
    assert tools[0]["parameters"]["type"] == "object" and turn_messages(entry, 0) == entry.turns[0]


def test_sample_is_fixed_and_in_file_order(wheel: Path) -> None:
    first = [e.id for e in load_multi_turn("multi_turn_base", limit=7, seed=3, wheel=wheel)]
    assert first == [e.id for e in load_multi_turn("multi_turn_base", limit=7, seed=3, wheel=wheel)]
    assert first == sorted(first, key=lambda i: int(i.rsplit("_", 1)[1])) and len(set(first)) == 7
    with pytest.raises(EdgefcError):
        load_multi_turn("multi_turn_composite", wheel=wheel)


def test_api_modules_import_only_the_standard_library_and_mpmath(wheel: Path) -> None:
    package = api_root(wheel) / PACKAGE
    third_party = set()
    for module in MODULES:
        tree = ast.parse((package / f"{module}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            third_party |= {n.split(".")[0] for n in names
                            if n.split(".")[0] not in sys.stdlib_module_names and n.split(".")[0] != PACKAGE}
    assert third_party == {"mpmath"}  # MathAPI's only


def test_executor_reaches_the_state_of_an_in_process_run(wheel: Path) -> None:
    entry = _entry(wheel, "multi_turn_long_context", {"GorillaFileSystem", "TwitterAPI"})
    instances = worker.build_instances(str(api_root(wheel)), PACKAGE,
                                       {name: API_CLASSES[name][0] for name in entry.involved_classes},
                                       entry.initial_config, entry.long_context)
    table = worker.method_table(instances)
    with Executor(entry, wheel=wheel) as executor:
        start = executor.state()
        for turn in entry.ground_truth:
            expected = [worker.call(table, c.name, c.args, c.kwargs) for c in map(parse_call, turn)]
            assert executor.run(turn) == expected
            assert executor.state() == json.loads(json.dumps(worker.snapshot(instances)))
        assert executor.state() != start
        pid = executor.pid
    with pytest.raises(ChildProcessError):  # closed and reaped
        os.waitpid(pid, os.WNOHANG)


def test_state_data_is_equal_exactly_when_bfcl_finds_it_equal() -> None:
    def same(a: object, b: object) -> bool:
        return json.loads(json.dumps(worker.encode(a))) == json.loads(json.dumps(worker.encode(b)))

    assert same({"b": 1, "a": [1.0, None]}, {"a": [1, None], "b": True})  # Python's == for numbers
    assert same({3, 1, 2}, {2, 3, 1}) and not same({1, 2}, [1, 2]) and not same((1, 2), [1, 2])
    assert not same({0: "x"}, {"0": "x"}) and same({0: "x", 5: "y"}, {5: "y", 0: "x"})

    class Directory:  # the file system's: parent is not compared
        def __init__(self, name: str, parent: object) -> None:
            self.name, self.parent, self.contents = name, parent, {}

    assert same(Directory("a", None), Directory("a", Directory("b", None)))
    assert not same(Directory("a", None), Directory("c", None))
    with pytest.raises(TypeError):
        worker.encode(object())


def test_unknown_names_and_bad_arguments_come_back_as_error_text(wheel: Path) -> None:
    entry = _entry(wheel, "multi_turn_base", {"GorillaFileSystem"})
    with Executor(entry, wheel=wheel) as executor:
        before = executor.state()
        assert executor.execute("no_such_tool", {"x": 1}) == \
            "Error during execution: name 'no_such_tool' is not defined"
        assert executor.execute("_load_scenario", {}).startswith("Error during execution: name ")
        assert executor.execute("cd", {"nope": 1}) == \
            "Error during execution: GorillaFileSystem.cd() got an unexpected keyword argument 'nope'"
        assert executor.execute("cd", {}).startswith("Error during execution: GorillaFileSystem.cd() missing 1")
        assert executor.execute("run", {}) == "Error during execution: Function call run is not allowed."
        assert executor.state() == before


def test_a_runaway_call_is_stopped_and_the_state_carries_on(wheel: Path) -> None:
    entry = _entry(wheel, "multi_turn_base", {"MathAPI", "GorillaFileSystem"})
    with Executor(entry, timeout_s=1.0, wheel=wheel) as executor:
        assert executor.execute("mkdir", {"dir_name": "kept"}) == "None"
        runaway = executor.pid
        # ten million digits of a logarithm: minutes of mpmath
        result = executor.execute("logarithm", {"value": 3.0, "base": 7.0, "precision": 10_000_000})
        assert result == "Error during execution: the call took longer than 1 s and was stopped"
        assert executor.pid is None
        with pytest.raises(ProcessLookupError):
            os.kill(runaway, 0)
        assert executor.execute("add", {"a": 1, "b": 2}) == '{"result": 3}'
        assert executor.pid != runaway
        assert "File exists" in executor.execute("mkdir", {"dir_name": "kept"})  # the replayed state has it


# --- the verdict ---------------------------------------------------------------------------------------


def _recorded(entry: MultiTurnEntry, wheel: Path, model_turns: list[list[list[str]]]) -> list[TurnRecord]:
    """Each turn's record: the model's call strings per step and the ground truth, run in two executors."""
    records = []
    with Executor(entry, wheel=wheel) as model, Executor(entry, wheel=wheel) as truth:
        for steps, expected in zip(model_turns, entry.ground_truth):
            results = [model.run(step) for step in steps]
            records.append(TurnRecord(results, truth.run(expected), model.state(), truth.state()))
    return records


def test_the_ground_truth_passes_and_changed_sequences_fail(wheel: Path) -> None:
    entry = _entry(wheel, "multi_turn_base", {"GorillaFileSystem"})
    truth = [[turn] for turn in entry.ground_truth]
    assert check(_recorded(entry, wheel, truth), len(truth)).valid
    mkdir = next(i for i, turn in enumerate(entry.ground_truth) if any(c.startswith("mkdir") for c in turn))
    wrong_state = [list(steps) for steps in truth]
    wrong_state[mkdir] = [[c.replace("mkdir(dir_name='", "mkdir(dir_name='zz") for c in entry.ground_truth[mkdir]]]
    verdict = check(_recorded(entry, wheel, wrong_state), len(truth))
    assert (verdict.valid, verdict.error_type, verdict.turn) == (False, "multi_turn:instance_state_mismatch", mkdir)
    assert "GorillaFileSystem" in verdict.reason and "root" in verdict.reason
    empty = [list(steps) for steps in truth]
    empty[0] = []
    verdict = check(_recorded(entry, wheel, empty), len(truth))
    assert (verdict.error_type, verdict.turn) == ("multi_turn:empty_turn_model_response", 0)
    assert check(_recorded(entry, wheel, truth)[:-1], len(truth)).error_type == "multi_turn:force_terminated"


def test_a_missing_result_fails_and_earlier_results_count() -> None:
    state = {"MathAPI": {}}
    turn = TurnRecord([["5"], []], ["3", "5"], state, state)
    assert check([turn], 1).error_type == "multi_turn:execution_response_mismatch"
    early = TurnRecord([["3"]], ["3"], state, state)
    assert check([early, turn], 2).valid
    twice = TurnRecord([["5"]], ["5", "5"], state, state)
    assert not check([twice], 1).valid  # each result answers one expected result


def test_a_turn_with_empty_ground_truth_is_not_checked() -> None:
    same, other = {"TwitterAPI": {"tweets": {}}}, {"TwitterAPI": {"tweets": {"0": "x"}}}
    skipped = TurnRecord([["whatever"]], [], other, same)
    assert check([skipped], 1).valid
    assert check([TurnRecord([], [], same, same), TurnRecord([["1"]], ["1"], other, same)], 2).turn == 1
