"""The prompts every export is verified on: BFCL entries drawn reproducibly, plus edgefc's own probes.

BFCL_PER_CATEGORY entries of each category in BFCL_CATEGORIES are drawn from the pinned bfcl-eval wheel
(a seeded shuffle per category; entries whose rendered prompt is longer than the token cap are skipped, in
that order, so the draw depends only on the seed, the cap and the tokenizer), plus the English and
Vietnamese probes shipped in probes.json. The set is interleaved round-robin across sources, so its
first N (`--probes N`) still cover every category.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from importlib import resources
from itertools import zip_longest
from typing import Any, Callable

from edgefc.bfcl.categories import names

# BFCL's default categories less live_parallel_multiple: the set the export gates were set on
BFCL_CATEGORIES = tuple(c for c in names(default=True) if c != "live_parallel_multiple")
BFCL_PER_CATEGORY = 12  # 9 x 12 + 10 own probes = 118: one disagreement moves an agreement figure < 1 point
TOKEN_CAP = 2048  # live_multiple prompts reach ~6.6K tokens; prefill of those would dominate verification
DEFAULT_SEED = 0
OWN_SOURCE = "edgefc"


@dataclass(frozen=True)
class Probe:
    """One verification prompt: chat messages and the tools offered with them."""

    id: str
    source: str  # "bfcl" or "edgefc"
    category: str  # BFCL category, or the kind of an own probe (single, parallel, irrelevant)
    lang: str | None  # "en"/"vi" for own probes; BFCL does not label languages
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]


def own_probes() -> list[Probe]:
    """The probes shipped with edgefc (export/probes.json, package data): English and Vietnamese."""
    data = json.loads(resources.files("edgefc.export").joinpath("probes.json").read_text(encoding="utf-8"))
    return [Probe(p["id"], OWN_SOURCE, p["kind"], p["lang"], [{"role": "user", "content": p["user"]}],
                  [data["tools"][t] for t in p["tools"]]) for p in data["probes"]]


def bfcl_probes(category: str, count: int, *, seed: int = DEFAULT_SEED,
                fits: Callable[[Probe], bool] = lambda probe: True) -> list[Probe]:
    """`count` entries of a BFCL category, in a seeded order, skipping those `fits` rejects."""
    from edgefc.bfcl import data, prompts

    entries = data.load_category(category)
    random.Random(f"{seed}:{category}").shuffle(entries)
    out: list[Probe] = []
    for entry in entries:
        messages, tools = prompts.build(entry)
        probe = Probe(entry.id, "bfcl", category, None, messages, tools)
        if fits(probe):
            out.append(probe)
            if len(out) == count:
                break
    return out


def draw(limit: int | None = None, *, seed: int = DEFAULT_SEED,
         fits: Callable[[Probe], bool] = lambda probe: True) -> list[Probe]:
    """The probe set: own probes and BFCL_PER_CATEGORY of each BFCL category, interleaved; the first `limit`."""
    per_category = BFCL_PER_CATEGORY
    if limit is not None:  # only as many per source as the first `limit` of the interleaving can reach
        per_category = min(per_category, -(-limit // (len(BFCL_CATEGORIES) + 1)))
    sources = [own_probes()] + [bfcl_probes(c, per_category, seed=seed, fits=fits) for c in BFCL_CATEGORIES]
    ordered = [p for row in zip_longest(*sources) for p in row if p is not None]
    return ordered[:limit]
