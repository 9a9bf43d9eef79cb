"""edgefc.train.data.families: every registered tool domain (core, daily, work) is well-formed data, and the records
`generate` draws from them are sound: calls fit the offered schemas, arguments are copied from the conversation,
answers state their facts, negatives offer no tool that serves the request. No torch; a few seconds."""

from __future__ import annotations

import json
import random
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

import edgefc.train.data.families.domains  # noqa: F401  (registers every domain)
from edgefc.train.data.families import generate as gen
from edgefc.train.data.families.domain import DOMAINS, Computed, Domain, Phrase, Step, Task, Value
from edgefc.train.data.families.domains import daily
from edgefc.train.data.record import LANGUAGES, Record, language_of

# Letters Vietnamese writes: ă â đ ê ô ơ ư, the tone-marked vowels of U+1EA0-U+1EF9, and the Latin-1 ones (à á ã è é
# ì í ò ó õ ù ú ý) with ĩ ũ, so that a short phrase like "Chu vi là {x} m." counts.
VIETNAMESE = re.compile(r"[ăâđêôơưàáãèéìíòóõùúýĩũ\u1ea0-\u1ef9]", re.IGNORECASE)
LETTER_WORD = re.compile(r"[^\W\d_]{2,}")
GENERIC_NAMES = {"search", "get", "set", "list", "find", "create", "delete", "update", "send", "book", "cancel", "add",
                 "check", "read", "play", "call", "order", "start", "stop", "run", "query", "lookup", "fetch"}
DAILY_NAMES = {"travel_flights", "hotels", "ride_hailing", "food_delivery", "banking", "health", "pharmacy",
               "messaging", "contacts", "music", "alarms_timers", "fitness", "recipes", "restaurants", "cinema",
               "parking", "public_transit", "pets"}
SAMPLES_PER_TASK = 6  # draws per task and language in the play checks
SAMPLES_PER_PHRASE = 40  # draws per request phrase in the language check
RECORDS = 600

DOMAIN_IDS = sorted(DOMAINS)


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> None:
    """Overrides the conftest's: these checks use no torch, and importing it would take seconds."""


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def phrase_fields(phrases: tuple[Phrase, ...]) -> set[str]:
    return {name for phrase in phrases for text in phrase for name in fields(text)}


def resolves(domain: Domain, task: Task, slot: str) -> bool:
    return slot in task.slots or slot in domain.slots


def is_const(domain: Domain, task: Task, slot: str) -> bool:
    """Whether the slot is a fixed value the request implies (a `const` flag, a one-value enum), which need not be
    said: its pool draws one value only."""
    pool, rng = domain.pool(task, slot), random.Random(0)
    return len({repr((v.en, v.vi, v.arg)) for v in (pool(rng) for _ in range(8))}) == 1


def drawn(task: Task) -> set[str]:
    """The slots `generate` draws for a task: its arguments' slots and its requests' placeholders."""
    names = {ref for step in task.steps for ref in step.args.values() if not ref.startswith("@")}
    return (names | phrase_fields(task.asks) | phrase_fields(task.many)) - {"items"}


def tool_names(domain: Domain) -> list[str]:
    return [t["function"]["name"] for t in domain.tools]


def parameters(tool: dict[str, Any]) -> dict[str, Any]:
    return tool["function"]["parameters"]


def enum_values(schema: dict[str, Any]) -> list[Any]:
    """The enum a value of this parameter (or each item of it) must come from; [] when free."""
    return schema.get("enum") or (schema.get("items") or {}).get("enum") or []


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def vietnamese_ok(text: str) -> bool:
    """A Vietnamese phrase carries Vietnamese letters unless it is short and code-only ("{a} ({b})")."""
    bare = re.sub(r"\{[^}]*\}", " ", text)
    return bool(VIETNAMESE.search(bare)) or len(LETTER_WORD.findall(bare)) < 2


# --- the domains as data ----------------------------------------------------------------------------------------


def test_every_domain_module_registers() -> None:
    assert {"weather", "shop", "calendar", "smart_home"} <= set(DOMAINS)
    assert DAILY_NAMES <= set(DOMAINS)


