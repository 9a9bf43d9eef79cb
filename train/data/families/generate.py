"""Task families: what an on-device agent is asked to do, drawn from the tool domains as training records.

Each family is a function `(rng, lang) -> Record | None` (None: the drawn domain or task cannot make this family;
the driver draws again): one call; choosing among 3-8 tools; parallel calls; parallel-multiple; the next step of a
look-up-then-act task; the answer after a tool result (stating its facts in the user's language) or after a tool
error (saying plainly that it failed); and negatives answered with the refusal sentence. FAMILIES is the registry
and MIX the default share of each; `generate` draws a deterministic, deduplicated set.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from edgefc.train.data.families.domain import DOMAINS, Computed, Domain, Phrase, Pool, Step, Task, Value
from edgefc.train.data.record import LANGUAGES, Record, make_record

SOURCE = "synthetic"
MAX_TRIES_PER_RECORD = 30  # draws per wanted record before giving up on finding new distinct ones
MAX_TOOLS = 8
SYSTEM_SHARE = 0.3  # records that open with a system line, as agents' prompts do

Family = Callable[[random.Random, str], "Record | None"]
Said = dict[str, Value]

SYSTEMS: tuple[Phrase, ...] = (
    ("You are a helpful assistant.", "Bạn là một trợ lý hữu ích."),
    ("You are an assistant with tools. Call a tool when one can do what the user asks; after a tool result, answer "
     "the user briefly from it.",
     "Bạn là trợ lý có công cụ. Hãy gọi công cụ khi có công cụ làm được điều người dùng yêu cầu; sau khi có kết quả, "
     "trả lời ngắn gọn dựa trên kết quả đó."),
    ("You are the assistant in a mobile app. Be brief.", "Bạn là trợ lý trong một ứng dụng di động. Hãy trả lời ngắn gọn."),
)
# After a tool error the answer says plainly that it failed; any of these words shows it.
ERRORS: tuple[Phrase, ...] = (
    ("the service is temporarily unavailable", "dịch vụ tạm thời không khả dụng"),
    ("no matching record was found", "không tìm thấy dữ liệu phù hợp"),
    ("the request timed out", "yêu cầu đã quá thời gian chờ"),
    ("access was denied", "quyền truy cập bị từ chối"),
)
ERROR_TELLS: tuple[Phrase, ...] = (
    ("Sorry, I couldn't complete that: {error}.", "Xin lỗi, tôi không thực hiện được yêu cầu: {error}."),
    ("That didn't work: {error}. Please try again later.", "Yêu cầu không thành công: {error}. Bạn thử lại sau nhé."),
)
FAILURE_WORDS = ["sorry", "couldn't", "could not", "didn't work", "failed", "unable", "error",
                 "xin lỗi", "không thực hiện được", "không thành công", "lỗi"]
NO_PRIVILEGE = " Only administrators may use this tool; the current user is not an administrator."
# Requests no tool of any domain serves (chit-chat, knowledge, creative writing): answered with the refusal.
UNRELATED: tuple[Phrase, ...] = (
    ("Write a short poem about the autumn rain.", "Viết giúp tôi một bài thơ ngắn về mưa mùa thu."),
    ("Who painted the Mona Lisa?", "Ai là người vẽ bức Mona Lisa?"),
    ("Tell me a joke about cats.", "Kể cho tôi một câu chuyện cười về mèo."),
    ("What is the capital of Australia?", "Thủ đô của Úc là thành phố nào?"),
    ("Explain what photosynthesis is in one sentence.", "Giải thích quang hợp là gì trong một câu."),
    ("Recommend a board game for four players.", "Gợi ý một trò chơi cờ bàn cho bốn người chơi."),
    ("How many legs does a spider have?", "Con nhện có bao nhiêu chân?"),
    ("Give me a name idea for my new puppy.", "Gợi ý cho tôi một cái tên cho chú cún mới."),
    ("What's the difference between a virus and a bacterium?", "Virus và vi khuẩn khác nhau như thế nào?"),
    ("Summarise the plot of Romeo and Juliet in two lines.", "Hãy tóm tắt ngắn gọn cốt truyện Romeo và Juliet."),
    ("Why is the sky blue?", "Tại sao bầu trời có màu xanh?"),
    ("Suggest a good book for a long flight.", "Gợi ý một cuốn sách hay để đọc trên chuyến bay dài."),
)


# --- drawing and saying -----------------------------------------------------------------------------------------


def fill(phrase: Phrase, lang: str, said: Mapping[str, Value], *, capital: bool = False) -> str:
    """A phrase in `lang` with its placeholders said in that language; `capital`: starting with a capital letter
    (answers that open with a value; requests keep a value's case, since calls copy it)."""
    text = phrase[LANGUAGES.index(lang)]
    text = text.format(**{name: said[name].say(lang) for name in _fields(text)})
    return text[:1].upper() + text[1:] if capital else text


def _fields(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def _draw(domain: Domain, task: Task, rng: random.Random, skip: Sequence[str] = ()) -> Said:
    """A value for every slot the task names in its steps or phrases."""
    names = {a for step in task.steps for a in step.args.values() if not a.startswith("@")}
    names |= {n for phrase in (*task.asks, *task.many) for text in phrase for n in _fields(text)}
    names -= {"items", *skip}
    return {name: domain.pool(task, name)(rng) for name in sorted(names)}


def _play(step: Step, said: Mapping[str, Value], before: Mapping[str, Value], rng: random.Random, lang: str,
          pool: Callable[[str], Pool]) -> tuple[dict[str, Any], dict[str, Any], Said]:
    """One step: its call's arguments, the tool's result as JSON, and the result's values as an answer says them."""
    args_said = {arg: before[ref[1:]] if ref.startswith("@") else said[ref] for arg, ref in step.args.items()}
    # A value taken from a previous result is sent as that result showed it; one from the request as it was said.
    arguments = {arg: _result_data(value) if step.args[arg].startswith("@") else value.data(lang)
                 for arg, value in args_said.items()}
    result: Said = {}
    data: dict[str, Any] = {}
    for key, source in step.result.items():
        if isinstance(source, Computed):
            result[key] = source.fn(rng, args_said)
            data[key] = _result_data(result[key])
        elif source.startswith("="):
            result[key], data[key] = args_said[source[1:]], arguments[source[1:]]
        else:
            result[key] = pool(source)(rng)
            data[key] = _result_data(result[key])
    return {"name": step.tool, "arguments": arguments}, data, result


def _pools(domain: Domain, task: Task) -> Callable[[str], Pool]:
    return lambda slot: domain.pool(task, slot)


def _result_data(value: Value) -> Any:
    """How a tool reports a drawn value: its code, else its English words (tools speak English)."""
    return value.en if value.arg is None else value.arg


def _assistant(calls: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}} for c in calls]}


