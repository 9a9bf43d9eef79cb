"""The GRPO rewards (format, correctness, refusal, efficiency, answer) and the batch metrics the trainer logs.

Each reward has TRL's signature: `f(completions, calls, tools=None, answer=None, facts=None, **kwargs) ->
list[float | None]`, where `completions` are texts or conversational `[[{"role": "assistant", "content": ...}]]`, and
`calls` / `tools` / `answer` / `facts` / `language` are the dataset's columns (JSON strings, or lists already decoded).
Every answer is read by `edgefc.protocol.parse.parse`, the one reader of the protocol. Stage weights live in the
recipes, not here.

What a row is due: calls when `calls` is non-empty; a text answer when it has none but has a reference `answer` or
`facts` (the turn after a tool result or error: state the result); otherwise the refusal sentence. Without `answer`
and `facts` columns, a row with no calls is a negative (as before text answers existed).

None means "not scored" to TRL; it is used only where a reward has nothing to say for the whole group (correctness
where no call is due, the answer reward where no text answer is), never for single answers: under
`normalize_then_sum` an unscored answer is left out of its group's normalization and adds 0, which would rank it above
the scored answers that fall below the group mean.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, NamedTuple

from edgefc.bfcl.checker import standardize
from edgefc.protocol.facts import stated_share
from edgefc.protocol.parse import REFUSAL, TAGS, ParseResult, ToolCall, format_tool_calls, parse
from edgefc.train.data.record import column_value, language_of

Completion = str | list[dict[str, Any]]
Reward = Callable[..., list[float | None]]

# --- format: the reference form earns 1; the forms the tolerant parser also reads earn partial credit -------------
# The embedded model fences every call and never samples <tool_call> (its output row is untrained), so a reward
# paying only for tags is 0 for a whole group and gives GRPO no signal. Paying part for a call the parser can read
# ranks "readable call" above "no call", and the gap up to 1.0 is the pull towards the tags. A fence ranks above
# bare JSON because it is the tag form with other markers (marker, JSON line, closing marker): one substitution away.
FORMAT_CREDIT: dict[str, float] = {"tool_call": 1.0, "json_fence": 0.5, "json": 0.3}
# The refusal sentence inside other words is still read as a refusal, but is not the reference answer.
WORDY_REFUSAL_CREDIT = 0.5
# A call with prose around it, beside a snippet that failed to parse, or whose <tool_call> is never closed (BFCL's
# decoding reads no call from it; measured: the warmed-up 0.5B left some open) keeps half its form's credit.
UNTIDY_FACTOR = 0.5

# --- correctness: per expected call, matched by name, order-free ------------------------------------------------
# Choosing the tool is the first decision, but a call is only useful with the right arguments: the name earns
# this share of a matched call's score, the argument similarity the rest.
NAME_CREDIT = 0.3
# A value that is right but of the wrong JSON type ("5" for 5, "true" for true): half credit, a gradient towards it.
TYPE_SLIP_CREDIT = 0.5

# --- refusal --------------------------------------------------------------------------------------------------
RIGHT_REFUSAL = 1.0  # a refusal due and the refusal sentence
FALSE_CALL = -1.0  # a refusal or a text answer due, and a call
FALSE_REFUSAL = -1.0  # a call or a text answer due, and the answer refused
# Truth [] and a non-empty answer with no call (a decline in other words): BFCL's irrelevance check passes it,
# so it earns part of the right refusal; an empty answer earns nothing.
NO_CALL_TEXT_CREDIT = 0.5

# --- efficiency -----------------------------------------------------------------------------------------------
# Length budget: this many times the length of the reference answer (the canonical text of the true calls, or the
# refusal sentence), in characters, so it needs no tokenizer and reads text and conversational completions alike.
# Beyond it the reward is budget / length: a smooth pull towards short answers at any length.
LENGTH_BUDGET = 1.0
THINK_FACTOR = 0.5  # any <think> block halves the reward (its text also counts in the length)

# --- answer: the text answer after a tool result ----------------------------------------------------------------
# The facts stated carry the reward (their share, so one of two facts is half); the rest is a light pull.
ANSWER_FALSE_CALL = -1.0  # a call where the result was to be told: the loop an agent must not fall into
WRONG_LANGUAGE_FACTOR = 0.8  # answered in another language than the user's
# Shortness: beyond ANSWER_LENGTH_BUDGET x the reference answer's length (characters), the score is scaled by
# sqrt(budget / length), never below ANSWER_LENGTH_FLOOR: an answer stating every fact at any length beats one stating
# fewer briefly, and of two right answers the shorter wins.
ANSWER_LENGTH_BUDGET = 1.5
ANSWER_LENGTH_FLOOR = 0.5
ANSWER_REFERENCE_LENGTH = 80  # characters, for a row with facts but no reference answer
_WORD = re.compile(r"\w+")


def format_reward(completions: Sequence[Completion], calls: Sequence[Any], tools: Sequence[Any] | None = None,
                  answer: Sequence[Any] | None = None, facts: Sequence[Any] | None = None,
                  **kwargs: Any) -> list[float | None]:
    """How close each answer's form is to the protocol: 1 for <tool_call> blocks or exactly the refusal sentence,
    and for plain text where a text answer is due.

    Form only: whether a call or the refusal was due is the refusal reward's question, <think> the efficiency's.
    """
    return [_format_score(row.result, row.due) for row in _rows(completions, calls, tools, answer, facts)]


def correctness_reward(completions: Sequence[Completion], calls: Sequence[Any], tools: Sequence[Any] | None = None,
                       **kwargs: Any) -> list[float | None]:
    """Calls against the truth in [0, 1] (names, then arguments; extra and missing calls dilute); None where no call
    is due (negatives, text answers)."""
    return [_calls_score(row.result.calls, row.truth, row.tools) if row.truth else None
            for row in _rows(completions, calls, tools)]


def refusal_reward(completions: Sequence[Completion], calls: Sequence[Any], tools: Sequence[Any] | None = None,
                   answer: Sequence[Any] | None = None, facts: Sequence[Any] | None = None,
                   **kwargs: Any) -> list[float | None]:
    """+1 the refusal on a negative, -1 a call on a negative or where a text answer is due, -1 a refusal where a call
    or a text answer is due, else 0."""
    return [_refusal_score(row.result, row.due) for row in _rows(completions, calls, tools, answer, facts)]


def efficiency_reward(completions: Sequence[Completion], calls: Sequence[Any], tools: Sequence[Any] | None = None,
                      answer: Sequence[Any] | None = None, facts: Sequence[Any] | None = None,
                      **kwargs: Any) -> list[float | None]:
    """Shortness without <think>, in [0, 1], paid only for the kind of answer due (a valid call, the exact refusal,
    text), against the length of the reference answer."""
    return [_efficiency_score(row) for row in _rows(completions, calls, tools, answer, facts)]


def answer_reward(completions: Sequence[Completion], calls: Sequence[Any], tools: Sequence[Any] | None = None,
                  answer: Sequence[Any] | None = None, facts: Sequence[Any] | None = None,
                  language: Sequence[str] | None = None, **kwargs: Any) -> list[float | None]:
    """The text answer after a tool result: the share of its facts stated (diacritics and case folded), lightly
    pulled to the user's language and to brevity; ANSWER_FALSE_CALL for a call, 0 for the refusal or nothing.
    None where no text answer is due."""
    rows = list(_rows(completions, calls, tools, answer, facts))
    languages = [None] * len(rows) if language is None else list(language)
    return [_answer_score(row, lang) if row.due == "text" else None for row, lang in zip(rows, languages, strict=True)]


REWARDS: dict[str, Reward] = {
    "format": format_reward,
    "correctness": correctness_reward,
    "refusal": refusal_reward,
    "efficiency": efficiency_reward,
    "answer": answer_reward,
}


def batch_metrics(completions: Sequence[Completion], calls: Sequence[Any], tools: Sequence[Any] | None = None,
                  answer: Sequence[Any] | None = None, facts: Sequence[Any] | None = None) -> dict[str, float]:
    """What to watch beside the rewards: false calls on negatives, false refusals on positives, calls where a text
    answer was due, tag use, length.

    A false refusal is the refusal sentence (other no-call text is not counted); the length is in characters.
    A rate whose denominator is 0 in this batch is NaN; the counts come along so a logger can pool batches.
    """
    rows = list(_rows(completions, calls, tools, answer, facts))
    negatives = [row.result for row in rows if row.due == "refusal"]
    positives = [row.result for row in rows if row.due == "calls"]
    answers = [row.result for row in rows if row.due == "text"]
    call_answers = [row.result for row in rows if row.result.calls]
    return {
        "false_call_rate": _rate(sum(bool(r.calls) for r in negatives), len(negatives)),
        "false_refusal_rate": _rate(sum(r.kind == "refusal" for r in positives), len(positives)),
        "answer_call_rate": _rate(sum(bool(r.calls) for r in answers), len(answers)),
        "tag_rate": _rate(sum(r.format == "tool_call" for r in call_answers), len(call_answers)),
        "think_rate": _rate(sum(_thinks(row.text) for row in rows), len(rows)),
        "mean_completion_length": _rate(sum(len(row.text) for row in rows), len(rows)),
        "negatives": float(len(negatives)),
        "positives": float(len(positives)),
        "answers": float(len(answers)),
        "call_answers": float(len(call_answers)),
    }


# --- reading the inputs -----------------------------------------------------------------------------------------


def completion_text(completion: Completion) -> str:
    """The text of one completion: a str as is, or the content of a conversational completion's messages.

    Calls that a chat template's response parser already took out (`tool_calls`) are written back as
    <tool_call> blocks, the form they were parsed from.
    """
    if isinstance(completion, str):
        return completion
    pieces = []
    for message in completion:
        pieces.append(message.get("content") or "")
        pieces.extend(f"{TAGS['call_open']}\n{json.dumps(call, ensure_ascii=False)}\n{TAGS['call_close']}"
                      for call in message.get("tool_calls") or [])
    return "\n".join(piece for piece in pieces if piece)


Due = Literal["calls", "refusal", "text"]


class _Row(NamedTuple):
    """One completion: its text, parsed with its row's tools, beside what was due (true calls, or the reference text
    answer and its facts)."""

    text: str
    result: ParseResult
    truth: list[ToolCall]
    tools: list[Any] | None
    answer: str = ""
    facts: list[list[str]] = []

    @property
    def due(self) -> Due:
        """The kind of answer due: calls, a text answer (after a tool result), or the refusal."""
        return "calls" if self.truth else "text" if self.answer or self.facts else "refusal"


def _rows(completions: Sequence[Completion], calls: Sequence[Any], tools: Sequence[Any] | None,
          answer: Sequence[Any] | None = None, facts: Sequence[Any] | None = None) -> Iterator[_Row]:
    """The rows of a batch, columns decoded (tools None: no tools column, nothing flagged as unknown; answer and facts
    None: no text answer is due anywhere)."""
    count = len(completions)
    row_tools = [None] * count if tools is None else tools
    answers = [""] * count if answer is None else answer
    row_facts = [None] * count if facts is None else facts
    for completion, truth, offered, reference, stated in zip(completions, calls, row_tools, answers, row_facts,
                                                             strict=True):
        text = completion_text(completion)
        offered = column_value(offered)
        yield _Row(text, parse(text, offered), column_value(truth), offered, reference or "",
                   column_value(stated) or [])


# --- format -----------------------------------------------------------------------------------------------------


def _format_score(result: ParseResult, due: Due = "refusal") -> float:
    """The form's credit: FORMAT_CREDIT for calls (halved when untidy), 1 or WORDY_REFUSAL_CREDIT for a refusal;
    where a text answer is due, 1 for plain text (halved beside a call-looking snippet that failed to parse)."""
    if result.calls:
        credit = FORMAT_CREDIT[result.format]
        return credit * UNTIDY_FACTOR if result.content or result.errors or result.unclosed_calls else credit
    if result.refusal:
        return 1.0 if result.content == REFUSAL else WORDY_REFUSAL_CREDIT
    if due == "text" and result.content:
        return UNTIDY_FACTOR if result.errors else 1.0
    return 0.0


# --- correctness ------------------------------------------------------------------------------------------------


def _calls_score(predicted: list[ToolCall], expected: list[ToolCall], tools: Any) -> float:
    """Matched calls' scores summed over the larger of the two counts, so extra and missing calls both dilute.

    Matching is order-free: greedily, best-scoring same-name pair first (exact for the usual one or two calls
    per name).
    """
    defaults = _defaults(tools)
    pairs = sorted(((_call_score(p, e, defaults.get(e["name"], {})), i, j)
                    for i, p in enumerate(predicted) for j, e in enumerate(expected) if p["name"] == e["name"]),
                   reverse=True)
    used_predicted: set[int] = set()
    used_expected: set[int] = set()
    total = 0.0
    for score, i, j in pairs:
        if i not in used_predicted and j not in used_expected:
            used_predicted.add(i)
            used_expected.add(j)
            total += score
    return total / max(len(predicted), len(expected))


def _call_score(predicted: ToolCall, expected: ToolCall, defaults: dict[str, Any]) -> float:
    """One same-name pair: NAME_CREDIT plus the rest scaled by argument similarity."""
    return NAME_CREDIT + (1.0 - NAME_CREDIT) * _arguments_score(predicted["arguments"], expected["arguments"], defaults)


def _arguments_score(given: dict[str, Any], expected: dict[str, Any], defaults: dict[str, Any]) -> float:
    """Value scores summed over the union of keys: a missing or extra key scores 0 and widens the union.

    An extra key set to its schema default is not counted (the truth often leaves defaults out; BFCL treats such
    parameters as optional).
    """
    extra = [key for key in given if key not in expected
             and not (key in defaults and _normal(given[key]) == _normal(defaults[key]))]
    keys = [*expected, *extra]
    if not keys:
        return 1.0
    return sum(_value_score(given[key], expected[key]) for key in expected if key in given) / len(keys)


def _value_score(given: Any, expected: Any) -> float:
    """1 for equal values (BFCL-standardized strings, 1 == 1.0, bools apart), key-wise similarity for two objects,
    TYPE_SLIP_CREDIT for the right value as a string or the string as a scalar, else 0."""
    if _normal(given) == _normal(expected):
        return 1.0
    if isinstance(given, dict) and isinstance(expected, dict):
        return _arguments_score(given, expected, {})
    if _same_scalar(given, expected) or _same_scalar(expected, given):
        return TYPE_SLIP_CREDIT
    return 0.0


def _normal(value: Any) -> Any:
    """A value in comparable form: strings standardized as BFCL does, numbers as floats, bools kept apart."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, (int, float)):
        return ("number", float(value))
    if isinstance(value, str):
        return ("string", standardize(value))
    if isinstance(value, list):
        return ("list", tuple(_normal(item) for item in value))
    if isinstance(value, dict):
        return ("object", tuple(sorted((str(key), _normal(item)) for key, item in value.items())))
    return ("other", repr(value))


