"""The agent suite in a bench run's reports: pass rates per group with 95% Wilson intervals, what failed and the
work done (one column per variant), and paired deltas, as sections edgefc.bench.report renders."""

from __future__ import annotations

from typing import Any

from edgefc.bench.agent.runner import CHECKS
from edgefc.bench.summary import BenchSummary
from edgefc.tables import Section, fmt

GROUP_NAMES = {"all": "all tasks", "en": "English", "vi": "Vietnamese", "positive": "positives (a tool serves)",
               "negative": "negatives (no tool serves)", "dev": "split dev", "heldout": "split heldout"}
PASS_TITLE = "Agent tasks: pass rate [95% Wilson interval] passed/n"
PAIRED_TITLE = "Agent paired deltas, each variant minus its base [95% paired bootstrap interval]"


def _rate(group: dict[str, Any] | None) -> str:
    if not group:
        return "-"
    return f"{group['rate']:.0%} [{group['low']:.0%}, {group['high']:.0%}] {group['passed']}/{group['n']}"


def pass_rows(blocks: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """(row name, one cell per variant's agent block): pass rates per group, failed checks, calls on negatives,
    work done."""
    groups = [g for g in GROUP_NAMES if any(g in b["groups"] for b in blocks)]
    return [
        *[(GROUP_NAMES[g], [_rate(b["groups"].get(g)) for b in blocks]) for g in groups],
        *[(f"failed: {c}", [str(b["failed_checks"][c]) for b in blocks]) for c in CHECKS],
        ("negatives with a call", [str(b["negatives_with_calls"]) for b in blocks]),
        ("steps per task", [fmt(b["steps_mean"], ".1f") for b in blocks]),
        ("calls per task", [fmt(b["calls_mean"], ".1f") for b in blocks]),
        ("tokens per answer", [fmt(b["response_tokens_mean"], ".1f") for b in blocks]),
        ("wall s", [f"{b['wall_s']:.0f}" for b in blocks]),
    ]


def paired_rows(deltas: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """(group, one cell per pair): other minus base in points [interval], n, tasks gained and lost."""
    def cell(d: dict[str, Any] | None) -> str:
        if not d:
            return "-"
        return (f"{d['delta'] * 100:+.1f} pts [{d['low'] * 100:+.1f}, {d['high'] * 100:+.1f}] n={d['n']} "
                f"+{d['gained']}/-{d['lost']}")

    groups = [g for g in GROUP_NAMES if any(g in d["agent_paired"]["groups"] for d in deltas)]
    return [(GROUP_NAMES[g], [cell(d["agent_paired"]["groups"].get(g)) for d in deltas]) for g in groups]


def agent_sections(summary: BenchSummary, names: dict[str, str]) -> list[Section]:
    """The pass-rate table and the paired-delta table, where the run has agent rows."""
    models = [m for m in summary.models if m.agent]
    if not models:
        return []
    meta = summary.meta
    note = (f"Each task of {meta.get('tasks', {}).get('path', 'the task file')} ran through edgefc's Agent "
            f"({meta.get('agent', 'see the settings')}). A task passes when every check it names passes: calls "
            "(the expected calls were made, arguments compared loosely), facts (the last answer states them, "
            "diacritics folded), sql (the database afterwards), negative (no call, and the answer declines); "
            "no_answer counts messages left at the step limit, error runs the runtime could not finish. Pass rates "
            "carry 95% Wilson intervals.")
    out = [Section(f"{PASS_TITLE} · suite {meta['suite']} · {meta['threads']} threads",
                   ("", *(names[m.model] for m in models)),
                   [[name, *cells] for name, cells in pass_rows([m.agent for m in models if m.agent])],
                   heading="Agent tasks", note=note)]
    deltas = [d for d in summary.deltas if d.get("agent_paired")]
    if deltas:
        note = ("Each variant minus its base on the tasks both ran: point delta [95% paired bootstrap interval, "
                f"{deltas[0]['agent_paired']['resamples']} resamples of the group's tasks]; +gained/-lost counts the "
                "tasks only one of the two passed.")
        out.append(Section(PAIRED_TITLE, ("", *(f"{names[d['model']]} vs {names[d['against']]}" for d in deltas)),
                           [[name, *cells] for name, cells in paired_rows(deltas)], heading="Agent paired deltas",
                           note=note))
    return out