def _tool_message(data: dict[str, Any]) -> dict[str, Any]:
    return {"role": "tool", "content": json.dumps(data, ensure_ascii=False)}


def _join(items: Sequence[str], lang: str) -> str:
    last = " and " if lang == "en" else " và "
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + last + items[-1]


def _opening(rng: random.Random, lang: str, share: float = SYSTEM_SHARE) -> list[dict[str, Any]]:
    if rng.random() >= share:
        return []
    return [{"role": "system", "content": rng.choice(SYSTEMS)[LANGUAGES.index(lang)]}]


def _tools(rng: random.Random, domain: Domain, names: Sequence[str] | None = None, *, extra_domains: int = 0,
           exclude: Sequence[str] = ()) -> list[dict[str, Any]]:
    """A domain's tools (or the named ones), plus all tools of `extra_domains` other domains, at most MAX_TOOLS,
    in random order; tools named in `exclude` are never offered."""
    own = [t for t in domain.tools if (names is None or t["function"]["name"] in names)]
    others = [d for d in DOMAINS.values() if d.name != domain.name]
    extra = [t for d in rng.sample(others, min(extra_domains, len(others))) for t in d.tools]
    room = max(MAX_TOOLS - len(own), 0)
    picked = [t for t in own + rng.sample(extra, min(room, len(extra))) if t["function"]["name"] not in exclude]
    rng.shuffle(picked)
    return picked


def _record(messages: list[dict[str, Any]], tools: list[dict[str, Any]], family: str, lang: str, *,
            calls: Sequence[dict[str, Any]] = (), answer: str = "", facts: Sequence[Sequence[str]] = (),
            negative: str = "") -> Record:
    return make_record(messages, tools, list(calls), SOURCE, negative, lang, answer=answer, facts=facts,
                       family=family)


def _domain_task(rng: random.Random, want: Callable[[Task], bool] = lambda t: True) -> tuple[Domain, Task] | None:
    domain = rng.choice(list(DOMAINS.values()))
    tasks = [t for t in domain.tasks if want(t)]
    return (domain, rng.choice(tasks)) if tasks else None


def _one_step(task: Task) -> bool:
    return len(task.steps) == 1


# --- positive families --------------------------------------------------------------------------------------------


