"""Agent latency: time to first token cold, warm and restored from the prefix state on disk, and a warm tool-call turn.

    edgefc bench agent-latency [MODEL] [--runtime R] [--threads 2] [--repeats 3]

Everything goes through edgefc's Agent, with a customer-service toolbox of three plain Python functions and
a system prompt. Per repeat, in this process: a fresh conversation on an empty KV cache (cold: the first
user message's time to first token, the whole prompt evaluated), then the next user message of the same
conversation (warm: only the new tokens evaluated), whose time from the user message to the first validated
tool call that ran is the tool-call turn (a short call), then a third message whose call carries free text
(a longer answer to decode: the same measure for a ticket). Each repeat runs that conversation twice, with
prompt-lookup drafts on and off (the tool-call turns of both, and the generated tokens per forward pass of the
answers that made the calls). Then the system + tools prefix state is written to disk, and a new process per
repeat loads the model, restores that state (`warm_prefix`) and answers the first user message (restored).
Targets: warm TTFT at most 10% of cold, restored at most 2x warm, a warm short tool-call turn at most 0.20 s and a
free-text one at most 0.40 s (drafts on). Not a test: it prints figures (JSON, then a table), it asserts nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from edgefc.bench.latency import Spread
from edgefc.errors import EdgefcError

SYSTEM = ("You are the customer-service assistant of an online shop. Use the tools to look up orders, open "
          "support tickets and answer common questions; answer in one or two short sentences.")
FIRST_MESSAGE = "Where is my order 12345?"
NEXT_MESSAGE = "What is the status of order 777?"  # warm: a short call (lookup_order)
TICKET_MESSAGE = "It arrived broken. Please open a ticket for order 777."  # warm: a call with free text to write
TARGETS = {"warm_over_cold_max": 0.10, "restored_over_warm_max": 2.0, "tool_call_turn_s_max": 0.20,
           "ticket_call_turn_s_max": 0.40}
ORDERS = {"12345": {"status": "shipped", "shipped_on": "2026-11-27", "tracking": "DHL 4471-2290"},
          "777": {"status": "delivered", "shipped_on": "2026-11-20", "tracking": "VNPost EB1234VN"}}
FAQ = {"returns": "Items can be returned within 30 days of delivery.",
       "shipping": "Standard shipping takes 3-5 business days."}


def lookup_order(order_id: str) -> dict:
    """Look up an order's status, shipping date and tracking number.

    Args:
        order_id: The order number, digits only, e.g. "12345".
    """
    if order_id not in ORDERS:
        raise LookupError(f"no order with number {order_id}")
    return {"order_id": order_id, **ORDERS[order_id]}


def create_ticket(order_id: str, issue: str, priority: str = "normal") -> dict:
    """Open a support ticket about an order (damaged item, missing parcel, wrong item...).

    Args:
        order_id: The order number the ticket is about.
        issue: What went wrong, in the customer's words.
        priority: "low", "normal" or "high".
    """
    return {"ticket_id": 1, "order_id": order_id, "issue": issue, "priority": priority, "status": "open"}


def get_faq(topic: str) -> str:
    """The shop's answer to a common question.

    Args:
        topic: One of "returns" or "shipping".
    """
    return FAQ.get(topic, f"no FAQ entry about {topic}")


TOOLS = (lookup_order, create_ticket, get_faq)


@dataclass(frozen=True)
class Turn:
    """One user message through the agent: the first answer's timings, and when its first good call ran."""

    ttft_s: float
    prompt_tokens: int
    cached_tokens: int
    tool_call_s: float | None  # user message -> first call validated and run without error; None: no such call
    call_tokens: int | None  # tokens of the answer that made that call
    call_passes: int | None  # the forward passes that answer took
    call_drafted: int | None  # draft tokens evaluated in it, and accepted
    call_accepted: int | None
    calls: list[str]
    answer: str


def _agent(rt: Any) -> Any:
    from edgefc.agent import Agent, Limits, Toolbox, from_callable

    return Agent(rt, Toolbox(from_callable(fn) for fn in TOOLS), system=SYSTEM,
                 limits=Limits(max_steps=3, max_tokens=96))


def _prefix(rt: Any) -> str:
    """The system + tools block the agent's first prompt starts with: what the state on disk holds."""
    from edgefc.agent import from_callable
    from edgefc.agent.prompt import tools_prefix

    return tools_prefix(rt.template, [from_callable(fn).spec for fn in TOOLS], SYSTEM)


def _send(agent: Any, message: str) -> Turn:
    """Run one user message; its first generation's timings and the time to its first good tool result."""
    started = time.perf_counter()
    first: dict[str, Any] | None = None
    tool_call_s, calls, answer = None, [], ""
    last: dict[str, Any] = {}
    made: dict[str, Any] = {}  # the timings of the answer whose call ran first
    for event in agent.send(message):
        if event.kind == "generation":
            first = first or event.data["timings"]
            last = event.data["timings"]
        elif event.kind == "call":
            calls.append(event.data["name"])
        elif event.kind == "result" and tool_call_s is None and not event.data["error"]:
            tool_call_s, made = time.perf_counter() - started, last
        elif event.kind in ("text", "refusal"):
            answer = event.data["content"]
    assert first is not None  # send always generates at least once
    return Turn(first["ttft_s"], first["prompt_tokens"], first["cached_tokens"], tool_call_s,
                made.get("completion_tokens"), made.get("forward_passes"), made.get("drafted_tokens"),
                made.get("accepted_tokens"), calls, answer)


