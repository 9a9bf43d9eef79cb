"""One agent task through edgefc's own Agent loop, judged by its checks; the result is one JSON-able row for the
bench's results.jsonl.

The task runs in a scratch folder of its own: its tools are opened there on a fresh database (toolsets.py), its
user messages are sent one after the other to one Agent with the loop's default limits (LIMITS), and the checks
(checks.py) read the calls made, the last answer and the database afterwards. Tools that ask for confirmation run
as under `edgefc agent --yes`: the bench measures what the model decides, and nobody is there to answer.
A row's `failed` lists the checks that failed, in CHECKS order, and `why` says what each saw:
- error: the runtime failed (a prompt past the context); nothing else is judged;
- no_answer: a user message reached the step limit without a text answer;
- calls, facts, sql: see the task's fields; negative: a call was made, or the answer did not decline.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from edgefc.agent.loop import Agent, Limits
from edgefc.agent.tools import Toolbox
from edgefc.bench.agent import checks
from edgefc.bench.agent.tasks import Task
from edgefc.bench.agent.toolsets import open_toolset
from edgefc.errors import EdgefcError, EndpointError
from edgefc.runtimes.base import Runtime

LIMITS = Limits()  # what `edgefc agent` runs with by default
# What an agent run's loop and rules are, recorded in a bench run's settings: change it when they change.
HARNESS = (f"edgefc Agent, max_steps {LIMITS.max_steps}, tool timeout {LIMITS.timeout_s:g} s, confirmations "
           "approved, a fresh database per task")
CHECKS = ("error", "no_answer", "calls", "facts", "sql", "negative")
TIMING_KEYS = ("prompt_tokens", "cached_tokens", "completion_tokens")
DB_FILE = "db.sqlite"


def run_task(runtime: Runtime, task: Task, *, max_tokens: int = 256, constrain: bool = True) -> dict[str, Any]:
    """Run and judge one task: the row has pass, the failed checks and why, steps, calls, the answer, tokens and
    wall time. A runtime failure is a failed row with its error; a server that fails (EndpointError) is raised."""
    started = time.perf_counter()
    limits = Limits(max_steps=LIMITS.max_steps, timeout_s=LIMITS.timeout_s, max_tokens=max_tokens)
    with tempfile.TemporaryDirectory(prefix="edgefc-agent-task-") as scratch:
        db = Path(scratch) / DB_FILE
        with open_toolset(task.kind, task.path, task.db_env, db, limits.timeout_s) as toolset:
            agent = Agent(runtime, Toolbox(toolset.tools), system=toolset.system, limits=limits,
                          constrain=constrain, confirm=lambda call: True)
            try:
                run = _converse(agent, task.user)
            finally:
                agent.close()
        why = {} if run["error"] else judge(task, run, db)
    if run["error"]:
        why = {"error": run["error"]}
    return {"category": "agent", "id": task.id, "language": task.language, "split": task.split,
            "negative": task.negative, "pass": not why, "failed": [c for c in CHECKS if c in why], "why": why,
            "steps": run["steps"], "call_shares": run["call_shares"], "calls": run["calls"], "answer": run["answer"],
            "refused": run["refused"],
            **{key: run[key] for key in TIMING_KEYS}, "wall_s": time.perf_counter() - started}


def _converse(agent: Agent, messages: tuple[str, ...]) -> dict[str, Any]:
    """Send each message in turn; what the run did: calls with their results, steps, the last answer, tokens,
    whether every message got a text answer, and the runtime's error if one stopped it."""
    run: dict[str, Any] = {"calls": [], "steps": 0, "answer": None, "refused": False, "answered": True,
                           "error": None, "call_shares": [], **{key: 0 for key in TIMING_KEYS}}
    made: dict[str, dict[str, Any]] = {}
    try:
        for message in messages:
            run["answer"], run["refused"] = None, False
            for event in agent.send(message):
                data = event.data
                if event.kind == "generation":
                    run["steps"] += 1
                    run["call_shares"].append(data["call_share"])
                    for key in TIMING_KEYS:
                        run[key] += data["timings"][key]
                elif event.kind == "call":
                    made[data["id"]] = {"step": run["steps"], "name": data["name"], "arguments": data["arguments"]}
                    run["calls"].append(made[data["id"]])
                elif event.kind == "result" and data["id"] is not None:
                    made[data["id"]].update(result=data["output"], error=data["error"])
                elif event.kind in ("text", "refusal"):
                    run["answer"], run["refused"] = data["content"], event.kind == "refusal"
                elif event.kind == "limit":
                    run["answered"] = False
    except EndpointError:
        raise  # the server, not the task, failed: the bench stops and --resume redoes the task
    except (EdgefcError, RuntimeError) as exc:
        run["error"] = f"{type(exc).__name__}: {exc}"
    return run


def judge(task: Task, run: dict[str, Any], db: Path) -> dict[str, str]:
    """The failed checks of a finished run, each with what it saw (empty when the task passed)."""
    results = {
        "no_answer": None if run["answered"] else "a message reached the step limit without a text answer",
        "calls": checks.check_calls(task.calls, run["calls"]) if task.calls else None,
        "facts": checks.check_facts(task.facts, run["answer"]) if task.facts else None,
        "sql": checks.check_sql(db, task.sql["query"], task.sql["expect"]) if task.sql else None,
        "negative": checks.check_negative(run["calls"], run["answer"], run["refused"]) if task.negative else None,
    }
    return {check: reason for check, reason in results.items() if reason is not None}
