"""Which candidate files are worth keeping (the Pareto front) and which one to use (the budget rule).

Pure functions over plain rows, one per candidate file: `accuracy` (BFCL overall), `loss` (the source's
accuracy minus the candidate's, paired on the same entries, with its 95% interval) and one value per axis.
A row missing a value (a failed latency measurement) takes part in no front that needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from edgefc.errors import EdgefcError


@dataclass(frozen=True)
class Axis:
    """One cost or speed a file is judged on: the row key, which way is better, and how to show it."""

    key: str
    higher_is_better: bool
    label: str
    unit: str


AXES: dict[str, Axis] = {
    "decode": Axis("decode_tps", True, "decode", "tok/s"),
    "prefill": Axis("prefill_tps", True, "prefill", "tok/s"),
    "memory": Axis("peak_rss_mb", False, "peak RSS", "MB"),
    "size": Axis("size_mb", False, "size", "MB"),
}
SPEEDS = tuple(name for name, axis in AXES.items() if axis.higher_is_better)  # what "fastest" may mean


def _better_or_equal(a: Mapping[str, Any], b: Mapping[str, Any], axes: Sequence[Axis]) -> tuple[bool, bool]:
    """(a at least as good as b everywhere, a strictly better somewhere) on accuracy and `axes`."""
    pairs = [(a["accuracy"], b["accuracy"])] + [
        (a[x.key], b[x.key]) if x.higher_is_better else (-a[x.key], -b[x.key]) for x in axes]
    return all(p >= q for p, q in pairs), any(p > q for p, q in pairs)


def pareto_front(rows: Sequence[Mapping[str, Any]], axes: Sequence[str]) -> list[str]:
    """Labels of the rows no other row dominates on accuracy and every axis in `axes` (AXES names), in row
    order; rows lacking any of those values are left out."""
    spec = [AXES[name] for name in axes]
    known = [r for r in rows if r.get("accuracy") is not None and all(r.get(x.key) is not None for x in spec)]
    front = []
    for r in known:
        dominated = False
        for other in known:
            if other is r:
                continue
            at_least, strictly = _better_or_equal(other, r, spec)
            if at_least and strictly:
                dominated = True
                break
        if not dominated:
            front.append(r["label"])
    return front


def fronts(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Accuracy against each axis alone (what the plot draws), and against all of them at once (`all`)."""
    return {**{name: pareto_front(rows, [name]) for name in AXES}, "all": pareto_front(rows, list(AXES))}


def signed(points: float) -> str:
    """`+1.2`, `-0.4`; a value that rounds to zero is `+0.0`, never `-0.0`."""
    return f"{round(points, 1) + 0.0:+.1f}"


def change_sentence(loss: Mapping[str, float]) -> str:
    """A paired loss in words, in the direction it went: "loses 1.0 points [95% paired interval -1.0, +3.0]",
    "gains 4.0 points [... +0.8, +8.0]" (the interval then of the gain), or "the same accuracy" when every entry
    agreed."""
    points, low, high = loss["points"], loss["low"], loss["high"]
    if round(points, 1) == 0 and round(low, 1) == 0 and round(high, 1) == 0:
        return "the same accuracy [95% paired interval 0.0, 0.0]"
    if points >= 0:
        return f"loses {points:.1f} points [95% paired interval {signed(low)}, {signed(high)}]"
    return f"gains {-points:.1f} points [95% paired interval {signed(-high)}, {signed(-low)}]"


def _judged(loss: Mapping[str, Any], certify: bool) -> float:
    """The loss a recommendation weighs: the point estimate, or with `certify` the pooled entries' one-sided 95%
    bound (a file without one, from before bounds were kept, is never certified)."""
    if not certify:
        return loss["points"]
    certificate = loss.get("certificate")
    return certificate["bound"] if certificate else float("inf")


def bound_sentence(loss: Mapping[str, Any]) -> str:
    """The pooled bound in words: "at most 2.4 points at 95% over 312 paired entries", with what more entries
    would need when it does not certify the margin it was computed for."""
    c = loss.get("certificate")
    if not c:
        return "no bound was kept"
    text = f"at most {c['bound']:.1f} points at {c['confidence']:.0%} (one-sided, {c['n']} paired entries pooled)"
    if c["certified"]:
        return text
    if c["entries_needed"] is None:
        return text + f"; no number of entries would certify {c['within']:g}: the loss measured is that large"
    return text + f"; ~{c['entries_needed']:,} paired entries would certify {c['within']:g} at the rates seen"


def recommend(rows: Sequence[Mapping[str, Any]], budget_points: float, speed: str,
              certify: bool = False) -> dict[str, Any]:
    """The fastest (by `speed`) row whose accuracy loss against the source is at most `budget_points`: its point
    estimate, or with `certify` its one-sided 95% bound (both are reported). Ties go to the smaller file.
    Returns the choice (None when nothing fits) and one sentence saying why."""
    if speed not in SPEEDS:
        raise EdgefcError(f"unknown speed '{speed}'; choose one of {', '.join(SPEEDS)}")
    if budget_points < 0:
        raise EdgefcError(f"--budget is the accuracy points a file may lose; {budget_points} is negative")
    axis = AXES[speed]
    rule = "certified (95% one-sided bound)" if certify else "point estimate"
    measured = [r for r in rows if r.get("loss") is not None and r.get(axis.key) is not None]
    within = [r for r in measured if _judged(r["loss"], certify) <= budget_points + 1e-9]
    if not within:
        closest = min(measured, key=lambda r: _judged(r["loss"], certify), default=None)
        why = (f"no file stays within {budget_points:g} points of the source ({rule})" +
               (f"; the closest is {closest['label']} at {_judged(closest['loss'], certify):.1f} points "
                f"({change_sentence(closest['loss'])}; {bound_sentence(closest['loss'])})" if closest else
                ": none was measured"))
        return {"label": None, "speed": speed, "budget_points": budget_points, "certify": certify, "why": why}
    best = max(within, key=lambda r: (r[axis.key], -(r.get("size_mb") or 0.0)))
    loss = best["loss"]
    why = (f"fastest by {axis.label} ({best[axis.key]:.1f} {axis.unit}) of the {len(within)} file(s) within "
           f"{budget_points:g} points of the source ({rule}): {change_sentence(loss)}; {bound_sentence(loss)}")
    return {"label": best["label"], "speed": speed, "budget_points": budget_points, "certify": certify, "why": why}