def _single_call(rng: random.Random, lang: str, extra_domains: int, family: str) -> Record | None:
    picked = _domain_task(rng, _one_step)
    if picked is None:
        return None
    domain, task = picked
    said = _draw(domain, task, rng)
    call, _, _ = _play(task.steps[0], said, {}, rng, lang, _pools(domain, task))
    user = fill(rng.choice(task.asks), lang, said)
    tools = _tools(rng, domain, extra_domains=extra_domains)
    return _record([*_opening(rng, lang), {"role": "user", "content": user}], tools, family, lang, calls=[call])


def single(rng: random.Random, lang: str) -> Record | None:
    """One request, one call, among the domain's own tools."""
    return _single_call(rng, lang, 0, "single")


def choose(rng: random.Random, lang: str) -> Record | None:
    """One request, one call, among 3-8 tools from several domains."""
    return _single_call(rng, lang, rng.randint(1, 3), "choose")


def _parallel_draw(rng: random.Random) -> tuple[Domain, Task, Said, list[Value]] | None:
    picked = _domain_task(rng, lambda t: _one_step(t) and bool(t.many))
    if picked is None:
        return None
    domain, task = picked
    said = _draw(domain, task, rng, skip=[task.vary])
    pool = domain.pool(task, task.vary)
    values: list[Value] = []
    wanted = rng.choice([2, 2, 3, 4])
    for _ in range(20):
        value = pool(rng)
        if value.en not in {v.en for v in values}:
            values.append(value)
        if len(values) == wanted:
            break
    return (domain, task, said, values) if len(values) >= 2 else None


def parallel(rng: random.Random, lang: str) -> Record | None:
    """One request for several values of the same thing: one call per value, in one answer."""
    drawn = _parallel_draw(rng)
    if drawn is None:
        return None
    domain, task, said, values = drawn
    calls = [_play(task.steps[0], {**said, task.vary: v}, {}, rng, lang, _pools(domain, task))[0] for v in values]
    items = Value(_join([v.en for v in values], "en"), _join([v.vi for v in values], "vi"))
    user = fill(rng.choice(task.many), lang, {**said, "items": items})
    tools = _tools(rng, domain, extra_domains=rng.randint(0, 2))
    return _record([*_opening(rng, lang), {"role": "user", "content": user}], tools, "parallel", lang, calls=calls)


def _two_requests(rng: random.Random, lang: str) -> tuple[list[tuple[Domain, Task, Said]], str] | None:
    """Two one-step requests of different tools in one message."""
    first, second = _domain_task(rng, _one_step), _domain_task(rng, _one_step)
    if first is None or second is None or first[1].steps[0].tool == second[1].steps[0].tool:
        return None
    drawn = [(d, t, _draw(d, t, rng)) for d, t in (first, second)]
    texts = [fill(rng.choice(t.asks), lang, s) for _, t, s in drawn]
    joiner = " Also, " if lang == "en" else " Ngoài ra, "
    return drawn, texts[0] + joiner + _lower_first(texts[1])


