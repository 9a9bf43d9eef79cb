"""Paired BFCL deltas between two models: point deltas and bootstrap intervals on made-up verdicts."""

from __future__ import annotations

import random

import pytest

from edgefc.bfcl.stats import paired_deltas


def _rows(category: str, valid: list[bool]) -> list[dict]:
    return [{"id": f"{category}_{i}", "category": category, "valid": v} for i, v in enumerate(valid)]


def test_the_same_answers_differ_by_nothing() -> None:
    rows = _rows("simple_python", [True] * 30 + [False] * 20)
    c = paired_deltas(rows, rows)["categories"]["simple_python"]
    assert (c["n"], c["delta"], c["low"], c["high"], c["gained"], c["lost"]) == (50, 0.0, 0.0, 0.0, 0, 0)


def test_interval_is_the_paired_one() -> None:
    # 100 entries: both right on 50, only the second model on 10, both wrong on 40. Paired differences:
    # ten 1s and ninety 0s, mean 0.1, sd 0.3, standard error 0.03: 95% about 0.1 -+ 1.96 * 0.03 = [0.041, 0.159].
    base = _rows("live_simple", [True] * 50 + [False] * 50)
    other = _rows("live_simple", [True] * 60 + [False] * 40)
    c = paired_deltas(base, other)["categories"]["live_simple"]
    assert c["delta"] == pytest.approx(0.1) and (c["n"], c["gained"], c["lost"]) == (100, 10, 0)
    assert c["low"] == pytest.approx(0.041, abs=0.015) and c["high"] == pytest.approx(0.159, abs=0.015)
    assert c["low"] > 0  # every discordant entry went one way: the gain is real
    # Unpaired, each 50-60% accuracy has a ~+-0.1 interval of its own; pairing removes the shared entries' noise.
    assert c["high"] - c["low"] < 0.15


def test_entries_are_paired_by_id_whatever_the_order() -> None:
    base = _rows("multiple", [True, False, True, False])
    other = _rows("multiple", [True, True, False, False]) + _rows("parallel", [True])  # parallel: base lacks it
    shuffled = other[:]
    random.Random(3).shuffle(shuffled)
    a, b = paired_deltas(base, other), paired_deltas(base, shuffled)
    assert a == b and list(a["categories"]) == ["multiple"]
    assert (a["categories"]["multiple"]["gained"], a["categories"]["multiple"]["lost"]) == (1, 1)


def test_aggregate_deltas_by_hand() -> None:
    # irrelevance 10/20 -> 14/20, live_irrelevance 5/10 -> 5/10 (the same entries right):
    # irrelevance group = mean of the two: (0.7 + 0.5) / 2 - (0.5 + 0.5) / 2 = 0.1.
    base = _rows("irrelevance", [True] * 10 + [False] * 10) + _rows("live_irrelevance", [True] * 5 + [False] * 5)
    other = _rows("irrelevance", [True] * 14 + [False] * 6) + _rows("live_irrelevance", [True] * 5 + [False] * 5)
    d = paired_deltas(base, other)
    group = d["aggregates"]["irrelevance"]
    assert group["delta"] == pytest.approx(0.1) and d["aggregates"]["category_avg"]["delta"] == pytest.approx(0.1)
    assert d["aggregates"]["overall"] is None  # non_live and live were not scored
    # live_irrelevance differs by 0 in every resample, so the group's interval is half the category's.
    category = d["categories"]["irrelevance"]
    assert (group["low"], group["high"]) == pytest.approx((category["low"] / 2, category["high"] / 2))
    assert group["low"] <= group["delta"] <= group["high"]


def test_seeded() -> None:
    base = _rows("parallel", [i % 3 == 0 for i in range(40)])
    other = _rows("parallel", [i % 2 == 0 for i in range(40)])
    assert paired_deltas(base, other, seed=1) == paired_deltas(base, other, seed=1)
    assert paired_deltas(base, other, seed=1)["categories"] != paired_deltas(base, other, seed=2)["categories"]


# --- the one-sided loss bound (certified deltas) ---

Z95 = 1.6448536269514722  # the one-sided 95% normal quantile


