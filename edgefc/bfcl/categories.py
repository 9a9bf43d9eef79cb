"""BFCL's categories as one table: the name, leaderboard group, checking rule, release size and language of each.

Every reader of a category fact (the data loader, prompts, checker, scores, the bench's plan, export's probes,
train's held-out scorer, the command-line help) asks this table, so a category is added or corrected here only.
Counts are the pinned bfcl-eval wheel's (tests/test_bfcl_data.py recounts them); BFCL weights its live score by
them. The Java and JavaScript simple categories are listed so their names are known, but edgefc's prompts and
checker cover BFCL's Python categories only, so they are refused when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgefc.errors import EdgefcError

MULTI_TURN_ALIAS = "multi_turn"  # a run's --categories value standing for every multi-turn category
RUNNABLE_LANGUAGE = "python"


@dataclass(frozen=True)
class Category:
    """One BFCL category. `rule` is how an answer is checked: "simple" (one call against the entry's first doc),
    "multiple" (one call against the expected function's doc), "parallel" (every expected call, any order),
    "irrelevance" (no call), "multi_turn" (the state and calls of a conversation, by its own checker)."""

    name: str
    group: str  # the leaderboard group it counts in: simple, non_live, live, irrelevance, multi_turn
    rule: str
    entries: int  # entries in the pinned release
    default: bool = False  # run when a bench names no categories
    language: str = RUNNABLE_LANGUAGE

    @property
    def multi_turn(self) -> bool:
        return self.rule == "multi_turn"

    @property
    def has_answers(self) -> bool:
        """Whether the release has a possible-answer file for it (irrelevance categories have none)."""
        return self.rule != "irrelevance"

    @property
    def runnable(self) -> bool:
        return self.language == RUNNABLE_LANGUAGE

    @property
    def file(self) -> str:
        """Its prompts' file in the wheel's data folder (the possible answers sit under possible_answer/)."""
        return f"BFCL_v4_{self.name}.json"


_TABLE = (
    Category("simple_python", "simple", "simple", 400, default=True),
    Category("multiple", "non_live", "multiple", 200, default=True),
    Category("parallel", "non_live", "parallel", 200, default=True),
    Category("parallel_multiple", "non_live", "parallel", 200, default=True),
    Category("irrelevance", "irrelevance", "irrelevance", 240, default=True),
    Category("live_simple", "live", "simple", 258, default=True),
    Category("live_multiple", "live", "multiple", 1053, default=True),
    Category("live_parallel", "live", "parallel", 16, default=True),
    Category("live_parallel_multiple", "live", "parallel", 24, default=True),
    Category("live_irrelevance", "irrelevance", "irrelevance", 884, default=True),
    Category("simple_java", "simple", "simple", 100, language="java"),
    Category("simple_javascript", "simple", "simple", 50, language="javascript"),
    Category("multi_turn_base", "multi_turn", "multi_turn", 200),
    Category("multi_turn_miss_func", "multi_turn", "multi_turn", 200),
    Category("multi_turn_miss_param", "multi_turn", "multi_turn", 200),
    Category("multi_turn_long_context", "multi_turn", "multi_turn", 200),
)
CATEGORIES: dict[str, Category] = {c.name: c for c in _TABLE}  # in report order


def names(*, group: str | None = None, multi_turn: bool | None = None, default: bool | None = None,
          runnable: bool | None = True) -> tuple[str, ...]:
    """The names of the categories with these properties (None: either), in report order."""
    return tuple(c.name for c in _TABLE if (group is None or c.group == group)
                 and (multi_turn is None or c.multi_turn == multi_turn)
                 and (default is None or c.default == default) and (runnable is None or c.runnable == runnable))


def get(name: str, *, multi_turn: bool | None = None) -> Category:
    """The category called `name`, runnable (and single- or multi-turn where asked), or a one-line error."""
    category = CATEGORIES.get(name)
    valid = names(multi_turn=multi_turn)
    if category is not None and not category.runnable:
        raise EdgefcError(f"BFCL category {name!r} is {category.language}; edgefc's prompts and checker cover "
                          f"BFCL's Python categories ({', '.join(valid)})")
    if category is None:
        raise EdgefcError(f"unknown BFCL category {name!r}; valid: {', '.join(valid)}")
    if name not in valid:
        kind = "a multi-turn" if category.multi_turn else "a single-turn"
        raise EdgefcError(f"BFCL category {name!r} is {kind} one; valid here: {', '.join(valid)}")
    return category


def expand(requested: list[str]) -> list[str]:
    """Category names as a run asks for them, MULTI_TURN_ALIAS standing for every multi-turn category."""
    return [c for name in requested for c in (names(multi_turn=True) if name == MULTI_TURN_ALIAS else (name,))]
