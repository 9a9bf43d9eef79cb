"""Tools + tool_choice -> the grammar of every answer the protocol accepts, for constrained decoding.

The grammar is Lark text for llguidance (the one grammar engine of every runtime, see constrain.py). Its
language is a subset of what `edgefc.protocol.parse` reads as well-formed, chosen so that a model under it
can only write the canonical protocol:

- a call is `format_tool_calls`' text: `<tool_call>\\n{"name": N, "arguments": A}\\n</tool_call>`, JSON as
  `json.dumps` writes it (`", "` and `": "`, no other whitespace; U+007F as `\\u007f` except in property
  names the schema lists, which llguidance spells raw), N one of the offered names and A valid for
  that tool's parameters schema (one rule per tool ties the two); parallel calls are joined by `\\n`.
  One newline may follow the last call (models end `</tool_call>\\n` + end-of-turn; parse strips it).
  Arguments keep the schema's property order (llguidance's JSON rule) and objects that list properties
  take no others unless the schema says so (`additionalProperties: false` is filled in): no invented
  arguments.
- text (answers, the refusal sentence) is `TEXT`: at least one character, the first not whitespace (as Python's `str.isspace` has it) and not
  one of `<`, `{`, `[` or a backtick, and nowhere `<tool_call>`, `</tool_call>`, three backticks, or `{`
  followed by optional JSON whitespace and `"`. Every call-shaped JSON object starts that way, so no text
  can carry a fenced, bare or embedded call that `parse` would read (plain prose such as `{x}` is allowed).
- `auto`: calls or text; `required`: calls; a named tool: calls to that tool only; `none`: text. With
  `parallel_tool_calls=False` exactly one call. End-of-turn is allowed only where the grammar accepts, so it
  can never cut a call before `</tool_call>`.

- `thinking` (templates that think, Qwen3 with enable_thinking): one `<think>...</think>` block, then
  whitespace, may open the answer; what follows is as above.

No lazy lexemes or triggers are needed: calls and text never mix, so the first token decides.
What llguidance cannot enforce in a schema is relaxed (the keyword dropped, or the whole arguments checked
only as a JSON object) and recorded in `ToolGrammar.warnings`; building a grammar never fails on a schema.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Collection, Iterator, Literal, Mapping

from llguidance import LLMatcher

from edgefc.errors import EdgefcError
from edgefc.protocol.parse import TAGS
from edgefc.protocol.schema import normalize_tools

Mode = Literal["auto", "none", "required", "function"]
MODES: tuple[str, ...] = ("auto", "none", "required")

# JSON exactly as json.dumps (and so format_tool_calls) writes it.
_JSON_LAYOUT = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}

# \x1c-\x1f: Python's str.isspace() counts them (parse strips them), Unicode's White_Space (regex \s) does not.
_TEXT_RULES = r"""TEXT: /[^<{\[`\s\x1c-\x1f](?s:.)*/ & ~(ANYTHING DISGUISE ANYTHING)
ANYTHING: /(?s:.)*/
DISGUISE: "<tool_call>" | "</tool_call>" | "```" | /\{[ \t\n\r]*"/"""

# One reasoning block, closed once, then the whitespace Qwen3 writes before its answer. With the tags as special
# tokens the text between them cannot contain them; spelled out, the block is one lexeme with one closing tag.
_THINK_RULES: dict[bool, str] = {
    True: "think: think_open THINK_TEXT? think_close THINK_GAP?\nTHINK_TEXT: /(?s:.)+/\nTHINK_GAP: /[ \\t\\r\\n]+/",
    False: r"""think: THINK
THINK: /<think>(?s:.)*<\/think>[ \t\r\n]*/ & ~(/(?s:.)*<\/think>(?s:.)*<\/think>(?s:.)*/)""",
}

_CHOICE_ERROR = "tool_choice must be 'auto', 'none', 'required' or a named function, not {!r}"
_MAX_FIXES = 16  # rounds of relaxation before a schema falls back to "any JSON object"


@dataclass(frozen=True)
class ToolGrammar:
    """A grammar for one set of tools and tool_choice; `lark()` renders it for a vocabulary."""

    rules: str  # every rule but the tags' and the think block's, which depend on the vocabulary (see lark)
    mode: Mode  # "auto", "none", "required", or "function" for one named tool
    function: str | None  # the named tool when mode is "function"
    names: tuple[str, ...]  # the tools a call may name
    parallel_tool_calls: bool
    thinking: bool  # whether one <think>...</think> block may open the answer
    warnings: tuple[str, ...]  # schema parts the grammar does not enforce, one sentence each

    @property
    def tool_choice(self) -> str | dict[str, Any]:
        """The tool_choice in OpenAI's form."""
        if self.mode == "function":
            return {"type": "function", "function": {"name": self.function}}
        return self.mode

    def lark(self, special_tags: Collection[str] = frozenset(TAGS.values())) -> str:
        """The Lark text for llguidance; `special_tags` are the tags the vocabulary has as special tokens (Qwen:
        llguidance marks `<tool_call>` and `<think>` special in both the GGUF and tokenizer.json forms): a rule
        names such a tag's token, and any other tag's text."""
        used = TAGS if self.thinking else {k: v for k, v in TAGS.items() if k.startswith("call_")}
        lines = [f"{rule}: {tag}" if tag in special_tags else f"{rule}: {json.dumps(tag)}" for rule, tag in used.items()]
        if self.thinking:
            lines.append(_THINK_RULES[{TAGS["think_open"], TAGS["think_close"]} <= set(special_tags)])
        return "\n".join([self.rules, *lines]) + "\n"


def tool_grammar(tools: object, tool_choice: object = "auto", parallel_tool_calls: bool = True, *,
                 thinking: bool = False) -> ToolGrammar:
    """The grammar of answers to a request with these tools (any accepted form) and this tool_choice;
    `thinking` lets the answer open with one `<think>...</think>` block (templates that think, Qwen3)."""
    canonical = normalize_tools(tools) if tools else []
    mode, function = parse_tool_choice(tool_choice, [tool["function"]["name"] for tool in canonical])
    return _build(json.dumps(canonical), mode, function, parallel_tool_calls, thinking)


@lru_cache(maxsize=64)
def _build(canonical_json: str, mode: Mode, function: str | None, parallel_tool_calls: bool,
           thinking: bool) -> ToolGrammar:
    """The grammar for canonical tools (as JSON: requests repeat their tools, and building costs ~10 ms a tool)."""
    functions = {tool["function"]["name"]: tool["function"] for tool in json.loads(canonical_json)}
    names = () if mode == "none" else (function,) if function else tuple(functions)
    tool_rules: list[str] = []
    warnings: list[str] = []
    for index, name in enumerate(names):
        rule, notes = _tool_rule(index, name, functions[name]["parameters"])
        tool_rules.append(rule)
        warnings.extend(notes)
    start = {"auto": "calls | TEXT" if names else "TEXT", "none": "TEXT"}.get(mode, "calls")  # no tools: text
    lines = ["%llguidance {}", f"start: think? ({start})" if thinking else f"start: {start}"]
    if names:
        lines.append('calls: call ("\\n" call)* "\\n"?' if parallel_tool_calls else 'calls: call "\\n"?')
        lines.append("call: " + " | ".join(f"tool_{index}" for index in range(len(names))))
        lines.extend(tool_rules)
    if mode in ("auto", "none"):
        lines.append(_TEXT_RULES)
    grammar = ToolGrammar("\n".join(lines), mode, function, names, parallel_tool_calls, thinking, tuple(warnings))
    error = _grammar_error(grammar.lark(special_tags=()))
    if error:
        raise RuntimeError(f"edgefc built a tool grammar llguidance rejects: {error}")
    return grammar


def parse_tool_choice(tool_choice: object, names: list[str]) -> tuple[Mode, str | None]:
    """An OpenAI tool_choice ("auto", "none", "required" or {"type": "function", "function": {"name": N}})
    as a mode and the named tool, checked against the offered tool names."""
    if tool_choice is None:
        tool_choice = "auto"
    if isinstance(tool_choice, str):
        if tool_choice not in MODES:
            raise EdgefcError(_CHOICE_ERROR.format(tool_choice))
        if tool_choice == "required" and not names:
            raise EdgefcError("tool_choice 'required' needs at least one tool")
        return tool_choice, None  # type: ignore[return-value]
    name = _named_function(tool_choice)
    if name not in names:
        offered = ", ".join(repr(n) for n in names) or "none"
        raise EdgefcError(f"tool_choice names the function {name!r}, which is not among the offered tools ({offered})")
    return "function", name


def _named_function(tool_choice: object) -> str:
    """The name in {"type": "function", "function": {"name": N}} (or the flat {"type": "function", "name": N})."""
    if isinstance(tool_choice, Mapping) and tool_choice.get("type", "function") == "function":
        inner = tool_choice.get("function", tool_choice)
        if isinstance(inner, Mapping) and isinstance(inner.get("name"), str):
            return inner["name"]
    raise EdgefcError(_CHOICE_ERROR.format(tool_choice))


# --- one tool -----------------------------------------------------------------------------------


def _tool_rule(index: int, name: str, parameters: dict[str, Any]) -> tuple[str, list[str]]:
    """The Lark rule of one tool's calls, and what of its schema it does not enforce."""
    schema, options, warnings = enforceable_schema(parameters, f"tool {name!r}")
    head = "\n" + '{"name": ' + _json_string(name) + ', "arguments": '
    arguments = json.dumps({**schema, "x-guidance": {**_JSON_LAYOUT, **options}})
    # json.dumps with ASCII escapes is a literal llguidance's Lark reads back exactly (raw U+2028 is not)
    return f'tool_{index}: call_open {json.dumps(head)} %json {arguments} "}}\\n" call_close', warnings


def _json_string(text: str) -> str:
    """A JSON string as format_tool_calls writes it, except U+007F as \\u007f: llguidance's JSON strings do
    not take it raw, so the name is spelled the way the arguments must be."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def enforceable_schema(schema: dict[str, Any], where: str) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The schema llguidance will enforce, its JSON options, and one warning per relaxation.

    Objects listing properties get additionalProperties false (unless set); patterns llguidance cannot
    compile are dropped; then whatever its compiler reports (unimplemented keywords, unknown formats, oneOf
    it cannot prove exclusive, min/maxProperties) is relaxed until it compiles, or the arguments fall back
    to "any JSON object".
    """
    schema = copy.deepcopy(schema)
    warnings = [f"{where}: {note}" for note in _drop_bad_patterns(schema)]
    _close_objects(schema)
    options: dict[str, Any] = {}
    for _ in range(_MAX_FIXES):
        error = _json_error(schema, options)
        if not error:
            return schema, options, warnings
        fix = next(((fix, match) for pattern, fix in _FIXES.items() if (match := pattern.search(error))), None)
        if fix is None:
            break
        warnings.append(f"{where}: {fix[0](schema, options, fix[1])}")
    reason = error.splitlines()[0] if error else "too many unsupported parts"
    warnings.append(f"{where}: its arguments are only checked to be a JSON object ({reason})")
    return {"type": "object"}, {}, warnings


def _json_error(schema: dict[str, Any], options: Mapping[str, Any]) -> str:
    """llguidance's compile error for a JSON schema with these options ("" when it compiles)."""
    return _grammar_error("start: %json " + json.dumps({**schema, "x-guidance": {**_JSON_LAYOUT, **options}}))


def _grammar_error(lark: str) -> str:
    """llguidance's error for a Lark grammar ("" when valid), without its position prefix."""
    failed, messages = LLMatcher.validate_grammar_with_warnings(LLMatcher.grammar_from_lark(lark))
    if not failed:
        return ""
    return re.sub(r"^at \d+\(\d+\): (failed to compile JSON schema: )?", "", messages[0])


# --- relaxations --------------------------------------------------------------------------------

# Keywords whose values are schemas, lists of schemas, or maps of schemas (walked to reach every node).
_SUBSCHEMA = ("items", "additionalProperties", "additionalItems", "not", "contains", "if", "then", "else",
              "propertyNames", "unevaluatedItems", "unevaluatedProperties")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems", "items")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


def _children(schema: dict[str, Any], single: tuple[str, ...], lists: tuple[str, ...],
              maps: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """The subschemas of one node under the given keywords (a schema, a list of them, a map of them)."""
    values = [schema.get(key) for key in single]
    values += [item for key in lists if isinstance(schema.get(key), list) for item in schema[key]]
    values += [item for key in maps if isinstance(schema.get(key), dict) for item in schema[key].values()]
    return (value for value in values if isinstance(value, dict))


def _nodes(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every schema node under (and including) schema, so keywords are never confused with property names."""
    yield schema
    for child in _children(schema, _SUBSCHEMA, _SUBSCHEMA_LISTS, _SUBSCHEMA_MAPS):
        yield from _nodes(child)


def _close_objects(schema: dict[str, Any]) -> None:
    """additionalProperties false on objects that list properties, along plain nesting: never beside or under
    allOf, $ref or $defs, where closing one part of an intersection would reject the other part's properties."""
    combined = {"allOf", "anyOf", "oneOf", "$ref"} & schema.keys()
    if "properties" in schema and not combined and not {"additionalProperties", "patternProperties"} & schema.keys():
        schema["additionalProperties"] = False
    branches = ("anyOf", "oneOf") if "properties" not in schema else ()
    for child in _children(schema, ("items", "additionalProperties"), ("prefixItems", "items", *branches),
                           ("properties",)):
        _close_objects(child)


@lru_cache(maxsize=1024)
def _regex_error(pattern: str) -> str:
    """llguidance's error for a JSON-Schema pattern ("" when it compiles)."""
    return _json_error({"type": "string", "pattern": pattern}, {})


def _regex_reason(pattern: str) -> str:
    """The "error: ..." line of llguidance's complaint about a pattern."""
    lines = _regex_error(pattern).splitlines()
    return next((line.strip() for line in lines if line.startswith("error:")), lines[0])


def _drop_bad_patterns(schema: dict[str, Any]) -> list[str]:
    """Remove `pattern`s and `patternProperties` keys llguidance cannot compile (lookarounds, backreferences)."""
    notes = []
    for node in list(_nodes(schema)):
        pattern = node.get("pattern")
        if isinstance(pattern, str) and _regex_error(pattern):
            del node["pattern"]
            notes.append(f"pattern {pattern!r} not enforced ({_regex_reason(pattern)})")
        patterns = node.get("patternProperties")
        for key in [k for k in patterns if _regex_error(k)] if isinstance(patterns, dict) else []:
            del patterns[key]
            notes.append(f"patternProperties {key!r} dropped ({_regex_reason(key)})")
    return notes


def _drop_keys(schema: dict[str, Any], options: dict[str, Any], match: re.Match[str]) -> str:
    """Remove keywords llguidance reports as unimplemented, from every node."""
    keys = json.loads(match[1])
    for node in _nodes(schema):
        for key in keys:
            node.pop(key, None)
    return f"{', '.join(repr(key) for key in keys)} not enforced (unsupported by llguidance)"


def _drop_format(schema: dict[str, Any], options: dict[str, Any], match: re.Match[str]) -> str:
    """Remove a string format llguidance does not know, from every node."""
    name = match[1]
    for node in _nodes(schema):
        if node.get("format") == name:
            del node["format"]
    return f"format {name!r} not enforced (unknown to llguidance)"


def _one_of_as_any_of(schema: dict[str, Any], options: dict[str, Any], match: re.Match[str]) -> str:
    """Let llguidance read oneOf as anyOf (it only does so itself when the branches provably exclude)."""
    options["coerce_one_of"] = True
    return "'oneOf' enforced as 'anyOf' (a value may match more than one branch)"


def _drop_property_counts(schema: dict[str, Any], options: dict[str, Any], match: re.Match[str]) -> str:
    """Remove minProperties/maxProperties, which llguidance supports only when every property is required."""
    for node in _nodes(schema):
        node.pop("minProperties", None)
        node.pop("maxProperties", None)
    return "'minProperties'/'maxProperties' not enforced (llguidance needs every listed property required)"


# llguidance compile errors that a relaxation answers; anything else falls back to "any JSON object".
_FIXES: dict[re.Pattern[str], Callable[[dict[str, Any], dict[str, Any], re.Match[str]], str]] = {
    re.compile(r"Unimplemented keys: (\[.*?\])"): _drop_keys,
    re.compile(r"Unknown format: (\S+)"): _drop_format,
    re.compile(r"oneOf constraints are not supported"): _one_of_as_any_of,
    re.compile(r"min/maxProperties only supported"): _drop_property_counts,
}
