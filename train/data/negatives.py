"""The seed's synthetic negatives, derived from positive records: the right answer becomes the refusal (calls []).

Each maker takes a single-turn positive and returns a negative, or None where its type cannot be derived honestly
from that record (nothing is faked). Tools offered beside a changed or removed tool are kept only when their names
share no topic word with it, so no sibling can quietly do the job. NEGATIVES is the registry, `derive` the driver.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from edgefc.train.data.record import Record, make_record

SOURCE = "negatives"
DOMAIN_CANDIDATES = 64  # other records tried, at random, when looking for unrelated tools

# Action verbs a tool name can start with, by family, and the family whose tool cannot do the asked action.
VERBS: dict[str, frozenset[str]] = {
    "read": frozenset({"get", "fetch", "retrieve", "list", "search", "find", "lookup", "check", "show", "view",
                       "read", "query"}),
    "delete": frozenset({"delete", "remove", "cancel"}),
    "create": frozenset({"create", "add", "book", "schedule", "post", "insert", "send"}),
    "update": frozenset({"update", "set", "edit", "modify", "change"}),
}
WRITE_FAMILIES = ("delete", "create", "update")
MISMATCHED_VERB = {"read": "delete", "delete": "get", "create": "list", "update": "get"}
MISMATCHED_DESCRIPTION = {
    "delete": "Deletes a stored {obj} record. It cannot look up or return any {obj} data.",
    "get": "Returns the details of an existing {obj}. It cannot {verb} one or change anything.",
    "list": "Lists existing {obj} entries. It cannot {verb} a new one.",
}
NO_PRIVILEGE = (" Only administrators may use this tool; the current user is not an administrator, so every call "
                "is refused.")

# Units and formats a tool may offer as an enum, with how a question asks for each (English, Vietnamese).
FORMAT_GROUPS: dict[str, dict[str, tuple[str, str]]] = {
    "temperature": {"celsius": ("Celsius", "độ C"), "fahrenheit": ("Fahrenheit", "độ F"),
                    "kelvin": ("Kelvin", "độ K")},
    "file": {"json": ("JSON", "JSON"), "csv": ("CSV", "CSV"), "xml": ("XML", "XML"), "pdf": ("PDF", "PDF"),
             "html": ("HTML", "HTML"), "yaml": ("YAML", "YAML")},
    "currency": {"usd": ("US dollars", "đô la Mỹ"), "eur": ("euros", "euro"), "gbp": ("British pounds", "bảng Anh"),
                 "jpy": ("Japanese yen", "yên Nhật"), "vnd": ("Vietnamese dong", "đồng Việt Nam")},
}
FORMAT_REQUEST: dict[str, dict[str, str]] = {
    "temperature": {"en": "Give me the temperature in {label}.", "vi": "Cho tôi nhiệt độ theo {label}."},
    "file": {"en": "Give me the result as a {label} file.", "vi": "Xuất kết quả ra tệp {label} cho tôi."},
    "currency": {"en": "Give me the amount in {label}.", "vi": "Cho tôi số tiền tính bằng {label}."},
}

_NAME_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\b|_|\d)|[A-Z]?[a-z]+|[A-Z]+|\d+")
_TEXT_WORDS = re.compile(r"[^\W\d_]+")
_STOP = frozenset("""
about above after again also among and any are been before being below between both but by can cannot could does
doing down each few for from further give given has have having here how into its just like made make many more
most much need only other over please same should show some such than that the their them then there these they
this those through under until very want was were what when where which while who whom why will with would you
your based current data default details information list name number optional return returns specific specified
string type user using value values tool tools function api get fetch retrieve find search
""".split())

Maker = Callable[[Record, Sequence[Record], random.Random], "Record | None"]


def derive(records: Iterable[Record], per_type: int, seed: int = 0,
           types: Sequence[str] | None = None) -> list[Record]:
    """Up to `per_type` negatives of each type from the single-turn positives, reproducible for a seed."""
    bases = [record for record in records if record.calls and _single_turn(record)]
    negatives: list[Record] = []
    for name in types or NEGATIVES:
        rng = random.Random(f"{seed}:{name}")
        order = list(range(len(bases)))
        rng.shuffle(order)
        made = 0
        for index in order:
            if made >= per_type:
                break
            negative = NEGATIVES[name](bases[index], bases, rng)
            if negative is not None:
                negatives.append(negative)
                made += 1
    return negatives


def _single_turn(record: Record) -> bool:
    return all(message["role"] in ("system", "user") for message in record.messages)


def _negative(base: Record, tools: list[dict[str, Any]], kind: str,
              messages: list[dict[str, str]] | None = None) -> Record:
    """The negative record: the base's conversation (or `messages`), `tools`, no calls."""
    return make_record(messages or base.messages, tools, [], SOURCE, kind, base.language)


# --- words and names --------------------------------------------------------------------------


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


def text_words(text: str) -> set[str]:
    """The topic words of a text: lower case, stop words and words under 3 letters dropped, plural s cut."""
    return {_stem(w) for w in (w.lower() for w in _TEXT_WORDS.findall(text)) if len(w) >= 3 and w not in _STOP}


def name_parts(name: str) -> list[str]:
    """A tool name's words: snake_case, camelCase, kebab-case and spaces split, lower case."""
    return [part.lower() for part in _NAME_PARTS.findall(name)]


def _name_topic(name: str) -> set[str]:
    """A tool name's topic words, action verbs left out."""
    verbs = frozenset().union(*VERBS.values())
    return {_stem(part) for part in name_parts(name) if part not in verbs and len(part) >= 3}