def test_tool_names_are_unique_across_domains_and_specific() -> None:
    owners: dict[str, list[str]] = {}
    for domain in DOMAINS.values():
        for name in tool_names(domain):
            owners.setdefault(name, []).append(domain.name)
    assert {name: where for name, where in owners.items() if len(where) > 1} == {}
    for name in owners:
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", name), f"{name}: snake_case with a verb and an object"
        assert name not in GENERIC_NAMES


@pytest.mark.parametrize("name", DOMAIN_IDS)
def test_domain_shape(name: str) -> None:
    domain = DOMAINS[name]
    assert domain.name == name
    assert 2 <= len(domain.tools) <= 4
    assert 3 <= len(domain.tasks) <= 6
    assert 2 <= len(domain.unserved) <= 3
    used = {step.tool for task in domain.tasks for step in task.steps}
    assert set(tool_names(domain)) == used, "every tool serves a task, every task's tool is the domain's"
    for tool in domain.tools:
        params = parameters(tool)
        assert tool["function"]["description"]
        assert set(params["required"]) <= set(params["properties"])
        jsonschema.Draft202012Validator.check_schema(params)


@pytest.mark.parametrize("name", DOMAIN_IDS)
def test_steps_and_results_resolve(name: str) -> None:
    domain = DOMAINS[name]
    for task in domain.tasks:
        before: set[str] = set()
        for index, step in enumerate(task.steps):
            params = parameters(domain.tool(step.tool))
            assert set(step.args) <= set(params["properties"]), (step.tool, step.args)
            assert set(params["required"]) <= set(step.args), (step.tool, "a required argument is missing")
            for arg, ref in step.args.items():
                if ref.startswith("@"):
                    assert index > 0 and ref[1:] in before, (step.tool, arg, ref, "not a key of the previous result")
                else:
                    assert resolves(domain, task, ref), (step.tool, arg, ref)
            for key, source in step.result.items():
                if isinstance(source, Computed):
                    assert callable(source.fn), (step.tool, key)
                elif source.startswith("="):
                    assert source[1:] in step.args, (step.tool, key, source)
                else:
                    assert resolves(domain, task, source), (step.tool, key, source)
            before = set(step.result)


@pytest.mark.parametrize("name", DOMAIN_IDS)
def test_phrases_resolve(name: str) -> None:
    domain = DOMAINS[name]
    for task in domain.tasks:
        where = task.asks[0][0]
        assert task.asks and task.tells, where
        assert bool(task.many) == bool(task.vary), (where, "vary is set exactly when many is")
        for slot in phrase_fields(task.asks):
            assert slot != "items" and resolves(domain, task, slot), (where, slot)
        if task.many:
            assert len(task.steps) == 1, (where, "parallel requests are one-step")
            assert task.vary in task.steps[0].args.values(), (where, "vary names an argument's slot")
            for phrase in task.many:
                for text in phrase:
                    assert "items" in fields(text) and task.vary not in fields(text), (where, text)
                    assert all(resolves(domain, task, s) for s in fields(text) - {"items"}), (where, text)
        last = task.steps[-1].result
        for text in (text for phrase in task.tells for text in phrase):
            assert fields(text) <= drawn(task) | set(last), (where, text, fields(text) - drawn(task) - set(last))
        assert set(task.facts) <= set(last), (where, "facts are keys of the last result")
        # An argument is said in every request, except a flag the request implies (const): {items} says vary.
        said = {ref for step in task.steps for ref in step.args.values()
                if not ref.startswith("@") and not is_const(domain, task, ref)}
        for phrase in task.asks:
            for text in phrase:
                assert said <= fields(text), (text, said - fields(text))
        for phrase in task.many:
            for text in phrase:
                assert said - {task.vary} <= fields(text), (text, said - {task.vary} - fields(text))
    for phrase in domain.unserved:
        assert phrase_fields((phrase,)) <= set(domain.slots), phrase


@pytest.mark.parametrize("name", DOMAIN_IDS)
def test_phrases_speak_their_language(name: str) -> None:
    domain = DOMAINS[name]
    phrases = [*domain.unserved, *(p for task in domain.tasks for p in (*task.asks, *task.many, *task.tells))]
    for en, vi in phrases:
        assert vietnamese_ok(vi), f"no Vietnamese letters in {vi!r}"
        assert unicodedata.is_normalized("NFC", vi), vi
        assert not VIETNAMESE.search(re.sub(r"\{[^}]*\}", " ", en)), f"Vietnamese letters in English {en!r}"
        assert en != vi or len(LETTER_WORD.findall(re.sub(r"\{[^}]*\}", " ", en))) < 2, en