def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word looks like a name (capitals after its first letter, or
    a word that is capitalised inside the sentence too) or is English "I"."""
    word = text.split(" ")[0]
    if word == "I" or word.startswith("I'") or len(word) > 1 and (
            any(c.isupper() for c in word[1:]) or f" {word} " in f" {text[len(word):]} "):
        return text
    return text[:1].lower() + text[1:]


def parallel_multiple(rng: random.Random, lang: str) -> Record | None:
    """Two requests of different tools in one message: both calls, in one answer."""
    made = _two_requests(rng, lang)
    if made is None:
        return None
    drawn, user = made
    calls = [_play(t.steps[0], s, {}, rng, lang, _pools(d, t))[0] for d, t, s in drawn]
    (d1, t1, _), (d2, t2, _) = drawn
    tools = _tools(rng, d1, extra_domains=rng.randint(0, 1))
    names = {t["function"]["name"] for t in tools}
    tools += [d2.tool(t2.steps[0].tool)] if t2.steps[0].tool not in names else []
    return _record([*_opening(rng, lang), {"role": "user", "content": user}], tools, "parallel_multiple", lang,
                   calls=calls)


def _played(domain: Domain, task: Task, rng: random.Random, lang: str,
            upto: int) -> tuple[list[dict[str, Any]], Said, dict[str, Any], Said]:
    """The conversation after the first `upto` steps (user, then each call and its result), the slots, and the
    next step's call (or {} when all ran) with the last result's values."""
    said = _draw(domain, task, rng)
    messages: list[dict[str, Any]] = [*_opening(rng, lang), {"role": "user", "content": fill(rng.choice(task.asks), lang, said)}]
    before: Said = {}
    for step in task.steps[:upto]:
        call, data, before = _play(step, said, before, rng, lang, _pools(domain, task))
        messages += [_assistant([call]), _tool_message(data)]
    following = _play(task.steps[upto], said, before, rng, lang, _pools(domain, task))[0] if upto < len(task.steps) else {}
    return messages, said, following, before


def multi_step(rng: random.Random, lang: str) -> Record | None:
    """A look-up-then-act request at one of its steps: the first call, or the action built from the lookup's
    result."""
    picked = _domain_task(rng, lambda t: len(t.steps) > 1)
    if picked is None:
        return None
    domain, task = picked
    messages, _, following, _ = _played(domain, task, rng, lang, rng.randrange(len(task.steps)))
    return _record(messages, _tools(rng, domain, extra_domains=rng.randint(0, 1)), "multi_step", lang,
                   calls=[following])


def _finished(rng: random.Random, lang: str) -> tuple[Domain, Task, list[dict[str, Any]], dict[str, Value],
                                                      dict[str, Value]] | None:
    """A task played to its last tool result: (domain, task, messages, values said, last result), or None."""
    picked = _domain_task(rng)
    if picked is None:
        return None
    domain, task = picked
    messages, said, _, result = _played(domain, task, rng, lang, len(task.steps))
    return domain, task, messages, said, result


def after_result(rng: random.Random, lang: str) -> Record | None:
    """The turn after the last tool result: a short answer stating the result's facts in the user's language."""
    finished = _finished(rng, lang)
    if finished is None:
        return None
    domain, task, messages, said, result = finished
    values = {**said, **result}
    answer = fill(rng.choice(task.tells), lang, values, capital=True)
    facts = [values[key].spellings() for key in task.facts]
    return _record(messages, _tools(rng, domain, extra_domains=rng.randint(0, 1)), "after_result", lang,
                   answer=answer, facts=facts)


def after_parallel(rng: random.Random, lang: str) -> Record | None:
    """The turn after several parallel results: one answer stating each one's facts."""
    drawn = _parallel_draw(rng)
    if drawn is None:
        return None
    domain, task, said, values = drawn
    played = [_play(task.steps[0], {**said, task.vary: v}, {}, rng, lang, _pools(domain, task)) for v in values]
    items = Value(_join([v.en for v in values], "en"), _join([v.vi for v in values], "vi"))
    messages = [*_opening(rng, lang), {"role": "user", "content": fill(rng.choice(task.many), lang, {**said, "items": items})},
                _assistant([call for call, _, _ in played]), *[_tool_message(data) for _, data, _ in played]]
    tell = rng.choice(task.tells)
    parts = [fill(tell, lang, {**said, task.vary: v, **result}, capital=True)
             for v, (_, _, result) in zip(values, played)]
    facts = [result[key].spellings() for _, _, result in played for key in task.facts]
    return _record(messages, _tools(rng, domain), "after_parallel", lang, answer=" ".join(parts), facts=facts)


def after_error(rng: random.Random, lang: str) -> Record | None:
    """The turn after a tool error: the answer says plainly that it failed (and why), calling nothing."""
    finished = _finished(rng, lang)
    if finished is None:
        return None
    domain, _, messages, _, _ = finished
    error = Value(*rng.choice(ERRORS))
    messages[-1] = _tool_message({"error": error.en})
    answer = fill(rng.choice(ERROR_TELLS), lang, {"error": error}, capital=True)
    return _record(messages, _tools(rng, domain), "after_error", lang, answer=answer, facts=[FAILURE_WORDS])


# --- negatives: answered with the refusal sentence ----------------------------------------------------------------


def _negative(rng: random.Random, lang: str, user: str, tools: list[dict[str, Any]], kind: str) -> Record | None:
    if not tools:
        return None
    return _record([*_opening(rng, lang), {"role": "user", "content": user}], tools, kind, lang, negative=kind)


def domain_mismatch(rng: random.Random, lang: str) -> Record | None:
    """A request of one domain, offered only other domains' tools."""
    picked = _domain_task(rng)
    if picked is None:
        return None
    domain, task = picked
    other = rng.choice([d for d in DOMAINS.values() if d.name != domain.name])
    user = fill(rng.choice(task.asks), lang, _draw(domain, task, rng))
    return _negative(rng, lang, user, _tools(rng, other, extra_domains=rng.randint(0, 1),
                                             exclude=[t["function"]["name"] for t in domain.tools]), "domain_mismatch")


