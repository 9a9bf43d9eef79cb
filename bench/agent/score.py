"""The agent suite's figures from its rows: pass rates with 95% Wilson intervals, overall and per group (English,
Vietnamese, positives, negatives, dev, heldout), which checks failed, the work done, and paired deltas between
two variants on the tasks both ran (the same bootstrap as BFCL's, per group)."""

from __future__ import annotations

import statistics
from typing import Any, Iterable, Mapping

from edgefc.bench.agent.runner import CHECKS

GROUPS = ("all", "en", "vi", "positive", "negative", "dev", "heldout")  # the report's order


def groups_of(row: Mapping[str, Any]) -> list[str]:
    """The groups a task's row counts in."""
    return ["all", row["language"], "negative" if row["negative"] else "positive", row["split"]]


def rate(rows: list[Mapping[str, Any]]) -> dict[str, Any]:
    """{n, passed, rate, low, high} of some rows (rate None when there are none)."""
    from edgefc.bfcl.stats import wilson

    passed = sum(bool(r["pass"]) for r in rows)
    low, high = wilson(passed, len(rows))
    return {"n": len(rows), "passed": passed, "rate": passed / len(rows) if rows else None, "low": low, "high": high}


def agent_block(rows: list[Mapping[str, Any]]) -> dict[str, Any]:
    """One variant's agent figures: pass rates per group, failed checks, calls on negatives, steps, calls, response
    tokens and wall time."""
    negatives = [r for r in rows if r["negative"]]
    return {
        "tasks": len(rows),
        "groups": {g: rate([r for r in rows if g in groups_of(r)]) for g in GROUPS
                   if any(g in groups_of(r) for r in rows)},
        "failed_checks": {c: sum(c in r["failed"] for r in rows) for c in CHECKS},
        "negatives_with_calls": sum(bool(r["calls"]) for r in negatives),
        "steps_mean": statistics.mean(r["steps"] for r in rows) if rows else None,
        "calls_mean": statistics.mean(len(r["calls"]) for r in rows) if rows else None,
        "response_tokens_mean": statistics.mean(r["completion_tokens"] / max(r["steps"], 1) for r in rows)
        if rows else None,
        "wall_s": sum(r["wall_s"] for r in rows),
    }


def agent_paired(base: Iterable[Mapping[str, Any]], other: Iterable[Mapping[str, Any]],
                 seed: int = 0) -> dict[str, Any]:
    """other - base per group, paired task by task, with bootstrap intervals (edgefc.bfcl.stats)."""
    from edgefc.bfcl.stats import paired_groups

    def verdicts(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "valid": r["pass"]} for r in rows]

    paired = paired_groups(verdicts(base), verdicts(other), groups_of, seed=seed)
    paired["groups"] = {g: paired["groups"][g] for g in GROUPS if g in paired["groups"]}
    return paired
