"""BFCL scores: Wilson intervals and the aggregates, against numbers worked out by hand."""

from __future__ import annotations

import json

import pytest

from edgefc.bfcl.categories import names
from edgefc.bfcl.score import Scores, aggregates, summarize
from edgefc.bfcl.stats import wilson
from edgefc.errors import EdgefcError


def _rows(category: str, correct: int, n: int) -> list[dict]:
    return [{"category": category, "valid": i < correct} for i in range(n)]


def test_wilson_by_hand() -> None:
    # 8 of 10, z = 1.96: z²/n = 0.38416; center (0.8 + 0.19208) / 1.38416 = 0.716738;
    # half 1.96 * sqrt(0.016 + 0.009604) / 1.38416 = 0.226581 -> [0.490157, 0.943319]
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.490157, abs=1e-6) and high == pytest.approx(0.943319, abs=1e-6)
    # 0 of 10: upper bound (z²/n) / (1 + z²/n) = 0.38416 / 1.38416 = 0.277540
    assert wilson(0, 10)[0] == 0.0 and wilson(0, 10)[1] == pytest.approx(0.277540, abs=1e-6)
    assert wilson(10, 10)[1] == 1.0
    assert wilson(0, 0) == (0.0, 1.0)


def test_categories_with_intervals() -> None:
    scores = summarize(_rows("multiple", 8, 10) + _rows("simple_python", 3, 4))
    assert list(scores.categories) == ["simple_python", "multiple"]  # BFCL's order, not the rows'
    multiple = scores.categories["multiple"]
    assert (multiple.n, multiple.correct, multiple.accuracy) == (10, 8, 0.8)
    assert (multiple.low, multiple.high) == wilson(8, 10)
    assert Scores.from_dict(json.loads(json.dumps(scores.to_dict()))) == scores  # what summary.json holds, read back


def test_aggregates_by_hand() -> None:
    accuracy = {"simple_python": 0.8, "multiple": 0.6, "parallel": 0.5, "parallel_multiple": 0.3,
                "irrelevance": 0.9, "live_simple": 0.5, "live_multiple": 0.4, "live_parallel": 0.25,
                "live_parallel_multiple": 0.5, "live_irrelevance": 0.7}
    values = {a.name: a.value for a in aggregates(accuracy)}
    assert values["non_live"] == pytest.approx((0.8 + 0.6 + 0.5 + 0.3) / 4)  # 0.55
    # live: (258*0.5 + 1053*0.4 + 16*0.25 + 24*0.5) / 1351 = 566.2 / 1351
    assert values["live"] == pytest.approx(566.2 / 1351)
    assert values["irrelevance"] == pytest.approx(0.8)
    assert values["overall"] == pytest.approx((0.55 + 566.2 / 1351 + 0.8) / 3)
    assert values["category_avg"] == pytest.approx(5.45 / 10)


def test_simple_averages_the_languages_run() -> None:
    accuracy = {"simple_python": 0.8, "simple_java": 0.4, "multiple": 0.6, "parallel": 0.5, "parallel_multiple": 0.3}
    non_live = next(a for a in aggregates(accuracy) if a.name == "non_live")
    assert non_live.value == pytest.approx((0.6 + 0.6 + 0.5 + 0.3) / 4)


def test_live_weights_are_the_release_counts_not_the_sample_sizes() -> None:
    rows = _rows("live_simple", 10, 10) + _rows("live_multiple", 0, 10) + _rows("live_parallel", 10, 10) + \
        _rows("live_parallel_multiple", 0, 10)
    live = next(a for a in summarize(rows).aggregates if a.name == "live")
    assert live.value == pytest.approx((258 + 16) / 1351) == summarize(rows).value("live")
    assert live.formula == ("(258*live_simple + 1053*live_multiple + 16*live_parallel + "
                               "24*live_parallel_multiple) / 1351")


def test_missing_categories_leave_groups_empty() -> None:
    scores = summarize(_rows("simple_python", 1, 2))
    values = {a.name: a.value for a in scores.aggregates}
    assert values == {"non_live": None, "live": None, "irrelevance": None, "overall": None, "category_avg": 0.5}
    assert all(a.formula for a in scores.aggregates)


def test_full_run_has_every_aggregate() -> None:
    rows = [row for i, c in enumerate(names(default=True)) for row in _rows(c, i, 10)]
    assert all(a.value is not None for a in summarize(rows).aggregates)


def test_unknown_category_is_a_user_error() -> None:
    with pytest.raises(EdgefcError, match="unknown category 'exec_simple'"):
        summarize(_rows("exec_simple", 1, 1))
