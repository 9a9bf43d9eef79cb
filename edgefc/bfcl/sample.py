"""The fixed-seed sample a suite draws with --limit: the same entries for every model and every run."""

from __future__ import annotations

import random

from edgefc.errors import EdgefcError


def sample_indices(count: int, limit: int | None, seed: int) -> list[int]:
    """Indices of `limit` of `count` items drawn with `seed`, in order (all of them without a limit)."""
    if limit is not None and limit < 1:
        raise EdgefcError(f"the sample size (--limit) must be at least 1, not {limit}")
    if limit is None or limit >= count:
        return list(range(count))
    return sorted(random.Random(seed).sample(range(count), limit))
