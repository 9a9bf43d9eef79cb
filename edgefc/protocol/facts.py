"""Whether a text answer states a fact: compared as people write it, case- and diacritics-blind.

One fact is a list of accepted spellings ("Hà Nội", "Hanoi"); an answer states it when one spelling, folded, occurs
in the folded answer. Folding lower-cases, strips combining marks (so Vietnamese tones and accents go) and maps
đ to d, so "ha noi" and "HÀ NỘI" match "Hà Nội". The agent suite, the answer reward and held-out scoring all use it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """Text lower-cased, without diacritics (đ -> d), whitespace collapsed."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACE.sub(" ", bare).strip()


def states(answer: str, spellings: Iterable[str]) -> bool:
    """Whether the answer contains one of the fact's spellings (folded)."""
    folded = fold(answer)
    return any(fold(s) and fold(s) in folded for s in spellings)


def stated_share(answer: str, facts: Sequence[Sequence[str]]) -> float:
    """The share of facts the answer states (1.0 when there are none)."""
    return sum(states(answer, f) for f in facts) / len(facts) if facts else 1.0