def _same_scalar(text: Any, value: Any) -> bool:
    """Whether a string spells a number, bool or null of the other side ("5" and 5, "true" and True)."""
    if not isinstance(text, str) or isinstance(value, str):
        return False
    spelled = text.strip().lower()
    if isinstance(value, bool) or value is None:
        return spelled == json.dumps(value) or (value is None and spelled == "none")
    if isinstance(value, (int, float)):
        try:
            return float(spelled) == value
        except ValueError:
            return False
    return False


def _defaults(tools: Any) -> dict[str, dict[str, Any]]:
    """Each offered tool's parameter defaults, by tool name (canonical OpenAI tools; other shapes give none)."""
    found: dict[str, dict[str, Any]] = {}
    for tool in tools or []:
        function = tool.get("function", tool) if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            continue
        properties = (function.get("parameters") or {}).get("properties") or {}
        found[function["name"]] = {key: spec["default"] for key, spec in properties.items()
                                   if isinstance(spec, dict) and "default" in spec}
    return found


# --- refusal ----------------------------------------------------------------------------------------------------


def _refusal_score(result: ParseResult, due: Due) -> float:
    """The refusal decision against what was due (see the constants). Where a text answer is due, text earns 0 here
    (the answer reward judges it); the refusal and a call are both wrong."""
    if due == "calls":
        return FALSE_REFUSAL if result.kind == "refusal" else 0.0
    if result.calls:
        return FALSE_CALL
    if due == "text":
        return FALSE_REFUSAL if result.refusal else 0.0
    if result.refusal:
        return RIGHT_REFUSAL
    return NO_CALL_TEXT_CREDIT if result.content else 0.0


