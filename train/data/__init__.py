"""Training data for the GRPO recipe: one loader per public source, synthetic negatives and tasks, one record form.

SOURCES maps a source name to its loader: `load(path, skipped) -> Iterator[Record]`, reading one local file in the
source's own published format and counting the rows it skips in `skipped` (a Counter keyed by reason).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from edgefc.train.data import toolace, toucan, xlam
from edgefc.train.data.record import Record

Loader = Callable[[str | Path, Counter[str]], Iterator[Record]]

SOURCES: dict[str, Loader] = {
    xlam.SOURCE: xlam.load,
    toolace.SOURCE: toolace.load,
    toucan.SOURCE: toucan.load,
}
