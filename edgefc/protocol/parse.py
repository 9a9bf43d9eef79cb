"""Model text -> tool calls, refusal, plain text and thinking.

The agent, the benchmark, the training rewards and the export checks all read model output through
`parse`, so it is exact on the reference format, tolerant of the usual deviations and never raises.

Reference format: one `<tool_call>{"name": ..., "arguments": {...}}</tool_call>` block per call, and the
refusal sentence `REFUSAL`. Also understood: a JSON list inside one block, ```json fences (Qwen2.5-Coder),
bare JSON, OpenAI `{"type": "function", "function": {...}}` nesting, `parameters` for `arguments`,
arguments as a JSON string, Python-literal dicts, trailing commas and stray closing brackets.

It never invents a call: JSON outside `<tool_call>` tags counts as a call only in the shape models really
write calls in (a name *and* arguments, or OpenAI's function nesting), so `{"name": "Alice"}` stays text;
and when the offered tools are given, a call to any other name is kept but listed in `unknown_tools`.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, NamedTuple, TypedDict

REFUSAL = "None of the provided tools can answer this question."

Format = Literal["tool_call", "json_fence", "json", "tool_calls", "none"]  # tool_calls: an API returned them
Kind = Literal["calls", "refusal", "text", "empty"]

# The tags of the protocol, by the grammar's rule names (edgefc.protocol.grammar writes them, this module reads them).
TAGS: dict[str, str] = {"call_open": "<tool_call>", "call_close": "</tool_call>",
                        "think_open": "<think>", "think_close": "</think>"}
_THINK_OPEN, _THINK_CLOSE = TAGS["think_open"], TAGS["think_close"]
_CALL_OPEN, _CALL_CLOSE = TAGS["call_open"], TAGS["call_close"]
_FENCE = "```"
_FENCE_LABEL = re.compile(r"[ \t]*[\w+.-]*")
_CALL_FENCE_LABELS = frozenset({"", "json", "tool_call"})
_CALL_KEYS = frozenset({"name", "arguments", "parameters", "function", "type", "id"})
_CALL_TAG = re.compile(re.escape(_CALL_CLOSE) + "|" + re.escape(_CALL_OPEN))
_FENCE_MARK = re.compile(re.escape(_FENCE))
_JSON_START = re.compile(r"\s*[\[{]")
_WHITESPACE = re.compile(r"\s*")
_JSON_OPENER = re.compile(r"\{|\[\s*\{")
_STRING_OR_TRAILING_COMMA = re.compile(r'"(?:\\.|[^"\\])*"|,(\s*[}\]])', re.DOTALL)
_DECODER = json.JSONDecoder(strict=False)
_REFUSAL_KEY = " ".join(REFUSAL.lower().rstrip(".").split())
_MAX_SOURCE = 200
_MAX_LITERAL = 20_000
_MAX_SCAN = 200
_MAX_STOPS_IN_STRINGS = 32
_PYTHONISH = re.compile(r"'|\b(?:True|False|None)\b")


class ToolCall(TypedDict):
    """One function call: the tool's name and its JSON-object arguments."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ParseError:
    """A call-looking snippet that could not become a call, and why."""

    source: str
    reason: str