# --- efficiency -------------------------------------------------------------------------------------------------


def _efficiency_score(row: _Row) -> float:
    """min(1, budget / length), times THINK_FACTOR with <think>; 0 unless the answer is of the kind due.

    The kind due is a valid call (parsed cleanly, offered tools only) where calls are true, plain text where a text
    answer is, the exact refusal where neither is: the refusal is the shortest answer there is, and must not win on
    length where a call or an answer was due. The budget is the reference answer's length.
    """
    result = row.result
    if row.due == "calls":
        due, reference = _valid_call(result), len(format_tool_calls(row.truth))
    elif row.due == "text":
        due, reference = result.kind == "text" and not result.errors, _reference_length(row)
    else:
        due, reference = result.kind == "refusal" and result.content == REFUSAL, len(REFUSAL)
    if not due:
        return 0.0
    length = len(row.text.strip())
    score = min(1.0, LENGTH_BUDGET * reference / length)
    return score * THINK_FACTOR if _thinks(row.text) else score


# --- answer -----------------------------------------------------------------------------------------------------


def _answer_score(row: _Row, language: str | None) -> float:
    """A text answer due: ANSWER_FALSE_CALL for a call, 0 for the refusal or nothing, else the share of facts stated,
    times WRONG_LANGUAGE_FACTOR off the user's language and the length factor (see the constants)."""
    result = row.result
    if result.calls:
        return ANSWER_FALSE_CALL
    if result.refusal or not result.content:
        return 0.0
    share = stated_share(result.content, row.facts)
    said = _language(result.content, row.facts)
    if language and said and said != language:
        share *= WRONG_LANGUAGE_FACTOR
    budget = ANSWER_LENGTH_BUDGET * _reference_length(row)
    return share * max(ANSWER_LENGTH_FLOOR, min(1.0, budget / len(result.content)) ** 0.5)