def _tools_topic(tools: Iterable[dict[str, Any]]) -> set[str]:
    words: set[str] = set()
    for tool in tools:
        function = tool["function"]
        words |= _name_topic(function["name"]) | text_words(function["description"])
    return words


def _question(record: Record) -> str:
    return next(m["content"] for m in reversed(record.messages) if m["role"] == "user")


def _only_call(record: Record) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The one call of a record and the tool it calls, or None for several calls."""
    if len(record.calls) != 1:
        return None
    call = record.calls[0]
    return call, next(t for t in record.tools if t["function"]["name"] == call["name"])


def _unrelated(tools: Iterable[dict[str, Any]], removed: Iterable[str]) -> list[dict[str, Any]]:
    """The tools whose names share no topic word with the removed tools' names, and are not among them."""
    removed = set(removed)
    topic = set().union(*(_name_topic(name) for name in removed))
    return [tool for tool in tools
            if tool["function"]["name"] not in removed and not _name_topic(tool["function"]["name"]) & topic]


def _verb(name: str) -> tuple[str, str] | None:
    """(verb, family) when a tool name starts with a known action verb followed by more words."""
    parts = name_parts(name)
    if len(parts) < 2 or not name.lower().startswith(parts[0]):
        return None
    return next(((parts[0], family) for family, verbs in VERBS.items() if parts[0] in verbs), None)


# --- the makers -------------------------------------------------------------------------------


def domain_mismatch(base: Record, pool: Sequence[Record], rng: random.Random) -> Record | None:
    """The question kept, the tools swapped for another record's whose words it shares none of."""
    topic = text_words(_question(base)) | _tools_topic(base.tools)
    names = {t["function"]["name"] for t in base.tools}
    for other in rng.sample(pool, min(DOMAIN_CANDIDATES, len(pool))):
        other_names = {t["function"]["name"] for t in other.tools}
        if other is not base and not (other_names & names) and not (_tools_topic(other.tools) & topic):
            return _negative(base, copy.deepcopy(other.tools), "domain_mismatch")
    return None


def action_mismatch(base: Record, pool: Sequence[Record], rng: random.Random) -> Record | None:
    """The called tool replaced by one on the same object whose verb cannot do the asked action (get vs delete)."""
    found = _only_call(base)
    verb = found and _verb(found[1]["function"]["name"])
    if not verb:
        return None
    tool = found[1]["function"]
    new_verb = MISMATCHED_VERB[verb[1]]
    new_name = (new_verb.capitalize() if tool["name"][0].isupper() else new_verb) + tool["name"][len(verb[0]):]
    if any(t["function"]["name"] == new_name for t in base.tools):
        return None  # the tool that cannot do it is already offered beside the one that can
    obj = " ".join(name_parts(tool["name"])[1:])
    description = MISMATCHED_DESCRIPTION[new_verb].format(obj=obj, verb=verb[0])
    mismatched = {"type": "function", "function": {**copy.deepcopy(tool), "name": new_name, "description": description}}
    return _negative(base, [mismatched, *_unrelated(base.tools, [tool["name"]])], "action_mismatch")


def partial_fulfilment(base: Record, pool: Sequence[Record], rng: random.Random) -> Record | None:
    """Of a question needing two or more tools, one removed and the others kept: part of it has no tool."""
    needed = sorted({call["name"] for call in base.calls})
    if len(needed) < 2:
        return None
    removed = rng.choice(needed)
    rest = _unrelated(base.tools, [removed])
    still_needed = {t["function"]["name"] for t in rest} & set(needed)
    return _negative(base, rest, "partial_fulfilment") if still_needed else None


def permission(base: Record, pool: Sequence[Record], rng: random.Random) -> Record | None:
    """A write action (delete, create, update) whose tool states that the current user lacks the privilege."""
    found = _only_call(base)
    verb = found and _verb(found[1]["function"]["name"])
    if not verb or verb[1] not in WRITE_FAMILIES:
        return None
    tool = copy.deepcopy(found[1])
    tool["function"]["description"] = tool["function"]["description"].rstrip() + NO_PRIVILEGE
    return _negative(base, [tool, *_unrelated(base.tools, [tool["function"]["name"]])], "permission")


def format_mismatch(base: Record, pool: Sequence[Record], rng: random.Random) -> Record | None:
    """A request for a unit or format outside the enum of the called tool's unit/format parameter."""
    found = _only_call(base)
    if not found:
        return None
    call, tool = found
    options = []
    for name, schema in tool["function"]["parameters"].get("properties", {}).items():
        enum = {str(value).lower() for value in schema.get("enum", [])}
        if name in call["arguments"] or not enum:
            continue
        for group, labels in FORMAT_GROUPS.items():
            if enum & labels.keys():
                options += [(group, value) for value in labels if value not in enum]
    if not options:
        return None
    group, value = rng.choice(options)
    label = FORMAT_GROUPS[group][value][base.language == "vi"]
    request = FORMAT_REQUEST[group][base.language].format(label=label)
    messages = copy.deepcopy(base.messages)
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    messages[last_user]["content"] = f"{messages[last_user]['content'].rstrip()} {request}"
    return _negative(base, copy.deepcopy(base.tools), "format_mismatch", messages)


NEGATIVES: dict[str, Maker] = {
    "domain_mismatch": domain_mismatch,
    "action_mismatch": action_mismatch,
    "partial_fulfilment": partial_fulfilment,
    "permission": permission,
    "format_mismatch": format_mismatch,
}