@dataclass(frozen=True)
class ParseResult:
    """What a model said: calls, refusal, text and thinking, plus what failed to parse."""

    calls: list[ToolCall]
    content: str
    think: list[str]
    refusal: bool
    format: Format
    errors: list[ParseError]
    unknown_tools: list[str] = field(default_factory=list)  # called names not among the offered tools
    unclosed_calls: int = 0  # <tool_call> blocks no </tool_call> closed: BFCL's own decoding reads no call there

    @property
    def kind(self) -> Kind:
        """The answer's kind: "calls", "refusal", "text" or "empty"."""
        if self.calls:
            return "calls"
        if self.refusal:
            return "refusal"
        return "text" if self.content else "empty"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy, with `kind` included."""
        return {"kind": self.kind, **asdict(self)}


class _Invalid(ValueError):
    """A call-looking snippet that cannot become a call; the message is the reason."""


class _Found(NamedTuple):
    """Calls found in a text, the text left around them, and what failed."""

    calls: list[ToolCall]
    content: str
    errors: list[ParseError]
    unclosed: int = 0  # <tool_call> blocks without their </tool_call>


def parse(text: object, tools: Iterable[Any] | None = None) -> ParseResult:
    """Parse raw model output into calls / refusal / text / thinking; never raises (non-str reads as "").

    `tools` (names, or tool definitions in any form with a name) flags calls to names not offered.
    """
    raw = text if isinstance(text, str) else ""
    try:
        result = _parse(raw)
    except Exception as exc:  # noqa: BLE001 - the contract is "never raise"; reported, not hidden
        return ParseResult([], raw.strip(), [], False, "none", [_error(raw, f"internal parser error: {exc!r}")])
    if tools is None or not result.calls:
        return result
    offered = _offered_names(tools)
    unknown = [name for name in dict.fromkeys(c["name"] for c in result.calls) if name not in offered]
    return replace(result, unknown_tools=unknown)


def _offered_names(tools: Iterable[Any]) -> set[str]:
    """The names of offered tools, given as names or as definitions (OpenAI, bare, BFCL, xLAM forms)."""
    names = set()
    for tool in tools or []:
        if isinstance(tool, str):
            names.add(tool)
        elif isinstance(tool, dict):
            inner = tool.get("function") if isinstance(tool.get("function"), dict) else tool
            if isinstance(inner.get("name"), str):
                names.add(inner["name"])
        elif callable(tool) and hasattr(tool, "__name__"):
            names.add(tool.__name__)
    return names


def to_bfcl(calls: Iterable[ToolCall]) -> list[dict[str, dict[str, Any]]]:
    """Calls in BFCL's decoded form: [{name: {argument: value}}]."""
    return [{call["name"]: call["arguments"]} for call in calls]


def format_tool_calls(calls: Iterable[ToolCall]) -> str:
    """The canonical text for calls: one <tool_call> block per call, JSON on its own line, joined by newlines."""
    return "\n".join(
        f"{_CALL_OPEN}\n"
        f"{json.dumps({'name': call['name'], 'arguments': call['arguments']}, ensure_ascii=False)}\n"
        f"{_CALL_CLOSE}"
        for call in calls
    )


# --- Canonical calls in text that is still growing (a server streaming an answer made under the tool grammar) ---

_CANONICAL_HEAD = re.compile(re.escape(_CALL_OPEN) + r'\n\{"name": ("(?:\\.|[^"\\])*"), "arguments": ')
_CANONICAL_TAIL = "}\n" + _CALL_CLOSE  # what follows a call's arguments in format_tool_calls' text


class PartialCall(NamedTuple):
    """One call read from canonical text: its name, its arguments' text so far, and whether the call is closed."""

    name: str
    arguments: str
    closed: bool


def is_call_text(text: str) -> bool | None:
    """Whether an answer is calls (True) or text (False); None while its start could still be either."""
    head = text.lstrip()
    if not head:
        return None
    if head.startswith(_CALL_OPEN):
        return True
    return None if _CALL_OPEN.startswith(head) else False


def read_calls(text: str) -> list[PartialCall]:
    """The calls in canonical call text (format_tool_calls' form, which the grammar enforces), the last possibly
    still open: its arguments' text is cut where the closing `}` + `</tool_call>` could begin, so what is returned
    is always a prefix of the final arguments."""
    calls = []
    for match in _CANONICAL_HEAD.finditer(text):
        start = match.end()
        end = text.find("\n" + _CALL_CLOSE, start)
        if end >= 0:
            calls.append(PartialCall(json.loads(match.group(1)), text[start:end - 1], True))
            continue
        rest = text[start:]
        held = next((n for n in range(min(len(rest), len(_CANONICAL_TAIL)), 0, -1)
                     if _CANONICAL_TAIL.startswith(rest[-n:])), 0)
        calls.append(PartialCall(json.loads(match.group(1)), rest[: len(rest) - held], False))
    return calls


def _parse(text: str) -> ParseResult:
    """The whole parse, on a str."""
    rest, think = _split_think(text)
    found, fmt = _find_calls(rest)
    content = found.content.replace(_CALL_CLOSE, "").strip()
    refusal = not found.calls and _says_refusal(content)
    return ParseResult(found.calls, content, think, refusal, fmt if found.calls else "none", found.errors,
                       unclosed_calls=found.unclosed)


