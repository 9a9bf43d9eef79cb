"""BFCL scores from per-entry verdicts: per-category accuracy with 95% Wilson intervals, and BFCL's groups.

The groups follow bfcl-eval's leaderboard code (eval_runner_helper.generate_leaderboard_csv):
- simple = mean of simple_python, simple_java, simple_javascript (bfcl-eval counts one not run as 0; here
  only those run are averaged);
- non_live = mean(simple, multiple, parallel, parallel_multiple) (its "Non-Live AST");
- live = live_simple, live_multiple, live_parallel, live_parallel_multiple weighted by entry count; the
  release's full counts are used, so a sampled run (--limit) estimates the full-run figure;
- irrelevance = mean(irrelevance, live_irrelevance) (its "Irrelevance Detection");
- overall = mean(non_live, live, irrelevance): bfcl-eval V4's Overall (10% non-live, 10% live, 10%
  irrelevance, 30% multi-turn, 40% agentic) restricted to its single-turn parts, weights renormalized;
- with multi-turn categories scored: multi_turn = mean(multi_turn_base, multi_turn_miss_func,
  multi_turn_miss_param, multi_turn_long_context) (its "Multi Turn Overall Acc"), and overall_v4 = V4's weights
  over the parts edgefc measures, renormalized: (10 non_live + 10 live + 10 irrelevance + 30 multi_turn) / 60.
  Agentic (40%: web search, memory) is not measured: it needs a live web-search backend and BFCL's memory
  backends, which an offline on-device bench does not have;
- category_avg = mean of the accuracies of the categories run.
The seed model card's "BFCL Overall" and "Category Avg" cannot be recomputed from its own per-category
table (no mean, count-weighted mean or BFCL group formula of those figures gives them for its four
models), so overall and category_avg are defined here and each aggregate carries its formula.
A group whose categories were not all run has value None.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Mapping

from edgefc.bfcl.categories import CATEGORIES, names
from edgefc.bfcl.stats import wilson
from edgefc.errors import EdgefcError

SIMPLE, NON_LIVE, LIVE, IRRELEVANCE, MULTI_TURN = (names(group=g, runnable=None) for g in
                                                   ("simple", "non_live", "live", "irrelevance", "multi_turn"))
ORDER = tuple(CATEGORIES)  # every category a result may have, in report order
# BFCL V4 Overall's weights of the parts edgefc measures (agentic, 40%, is not measured).
V4_WEIGHTS = {"non_live": 10, "live": 10, "irrelevance": 10, "multi_turn": 30}


@dataclass(frozen=True)
class CategoryScore:
    """One category's accuracy with its 95% Wilson interval."""

    n: int
    correct: int
    accuracy: float
    low: float
    high: float


@dataclass(frozen=True)
class Aggregate:
    """One of BFCL's groups (or overall, category_avg): None where a category it needs was not run."""

    name: str
    value: float | None
    formula: str


@dataclass(frozen=True)
class Scores:
    """Per-category accuracy, in report order, and the aggregates."""

    categories: dict[str, CategoryScore]
    aggregates: list[Aggregate]

    def value(self, name: str) -> float | None:
        """The aggregate `name`'s value (None when it was not computed)."""
        return next((a.value for a in self.aggregates if a.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scores:
        return cls({c: CategoryScore(**s) for c, s in data["categories"].items()},
                   [Aggregate(**a) for a in data["aggregates"]])


def summarize(rows: Iterable[Mapping[str, Any]]) -> Scores:
    """Per-category accuracy (with Wilson intervals) and the aggregates, each with its formula."""
    counts: dict[str, list[int]] = {}
    for row in rows:
        category = row["category"]
        if category not in ORDER:
            raise EdgefcError(f"a BFCL result has unknown category {category!r}")
        tally = counts.setdefault(category, [0, 0])
        tally[0] += bool(row["valid"])
        tally[1] += 1
    categories = {}
    for category in [c for c in ORDER if c in counts]:
        correct, n = counts[category]
        categories[category] = CategoryScore(n, correct, correct / n, *wilson(correct, n))
    return Scores(categories, aggregates({c: s.accuracy for c, s in categories.items()}))


def aggregates(accuracy: Mapping[str, float]) -> list[Aggregate]:
    """BFCL's groups, overall and category_avg from per-category accuracies, each with its formula."""
    simple = [accuracy[c] for c in SIMPLE if c in accuracy]
    non_live = _mean([statistics.mean(simple) if simple else None, *(accuracy.get(c) for c in NON_LIVE)])
    live = _weighted({c: accuracy.get(c) for c in LIVE})
    irrelevance = _mean([accuracy.get(c) for c in IRRELEVANCE])
    return [
        Aggregate("non_live", non_live, "mean(simple, multiple, parallel, parallel_multiple); simple = mean of the "
                                        "simple_python, simple_java, simple_javascript run"),
        Aggregate("live", live, "(" + " + ".join(f"{CATEGORIES[c].entries}*{c}" for c in LIVE) +
                  f") / {_total(LIVE)}"),
        Aggregate("irrelevance", irrelevance, "mean(irrelevance, live_irrelevance)"),
        Aggregate("overall", _mean([non_live, live, irrelevance]),
                  "mean(non_live, live, irrelevance): BFCL V4 Overall's single-turn parts (10/10/10), multi-turn "
                  "and agentic left out"),
        *(_multi_turn_groups(accuracy, {"non_live": non_live, "live": live, "irrelevance": irrelevance})
          if any(c in accuracy for c in MULTI_TURN) else []),
        Aggregate("category_avg", statistics.mean(accuracy.values()) if accuracy else None,
                  ("mean of the accuracies of " + ", ".join(accuracy)) if accuracy else "no category run"),
    ]


def _multi_turn_groups(accuracy: Mapping[str, float], single_turn: dict[str, float | None]) -> list[Aggregate]:
    """multi_turn (BFCL's mean of its four categories) and overall_v4 (V4's weights over what is measured)."""
    values = {**single_turn, "multi_turn": _mean([accuracy.get(c) for c in MULTI_TURN])}
    weighted = None if None in values.values() else \
        sum(V4_WEIGHTS[name] * values[name] for name in V4_WEIGHTS) / sum(V4_WEIGHTS.values())
    return [
        Aggregate("multi_turn", values["multi_turn"], "mean(" + ", ".join(MULTI_TURN) + ")"),
        Aggregate("overall_v4", weighted,
                  "(" + " + ".join(f"{w}*{name}" for name, w in V4_WEIGHTS.items()) +
                  f") / {sum(V4_WEIGHTS.values())}: BFCL V4 Overall's weights renormalized over what edgefc "
                  "measures; agentic (40%: web search, memory) is not measured, it needs live web-search and "
                  "memory backends"),
    ]


def _mean(values: list[float | None]) -> float | None:
    """The mean, or None when a value is missing."""
    return None if None in values else statistics.mean(values)


def _weighted(accuracy: Mapping[str, float | None]) -> float | None:
    """The mean weighted by the release's entry counts, or None when a value is missing."""
    if None in accuracy.values():
        return None
    return sum(CATEGORIES[c].entries * value for c, value in accuracy.items()) / _total(accuracy)


def _total(categories: Iterable[str]) -> int:
    """How many entries the release has in these categories."""
    return sum(CATEGORIES[c].entries for c in categories)
