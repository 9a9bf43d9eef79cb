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
