"""Whether a text answer states a fact: compared as people write it, case- and diacritics-blind.

One fact is a list of accepted spellings ("Hà Nội", "Hanoi"); an answer states it when one spelling, folded, occurs
in the folded answer. Folding lower-cases, strips combining marks (so Vietnamese tones and accents go) and maps
đ to d, so "ha noi" and "HÀ NỘI" match "Hà Nội". The agent suite, the answer reward and held-out scoring all use it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

def fold(text: str) -> str:
    """Text case-folded, without diacritics (compatibility-decomposed, đ -> d), whitespace runs made one space."""
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def states(answer: str, spellings: Iterable[str]) -> bool:
    """Whether the answer contains one of the fact's spellings (folded). A spelling that starts or ends with a digit
    must not continue a longer number there ("5" is not stated by "15", "2.5" or "2025"), so an answer cannot
    collect numeric facts by listing digits."""
    folded = fold(answer)
    for spelling in spellings:
        wanted = fold(str(spelling))
        if not wanted:
            continue
        pattern = re.escape(wanted)
        if wanted[0].isdigit():
            pattern = r"(?<!\d)(?<!\d[.,])" + pattern
        if wanted[-1].isdigit():
            pattern += r"(?!\d)(?![.,]\d)"
        if re.search(pattern, folded):
            return True
    return False


def stated_share(answer: str, facts: Sequence[Sequence[str]]) -> float:
    """The share of facts the answer states (1.0 when there are none)."""
    return sum(states(answer, f) for f in facts) / len(facts) if facts else 1.0
