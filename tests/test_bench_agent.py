"""The agent suite (`edgefc bench --suite agent --tasks FILE`): its checks on their own, tasks run by a scripted
runtime through the real Agent and the examples' tools (each check passing and failing where it should), task
files refused in one line before any model loads, the shipped task file, reports, and one run on the tiny model."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from edgefc.bench.agent import checks
from edgefc.bench.agent.runner import run_task
from edgefc.bench.agent.tasks import Task, load_tasks
from edgefc.bench.runner import read_jsonl
from edgefc.errors import EdgefcError
from edgefc.protocol.parse import REFUSAL
from tests.test_agent import Scripted, call, calls

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "agent"
SHIPPED = EXAMPLES / "tasks.yaml"


def write_tasks(folder: Path, *tasks: dict[str, Any], name: str = "tasks.jsonl") -> Path:
    """A JSONL task file in `folder` (its tasks name the examples' tools by absolute path)."""
    path = folder / name
    path.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tasks), encoding="utf-8")
    return path


def shop(**fields: Any) -> dict[str, Any]:
    return {"tools": str(EXAMPLES / "customer_service.py"), "db_env": "SHOP_DB", "language": "en", **fields}


def one(folder: Path, **fields: Any) -> Task:
    (task,) = load_tasks(write_tasks(folder, shop(**fields)))
    return task


TICKET = {"id": "ticket", "user": "My order 777 arrived broken, please open a high priority ticket.",
          "calls": [{"name": "create_ticket", "arguments": {"order_id": "777"}}], "facts": [["ticket"]],
          "sql": {"query": "SELECT order_id, priority FROM tickets", "expect": [["777", "high"]]}}


# --- checks ------------------------------------------------------------------------------------------------


def test_text_is_folded_and_numbers_compare_by_value() -> None:
    assert checks.fold("Hà  Nội") == "ha noi" and checks.fold("ĐÀ NẴNG") == "da nang"
    assert checks.loose("21") == checks.loose(21) == checks.loose(21.0) and checks.loose("Off") == "off"
    assert checks.loose(True) == checks.loose(True) != checks.loose(1) and checks.loose("Nan") == checks.loose("nan")
    assert checks.check_facts([["Hà Nội", "Hanoi"]], "You are in HA NOI.") is None
    assert checks.check_facts([["ha noi"]], "Bạn đang ở Hà Nội.") is None
    assert "'Huế'" in checks.check_facts([["Hà Nội"], ["Huế"]], "Hà Nội")


def test_calls_match_in_any_order_loosely_each_by_a_call_of_its_own() -> None:
    expected = [call("lookup_order", order_id="12345"), call("lookup_order", order_id="777")]
    made = [call("get_faq", topic="returns"), call("lookup_order", order_id=777),
            call("lookup_order", order_id="12345")]
    assert checks.check_calls(expected, made) is None  # reversed, a number for a string, one more call
    assert checks.check_calls([call("get_faq", topic="RETURNS")], made) is None
    reason = checks.check_calls(expected, made[:2])
    assert reason.startswith("expected lookup_order(order_id='12345')") and "get_faq(topic='returns')" in reason
    twice = [call("lookup_order", order_id="777")] * 2
    assert checks.check_calls(twice, made) is not None  # one made call cannot answer two expected ones
    assert checks.check_calls([call("lookup_order")], [call("lookup_order", order_id="1")]) is None