def action_mismatch(rng: random.Random, lang: str) -> Record | None:
    """A request of a domain whose tool for it is left out: its siblings do other things."""
    picked = _domain_task(rng, _one_step)
    if picked is None or len(picked[0].tools) < 2:
        return None
    domain, task = picked
    user = fill(rng.choice(task.asks), lang, _draw(domain, task, rng))
    return _negative(rng, lang, user, _tools(rng, domain, exclude=[task.steps[0].tool]), "action_mismatch")


def partial_fulfilment(rng: random.Random, lang: str) -> Record | None:
    """Two requests in one message, with a tool for only one of them."""
    made = _two_requests(rng, lang)
    if made is None:
        return None
    drawn, user = made
    (d1, t1, _), (d2, t2, _) = drawn
    missing = d2.tool(t2.steps[0].tool)["function"]["name"]
    return _negative(rng, lang, user, _tools(rng, d1, [t1.steps[0].tool], exclude=[missing]), "partial_fulfilment")


def permission(rng: random.Random, lang: str) -> Record | None:
    """A request whose tool says the current user may not use it."""
    picked = _domain_task(rng, _one_step)
    if picked is None:
        return None
    domain, task = picked
    user = fill(rng.choice(task.asks), lang, _draw(domain, task, rng))
    name = task.steps[0].tool
    tools = [t for t in _tools(rng, domain) if t["function"]["name"] == name or rng.random() < 0.5]
    locked = [{"type": "function", "function": {**t["function"], "description": t["function"]["description"]
                                                 + NO_PRIVILEGE}} if t["function"]["name"] == name else t for t in tools]
    return _negative(rng, lang, user, locked, "permission")


def format_mismatch(rng: random.Random, lang: str) -> Record | None:
    """A request near the domain asking for a unit, format or action its tools do not offer."""
    domain = rng.choice([d for d in DOMAINS.values() if d.unserved])
    phrase = rng.choice(domain.unserved)
    said = {name: domain.slots[name](rng) for text in phrase for name in _fields(text)}
    return _negative(rng, lang, fill(phrase, lang, said), _tools(rng, domain), "format_mismatch")


def unrelated(rng: random.Random, lang: str) -> Record | None:
    """A request no tool serves (chit-chat, knowledge, writing), with some domain's tools offered."""
    domain = rng.choice(list(DOMAINS.values()))
    user = rng.choice(UNRELATED)[LANGUAGES.index(lang)]
    return _negative(rng, lang, user, _tools(rng, domain, extra_domains=rng.randint(0, 1)), "unrelated")


FAMILIES: dict[str, Family] = {
    "single": single,
    "choose": choose,
    "parallel": parallel,
    "parallel_multiple": parallel_multiple,
    "multi_step": multi_step,
    "after_result": after_result,
    "after_parallel": after_parallel,
    "after_error": after_error,
    "domain_mismatch": domain_mismatch,
    "action_mismatch": action_mismatch,
    "partial_fulfilment": partial_fulfilment,
    "permission": permission,
    "format_mismatch": format_mismatch,
    "unrelated": unrelated,
}
# Default shares: calls first (a third single/choose), a quarter after results, a fifth negatives.
MIX: dict[str, float] = {
    "single": 0.10, "choose": 0.16, "parallel": 0.12, "parallel_multiple": 0.08, "multi_step": 0.10,
    "after_result": 0.14, "after_parallel": 0.04, "after_error": 0.04,
    "domain_mismatch": 0.04, "action_mismatch": 0.04, "partial_fulfilment": 0.03, "permission": 0.03,
    "format_mismatch": 0.04, "unrelated": 0.04,
}


def generate(n: int, seed: int = 0, mix: Mapping[str, float] | None = None) -> list[Record]:
    """`n` distinct records alternating English and Vietnamese, families drawn by `mix` (default MIX); fewer only
    if the domains run out of distinct values. Deterministic for a seed."""
    import edgefc.train.data.families.domains  # noqa: F401  (registers every domain)

    mix = dict(mix or MIX)
    unknown = sorted(set(mix) - set(FAMILIES))
    if unknown:
        raise ValueError(f"unknown families {unknown}; known: {sorted(FAMILIES)}")
    rng = random.Random(seed)
    names, weights = list(mix), list(mix.values())
    records: list[Record] = []
    seen: set[str] = set()
    for _ in range(n * MAX_TRIES_PER_RECORD):
        if len(records) >= n:
            break
        lang = LANGUAGES[len(records) % len(LANGUAGES)]
        record = FAMILIES[rng.choices(names, weights)[0]](rng, lang)
        if record is not None and record.key not in seen:
            seen.add(record.key)
            records.append(record)
    return records
