"""Sources + derived negatives + synthetic tasks -> deduplicated, BFCL-decontaminated records -> parquet + summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from edgefc.errors import EdgefcError
from edgefc.train.data import SOURCES, negatives
from edgefc.train.data.families.generate import generate
from edgefc.train.data.record import (DEFAULT_NGRAM, Contamination, Record, bfcl_questions, decontaminate,
                                      deduplicate, write_records)


def load_sources(sources: Mapping[str, Sequence[str | Path]]) -> tuple[list[Record], dict[str, dict[str, int]]]:
    """The records of every file of every named source, and the rows skipped per source by reason."""
    unknown = [name for name in sources if name not in SOURCES]
    if unknown:
        raise EdgefcError(f"unknown data source {unknown[0]!r}; known: {', '.join(SOURCES)}")
    records: list[Record] = []
    skipped: dict[str, dict[str, int]] = {}
    for name, paths in sources.items():
        counts: Counter[str] = Counter()
        for path in paths:
            records.extend(SOURCES[name](path, counts))
        if counts:
            skipped[name] = dict(sorted(counts.items()))
    return records, skipped


def build(sources: Mapping[str, Sequence[str | Path]], out: str | Path, *, negatives_per_type: int = 0,
          synthetic_count: int = 0, seed: int = 0, decontaminate_bfcl: bool = True, ngram: int = DEFAULT_NGRAM,
          bfcl_wheel: str | Path | None = None) -> dict[str, Any]:
    """Load, add negatives and synthetic tasks, dedup, decontaminate, write `out` (parquet) and its summary.

    negatives_per_type: up to this many of each seed negative type, derived from the loaded positives.
    synthetic_count: this many bilingual records of the task families (train/data/families). Returns the summary.
    """
    loaded, skipped = load_sources(sources)
    contamination = Contamination.of(bfcl_questions(bfcl_wheel), ngram) if decontaminate_bfcl else None
    loaded, contaminated = _clean(loaded, contamination)  # before deriving, so no negative keeps a BFCL question
    derived = negatives.derive(loaded, negatives_per_type, seed) if negatives_per_type else []
    generated = generate(synthetic_count, seed) if synthetic_count else []
    records, duplicates = deduplicate([*loaded, *derived, *generated])
    records, more = _clean(records, contamination)
    contaminated += more
    if not records:
        raise EdgefcError("no training records are left: give sources with usable rows or synthetic tasks")
    extra = {"skipped": skipped, "duplicates_dropped": duplicates, "bfcl_contaminated_dropped": contaminated,
             "decontamination": {"bfcl": decontaminate_bfcl, "ngram": ngram if decontaminate_bfcl else 0},
             "seed": seed}
    return write_records(records, out, extra)


def _clean(records: list[Record], contamination: Contamination | None) -> tuple[list[Record], int]:
    """The records without BFCL questions (all of them when there is no index), and how many were dropped."""
    return decontaminate(records, contamination) if contamination else (records, 0)