def _direct_bound(lost: int, gained: int, n: int) -> float:
    """Tango's bound computed the long way: for each candidate loss on a grid, P(gained) by maximizing the
    multinomial likelihood under that loss on a grid of its own, then the largest loss the score test keeps."""
    import numpy as np

    ties = n - lost - gained
    kept = (lost - gained) / n
    for loss in np.arange(max(kept, -1.0), 1.0, 1e-4):
        top = (1 - loss) / 2  # P(gained) <= (1 - loss) / 2 keeps P(tie) >= 0
        p = np.linspace(max(0.0, -loss), top, 20001)[1:-1] if top > max(0.0, -loss) else np.array([max(0.0, -loss)])
        with np.errstate(divide="ignore", invalid="ignore"):
            ll = (lost * np.log(p + loss) if lost else 0) + (gained * np.log(p) if gained else 0) + \
                 (ties * np.log(1 - 2 * p - loss) if ties else 0)
        p_gained = p[np.nanargmax(ll)]
        variance, excess = n * (2 * p_gained + loss * (1 - loss)), lost - gained - n * loss
        if (excess / np.sqrt(variance) if variance > 0 else -np.inf if excess < -1e-9 else 0.0) < -Z95:
            return float(loss)
    return 1.0


@pytest.mark.parametrize("lost,gained,n", [(0, 0, 300), (300, 0, 300), (0, 300, 300), (7, 3, 300), (3, 9, 312),
                                           (12, 12, 125), (1, 0, 40)])
def test_loss_bound_against_a_direct_computation(lost: int, gained: int, n: int) -> None:
    from edgefc.bfcl.stats import loss_bound

    bound = loss_bound(lost, gained, n)
    assert bound >= (lost - gained) / n  # a bound on the loss is never below the loss measured
    assert bound == pytest.approx(_direct_bound(lost, gained, n), abs=3e-4)


def test_loss_bound_closed_forms() -> None:
    from edgefc.bfcl.stats import loss_bound

    # all ties: the score statistic is -sqrt(n d / (1 - d)), so d = z^2 / (n + z^2) (0.89 points at n = 300: a
    # bootstrap would say 0)
    assert loss_bound(0, 0, 300) == pytest.approx(Z95**2 / (300 + Z95**2), abs=1e-9)
    # all gains: -sqrt(n (1 + d) / (1 - d)) = -z, so d = (z^2 - n) / (z^2 + n)
    assert loss_bound(0, 300, 300) == pytest.approx((Z95**2 - 300) / (Z95**2 + 300), abs=1e-9)
    assert loss_bound(300, 0, 300) == 1.0  # all losses: nothing better can be said


def test_certify_says_whether_and_how_many_more() -> None:
    from edgefc.bfcl.stats import certify, loss_bound

    ties = certify(0, 0, 300, within=3)
    assert ties["certified"] and ties["entries_needed"] == 300 and ties["bound"] < 1
    # all ties: certified at 3 points from z^2 (1 - 0.03) / 0.03 = 87.5 entries on
    assert certify(0, 0, 40, within=3)["entries_needed"] == 88
    mixed = certify(10, 4, 312, within=3)  # a 1.9-point loss measured: its bound is above 3
    assert not mixed["certified"] and mixed["loss"] == pytest.approx(100 * 6 / 312)
    need = mixed["entries_needed"]
    assert 100 * loss_bound(10 * need / 312, 4 * need / 312, need) <= 3  # enough at the same rates...
    assert 100 * loss_bound(10 * (need - 1) / 312, 4 * (need - 1) / 312, need - 1) > 3  # ...and the fewest
    assert certify(12, 2, 300, within=3)["entries_needed"] is None  # a 3.3-point loss: no number of entries
    assert certify(300, 0, 300, within=3)["entries_needed"] is None


def test_paired_deltas_pool_the_entries_for_the_bound() -> None:
    base = _rows("simple_python", [True] * 40 + [False] * 10) + _rows("multiple", [True] * 20)
    other = _rows("simple_python", [True] * 38 + [False] * 12) + _rows("multiple", [True] * 19 + [False])
    pooled = paired_deltas(base, other, within=5)["pooled"]
    assert (pooled["n"], pooled["lost"], pooled["gained"], pooled["within"]) == (70, 3, 0, 5)
    assert pooled["loss"] == pytest.approx(100 * 3 / 70)
