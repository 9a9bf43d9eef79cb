"""Tool domains as plain data: the tools, the requests each serves in English and Vietnamese, what a call returns,
and how an answer states the result. The families (`families.build`) combine domains into training records.

A `Task` is a request and the steps that fulfil it: one call, or a lookup whose result feeds an action. Slots are
drawn from pools (`Value`s say a value in both languages and carry what the call sends), so an argument is always
the value the request spelled: a Vietnamese request for "Đà Nẵng" is called with "Đà Nẵng", an enum's spoken form
("phòng khách") is called with its code ("living_room").
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Phrase = tuple[str, str]  # (English, Vietnamese), with {slot} and {result key} placeholders


@dataclass(frozen=True)
class Value:
    """A drawn value: what a call or result carries (`arg`; None: the words of the request's language)."""

    en: str
    vi: str
    arg: Any = None

    def say(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi

    def data(self, lang: str) -> Any:
        """The value as JSON carries it, for a request in `lang`."""
        return self.say(lang) if self.arg is None else self.arg

    def spellings(self) -> list[str]:
        """Every way an answer may state it."""
        return sorted({self.en, self.vi, *([str(self.arg)] if self.arg is not None else [])})


Pool = Callable[[random.Random], Value]


@dataclass(frozen=True)
class Computed:
    """A result that follows from the call: `fn(rng, args)` gets the call's arguments as said (argument -> Value)
    and returns the result's value (a converted amount, a translation, what a search for those words finds)."""

    fn: Callable[[random.Random, Mapping[str, Value]], Value]


@dataclass(frozen=True)
class Step:
    """One call: its tool, its arguments (argument -> slot name, or "@key": a key of the previous step's result),
    and its result (key -> "=argument": that argument's value, or a slot name: a value drawn fresh,
    or a `Computed`: a value computed from the call's arguments)."""

    tool: str
    args: Mapping[str, str]
    result: Mapping[str, str | Computed] = field(default_factory=dict)


@dataclass(frozen=True)
class Task:
    """A request and the calls that fulfil it; `tells` answer after the last result, stating `facts` (result keys
    of the last step). `many` asks the same for several values of the slot `vary` ({items}): parallel calls."""

    asks: tuple[Phrase, ...]
    steps: tuple[Step, ...]
    tells: tuple[Phrase, ...]
    facts: tuple[str, ...] = ()
    slots: Mapping[str, Pool] = field(default_factory=dict)
    many: tuple[Phrase, ...] = ()
    vary: str = ""


@dataclass(frozen=True)
class Domain:
    """A group of tools one app would offer, the tasks they serve, and requests near the domain they cannot serve
    (`unserved`, answered with the refusal: a unit, format or action the tools lack)."""

    name: str
    tools: tuple[dict[str, Any], ...]
    tasks: tuple[Task, ...]
    slots: Mapping[str, Pool] = field(default_factory=dict)
    unserved: tuple[Phrase, ...] = ()

    def tool(self, name: str) -> dict[str, Any]:
        return next(t for t in self.tools if t["function"]["name"] == name)

    def pool(self, task: Task, slot: str) -> Pool:
        return task.slots.get(slot) or self.slots[slot]


DOMAINS: dict[str, Domain] = {}


def register(*domains: Domain) -> None:
    """Add domains to the registry (each domain module calls this once); a name is taken once."""
    for domain in domains:
        if domain.name in DOMAINS:
            raise ValueError(f"domain {domain.name!r} is registered twice")  # our bug
        DOMAINS[domain.name] = domain


# --- tools ----------------------------------------------------------------------------------------------------


def tool(name: str, description: str, required: tuple[str, ...] | None = None,
         **properties: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI-form tool; `required` defaults to every property (`()`: none)."""
    return {"type": "function", "function": {"name": name, "description": description, "parameters": {
        "type": "object", "properties": properties, "required": list(properties if required is None else required)}}}


def string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def integer(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "integer", "description": description, **extra}


def number(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "number", "description": description, **extra}


def boolean(description: str) -> dict[str, Any]:
    return {"type": "boolean", "description": description}


def choice(description: str, values: Mapping[str, Any] | list[str]) -> dict[str, Any]:
    return {"type": "string", "enum": list(values), "description": description}


DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "Date as YYYY-MM-DD."}
TIME = {"type": "string", "pattern": r"^\d{2}:\d{2}$", "description": "Time as HH:MM, 24-hour."}


# --- pools ----------------------------------------------------------------------------------------------------


def words(*pairs: Phrase) -> Pool:
    """Names said differently per language; the call sends the request's spelling."""
    return lambda rng: Value(*rng.choice(pairs))


def same(*texts: str) -> Pool:
    """Values spelt alike in both languages (names, codes, titles); the call sends them as they are."""
    return lambda rng: (lambda t: Value(t, t))(rng.choice(texts))


def coded(**codes: Phrase) -> Pool:
    """Enum values: the call sends the code, the request says its words."""
    return lambda rng: (lambda k: Value(*codes[k], arg=k))(rng.choice(list(codes)))


def const(arg: Any, en: str = "", vi: str = "") -> Pool:
    """One fixed value (a flag the request implies: "turn on" sends on=true)."""
    return lambda rng: Value(en or str(arg), vi or en or str(arg), arg=arg)


def ints(low: int, high: int, step: int = 1) -> Pool:
    return lambda rng: (lambda n: Value(str(n), str(n), arg=n))(rng.randrange(low, high + 1, step))


def amounts(*values: float) -> Pool:
    """Numbers said as plain digits (no exponent, no rounding), so the call's value is the request's."""
    return lambda rng: (lambda n: Value(_digits(n), _digits(n), arg=n))(rng.choice(values))


def _digits(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else repr(float(n))


def digits(count: int = 5, prefix: str = "") -> Pool:
    """An identifier of `count` digits (order numbers, accounts), sent as a string."""
    return lambda rng: (lambda s: Value(s, s))(prefix + "".join(rng.choice("0123456789") for _ in range(count)))


def dates(year: int = 2026) -> Pool:
    return lambda rng: (lambda s: Value(s, s))(f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")


def times() -> Pool:
    return lambda rng: (lambda s: Value(s, s))(f"{rng.randint(6, 21):02d}:{rng.choice(['00', '15', '30', '45'])}")


# Pools many domains share.
CITIES = words(("Hanoi", "Hà Nội"), ("Ho Chi Minh City", "Thành phố Hồ Chí Minh"), ("Da Nang", "Đà Nẵng"),
               ("Hue", "Huế"), ("Hai Phong", "Hải Phòng"), ("Can Tho", "Cần Thơ"), ("Nha Trang", "Nha Trang"),
               ("Da Lat", "Đà Lạt"), ("Vung Tau", "Vũng Tàu"), ("Quy Nhon", "Quy Nhơn"), ("Tokyo", "Tokyo"),
               ("Paris", "Paris"), ("Oslo", "Oslo"), ("Seoul", "Seoul"), ("Bangkok", "Bangkok"),
               ("London", "London"), ("Singapore", "Singapore"), ("Sydney", "Sydney"), ("Berlin", "Berlin"),
               ("Madrid", "Madrid"), ("Toronto", "Toronto"), ("Nairobi", "Nairobi"), ("Lima", "Lima"))
PEOPLE = same("Lan", "Minh", "Hoa", "Tuấn", "Linh", "Hùng", "Mai", "Alex", "Sarah", "David", "Emma", "Kenji",
              "Priya", "Carlos", "Thảo", "Quang", "Nadia", "Omar", "Chloe", "Bảo")