def _split_think(text: str) -> tuple[str, list[str]]:
    """Remove closed, unclosed and closing-only <think> blocks; returns the rest and the non-empty thoughts."""
    thoughts: list[str] = []
    opening, closing = text.find(_THINK_OPEN), text.find(_THINK_CLOSE)
    if closing != -1 and (opening == -1 or closing < opening):
        thoughts.append(text[:closing])
        text = text[closing + len(_THINK_CLOSE) :]
    pieces: list[str] = []
    pos = 0
    while (start := text.find(_THINK_OPEN, pos)) != -1:
        pieces.append(text[pos:start])
        inner = start + len(_THINK_OPEN)
        end = text.find(_THINK_CLOSE, inner)
        thoughts.append(text[inner:] if end == -1 else text[inner:end])
        pos = len(text) if end == -1 else end + len(_THINK_CLOSE)
    pieces.append(text[pos:])
    rest = "".join(pieces).replace(_THINK_CLOSE, "")
    return rest, [thought.strip() for thought in thoughts if thought.strip()]


def _find_calls(text: str) -> tuple[_Found, Format]:
    """Calls from <tool_call> blocks, else from fences, else (with no tags at all) from bare JSON.

    Fences still count when tags are present but yield no call: prose may mention "<tool_call>".
    """
    tagged = _parse_tagged(text) if _CALL_OPEN in text else None
    if tagged is not None and tagged.calls:
        return tagged, "tool_call"
    fenced = _parse_fences(text)
    if fenced.calls:
        return fenced, "json_fence"
    if tagged is not None:
        return tagged, "tool_call"
    bare = _parse_bare(text)
    return _Found(bare.calls, bare.content, fenced.errors + bare.errors), "json"


def _says_refusal(content: str) -> bool:
    """Whether the refusal sentence occurs, ignoring case, spacing and the final period."""
    return _REFUSAL_KEY in " ".join(content.lower().split())


# <tool_call> blocks


def _parse_tagged(text: str) -> _Found:
    """Calls from every <tool_call> block; the blocks are cut out of the content."""
    stops = [match.start() for match in _CALL_TAG.finditer(text)]
    calls: list[ToolCall] = []
    errors: list[ParseError] = []
    pieces: list[str] = []
    pos = unclosed = 0
    while (start := text.find(_CALL_OPEN, pos)) != -1:
        pieces.append(text[pos:start])
        found, error, pos, closed = _tagged_block(text, start + len(_CALL_OPEN), stops)
        calls.extend(found)
        errors.extend([error] if error else [])
        unclosed += not closed
    pieces.append(text[pos:])
    return _Found(calls, "".join(pieces), errors, unclosed)


def _tagged_block(text: str, body_start: int,
                  stops: list[int]) -> tuple[list[ToolCall], ParseError | None, int, bool]:
    """One block's calls or error, where the text resumes after it (its </tool_call>, the next <tool_call>), and
    whether its </tool_call> was there."""
    end = _block_end(text, body_start, stops)
    source = text[body_start:end]
    closed = text.startswith(_CALL_CLOSE, end)
    resume = end + len(_CALL_CLOSE) if closed else end
    try:
        calls = _calls_from(_loads(_unfence(source)))
    except _Invalid as exc:
        return [], _error(source, str(exc)), resume, closed
    return calls, None, resume, closed


def _block_end(text: str, body_start: int, stops: list[int]) -> int:
    """Where a body ends: the first stop (tag or fence) after it, or a later one if the earlier sit in a JSON string.

    A later stop is taken only while the body is cut inside a string and only once it decodes, so
    "</tool_call>" inside an argument survives but a broken block never swallows the next one.
    With no stop after it, an unclosed body ends with its JSON value (text after that is content).
    """
    first = bisect_left(stops, body_start)
    candidates = stops[first : first + _MAX_STOPS_IN_STRINGS]
    if not candidates:
        return _json_end(text, body_start)
    if not _JSON_START.match(text, body_start):
        return candidates[0]
    for stop in candidates:
        try:
            _DECODER.decode(text[body_start:stop])
        except (ValueError, RecursionError) as exc:
            if not str(exc).startswith("Unterminated string"):
                break
        else:
            return stop
    return candidates[0]


