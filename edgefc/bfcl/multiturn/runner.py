"""One BFCL multi-turn entry through edgefc's agent loop, turn by turn, against BFCL's simulated APIs, scored with
bfcl-eval's multi-turn rules; the result is one JSON-able row for the bench's results.jsonl.

Each turn opens with its user message (or the prompt that brings withheld functions back) and runs the Agent
until it answers without a call. Every call runs in the entry's API worker (executor.py); a second worker runs
the turn's ground truth; both states are taken after each turn and `check` gives the verdict.

Where the run differs from bfcl-eval's harness (QwenFCHandler + base_handler.inference_multi_turn_FC):
- Steps: bfcl-eval force-quits after the 21st answer with calls (`count > 20`, its calls executed); the Agent
  gets MAX_STEPS_PER_TURN + 1 answers, and its step-limit event is that force-quit (later turns are missing).
- Repeats: the Agent's guard against repeated calls (refused, then a forced text-only answer) is off
  (`refuse_repeats=False`): bfcl-eval runs a repeated call again, and state-changing repeats change the state.
- Validation: a call whose arguments do not validate against the tool's schema (or names no offered tool) is
  not run; the model reads the Agent's error, and that error is recorded as the call's result. bfcl-eval would
  run it and record Python's result. Under the tool grammar (the default) such calls are rare: the grammar
  writes names and arguments from the same schemas. The issue asks for validated calls, so this stays.
- Results are given to the model whole (no cut at Limits.max_output_chars), as bfcl-eval does.
- Parsing: the calls are the ones edgefc's parser reads from the answer, not bfcl-eval's decode_execute; under
  the grammar both read the same calls. An unreadable answer (free decoding, or a call cut at max_tokens) gets
  the Agent's error note and another step (counted towards the limit), where bfcl-eval ends the turn; the note
  is not recorded as a call result.
- Prompt: the Agent extends its prompt append-only (the model's answers kept verbatim), where bfcl-eval renders
  the whole chat again each step with the same template; the turn where functions come back starts a new
  Agent over the same messages, so the tools block is rendered again as bfcl-eval's recompiled tools are.
The prefix cache sees a conversation that only grows, so each entry's earlier turns are evaluated once;
the row records prompt tokens, the cached part, and what was evaluated.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgefc.agent.loop import Agent, Limits
from edgefc.agent.tools import Tool, Toolbox
from edgefc.bfcl.multiturn.checker import TurnRecord, check
from edgefc.bfcl.multiturn.data import MultiTurnEntry
from edgefc.bfcl.multiturn.executor import CALL_TIMEOUT_S, Executor
from edgefc.bfcl.multiturn.prompts import MAX_STEPS_PER_TURN, tools_at, turn_messages
from edgefc.errors import EdgefcError, EndpointError
from edgefc.runtimes.base import Runtime

# What a multi-turn run's prompts and rules are, recorded in a bench run's settings: change it when they change.
HARNESS = "bfcl-eval multi-turn FC loop through edgefc's Agent (append-only prompt, repeats run, calls validated)"
TIMING_KEYS = ("prompt_tokens", "cached_tokens", "completion_tokens", "ttft_s", "total_s", "grammar_s",
               "forced_tokens")


@dataclass
class ApiTools:
    """The entry's API methods as Agent tools, run by one executor; a failure of the executor itself (our bug,
    or a missing package) is kept to be raised by the runner rather than read by the model."""

    executor: Executor
    failure: BaseException | None = field(default=None)

    def toolbox(self, tools: list[dict[str, Any]]) -> Toolbox:
        """A toolbox of `tools` (canonical specs) whose handlers call the executor."""
        return Toolbox(Tool(spec, self._handler(spec["function"]["name"]), source="bfcl") for spec in tools)

    def _handler(self, name: str) -> Any:
        async def handler(arguments: dict[str, Any]) -> str:
            # No await inside: the calls of one answer run one after the other, in the answer's order, as
            # bfcl-eval executes them (the Agent gathers them on one event loop, which starts tasks in order).
            try:
                return self.executor.execute(name, arguments)
            except BaseException as exc:
                self.failure = exc
                raise

        return handler


def run_entry(runtime: Runtime, entry: MultiTurnEntry, *, max_tokens: int = 256, constrain: bool = True,
              wheel: str | Path | None = None, timeout_s: float = CALL_TIMEOUT_S) -> dict[str, Any]:
    """Run and score one entry: the row has the verdict, every turn's calls and results, token counts (prompt,
    from the prefix cache, evaluated) and seconds. A runtime failure (a prompt past the context) ends the entry
    as a failed row with its error; a server that fails (EndpointError) and executor failures are raised."""
    started = time.perf_counter()
    turns: list[dict[str, Any]] = []
    records: list[TurnRecord] = []
    timings: list[dict[str, Any]] = []
    error: str | None = None
    with Executor(entry, timeout_s=timeout_s, wheel=wheel) as model_api, \
            Executor(entry, timeout_s=timeout_s, wheel=wheel) as truth_api:
        api = ApiTools(model_api)
        agent: Agent | None = None
        try:
            for index in range(len(entry.turns)):
                if agent is None or index in entry.missed_function:
                    agent = _agent(runtime, api.toolbox(tools_at(entry, index)), max_tokens, constrain,
                                   timeout_s, agent)
                turn, error = _run_turn(agent, api, turn_messages(entry, index))
                timings += turn.pop("timings")
                turns.append(turn)
                truth = truth_api.run(entry.ground_truth[index])
                records.append(TurnRecord([s for s in turn.pop("step_results").values()], truth,
                                          model_api.state(), truth_api.state()))
                if error is not None or turn["force_quit"]:
                    break
        finally:
            if agent is not None:
                agent.close()
    verdict = check(records, len(entry.ground_truth))
    valid = verdict.valid and error is None
    row: dict[str, Any] = {
        "category": entry.category, "id": entry.id, "valid": valid, "valid_edgefc": valid,
        "error_type": "edgefc:generation_failed" if error else verdict.error_type,
        "reason": verdict.reason, "failed_turn": verdict.turn, "turns": turns,
        "calls": sum(len(t["calls"]) for t in turns), "generations": len(timings), "think": False,
        **{key: sum(t[key] for t in timings) for key in TIMING_KEYS},
    }
    decode_s = row["total_s"] - row["ttft_s"]
    row["evaluated_tokens"] = row["prompt_tokens"] - row["cached_tokens"]
    row["decode_tps"] = row["completion_tokens"] / decode_s if decode_s > 0 else 0.0
    row["model_s"] = row["total_s"]
    row["total_s"] = time.perf_counter() - started  # the entry's wall time: model, APIs and ground truth
    if error is not None:
        row["error"] = error
    return row


def _agent(runtime: Runtime, toolbox: Toolbox, max_tokens: int, constrain: bool, timeout_s: float,
           previous: Agent | None) -> Agent:
    """An Agent with BFCL's limits and no repeat guard, carrying on `previous`'s conversation (rendered again
    in full with the new tools)."""
    limits = Limits(max_steps=MAX_STEPS_PER_TURN + 1, timeout_s=2 * timeout_s, max_output_chars=sys.maxsize,
                    max_tokens=max_tokens)
    agent = Agent(runtime, toolbox, limits=limits, constrain=constrain, refuse_repeats=False)
    if previous is not None:
        agent.conversation.add(*previous.conversation.messages)
        previous.close()
    return agent


def _run_turn(agent: Agent, api: ApiTools, messages: list[dict[str, Any]]) -> tuple[dict[str, Any], str | None]:
    """One turn: the Agent runs its user message to an answer without calls (or the step limit). Returns the
    turn's record (calls with results, results per step, timings) and the runtime's error, if one stopped it."""
    *earlier, last = messages
    if last["role"] != "user" or any(m["role"] != "user" for m in earlier):
        raise EdgefcError(f"a BFCL turn must be user messages, not {[m['role'] for m in messages]}")
    agent.conversation.add(*earlier)
    turn: dict[str, Any] = {"calls": [], "answer": None, "force_quit": False, "timings": [], "step_results": {}}
    names: dict[str, tuple[str, Any]] = {}
    error = None
    try:
        for event in agent.send(last["content"]):
            if api.failure is not None:
                break
            data = event.data
            if event.kind == "generation":
                turn["timings"].append(data["timings"])
                turn["step_results"][event.step] = []
            elif event.kind == "call":
                names[data["id"]] = (data["name"], data["arguments"])
            elif event.kind == "result" and data["id"] is not None:
                name, arguments = names[data["id"]]
                turn["calls"].append({"step": event.step, "name": name, "arguments": arguments,
                                      "result": data["output"], "error": data["error"]})
                turn["step_results"][event.step].append(data["output"])
            elif event.kind in ("text", "refusal"):
                turn["answer"] = data["content"]
            elif event.kind == "limit":
                turn["force_quit"] = True
    except EndpointError:
        raise  # the server, not the entry, failed: the bench stops and --resume redoes the entry
    except (EdgefcError, RuntimeError) as exc:
        if api.failure is None:
            error = f"{type(exc).__name__}: {exc}"
    if api.failure is not None:
        raise api.failure
    turn["steps"] = len(turn["timings"])
    turn["prompt_tokens"] = sum(t["prompt_tokens"] for t in turn["timings"])
    turn["cached_tokens"] = sum(t["cached_tokens"] for t in turn["timings"])
    return turn, error