def measure_in_process(model: str, runtime: str | None, threads: int, repeats: int, cache_dir: Path) -> dict[str, Any]:
    """Cold and warm turns (`repeats` fresh conversations, drafts on, then each again with drafts off), then the
    prefix state written to `cache_dir`."""
    from edgefc.runtimes import load

    rt = load(model, runtime, threads=threads)
    turns: dict[str, list[Turn]] = {key: [] for key in ("cold", "warm", "ticket", "warm_no_drafts",
                                                        "ticket_no_drafts")}
    try:
        for _ in range(repeats):
            for suffix, drafts in (("", True), ("_no_drafts", False)):
                rt.drafts = drafts
                rt.reset_cache()
                agent = _agent(rt)
                try:
                    cold = _send(agent, FIRST_MESSAGE)
                    turns["warm" + suffix].append(_send(agent, NEXT_MESSAGE))
                    turns["ticket" + suffix].append(_send(agent, TICKET_MESSAGE))
                finally:
                    agent.close()
                if drafts:
                    turns["cold"].append(cold)
        rt.drafts = True
        rt.reset_cache()
        agent = _agent(rt)
        try:
            started = time.perf_counter()
            outcome = agent.warm(cache_dir)
            seconds = time.perf_counter() - started
        finally:
            agent.close()
        saved = None if outcome is None else {
            "outcome": outcome, "seconds": seconds, "prefix_tokens": len(rt.tokenize(_prefix(rt))),
            "state_bytes": sum(p.stat().st_size for p in cache_dir.glob("*.state"))}
        return {"runtime": rt.name, "path": str(rt.path), "saved": saved,
                **{key: [asdict(t) for t in found] for key, found in turns.items()}}
    finally:
        rt.close()


def restored_in_process(model: str, runtime: str | None, threads: int, cache_dir: Path) -> dict[str, Any]:
    """A new process's first user message, after restoring the prefix state from `cache_dir`."""
    from edgefc.runtimes import load

    rt = load(model, runtime, threads=threads)
    try:
        agent = _agent(rt)
        try:
            started = time.perf_counter()
            outcome = agent.warm(cache_dir)
            restore_s = time.perf_counter() - started
            turn = _send(agent, FIRST_MESSAGE)
        finally:
            agent.close()
        return {"outcome": outcome, "restore_s": restore_s, "turn": asdict(turn)}
    finally:
        rt.close()