def _play_task(domain: Domain, task: Task, rng: random.Random, lang: str) -> None:
    """Draw a task once in `lang`: each call fits its tool's schema and copies its strings from the request (or an
    earlier result), and each answer states every fact."""
    said = gen._draw(domain, task, rng)
    for phrase in task.asks:
        text = gen.fill(phrase, lang, said)
        assert unicodedata.is_normalized("NFC", text)
        assert lang == "en" or vietnamese_ok(phrase[1])
    asked = fold(" ".join(gen.fill(phrase, lang, said) for phrase in task.asks))
    seen, before = asked, {}
    for step in task.steps:
        call, data, before = gen._play(step, said, before, rng, lang, gen._pools(domain, task))
        params = parameters(domain.tool(step.tool))
        jsonschema.Draft202012Validator(params).validate(call["arguments"])
        for arg, value in call["arguments"].items():
            ref = step.args[arg]
            if enum_values(params["properties"][arg]) or (not ref.startswith("@") and is_const(domain, task, ref)):
                continue
            for text in strings(value):
                if ref.startswith("@"):
                    assert fold(text) in seen, (step.tool, arg, text, "not in an earlier result")
                else:
                    for phrase in task.asks:
                        assert fold(text) in fold(gen.fill(phrase, lang, said)), (step.tool, arg, text, phrase)
        seen += " " + fold(json.dumps(data, ensure_ascii=False))
    values = {**said, **before}
    for phrase in task.tells:
        answer = fold(gen.fill(phrase, lang, values))
        for key in task.facts:
            assert any(fold(s) in answer for s in values[key].spellings()), (phrase, key, answer)


@pytest.mark.parametrize("name", DOMAIN_IDS)
def test_tasks_play_in_both_languages(name: str) -> None:
    domain = DOMAINS[name]
    rng = random.Random(name)
    for task in domain.tasks:
        for lang in LANGUAGES:
            for _ in range(SAMPLES_PER_TASK):
                _play_task(domain, task, rng, lang)
        if task.many:
            pool = domain.pool(task, task.vary)
            assert len({pool(rng).en for _ in range(30)}) >= 2, (task.asks[0][0], "vary draws one value only")


def _filled(domain: Domain, task: Task | None, phrase: Phrase, lang: str, rng: random.Random) -> str:
    """A request phrase said in `lang` with fresh values ({items}: 2-4 of the vary slot, as `generate` draws them)."""
    if task is None:
        return gen.fill(phrase, lang, {name: domain.slots[name](rng) for name in phrase_fields((phrase,))})
    said = gen._draw(domain, task, rng)
    if "items" in phrase_fields((phrase,)):
        pool, values = domain.pool(task, task.vary), []
        for _ in range(20):
            value = pool(rng)
            values += [value] if value.en not in {v.en for v in values} else []
            if len(values) == 4:
                break
        values = values[:rng.choice([2, 2, 3, 4])]
        said["items"] = Value(gen._join([v.en for v in values], "en"), gen._join([v.vi for v in values], "vi"))
    return gen.fill(phrase, lang, said)


@pytest.mark.parametrize("name", DOMAIN_IDS)
def test_requests_read_as_their_language(name: str) -> None:
    """`language_of` (what loaded sources' language labels come from; synthetic records carry their own) reads the
    domain's requests as the language they are in, apart from a few name-heavy ones ("Put on Nơi Này Có Anh,
    please.", a Vietnamese title in an English request): at least 95% of the filled requests."""
    domain, rng, misses, total = DOMAINS[name], random.Random(name), [], 0
    phrases = [(task, p) for task in domain.tasks for p in (*task.asks, *task.many)] + [(None, p) for p in domain.unserved]
    for task, phrase in phrases:
        for index, lang in enumerate(LANGUAGES):
            for _ in range(SAMPLES_PER_PHRASE):
                text = _filled(domain, task, phrase, lang, rng)
                total += 1
                if language_of(text) != lang:
                    misses.append(f"{lang}: {text!r}")
    assert len(misses) <= 0.05 * total, misses[:10]


