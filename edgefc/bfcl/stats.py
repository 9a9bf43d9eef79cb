"""The statistics of accuracy figures: Wilson intervals of one proportion, and paired deltas between two models on
the same entries (BFCL's, or the agent suite's tasks) with seeded bootstrap intervals.

Two models answered the same entries, so their difference is measured entry by entry: a paired bootstrap
resamples entries (within each category, as the categories' sizes are fixed by the plan) and recomputes both
models' accuracies on the same resample. The 2.5th and 97.5th percentiles of the resampled differences give
the 95% interval of each per-category delta and of each BFCL aggregate's delta.

A claim such as "this file is within 3 points of its source" needs a one-sided bound on the loss, and one that
stays honest when few entries differ (a bootstrap of 300 ties says 0). `loss_bound` is Tango's score bound for
a difference of paired proportions (Tango 1998, Stat Med 17:891), computed on the entries pooled across
categories; `entries_needed` says how many paired entries would let it certify a margin at the rates seen.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any, Callable, Iterable, Mapping

import numpy as np

RESAMPLES = 2000
CONFIDENCE = 0.95  # of the one-sided loss bound
DEFAULT_WITHIN = 1.0  # accuracy points: the margin a report certifies unless told another


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion; (0, 1) when n is 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, center - half), min(1.0, center + half)


def paired_deltas(base: Iterable[Mapping[str, Any]], other: Iterable[Mapping[str, Any]], *,
                  resamples: int = RESAMPLES, seed: int = 0, within: float = DEFAULT_WITHIN) -> dict[str, Any]:
    """other - base on the entries both scored: per category {n, delta, low, high, gained, lost}, per
    aggregate {delta, low, high} (None where the aggregate needs a category not scored by both), and `pooled`:
    the loss over all of them with its one-sided bound and whether it certifies `within` points (`certify`)."""
    from edgefc.bfcl.score import ORDER, aggregates

    base_by_id = {r["id"]: r for r in base}
    pairs: dict[str, list[tuple[bool, bool]]] = {}
    for r in other:
        if r["id"] in base_by_id:
            pairs.setdefault(r["category"], []).append((bool(base_by_id[r["id"]]["valid"]), bool(r["valid"])))
    rng = np.random.default_rng(seed)
    categories, boot_base, boot_other = {}, {}, {}
    for category in sorted(pairs, key=ORDER.index):
        categories[category], boot_base[category], boot_other[category] = _bootstrap(pairs[category], rng,
                                                                                     resamples)

    def values(accuracy: Mapping[str, float]) -> dict[str, float | None]:
        return {a.name: a.value for a in aggregates(accuracy)}

    point_base = values({c: float(np.mean([b for b, _ in v])) for c, v in pairs.items()})
    point_other = values({c: float(np.mean([o for _, o in v])) for c, v in pairs.items()})
    resampled = [(values({c: float(boot_base[c][i]) for c in pairs}),
                  values({c: float(boot_other[c][i]) for c in pairs})) for i in range(resamples)]
    groups = {}
    for name, value in point_other.items():
        if value is None or point_base[name] is None:
            groups[name] = None
            continue
        low, high = np.percentile([o[name] - b[name] for b, o in resampled], [2.5, 97.5])
        groups[name] = {"delta": value - point_base[name], "low": float(low), "high": float(high)}
    everything = [p for v in pairs.values() for p in v]
    pooled = certify(sum(b and not o for b, o in everything), sum(o and not b for b, o in everything),
                     len(everything), within) if everything else None
    return {"resamples": resamples, "seed": seed, "categories": categories, "aggregates": groups, "pooled": pooled}


def paired_groups(base: Iterable[Mapping[str, Any]], other: Iterable[Mapping[str, Any]],
                  groups: Callable[[Mapping[str, Any]], Iterable[str]], *, resamples: int = RESAMPLES,
                  seed: int = 0) -> dict[str, Any]:
    """other - base on the rows both have (paired by id, verdict `valid`), per group a row belongs to (`groups`
    names them; a row may be in several): {n, delta, low, high, gained, lost} for each group, in first-seen order."""
    base_by_id = {r["id"]: r for r in base}
    pairs: dict[str, list[tuple[bool, bool]]] = {}
    for r in other:
        if r["id"] in base_by_id:
            for group in groups(r):
                pairs.setdefault(group, []).append((bool(base_by_id[r["id"]]["valid"]), bool(r["valid"])))
    rng = np.random.default_rng(seed)
    return {"resamples": resamples, "seed": seed,
            "groups": {group: _bootstrap(both, rng, resamples)[0] for group, both in pairs.items()}}


def _bootstrap(pairs: list[tuple[bool, bool]], rng: np.random.Generator,
               resamples: int) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """One group's paired delta {n, delta, low, high, gained, lost}, and the resampled accuracies of base and
    other (for aggregates over groups)."""
    both = np.array(pairs, dtype=float)  # column 0: base, column 1: other
    picks = both[rng.integers(0, len(both), size=(resamples, len(both)))]
    boot_base, boot_other = picks[:, :, 0].mean(axis=1), picks[:, :, 1].mean(axis=1)
    low, high = np.percentile(boot_other - boot_base, [2.5, 97.5])
    stats = {"n": len(both), "delta": float(both[:, 1].mean() - both[:, 0].mean()), "low": float(low),
             "high": float(high), "gained": int(((both[:, 1] == 1) & (both[:, 0] == 0)).sum()),
             "lost": int(((both[:, 1] == 0) & (both[:, 0] == 1)).sum())}
    return stats, boot_base, boot_other


def _score(lost: float, gained: float, n: float, loss: float) -> float:
    """Tango's score statistic for H0: P(lost) - P(gained) = `loss`, with P(gained) at its maximum likelihood
    under H0 (the root of a quadratic, in closed form)."""
    b = -lost - gained + (2 * n - lost + gained) * loss
    c = -gained * loss * (1 - loss)
    p_gained = (math.sqrt(max(b * b - 8 * n * c, 0.0)) - b) / (4 * n)
    variance = n * (2 * p_gained + loss * (1 - loss))
    return (lost - gained - n * loss) / math.sqrt(variance) if variance > 0 else -math.inf


def loss_bound(lost: float, gained: float, n: float, confidence: float = CONFIDENCE) -> float:
    """The one-sided upper confidence bound (a fraction) on P(lost) - P(gained) from `n` paired entries, `lost`
    right only for the base and `gained` right only for the other: the largest loss Tango's score test does not
    reject at 1 - `confidence`. Counts may be fractional (projected rates)."""
    if n <= 0:
        return 1.0
    z = NormalDist().inv_cdf(confidence)
    low, high = (lost - gained) / n, 1.0
    if low >= high:
        return 1.0
    for _ in range(100):  # the statistic falls as the loss rises: bisect to where it crosses -z
        mid = (low + high) / 2
        if _score(lost, gained, n, mid) >= -z:
            low = mid
        else:
            high = mid
    return high


def entries_needed(lost: int, gained: int, n: int, within: float, confidence: float = CONFIDENCE) -> int | None:
    """The fewest paired entries whose bound would be at most `within` points if entries went on being lost and
    gained at the rates seen; None when no number would (the measured loss itself is `within` or more)."""
    if n <= 0 or 100 * (lost - gained) / n >= within:
        return None

    def certified(count: int) -> bool:
        scale = count / n
        return 100 * loss_bound(lost * scale, gained * scale, count, confidence) <= within

    high = max(n, 1)
    while not certified(high):
        high *= 2
    low = high // 2 if high > n else n - 1  # certified(low) is false or low is below n
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if certified(mid) else (mid, high)
    return high


def certify(lost: int, gained: int, n: int, within: float, confidence: float = CONFIDENCE) -> dict[str, Any]:
    """Whether `n` paired entries show the other within `within` accuracy points of the base at `confidence`:
    {n, lost, gained, loss and bound (points, positive = worse), within, certified, entries_needed (None when
    the margin cannot be reached at the rates seen)}."""
    bound = 100 * loss_bound(lost, gained, n, confidence)
    return {"n": n, "lost": lost, "gained": gained, "loss": 100 * (lost - gained) / n if n else 0.0,
            "bound": bound, "confidence": confidence, "within": within, "certified": bound <= within,
            "entries_needed": entries_needed(lost, gained, n, within, confidence)}