def _restored_in_subprocess(model: str, runtime: str | None, threads: int, cache_dir: Path) -> dict[str, Any]:
    args = json.dumps({"model": model, "runtime": runtime, "threads": threads, "cache_dir": str(cache_dir)})
    proc = subprocess.run([sys.executable, "-m", "edgefc.bench.agent_latency", "--child", args],
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise EdgefcError(f"the restored run failed: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _calls(turns: list[dict[str, Any]]) -> Spread | None:
    """User message -> validated call, over turns that all made one (None when any did not)."""
    seconds = [t["tool_call_s"] for t in turns]
    return Spread.of(seconds) if seconds and None not in seconds else None


def _per_pass(turns: list[dict[str, Any]]) -> float | None:
    """Generated tokens per forward pass of the answers that made the calls (None where none was counted)."""
    made = [t for t in turns if t["call_passes"]]
    return sum(t["call_tokens"] for t in made) / sum(t["call_passes"] for t in made) if made else None


def _ratio(a: Spread | None, b: Spread | None) -> float | None:
    return a.median / b.median if a and b and b.median > 0 else None


def measure(model: str, runtime: str | None, threads: int, repeats: int, cache_dir: Path) -> dict[str, Any]:
    """All four figures, their ratios and the targets (see the module docstring)."""
    main = measure_in_process(model, runtime, threads, repeats, cache_dir)
    restored = [_restored_in_subprocess(model, runtime, threads, cache_dir)
                for _ in range(repeats)] if main["saved"] else []
    figures = {
        "cold_ttft_s": Spread.of([t["ttft_s"] for t in main["cold"]]),
        "warm_ttft_s": Spread.of([t["ttft_s"] for t in main["warm"]]),
        "restored_ttft_s": Spread.of([r["turn"]["ttft_s"] for r in restored]) if restored else None,
        "restore_s": Spread.of([r["restore_s"] for r in restored]) if restored else None,
        "tool_call_turn_s": _calls(main["warm"]),
        "ticket_call_turn_s": _calls(main["ticket"]),
        "tool_call_turn_no_drafts_s": _calls(main["warm_no_drafts"]),
        "ticket_call_turn_no_drafts_s": _calls(main["ticket_no_drafts"]),
    }
    per_pass = {"drafts": _per_pass(main["warm"] + main["ticket"]),
                "no_drafts": _per_pass(main["warm_no_drafts"] + main["ticket_no_drafts"])}
    drafted = sum(t["call_drafted"] or 0 for t in main["warm"] + main["ticket"])
    accepted = sum(t["call_accepted"] or 0 for t in main["warm"] + main["ticket"])
    ratios = {"warm_over_cold": _ratio(figures["warm_ttft_s"], figures["cold_ttft_s"]),
              "restored_over_warm": _ratio(figures["restored_ttft_s"], figures["warm_ttft_s"])}
    met = {"warm_over_cold": ratios["warm_over_cold"] is not None
           and ratios["warm_over_cold"] <= TARGETS["warm_over_cold_max"],
           "restored_over_warm": ratios["restored_over_warm"] is not None
           and ratios["restored_over_warm"] <= TARGETS["restored_over_warm_max"],
           **{name: figures[name] is not None and figures[name].median <= TARGETS[f"{name[:-2]}_max"]
              for name in ("tool_call_turn_s", "ticket_call_turn_s")}}
    return {"model": model, "runtime": main["runtime"], "path": main["path"], "threads": threads, "repeats": repeats,
            "figures": {k: asdict(v) if v else None for k, v in figures.items()}, "ratios": ratios,
            "targets": TARGETS, "met": met, "saved": main["saved"],
            "tokens_per_pass": per_pass, "drafts": {"drafted": drafted, "accepted": accepted},
            "tokens": {"cold": [(t["prompt_tokens"], t["cached_tokens"]) for t in main["cold"]],
                       "warm": [(t["prompt_tokens"], t["cached_tokens"]) for t in main["warm"]],
                       "ticket": [(t["prompt_tokens"], t["cached_tokens"]) for t in main["ticket"]],
                       "restored": [(r["turn"]["prompt_tokens"], r["turn"]["cached_tokens"]) for r in restored]},
            "restored_outcomes": [r["outcome"] for r in restored],
            "samples": {"cold": main["cold"][0], "warm": main["warm"][0], "ticket": main["ticket"][0],
                        "warm_no_drafts": main["warm_no_drafts"][0], "ticket_no_drafts": main["ticket_no_drafts"][0],
                        "restored": restored[0]["turn"] if restored else None}}


def _call_label(result: dict[str, Any], sample: str) -> str:
    turn = result["samples"][sample]
    return f"{turn['calls'][0]} ({turn['call_tokens']} tokens)" if turn["call_tokens"] is not None else "no call"


def text_table(result: dict[str, Any]) -> str:
    f, r = result["figures"], result["ratios"]

    def cell(name: str) -> str:
        return "n/a" if f[name] is None else f"{f[name]['median']:.3f} s ({f[name]['min']:.3f}-{f[name]['max']:.3f})"

    def ratio(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    def per_pass(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.2f}"

    rows = [("TTFT cold", cell("cold_ttft_s"), ""),
            ("TTFT warm (same conversation)", cell("warm_ttft_s"),
             f"warm/cold {ratio(r['warm_over_cold'])} (target <= {TARGETS['warm_over_cold_max']})"),
            ("TTFT restored (new process)", cell("restored_ttft_s"),
             f"restored/warm {ratio(r['restored_over_warm'])} (target <= {TARGETS['restored_over_warm_max']})"),
            ("prefix state load (new process)", cell("restore_s"), ""),
            (f"tool-call turn warm, {_call_label(result, 'warm')}", cell("tool_call_turn_s"),
             f"target <= {TARGETS['tool_call_turn_s_max']} s"),
            ("  the same, drafts off", cell("tool_call_turn_no_drafts_s"), ""),
            (f"tool-call turn warm, {_call_label(result, 'ticket')}", cell("ticket_call_turn_s"),
             f"target <= {TARGETS['ticket_call_turn_s_max']} s"),
            ("  the same, drafts off", cell("ticket_call_turn_no_drafts_s"), ""),
            ("tokens per forward pass, those calls", per_pass(result["tokens_per_pass"]["drafts"]),
             f"drafts off {per_pass(result['tokens_per_pass']['no_drafts'])}; drafted {result['drafts']['drafted']}, "
             f"accepted {result['drafts']['accepted']}")]
    width = max(len(name) for name, _, _ in rows)
    head = (f"{result['model']} · {result['runtime']} · {result['threads']} threads · "
            f"median (min-max) of {result['repeats']}")
    return "\n".join([head, *(f"{name:<{width}}  {value:<26} {note}" for name, value, note in rows)])


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":  # one restored-state measure, in a process of its own
        params = json.loads(sys.argv[2])
        params["cache_dir"] = Path(params["cache_dir"])
        print(json.dumps(restored_in_process(**params)))
    else:  # the old entry point, kept: `edgefc bench agent-latency` is the command
        from edgefc.cli import main

        sys.argv = ["edgefc", "bench", "agent-latency", *sys.argv[1:]]
        main()