def test_sql_rows_compare_in_any_order_and_a_missing_database_fails(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    with sqlite3.connect(db) as con:
        con.executescript("CREATE TABLE t (name TEXT, n TEXT); INSERT INTO t VALUES ('Đà Nẵng', '21'), ('b', '2');")
    assert checks.check_sql(db, "SELECT name, n FROM t", [["b", 2], ["da nang", 21.0]]) is None
    assert "expected" in checks.check_sql(db, "SELECT name, n FROM t", [["b", 2]])
    assert "failed" in checks.check_sql(db, "SELECT nope FROM t", [[1]])
    assert "no tool opened" in checks.check_sql(tmp_path / "none.sqlite", "SELECT 1", [[1]])


def test_a_negative_passes_only_without_calls_and_with_a_decline() -> None:
    assert checks.check_negative([], REFUSAL, True) is None
    assert checks.check_negative([], "Xin lỗi, tôi không thể đặt taxi.", False) is None
    assert checks.check_negative([], "Sorry, I can't play music.", False) is None
    assert "does not decline" in checks.check_negative([], "It will be sunny in Hanoi.", False)
    assert "called get_faq" in checks.check_negative([call("get_faq", topic="returns")], REFUSAL, True)


# --- tasks run by a scripted runtime -----------------------------------------------------------------------


def test_a_right_run_passes_every_check_and_the_row_says_what_ran(tmp_path: Path) -> None:
    task = one(tmp_path, **TICKET)
    runtime = Scripted([calls(call("create_ticket", order_id="777", issue="broken", priority="high")),
                        "I opened ticket 1 for order 777."])
    before = os.environ.get("SHOP_DB")
    row = run_task(runtime, task)
    assert row["pass"] is True and row["failed"] == [] and row["why"] == {}
    assert (row["id"], row["language"], row["split"], row["negative"], row["steps"]) == ("ticket", "en", "dev",
                                                                                         False, 2)
    (made,) = row["calls"]
    assert made["name"] == "create_ticket" and made["error"] is False and '"ticket_id": 1' in made["result"]
    assert row["answer"] == "I opened ticket 1 for order 777." and row["wall_s"] > 0
    assert os.environ.get("SHOP_DB") == before  # the task's database path is gone with the task


def test_wrong_calls_fail_the_calls_check(tmp_path: Path) -> None:
    task = one(tmp_path, id="where", user="Where is order 12345?",
               calls=[{"name": "lookup_order", "arguments": {"order_id": "12345"}}], facts=[["shipped"]])
    row = run_task(Scripted([calls(call("lookup_order", order_id="777")), "It has shipped."]), task)
    assert row["pass"] is False and row["failed"] == ["calls"]
    assert "expected lookup_order(order_id='12345')" in row["why"]["calls"]


def test_a_missing_fact_fails_the_facts_check(tmp_path: Path) -> None:
    task = one(tmp_path, id="where", user="Where is order 12345?", facts=[["shipped"], ["DHL 4471-2290"]])
    row = run_task(Scripted([calls(call("lookup_order", order_id="12345")), "It has shipped."]), task)
    assert row["failed"] == ["facts"] and "DHL 4471-2290" in row["why"]["facts"]


def test_vietnamese_facts_match_without_diacritics(tmp_path: Path) -> None:
    task = one(tmp_path, id="vi", language="vi", user="Chính sách bảo hành thế nào?",
               facts=[["12 tháng", "mười hai tháng"]])
    row = run_task(Scripted([calls(call("get_faq", topic="warranty")), "Do dien tu duoc bao hanh 12 THANG."]), task)
    assert row["pass"] is True


def test_a_wrong_database_state_fails_the_sql_check(tmp_path: Path) -> None:
    task = one(tmp_path, **TICKET)
    runtime = Scripted([calls(call("create_ticket", order_id="777", issue="broken")), "Ticket 1 is open."])
    row = run_task(runtime, task)  # the right call, but normal priority where the user asked for high
    assert row["failed"] == ["sql"] and "[['777', 'normal']]" in row["why"]["sql"]


def test_each_task_runs_on_a_fresh_database(tmp_path: Path) -> None:
    task = one(tmp_path, **TICKET)
    for _ in range(2):  # a second ticket in a shared database would make two rows
        runtime = Scripted([calls(call("create_ticket", order_id="777", issue="x", priority="high")), "Ticket open."])
        assert run_task(runtime, task)["pass"] is True


def test_a_tool_run_on_a_negative_fails_and_a_refusal_passes(tmp_path: Path) -> None:
    task = one(tmp_path, id="weather", user="What's the weather in Hanoi?", negative=True)
    assert run_task(Scripted([REFUSAL]), task)["pass"] is True
    ran = run_task(Scripted([calls(call("get_faq", topic="shipping")), REFUSAL]), task)
    assert ran["failed"] == ["negative"] and ran["why"]["negative"] == "the model called get_faq"
    chatty = run_task(Scripted(["Tomorrow will be sunny in Hanoi."]), task)
    assert chatty["failed"] == ["negative"] and "does not decline" in chatty["why"]["negative"]


def test_the_step_limit_is_no_answer(tmp_path: Path) -> None:
    task = one(tmp_path, id="loop", user="Where is order 12345?",
               calls=[{"name": "lookup_order", "arguments": {"order_id": "12345"}}])
    answers = [calls(call("lookup_order", order_id=str(n))) for n in (12345, *range(20))]  # the right call, and on
    row = run_task(Scripted(answers), task)
    assert row["failed"] == ["no_answer"] and row["steps"] == 8 and row["answer"] is None


def test_a_runtime_failure_is_a_failed_row(tmp_path: Path) -> None:
    class TooLong(Scripted):
        def complete(self, *args: Any, **kwargs: Any) -> Any:
            raise EdgefcError("the prompt exceeds the context")

    task = one(tmp_path, id="x", user="Where is order 12345?", facts=[["shipped"]])
    row = run_task(TooLong([]), task)
    assert row["failed"] == ["error"] and "exceeds the context" in row["why"]["error"]


def test_several_user_messages_are_one_conversation(tmp_path: Path) -> None:
    task = one(tmp_path, id="two", user=["Where is order 12345?", "Open a ticket for it."],
               calls=[{"name": "create_ticket", "arguments": {"order_id": "12345"}}])
    runtime = Scripted([calls(call("lookup_order", order_id="12345")), "It shipped.",
                        calls(call("create_ticket", order_id="12345", issue="late")), "Ticket 1 is open."])
    row = run_task(runtime, task)
    assert row["pass"] is True and row["steps"] == 4 and row["answer"] == "Ticket 1 is open."
    assert "Where is order 12345?" in runtime.prompts[-1]  # the second message saw the first


# --- task files --------------------------------------------------------------------------------------------


BAD_TASKS = [
    ({"tools": "missing.py"}, "field 'tools': missing.py does not exist"),
    ({"calls": [{"name": "cancel_order", "arguments": {}}]}, "field 'calls': customer_service.py offers no tool "
                                                             "'cancel_order'"),
    ({"language": "fr"}, "field 'language': must be one of en, vi, not 'fr'"),
    ({"langauge": "en"}, "field 'langauge': unknown field"),
    ({"mcp": str(ROOT / "examples" / "mcp" / "mcp.json")}, "field 'mcp': a task takes its tools from a tools file"),
    ({"db_env": None, "sql": {"query": "SELECT 1", "expect": 1}}, "field 'sql': needs db_env"),
    ({"negative": True}, "field 'calls': a negative task expects no call"),
    ({"calls": [], "facts": []}, "field 'calls': the task checks nothing"),
    ({"facts": "shipped"}, "field 'facts': must be a list of facts"),
    ({"sql": {"query": "SELECT 1"}}, "field 'sql': must be {query, expect}"),
    ({"split": "test"}, "field 'split': must be one of dev, heldout"),
    ({"user": []}, "field 'user': must be a message or a list of messages"),
]


@pytest.mark.parametrize("change, message", BAD_TASKS, ids=[next(iter(change)) for change, _ in BAD_TASKS])
def test_a_bad_field_is_one_line_naming_the_task_and_the_field(tmp_path: Path, change: dict[str, Any],
                                                                message: str) -> None:
    task = {k: v for k, v in {**shop(id="bad-one", user="Where is order 12345?", calls=[{"name": "lookup_order"}]),
                              **change}.items() if v is not None}
    path = tmp_path / "tasks.yaml"
    path.write_text(json.dumps([task]), encoding="utf-8")  # JSON is YAML
    with pytest.raises(EdgefcError) as caught:
        load_tasks(path)
    text = str(caught.value)
    assert "\n" not in text and text.startswith(f"task file {path}: task 'bad-one': ") and message in text


def test_malformed_files_and_duplicate_ids_are_one_line(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "a.yaml"
    bad_yaml.write_text("- id: x\n  user: [unclosed\n", encoding="utf-8")
    bad_line = tmp_path / "b.jsonl"
    bad_line.write_text(json.dumps(shop(id="x", user="hi", facts=["a"])) + "\n{not json\n", encoding="utf-8")
    twice = write_tasks(tmp_path, shop(id="x", user="hi", facts=["a"]), shop(id="x", user="ho", facts=["b"]),
                        name="twice.jsonl")
    boolean = tmp_path / "on.yaml"  # YAML reads an unquoted on as true
    boolean.write_text(f"- {{id: lamp, tools: {EXAMPLES / 'smart_home.py'}, language: en, user: Kitchen lights on,\n"
                       "   calls: [{name: set_light, arguments: {room: kitchen, on: true}}]}\n", encoding="utf-8")
    (tmp_path / "c.txt").write_text("[]")
    cases = [(bad_yaml, "is not valid YAML"), (bad_line, "line 2 is not valid JSON"),
             (twice, "task 'x': field 'id': another task has this id"), (tmp_path / "t.txt", "does not exist"),
             (write_tasks(tmp_path, shop(user="hi", facts=["a"]), name="noid.jsonl"), "task '#1': field 'id': missing"),
             (boolean, "task 'lamp': field 'calls': call 1: argument name True is not a string"),
             (tmp_path / "c.txt", "must be YAML (.yaml, .yml) or JSON Lines (.jsonl)")]
    for path, message in cases:
        with pytest.raises(EdgefcError) as caught:
            load_tasks(path)
        assert message in str(caught.value) and "\n" not in str(caught.value), path


def test_the_cli_refuses_a_bad_task_file_before_any_model_loads(tmp_path: Path) -> None:
    tasks = write_tasks(tmp_path, shop(id="bad-one", user="hi", calls=[{"name": "cancel_order"}]))
    env = {**os.environ, "EDGEFC_HOME": str(tmp_path), "EDGEFC_NO_PROGRESS": "1"}
    base = [sys.executable, "-m", "edgefc.cli", "bench", str(tmp_path / "no-such-model.gguf"), "--suite", "agent"]
    proc = subprocess.run([*base, "--tasks", str(tasks), "--out", str(tmp_path / "run")], capture_output=True,
                          text=True, env=env, timeout=120)
    # a missing model file would be the error if the model were loaded first
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"error: task file {tasks}: task 'bad-one': field 'calls': ")
    assert not (tmp_path / "run").exists()
    proc = subprocess.run(base, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("error: --suite agent needs --tasks FILE")


def test_the_shipped_tasks_load_and_cover_the_mix() -> None:
    pytest.importorskip("mcp")
    tasks = load_tasks(SHIPPED)  # every expected call names a tool its file or server offers
    n = len(tasks)
    assert n >= 30
    assert sum(t.language == "vi" for t in tasks) * 3 >= n and sum(t.negative for t in tasks) * 5 >= n
    assert all(any(ord(c) > 127 for c in " ".join(t.user)) for t in tasks if t.language == "vi")  # diacritics
    assert {t.kind for t in tasks} == {"tools", "mcp"} and {t.path.name for t in tasks} == {
        "customer_service.py", "smart_home.py", "mcp.json"}
    parallel = [t for t in tasks if len(t.user) == 1 and len(t.calls) >= 2]
    assert len(parallel) >= 4 and any(len(t.user) > 1 for t in tasks)
    splits = Counter((t.language, t.negative, t.split) for t in tasks)
    for language in ("en", "vi"):
        for negative in (False, True):
            dev, heldout = splits[(language, negative, "dev")], splits[(language, negative, "heldout")]
            assert heldout and dev and abs(dev - heldout) <= 1, (language, negative, dev, heldout)


# Required arguments the shipped tasks leave open (any value is right), for the scripted right answers.
FILL = {"create_ticket": {"issue": "it arrived broken"}, "notes__search_notes": {"query": "dentist"},
        "notes__add_note": {"title": "note", "body": "the wifi password is hunter2"}}


def test_the_shipped_tasks_pass_with_their_right_answers() -> None:
    """Each task answered by a script of its expected calls and facts: the calls run against the examples' tools,
    and the database ends as the task's sql says, so every task is one a model can pass."""
    pytest.importorskip("mcp")
    for task in load_tasks(SHIPPED):
        if task.negative:
            answers = [REFUSAL]
        else:
            made = [{"name": c["name"], "arguments": {**FILL.get(c["name"], {}), **c["arguments"]}} for c in task.calls]
            text = " and ".join(f[0] for f in task.facts) or "Done."
            answers = ([calls(*made)] if made else []) + [text] * len(task.user)
        row = run_task(Scripted(answers), task)
        assert row["pass"], (task.id, row["why"], row["calls"])
        assert all(not c["error"] for c in row["calls"]) or task.id == "shop-missing-order-en", row["calls"]


# --- summary and reports -----------------------------------------------------------------------------------


def _row(model: str, id: str, passed: bool, language: str = "en", negative: bool = False,
         split: str = "dev") -> dict[str, Any]:
    return {"model": model, "constrain": True, "category": "agent", "id": id, "language": language, "split": split,
            "negative": negative, "pass": passed, "failed": [] if passed else ["facts"], "why": {}, "steps": 2,
            "calls": [] if negative else [{"name": "f"}], "answer": "x", "refused": False, "prompt_tokens": 100,
            "cached_tokens": 50, "completion_tokens": 20, "wall_s": 1.5}


def test_summary_and_reports_from_agent_rows(tmp_path: Path) -> None:
    from edgefc.bench.report import build_summary, markdown, tables

    rows = [_row("a", "t1", True), _row("a", "t2", False, "vi", split="heldout"), _row("a", "t3", True, negative=True),
            _row("b", "t1", True), _row("b", "t2", True, "vi", split="heldout"), _row("b", "t3", False, negative=True)]
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    meta = {"suite": "agent", "models": ["a", "b"], "constrain": "on", "threads": 1, "seed": 0, "limit": None,
            "machine": {"platform": "linux"}, "tasks": {"path": "tasks.yaml"}, "agent": "harness"}
    summary = build_summary(tmp_path, meta, {"t1", "t2", "t3"})
    a = summary.models[0].agent
    assert summary.models[0].bfcl is None and a["tasks"] == 3
    assert list(a["groups"]) == ["all", "en", "vi", "positive", "negative", "dev", "heldout"]
    assert (a["groups"]["all"]["passed"], a["groups"]["vi"]["n"], a["groups"]["negative"]["rate"]) == (2, 1, 1.0)
    assert 0 < a["groups"]["all"]["low"] < 2 / 3 < a["groups"]["all"]["high"] < 1  # a Wilson interval
    assert a["failed_checks"]["facts"] == 1 and a["steps_mean"] == 2 and a["response_tokens_mean"] == 10
    delta = summary.deltas[0]
    assert delta["agent_pass_rate"] == 0.0 and delta["bfcl_paired"] is None
    paired = delta["agent_paired"]["groups"]
    assert (paired["all"]["delta"], paired["all"]["gained"], paired["all"]["lost"]) == (0.0, 1, 1)
    assert paired["vi"]["delta"] == 1.0 and paired["negative"]["delta"] == -1.0
    assert [t.title.split(":")[0] for t in tables(summary)] == ["Agent tasks", "Agent paired deltas, each variant "
                                                                "minus its base [95% paired bootstrap interval]"]
    md = markdown(summary)
    assert "## Agent tasks" in md and "| Vietnamese | 0% [0%, 79%] 0/1 | 100% [21%, 100%] 1/1 |" in md
    assert "| b vs a |" in md and "BFCL overall" not in md


# --- the whole suite on the tiny model ---------------------------------------------------------------------


def test_limit_draws_the_same_tasks_in_file_order(tmp_path: Path) -> None:
    from edgefc.bench.runner import plan_entries

    tasks = write_tasks(tmp_path, *(shop(id=f"t{i}", user=f"Where is order 1234{i}?", facts=[["shipped"]]) for i in range(6)))
    settings = {"categories": None, "seed": 0, "tasks": {"path": str(tasks)}}
    everything = [t.id for t in plan_entries({**settings, "limit": None})["agent"]]
    drawn = [t.id for t in plan_entries({**settings, "limit": 3})["agent"]]
    assert everything == [f"t{i}" for i in range(6)] and len(drawn) == 3
    assert drawn == sorted(drawn, key=everything.index) == [t.id for t in plan_entries({**settings, "limit": 3})["agent"]]
    assert drawn != [t.id for t in plan_entries({**settings, "limit": 3, "seed": 1})["agent"]]


def test_the_agent_suite_on_the_tiny_model_streams_resumes_and_reports(tiny_gguf: Path, tmp_path: Path) -> None:
    from edgefc.bench.runner import BenchConfig, run
    from edgefc.bench.summary import BenchSummary
    from edgefc.progress import reporting

    tasks = write_tasks(tmp_path, shop(id="where", user="Where is order 12345?", facts=[["shipped"]]),
                        {"id": "lights", "tools": str(EXAMPLES / "smart_home.py"), "db_env": "HOME_DB",
                         "language": "vi", "split": "heldout", "user": "Tắt đèn phòng khách",
                         "sql": {"query": "SELECT state FROM devices WHERE id = 'living_room_lights'",
                                 "expect": "off"}},
                        shop(id="weather", user="What's the weather in Hanoi?", negative=True))
    cfg = BenchConfig([str(tiny_gguf)], suite="agent", tasks=tasks, threads=1, max_tokens=8, constrain="both",
                      out=tmp_path / "run")
    heard: dict[str, tuple[int, int]] = {}
    with reporting(lambda label, done, total, **_: heard.__setitem__(label, (done, total))):
        out, summary = run(cfg)
    assert len(heard) == 2 and set(heard.values()) == {(3, 3)}, heard  # each variant's progress, to its end
    rows = list(read_jsonl(out / "results.jsonl"))
    assert len(rows) == 2 * 3 and {r["id"] for r in rows} == {"where", "lights", "weather"}
    assert all(isinstance(r["pass"], bool) and r["steps"] >= 1 and r["category"] == "agent" for r in rows)
    assert all(len(r["call_shares"]) == r["steps"] for r in rows)  # one first-token decision per generation
    assert {share is None for r in rows for share in r["call_shares"]} == {True, False}  # free: none weighed
    settings = json.loads((out / "run.json").read_text())
    assert settings["plan"] == {"agent": ["where", "lights", "weather"]} and settings["settings"]["tasks"]["sha256"]
    assert [set(m.agent) >= {"tasks", "groups", "failed_checks"} for m in summary.models] == [True, True]
    assert summary.deltas[0]["agent_paired"]["groups"]["all"]["n"] == 3
    written = json.loads((out / "summary.json").read_text())
    assert "bfcl" not in written["models"][0] and BenchSummary.from_dict(written).to_dict() == written
    assert "## Agent tasks" in (out / "report.md").read_text() and (out / "summary.json").is_file()
    # A killed run resumes: only the missing row runs again.
    kept = (out / "results.jsonl").read_text().splitlines()[:-1]
    (out / "results.jsonl").write_text("\n".join(kept) + "\n")
    cfg.resume = True
    run(cfg)
    again = list(read_jsonl(out / "results.jsonl"))
    assert len(again) == 6 and again[:5] == rows[:5] and again[5]["id"] == rows[5]["id"]