def _json_end(text: str, start: int) -> int:
    """Where the JSON value at text[start:] ends, or the end of the text if none decodes there."""
    try:
        return _DECODER.raw_decode(text, _WHITESPACE.match(text, start).end())[1]
    except (ValueError, RecursionError):
        return len(text)


def _unfence(body: str) -> str:
    """A block body without a ``` fence around it."""
    body = body.strip()
    if not body.startswith(_FENCE):
        return body
    inner = body[_FENCE_LABEL.match(body, len(_FENCE)).end() :]
    return inner[: -len(_FENCE)] if inner.endswith(_FENCE) else inner


# ``` fences and bare JSON


def _parse_fences(text: str) -> _Found:
    """Calls from ```json / ``` / ```tool_call fences; only fences that held calls are cut out."""
    stops = [match.start() for match in _FENCE_MARK.finditer(text)]
    calls: list[ToolCall] = []
    errors: list[ParseError] = []
    pieces: list[str] = []
    kept = pos = 0
    while (start := text.find(_FENCE, pos)) != -1:
        found, error, pos = _fence_block(text, start, stops)
        errors.extend([error] if error else [])
        if found:
            calls.extend(found)
            pieces.append(text[kept:start])
            kept = pos
    pieces.append(text[kept:])
    return _Found(calls, "".join(pieces), errors)


def _fence_block(text: str, start: int, stops: list[int]) -> tuple[list[ToolCall], ParseError | None, int]:
    """One fence's calls or error, and where the text resumes after it (an unclosed fence runs to the end)."""
    body_start = _FENCE_LABEL.match(text, start + len(_FENCE)).end()
    label = text[start + len(_FENCE) : body_start].strip().lower()
    close = _block_end(text, body_start, stops)
    resume = close + len(_FENCE) if text.startswith(_FENCE, close) else close
    if label not in _CALL_FENCE_LABELS:
        return [], None, resume
    body = text[body_start:close]
    try:
        return _shaped_calls(_loads(body)), None, resume
    except _Invalid as exc:
        looks_like_call = label == "tool_call" or _mentions_call(body)
        return [], _error(body, str(exc)) if looks_like_call else None, resume


def _parse_bare(text: str) -> _Found:
    """Calls written as the whole text in JSON, or as JSON embedded in prose."""
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return _scan_prose(text)
    try:
        value = _loads(stripped)
    except _Invalid as exc:
        found = _scan_prose(text)
        if found.calls or not _mentions_call(stripped):
            return found
        return _Found([], text, [_error(stripped, str(exc))])
    try:
        calls = _shaped_calls(value)
    except _Invalid as exc:
        return _Found([], text, [_error(stripped, str(exc))])
    return _Found(calls, "" if calls else text, [])


def _scan_prose(text: str) -> _Found:
    """Calls in JSON embedded in prose: decode at each { or [{ (a bounded number of tries), cut out calls."""
    calls: list[ToolCall] = []
    errors: list[ParseError] = []
    pieces: list[str] = []
    kept = pos = 0
    for _ in range(_MAX_SCAN):
        opener = _JSON_OPENER.search(text, pos)
        if opener is None:
            break
        try:
            value, pos = _DECODER.raw_decode(text, opener.start())
        except (ValueError, RecursionError):
            pos = opener.start() + 1
            continue
        try:
            found = _shaped_calls(value)
        except _Invalid as exc:
            errors.append(_error(text[opener.start() : pos], str(exc)))
            continue
        if found:
            calls.extend(found)
            pieces.append(text[kept : opener.start()])
            kept = pos
    pieces.append(text[kept:])
    return _Found(calls, "".join(pieces), errors)


def _mentions_call(snippet: str) -> bool:
    """Whether broken JSON was probably meant as a call."""
    return any(key in snippet for key in ('"name"', "'name'", '"function"', "'function'"))


# JSON values -> calls


