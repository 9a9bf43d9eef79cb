"""The unified training record, and what is done to a set of them: dedup, BFCL decontamination, parquet + summary.

Every source becomes `Record`s; a row (`Record.to_row`) keeps nested values as JSON strings so parquet and TRL
columns stay flat and every source looks alike. Tools are always edgefc's canonical form (protocol.schema).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgefc.errors import EdgefcError, SchemaError, require
from edgefc.fsutil import atomic_file, write_json
from edgefc.protocol.schema import normalize_tools

COLUMNS = ("id", "messages", "tools", "calls", "source", "negative_type", "language", "answer", "facts", "family")
OPTIONAL_COLUMNS = {"answer": "", "facts": "[]", "family": ""}  # absent from files written before they existed
ROLES = frozenset({"system", "user", "assistant", "tool"})
NEGATIVE_TYPES = ("server_shuffle", "domain_mismatch", "action_mismatch", "partial_fulfilment", "permission",
                  "format_mismatch", "no_tools", "unrelated")
LANGUAGES = ("en", "vi")
POSITIVE = "positive"  # how the summary counts records whose negative_type is ""
DEFAULT_NGRAM = 13  # words; BFCL questions shorter than this are caught by the exact match

# Letters Vietnamese writes and English never does: ă â đ ê ô ơ ư and the tone-marked vowels of U+1EA0-U+1EF9.
_VIETNAMESE = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯ\u1ea0-\u1ef9]")
# Tone marks Vietnamese shares with Latin-1 words (là, tích, hình; café, São): such a word counts half.
_LATIN1_TONES = re.compile(r"[àáèéìíòóùúýãõÀÁÈÉÌÍÒÓÙÚÝÃÕ]")
# English evidence: function words, and plain-letter words no Vietnamese syllable is shaped like (an onset, one to
# three vowels, a coda of c ch m n ng nh p t): "download", "books", "right". A sentence with more of it than
# Vietnamese-marked words is English, whatever Vietnamese names it carries ("Play the trailer for Bố Già.").
_ENGLISH = frozenset("""a an the of to in on at for from with by and or but is are was be do does did can could will
would should my me your you it its this that these those what what's which who where when how please i i'm i'd let
let's there here some any all about into than then our us""".split())
_SYLLABLE = re.compile(r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(ng|nh|ch|[cmnpt])?$")
_PLAIN = re.compile(r"^[a-z]+$")
_WORD = re.compile(r"\w+")
_NAMED = re.compile(r"\b(tool|parameter|named) '(?:[^'\\]|\\.)*'")


class RecordError(ValueError):
    """A source row that cannot become a record; the message is the reason the loader counts."""


@dataclass(frozen=True)
class Record:
    """One example: the conversation before the answer, the offered tools, and the answer due: the ground-truth
    calls, or a text `answer` stating `facts` (after a tool result), or neither: the refusal (`negative_type`).

    `facts` are what a text answer must state, each a list of accepted spellings; `family` names the generator
    family a synthetic record comes from ("" for loaded sources)."""

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    calls: list[dict[str, Any]]
    source: str
    negative_type: str = ""
    language: str = "en"
    answer: str = ""
    facts: list[list[str]] = field(default_factory=list)
    family: str = ""
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        content = json.dumps([self.messages, self.tools, self.calls, *([self.answer] if self.answer else [])],
                             sort_keys=True, ensure_ascii=False)
        object.__setattr__(self, "key", hashlib.sha1(content.encode("utf-8")).hexdigest())

    @property
    def id(self) -> str:
        """Stable id: the source and the first 12 hex digits of the content's SHA-1."""
        return f"{self.source}:{self.key[:12]}"

    def to_row(self) -> dict[str, str]:
        """The record as one flat row of strings (nested values as JSON), the parquet and TRL form."""
        return {
            "id": self.id,
            "messages": _dumps(self.messages),
            "tools": _dumps(self.tools),
            "calls": _dumps(self.calls),
            "source": self.source,
            "negative_type": self.negative_type,
            "language": self.language,
            "answer": self.answer,
            "facts": _dumps(self.facts),
            "family": self.family,
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Record:
        """A record back from its row (JSON strings or already-decoded lists)."""
        row = {**OPTIONAL_COLUMNS, **{k: v for k, v in row.items() if v is not None}}
        return cls(messages=column_value(row["messages"]), tools=column_value(row["tools"]), calls=column_value(row["calls"]),
                   source=row["source"], negative_type=row["negative_type"], language=row["language"],
                   answer=row["answer"], facts=column_value(row["facts"]), family=row["family"])


def records_from(rows: Iterable[dict[str, Any]], convert: Callable[[dict[str, Any]], list[Record]],
                 skipped: Counter[str]) -> Iterator[Record]:
    """Each source row's records through `convert`; a row it rejects (RecordError) is counted in `skipped` by
    its reason, never raised: one bad row must not stop a load of thousands."""
    for row in rows:
        try:
            records = convert(row)
        except RecordError as exc:
            skipped[str(exc)] += 1
            continue
        yield from records


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def column_value(value: object) -> Any:
    """A record column's value: JSON text decoded, anything already decoded as it is (TRL and the trainer hand
    columns over in either form)."""
    return json.loads(value) if isinstance(value, str) else value


def make_record(messages: Sequence[dict[str, Any]], tools: object, calls: Sequence[dict[str, Any]], source: str,
                negative_type: str = "", language: str | None = None, *, answer: str = "",
                facts: Sequence[Sequence[str]] = (), family: str = "") -> Record:
    """A checked record: tools canonicalised, calls naming offered tools, roles known, exactly one kind of answer
    due (calls, a text answer, or the refusal of a negative); RecordError otherwise."""
    try:
        canonical = normalize_tools(tools)
    except SchemaError as exc:  # counted by reason: the tool's and parameter's names left out, the type kept
        raise RecordError(f"tools: {_NAMED.sub(lambda m: f'{m[1]} …', str(exc))}") from exc
    names = {tool["function"]["name"] for tool in canonical}
    checked_calls = [_checked_call(call, names) for call in calls]
    checked_messages = [_checked_message(message) for message in messages]
    if not any(message["role"] == "user" for message in checked_messages):
        raise RecordError("no user message")
    if negative_type and (checked_calls or answer or negative_type not in NEGATIVE_TYPES):
        raise ValueError(f"a {negative_type!r} negative must be a known type with no calls")  # our bug
    if answer and checked_calls:
        raise ValueError("a record is due calls or a text answer, not both")  # our bug
    if not negative_type and not checked_calls and not answer:
        raise RecordError("no calls")
    user_text = " ".join(m["content"] for m in checked_messages if m["role"] == "user")
    return Record(checked_messages, canonical, checked_calls, source, negative_type,
                  language or language_of(user_text), answer, [list(f) for f in facts], family)


def _checked_call(call: object, names: set[str]) -> dict[str, Any]:
    """A ground-truth call as {"name", "arguments"}, naming an offered tool."""
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        raise RecordError("a call without a name")
    arguments = call.get("arguments", {})
    if not isinstance(arguments, dict):
        raise RecordError("a call whose arguments are not an object")
    if call["name"] not in names:
        raise RecordError("a call to a tool not offered")
    return {"name": call["name"], "arguments": arguments}


def _checked_message(message: object) -> dict[str, Any]:
    """A chat message with a known role and string content; an assistant's `tool_calls` (OpenAI form, arguments
    as objects) are kept, so a conversation can hold calls made and their results."""
    if not isinstance(message, dict) or message.get("role") not in ROLES:
        raise RecordError("a message with an unknown role")
    if not isinstance(message.get("content"), str):
        raise RecordError(f"a {message['role']} message without text content")
    checked: dict[str, Any] = {"role": message["role"], "content": message["content"]}
    if message["role"] == "assistant" and message.get("tool_calls"):
        checked["tool_calls"] = [{"type": "function", "function": {"name": c["function"]["name"],
                                                                   "arguments": c["function"]["arguments"]}}
                                 for c in message["tool_calls"]]
    return checked


def language_of(text: str) -> str:
    """ "vi" when Vietnamese evidence weighs at least as much as English evidence, else "en". A word with Vietnamese
    letters weighs 1; one with a Latin-1 tone mark ("là", "café") or a plain word shaped like a Vietnamese syllable
    that is no English function word ("cho", "sao") weighs half; digits count for neither."""
    words = [word.lower() for word in _WORD.findall(text) if not word.isdigit()]
    vietnamese = english = 0.0
    for word in words:
        if _VIETNAMESE.search(word):
            vietnamese += 1.0
        elif word in _ENGLISH:
            english += 1.0
        elif _LATIN1_TONES.search(word) or _SYLLABLE.match(word):
            vietnamese += 0.5
        elif _PLAIN.match(word):
            english += 1.0
    return "vi" if vietnamese and vietnamese >= english else "en"


# --- dedup and decontamination -----------------------------------------------------------------


def deduplicate(records: Iterable[Record]) -> tuple[list[Record], int]:
    """The records with repeats of the same messages + tools + calls dropped (first kept), and how many went."""
    seen: set[str] = set()
    kept: list[Record] = []
    dropped = 0
    for record in records:
        if record.key in seen:
            dropped += 1
            continue
        seen.add(record.key)
        kept.append(record)
    return kept, dropped


def normalize_text(text: str) -> str:
    """Text as compared for decontamination: NFKC, lower case, punctuation dropped, whitespace collapsed."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).lower()))


@dataclass(frozen=True)
class Contamination:
    """What a record is checked against: normalized benchmark questions and their word n-grams (n=0: none)."""

    questions: frozenset[str]
    ngrams: frozenset[tuple[str, ...]]
    n: int

    @classmethod
    def of(cls, questions: Iterable[str], n: int = DEFAULT_NGRAM) -> Contamination:
        """The index of a list of benchmark questions."""
        normalized = frozenset(normalize_text(question) for question in questions)
        grams = frozenset(gram for question in normalized for gram in _ngrams(question, n)) if n else frozenset()
        return cls(normalized, grams, n)

    def hits(self, record: Record) -> bool:
        """Whether a user message of the record is a benchmark question, or shares an n-gram with one."""
        for message in record.messages:
            if message["role"] != "user":
                continue
            text = normalize_text(message["content"])
            if text in self.questions or (self.n and any(gram in self.ngrams for gram in _ngrams(text, self.n))):
                return True
        return False


def _ngrams(text: str, n: int) -> Iterator[tuple[str, ...]]:
    words = text.split()
    return (tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def bfcl_questions(wheel: str | Path | None = None) -> list[str]:
    """The user questions of every BFCL entry edgefc's bench reads (all single-turn categories)."""
    from edgefc.bfcl.categories import names
    from edgefc.bfcl.data import load_category

    return [message["content"] for category in names(multi_turn=False) for entry in load_category(category, wheel=wheel)
            for message in entry.question if message.get("role") == "user"]


def decontaminate(records: Iterable[Record], contamination: Contamination) -> tuple[list[Record], int]:
    """The records none of whose user messages is a benchmark question, and how many were dropped."""
    records = list(records)
    kept = [record for record in records if not contamination.hits(record)]
    return kept, len(records) - len(kept)


# --- parquet and summary ----------------------------------------------------------------------


def summarize(records: Iterable[Record]) -> dict[str, Any]:
    """Counts of records by source, by negative type ("positive" for none), by language, and by family and
    language (synthetic families; loaded sources count under their source name)."""
    records = list(records)
    return {
        "records": len(records),
        "by_source": dict(sorted(Counter(r.source for r in records).items())),
        "by_negative_type": dict(sorted(Counter(r.negative_type or POSITIVE for r in records).items())),
        "by_language": dict(sorted(Counter(r.language for r in records).items())),
        "by_family": dict(sorted(Counter(f"{r.family or r.source}/{r.language}" for r in records).items())),
    }


def summary_path(parquet: str | Path) -> Path:
    """Where the summary of a parquet file goes: beside it, NAME.summary.json."""
    parquet = Path(parquet)
    return parquet.with_name(f"{parquet.stem}.summary.json")


def write_records(records: Sequence[Record], parquet: str | Path,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the records as parquet and their summary (plus `extra`) as JSON beside it, each atomically."""
    pa = require("pyarrow", "train")
    pq = require("pyarrow.parquet", "train")
    summary = {**summarize(records), **(extra or {})}
    schema = pa.schema([(name, pa.string()) for name in COLUMNS])
    table = pa.Table.from_pylist([record.to_row() for record in records], schema=schema)
    with atomic_file(parquet) as partial:
        pq.write_table(table, partial)
    write_json(summary_path(parquet), summary)
    return summary


def read_records(parquet: str | Path) -> list[Record]:
    """The records of a parquet file written by write_records."""
    pq = require("pyarrow.parquet", "train")
    try:
        present = set(pq.read_schema(parquet).names)
        rows = pq.read_table(parquet, columns=[c for c in COLUMNS if c in present]).to_pylist()
    except (OSError, ValueError, KeyError) as exc:
        raise EdgefcError(f"{parquet} is not a parquet file of edgefc training records ({exc})") from exc
    return [Record.from_row(row) for row in rows]