def test_daily_module_rules() -> None:
    domains = {d.name: d for d in daily.DAILY}
    assert set(domains) == DAILY_NAMES
    assert sum(any(t.many for t in d.tasks) for d in domains.values()) >= len(domains) / 2
    assert sum(any(len(t.steps) > 1 for t in d.tasks) for d in domains.values()) >= 8
    for domain in domains.values():
        for task in domain.tasks:
            assert 2 <= len(task.asks) <= 3, task.asks
    props = [p for d in domains.values() for t in d.tools for p in parameters(t)["properties"].values()]
    kinds = Counter(p["type"] for p in props)
    assert {"string", "integer", "number", "boolean", "array"} <= set(kinds)
    assert sum("enum" in p for p in props) >= 8
    assert any(p.get("pattern", "").startswith(r"^\d{4}") for p in props), "dates"
    assert any(p.get("pattern", "").startswith(r"^\d{2}:") for p in props), "times"
    optional = [t for d in domains.values() for t in d.tools
                if set(parameters(t)["properties"]) - set(parameters(t)["required"])]
    assert len(optional) >= 8


# --- the generated records ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def records() -> list[Record]:
    return gen.generate(RECORDS, seed=0)


def _user_text(record: Record) -> str:
    return " ".join(m["content"] for m in record.messages if m["role"] == "user")


def _offered(record: Record) -> dict[str, dict[str, Any]]:
    return {t["function"]["name"]: t for t in record.tools}


def _all_calls(record: Record) -> Iterator[dict[str, Any]]:
    """The record's due calls and the calls made earlier in its conversation."""
    yield from record.calls
    for message in record.messages:
        for call in message.get("tool_calls", []):
            yield call["function"]


def test_generate_makes_the_asked_number_of_distinct_records(records: list[Record]) -> None:
    assert len(records) == RECORDS
    assert len({r.id for r in records}) == RECORDS
    assert [r.id for r in gen.generate(40, seed=3)] == [r.id for r in gen.generate(40, seed=3)]


def test_generated_families_and_languages(records: list[Record]) -> None:
    families = Counter(r.family for r in records)
    assert set(families) == set(gen.FAMILIES), set(gen.FAMILIES) - set(families)
    languages = Counter(r.language for r in records)
    assert set(languages) == set(LANGUAGES)
    assert abs(languages["en"] - languages["vi"]) <= RECORDS * 0.1


def test_generated_calls_fit_the_offered_schemas(records: list[Record]) -> None:
    for record in records:
        offered = _offered(record)
        for call in _all_calls(record):
            assert call["name"] in offered, (record.family, call["name"])
            jsonschema.Draft202012Validator(parameters(offered[call["name"]])).validate(call["arguments"])


def test_generated_arguments_are_copied_from_the_conversation(records: list[Record]) -> None:
    """Every string an argument carries is in the user's words or an earlier tool result, except enum codes (and
    flags, which are never strings here)."""
    for record in records:
        context = fold(" ".join(m["content"] for m in record.messages if m["role"] in ("user", "tool")))
        offered = _offered(record)
        for call in record.calls:
            props = parameters(offered[call["name"]])["properties"]
            for arg, value in call["arguments"].items():
                if enum_values(props[arg]):
                    continue
                for text in strings(value):
                    assert fold(text) in context, (record.family, call["name"], arg, text, _user_text(record))


def test_generated_user_text_reads_as_its_language(records: list[Record]) -> None:
    misses = [(r.language, r.family, _user_text(r)) for r in records
              if r.family != "unrelated" and language_of(_user_text(r)) != r.language]
    assert misses == []


def test_unrelated_requests_read_as_their_language() -> None:
    misses = [(lang, phrase[i]) for phrase in gen.UNRELATED for i, lang in enumerate(LANGUAGES)
              if language_of(phrase[i]) != lang]
    assert misses == []


def test_generated_vietnamese_keeps_its_diacritics(records: list[Record]) -> None:
    for record in records:
        texts = [m["content"] for m in record.messages] + [record.answer]
        assert all(unicodedata.is_normalized("NFC", t) for t in texts)
        if record.language == "vi":
            assert VIETNAMESE.search(_user_text(record)), _user_text(record)
            assert not record.answer or VIETNAMESE.search(record.answer), record.answer