def _calls_from(value: Any) -> list[ToolCall]:
    """Calls from a <tool_call> block's JSON: one call object or a non-empty list of them."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise _Invalid("an empty list of calls")
    return [_normalize(item) for item in items]


def _shaped_calls(value: Any) -> list[ToolCall]:
    """Calls from untagged JSON, or [] when it is not meant as calls (every item must be call-shaped)."""
    items = value if isinstance(value, list) else [value]
    if items and all(_is_call_shaped(item) for item in items):
        return _calls_from(items)
    return []


def _is_call_shaped(item: Any) -> bool:
    """Whether untagged JSON is a call as models write them: only call keys, type "function" if any, and a
    name with arguments (`arguments` or `parameters`), directly or inside OpenAI's `function` object."""
    if not isinstance(item, dict) or not item.keys() <= _CALL_KEYS or item.get("type", "function") != "function":
        return False
    inner = item.get("function", item)
    if not isinstance(inner, dict) or (inner is not item and not inner.keys() <= _CALL_KEYS):
        return False
    return "name" in inner and ("arguments" in inner or "parameters" in inner)


def _normalize(item: Any) -> ToolCall:
    """A call in canonical form from any accepted shape; raises _Invalid."""
    if not isinstance(item, dict):
        raise _Invalid(f"a call must be a JSON object, not {type(item).__name__}")
    if isinstance(item.get("function"), dict):
        item = item["function"]
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _Invalid('a call needs a non-empty string "name"')
    arguments = item.get("arguments", item.get("parameters"))
    if arguments is None:
        arguments = {}
    elif isinstance(arguments, str):
        arguments = _decode_arguments(arguments)
    if not isinstance(arguments, dict):
        raise _Invalid(f'"arguments" must be a JSON object, not {type(arguments).__name__}')
    return {"name": name, "arguments": arguments}


def _decode_arguments(encoded: str) -> Any:
    """Arguments given as a JSON string; a blank string means none."""
    if not encoded.strip():
        return {}
    try:
        return _loads(encoded)
    except _Invalid as exc:
        raise _Invalid(f'"arguments" is a string that is not JSON: {exc}') from None


# JSON decoding and repair


def _loads(snippet: str) -> Any:
    """Decode a JSON object or list, repairing trailing commas, stray closers and Python literals; raises _Invalid."""
    snippet = snippet.strip()
    if not snippet.startswith(("{", "[")):
        raise _Invalid("expected a JSON object or list" + (f", got {snippet[:20]!r}" if snippet else ", got nothing"))
    try:
        return _DECODER.decode(snippet)
    except (ValueError, RecursionError) as exc:
        problem = exc
    for repair in (_without_trailing_commas, _before_stray_closers, _python_literal):
        try:
            return repair(snippet)
        except (ValueError, RecursionError):
            continue
    raise _Invalid(f"invalid JSON: {problem}")


def _without_trailing_commas(snippet: str) -> Any:
    """JSON with commas before } or ] removed (outside strings)."""
    return _DECODER.decode(_STRING_OR_TRAILING_COMMA.sub(lambda m: m.group(1) or m.group(0), snippet))


def _before_stray_closers(snippet: str) -> Any:
    """JSON followed by nothing but extra } or ] (a common small-model slip)."""
    value, end = _DECODER.raw_decode(snippet)
    if snippet[end:].strip("}] \t\r\n"):
        raise ValueError("extra data after JSON")
    return value


def _python_literal(snippet: str) -> Any:
    """A Python literal (single quotes, True, None) that maps onto JSON."""
    if len(snippet) > _MAX_LITERAL or not _PYTHONISH.search(snippet):
        raise ValueError("not a Python literal worth reading")
    try:
        with warnings.catch_warnings():  # invalid escapes like "\\R" warn while being read
            warnings.simplefilter("ignore")
            return _literal_as_json(ast.literal_eval(snippet))
    except Exception as exc:  # noqa: BLE001 - literal_eval can raise nearly anything on hostile input
        raise ValueError(f"not a Python literal: {exc!r}") from None


def _literal_as_json(value: Any) -> Any:
    """A Python literal as JSON data; raises ValueError for sets, bytes, complex or non-string keys."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_literal_as_json(item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: _literal_as_json(item) for key, item in value.items()}
    raise ValueError(f"{type(value).__name__} is not JSON")


def _error(source: str, reason: str) -> ParseError:
    """A ParseError with its source stripped and cut to a readable length."""
    source = source.strip()
    return ParseError(source if len(source) <= _MAX_SOURCE else source[: _MAX_SOURCE - 3] + "...", reason)