def _language(text: str, facts: Sequence[Sequence[str]]) -> str | None:
    """The language the answer is written in, judged on its words other than the facts' own spellings (an English
    answer naming "Đà Nẵng" stays English); None when fewer than two words are left to judge (facts, numbers and
    units alone are no language's)."""
    for spellings in facts:
        for spelling in sorted(map(str, spellings), key=len, reverse=True):
            if spelling.strip():
                text = re.sub(re.escape(spelling), " ", text, flags=re.IGNORECASE)
    words = [word for word in _WORD.findall(text) if len(word) > 1 and not word.isdigit()]  # not units ("°C")
    return language_of(" ".join(words)) if len(words) >= 2 else None


def _reference_length(row: _Row) -> int:
    """The length, in characters, a text answer is measured against: the reference answer's."""
    return len(row.answer.strip()) or ANSWER_REFERENCE_LENGTH


def _valid_call(result: ParseResult) -> bool:
    """Calls parsed with no failed snippet and no call to a tool that was not offered."""
    return bool(result.calls) and not result.errors and not result.unknown_tools


def _thinks(text: str) -> bool:
    """Whether the answer opened or closed a <think> block."""
    return TAGS["think_open"] in text or TAGS["think_close"] in text


def _rate(count: float, total: int) -> float:
    """count / total, NaN when there is nothing to count."""
    return count / total if total else math.nan