def test_generated_answers_state_their_facts(records: list[Record]) -> None:
    answered = [r for r in records if r.family in ("after_result", "after_parallel", "after_error")]
    assert answered
    for record in answered:
        assert record.answer and not record.calls and not record.negative_type
        assert record.messages[-1]["role"] == "tool"
        for spellings in record.facts:
            assert any(fold(s) in fold(record.answer) for s in spellings), (record.answer, spellings)


def test_generated_negatives_call_nothing(records: list[Record]) -> None:
    negatives = [r for r in records if r.negative_type]
    assert {r.negative_type for r in negatives} == {"domain_mismatch", "action_mismatch", "partial_fulfilment",
                                                    "permission", "format_mismatch", "unrelated"}
    for record in negatives:
        assert record.family == record.negative_type
        assert not record.calls and not record.answer and record.tools


def test_negatives_offer_no_tool_that_serves_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """Catch which domain and task each negative drew: the tool its request needs is never offered (a permission
    negative offers it locked)."""
    picked: list[tuple[Domain, Task]] = []
    draw = gen._domain_task

    def recording(rng: random.Random, want: Any = lambda t: True) -> tuple[Domain, Task] | None:
        got = draw(rng, want)
        if got is not None:
            picked.append(got)
        return got

    monkeypatch.setattr(gen, "_domain_task", recording)
    rng = random.Random(7)
    made = Counter()
    for _ in range(150):
        for family in ("domain_mismatch", "action_mismatch", "partial_fulfilment", "permission"):
            picked.clear()
            record = gen.FAMILIES[family](rng, rng.choice(LANGUAGES))
            if record is None:
                continue
            made[family] += 1
            offered = _offered(record)
            domain, task = picked[-1] if family == "partial_fulfilment" else picked[0]
            needed = task.steps[0].tool
            if family == "domain_mismatch":
                assert not set(offered) & set(tool_names(domain)), (domain.name, sorted(offered))
            elif family == "permission":
                assert offered[needed]["function"]["description"].endswith(gen.NO_PRIVILEGE)
            else:
                assert needed not in offered, (family, domain.name, needed)
            if family == "action_mismatch":
                assert set(offered) <= set(tool_names(domain)) - {needed}
    assert all(made[f] >= 20 for f in ("domain_mismatch", "action_mismatch", "partial_fulfilment", "permission")), made


def test_listed_values_send_a_list_in_the_request_language() -> None:
    value = daily.several(("chicken", "thịt gà"), ("ginger", "gừng"), low=2, high=2)(random.Random(0))
    assert isinstance(value, Value)
    assert sorted(value.data("en")) == ["chicken", "ginger"] and sorted(value.data("vi")) == ["gừng", "thịt gà"]
    assert value.say("vi") in ("thịt gà và gừng", "gừng và thịt gà")
    assert sorted(gen._result_data(value)) == ["chicken", "ginger"]


def test_a_computed_result_reads_the_call_arguments_by_name() -> None:
    """A `Computed` result gets the call's arguments as said (a slot's value, or a previous result's), by argument."""
    double = Computed(lambda rng, args: Value(str(2 * args["n"].arg), str(2 * args["n"].arg), arg=2 * args["n"].arg))
    step = Step("x", {"n": "count", "label": "@name"}, {"twice": double, "label": "=label"})
    said, before = {"count": Value("21", "21", arg=21)}, {"name": Value("a", "a")}
    call, data, result = gen._play(step, said, before, random.Random(0), "en", lambda slot: None)
    assert call["arguments"] == {"n": 21, "label": "a"}
    assert data == {"twice": 42, "label": "a"} and result["twice"].say("vi") == "42"


def test_a_step_that_names_an_unknown_slot_is_caught() -> None:
    """The resolution check itself fails on a broken task (guards the checks above against vacuity)."""
    broken = Task(asks=(("Do {thing}.", "Làm {thing}."),), steps=(Step("x", {"a": "missing"}),), tells=(("ok", "được"),))
    domain = Domain(name="broken", tools=(), tasks=(broken,), slots={})
    assert not resolves(domain, broken, "missing")
    assert "thing" in drawn(broken) and "missing" in drawn(broken)
