"""The tool grammar: construction for every tool form and tool_choice, what it accepts and rejects, relaxations,
and property tests that everything it accepts is a well-formed answer `edgefc.parse` reads back.

Strings are checked the way a model would produce them: token ids of the real Qwen vocabulary (tests/tiny.py)
run through llguidance, with `<tool_call>`/`</tool_call>` as their single special tokens.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from llguidance import LLMatcher

from edgefc.errors import EdgefcError
from edgefc.protocol.constrain import Constraint, GrammarVocab
from edgefc.protocol.grammar import ToolGrammar, tool_grammar
from edgefc.protocol.parse import REFUSAL, ToolCall, format_tool_calls, parse
from edgefc.protocol.schema import normalize_tools

END_OF_TURN = (151643, 151645)  # <|endoftext|>, <|im_end|>
PROPERTY = settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
PROPERTY_SLOW = settings(PROPERTY, max_examples=3_000)


@pytest.fixture(scope="module")
def hf_tokenizer(qwen_tokenizer_dir: Path) -> Any:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(qwen_tokenizer_dir / "tokenizer.json"))


@pytest.fixture(scope="module")
def vocab(hf_tokenizer: Any) -> GrammarVocab:
    return GrammarVocab.from_hf(hf_tokenizer, END_OF_TURN)


# --- helpers ------------------------------------------------------------------------------------


def canonical(calls: list[ToolCall]) -> str:
    """format_tool_calls(calls), with U+007F written as \\u007f: the one character llguidance's JSON strings
    do not take raw (json.dumps leaves it raw); parse reads both the same."""
    return format_tool_calls(calls).replace("\x7f", "\\u007f")


def call_tokens(vocab: GrammarVocab, calls: list[ToolCall], trailing_newline: bool = False) -> list[int]:
    """Token ids of canonical(calls) with the tags as their special tokens and everything between them as
    text tokens, also where an argument spells "<tool_call>" (a model cannot emit the tag token there)."""
    tok = vocab.tokenizer
    open_id, close_id = (tok.tokenize_str(tag, parse_special=True)[0] for tag in ("<tool_call>", "</tool_call>"))
    ids: list[int] = []
    for index, call in enumerate(calls):
        body = canonical([call])[len("<tool_call>"): -len("</tool_call>")]
        ids += ([] if index == 0 else tok.greedy_tokenize("\n")) + [open_id] + tok.greedy_tokenize(body) + [close_id]
    return ids + (tok.greedy_tokenize("\n") if trailing_newline else [])


def matcher(vocab: GrammarVocab, grammar: ToolGrammar) -> LLMatcher:
    m = LLMatcher(vocab.tokenizer, LLMatcher.grammar_from_lark(grammar.lark(vocab.special_tags)), log_level=0)
    assert not m.is_error(), m.get_error()
    return m


def accepts_ids(vocab: GrammarVocab, grammar: ToolGrammar, ids: list[int]) -> bool:
    """Whether the grammar takes these tokens and then lets the turn end."""
    m = matcher(vocab, grammar)
    return m.consume_tokens(ids) and m.is_accepting() and m.consume_token(END_OF_TURN[1])


def accepts_text(vocab: GrammarVocab, hf_tokenizer: Any, grammar: ToolGrammar, text: str) -> bool:
    """Whether the grammar takes text as a runtime tokenizes it (added tokens such as <tool_call> split out)."""
    return accepts_ids(vocab, grammar, hf_tokenizer.encode(text, add_special_tokens=False).ids)


def valid(value: Any, schema: dict[str, Any]) -> bool:
    """JSON-Schema validity for the keywords these tests generate, written apart from jsonschema (which the agent
    uses) so the two check each other."""
    checks: list[Callable[[], bool]] = [
        lambda: "type" not in schema or any(_is_type(value, t) for t in _listed(schema["type"])),
        lambda: "enum" not in schema or any(_json_equal(value, option) for option in schema["enum"]),
        lambda: "const" not in schema or _json_equal(value, schema["const"]),
        lambda: "anyOf" not in schema or any(valid(value, branch) for branch in schema["anyOf"]),
    ]
    if isinstance(value, str):
        checks.append(lambda: schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", math.inf))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        checks.append(lambda: schema.get("minimum", -math.inf) <= value <= schema.get("maximum", math.inf))
    if isinstance(value, list):
        checks.append(lambda: schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", math.inf))
        checks.append(lambda: all(valid(item, schema.get("items", {})) for item in value))
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        checks.append(lambda: all(name in value for name in schema.get("required", [])))
        checks.append(lambda: all(valid(v, properties[k]) if k in properties else
                                  extra is True or (isinstance(extra, dict) and valid(v, extra))
                                  for k, v in value.items()))
    return all(check() for check in checks)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _is_type(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return name == "boolean"
    return {
        "string": isinstance(value, str), "integer": isinstance(value, int) or (isinstance(value, float) and
                                                                                value.is_integer()),
        "number": isinstance(value, (int, float)), "array": isinstance(value, list),
        "object": isinstance(value, dict), "null": value is None, "boolean": False,
    }[name]


def _json_equal(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


# --- tools in every accepted form ---------------------------------------------------------------

OPENAI = {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                                           "parameters": {"type": "object", "properties": {
                                               "city": {"type": "string"},
                                               "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                                               "required": ["city"]}}}
BFCL = {"name": "calc.area", "description": "Area of a triangle", "parameters": {"type": "dict", "properties": {
    "base": {"type": "float"}, "size": {"type": "tuple", "items": {"type": "integer"}},
    "anything": {"type": "any"}, "options": {"type": "dict", "properties": {"exact": {"type": "boolean"}}}},
    "required": ["base"]}}
XLAM = {"name": "search", "description": "Search", "parameters": {
    "query": {"type": "str", "description": "what"}, "limit": {"type": "int, optional", "default": 10},
    "tags": {"type": "List[str]"}}}


def lookup(city: str, days: int = 1, units: Literal["metric", "imperial"] = "metric") -> None:
    """Look up the forecast.

    Args:
        city: The city.
        days: How many days.
        units: Unit system.
    """


FORMS = {
    "openai": (OPENAI, {"name": "get_weather", "arguments": {"city": "Tokyo", "unit": "celsius"}}),
    "bfcl": (BFCL, {"name": "calc.area", "arguments": {"base": 2.5, "size": [1, 2], "anything": "x",
                                                       "options": {"exact": True}}}),
    "xlam": (XLAM, {"name": "search", "arguments": {"query": "q", "limit": 3, "tags": ["a", "b"]}}),
    "callable": (lookup, {"name": "lookup", "arguments": {"city": "Oslo", "days": 2, "units": "imperial"}}),
}


@pytest.mark.parametrize("form", FORMS)
def test_every_tool_form_builds_a_grammar_that_takes_its_calls(form: str, vocab: GrammarVocab) -> None:
    tool, call = FORMS[form]
    grammar = tool_grammar([tool])
    assert grammar.names == (call["name"],) and grammar.warnings == ()
    assert accepts_ids(vocab, grammar, call_tokens(vocab, [call]))
    required = [name for name in normalize_tools([tool])[0]["function"]["parameters"]["required"]]
    missing = {"name": call["name"], "arguments": {k: v for k, v in call["arguments"].items() if k not in required}}
    assert not accepts_ids(vocab, grammar, call_tokens(vocab, [missing]))


def test_bfcl_float_takes_integers_and_the_fixed_property_order(vocab: GrammarVocab) -> None:
    grammar = tool_grammar([BFCL])
    assert accepts_ids(vocab, grammar, call_tokens(vocab, [{"name": "calc.area", "arguments": {"base": 3}}]))
    swapped = {"name": "calc.area", "arguments": {"size": [1], "base": 3}}  # schema order is base, size
    assert not accepts_ids(vocab, grammar, call_tokens(vocab, [swapped]))


# --- tool_choice -------------------------------------------------------------------------------

TOOLS = [OPENAI, XLAM]
WEATHER = {"name": "get_weather", "arguments": {"city": "Tokyo"}}
SEARCH = {"name": "search", "arguments": {"query": "q", "tags": []}}


@pytest.mark.parametrize("choice, mode, function", [
    ("auto", "auto", None), (None, "auto", None), ("none", "none", None), ("required", "required", None),
    ({"type": "function", "function": {"name": "search"}}, "function", "search"),
    ({"type": "function", "name": "search"}, "function", "search"),
])
def test_tool_choice_forms(choice: Any, mode: str, function: str | None) -> None:
    grammar = tool_grammar(TOOLS, choice)
    assert (grammar.mode, grammar.function) == (mode, function)
    assert grammar.names == ((function,) if function else () if mode == "none" else ("get_weather", "search"))
    expected = {"type": "function", "function": {"name": function}} if function else mode
    assert grammar.tool_choice == expected


@pytest.mark.parametrize("tools, choice, words", [
    (TOOLS, {"type": "function", "function": {"name": "nope"}}, "'nope', which is not among the offered tools"),
    (TOOLS, "any", "tool_choice must be 'auto', 'none', 'required' or a named function"),
    (TOOLS, {"type": "retrieval"}, "tool_choice must be"),
    ([], "required", "needs at least one tool"),
    ([], {"type": "function", "function": {"name": "f"}}, "offered tools (none)"),
])
def test_bad_tool_choice_is_one_sentence(tools: Any, choice: Any, words: str) -> None:
    with pytest.raises(EdgefcError) as raised:
        tool_grammar(tools, choice)
    message = str(raised.value)
    assert words in message and "\n" not in message


FENCED = "```json\n" + json.dumps(WEATHER) + "\n```"
CASES: dict[str, tuple[Any, bool, str]] = {
    # name: (text or calls, trailing newline, which grammars take it: a=auto r=required n=none w=named weather,
    #        s=single (parallel_tool_calls=False))
    "one call": ([WEATHER], False, "arws"),
    "one call, newline": ([WEATHER], True, "arws"),
    "two calls": ([WEATHER, SEARCH], False, "ar"),
    "same tool twice": ([WEATHER, WEATHER], True, "arw"),
    "refusal": (REFUSAL, False, "ans"),
    "answer": ("It is 21°C and sunny in Tokyo {today}.\nEnjoy!", False, "ans"),
    "fenced call": (FENCED, False, ""),
    "fence later": ("Sure:\n" + FENCED, False, ""),
    "bare call": (json.dumps(WEATHER), False, ""),
    "embedded call": ("Calling " + json.dumps(WEATHER), False, ""),
    "json list call": (json.dumps([WEATHER]), False, ""),
    "spelled tags": ("Text then <tool_call>\n" + json.dumps(WEATHER) + "\n</tool_call>", False, ""),
    "leading space": (" hello", False, ""),
    "empty": ("", False, ""),
    "unknown name": ([{"name": "get_time", "arguments": {}}], False, ""),
    "wrong type": ([{"name": "get_weather", "arguments": {"city": 3}}], False, ""),
    "missing required": ([{"name": "get_weather", "arguments": {"unit": "celsius"}}], False, ""),
    "not in enum": ([{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "kelvin"}}], False, ""),
    "invented argument": ([{"name": "get_weather", "arguments": {"city": "Oslo", "when": "now"}}], False, ""),
    "only search": ([SEARCH], False, "ars"),
}


def _grammars() -> dict[str, ToolGrammar]:
    return {"a": tool_grammar(TOOLS), "r": tool_grammar(TOOLS, "required"), "n": tool_grammar(TOOLS, "none"),
            "w": tool_grammar(TOOLS, {"type": "function", "function": {"name": "get_weather"}}),
            "s": tool_grammar(TOOLS, parallel_tool_calls=False)}


@pytest.mark.parametrize("case", CASES)
def test_what_each_tool_choice_takes(case: str, vocab: GrammarVocab, hf_tokenizer: Any) -> None:
    content, newline, takers = CASES[case]
    for key, grammar in _grammars().items():
        if isinstance(content, list):
            taken = accepts_ids(vocab, grammar, call_tokens(vocab, content, newline))
        else:
            taken = accepts_text(vocab, hf_tokenizer, grammar, content)
        assert taken == (key in takers), (case, key)


def test_no_tools_under_auto_is_text_only(vocab: GrammarVocab, hf_tokenizer: Any) -> None:
    grammar = tool_grammar([])  # BFCL's live_irrelevance offers none in some entries
    assert grammar.names == () and tool_grammar(None).rules == grammar.rules
    assert accepts_text(vocab, hf_tokenizer, grammar, "None of the provided tools can answer this question.")
    assert not accepts_ids(vocab, grammar, call_tokens(vocab, [WEATHER], False))


def test_whitespace_other_than_json_dumps_is_rejected(vocab: GrammarVocab, hf_tokenizer: Any) -> None:
    grammar = tool_grammar(TOOLS)
    tight = '<tool_call>\n{"name":"get_weather","arguments":{"city":"Tokyo"}}\n</tool_call>'
    loose = '<tool_call>\n{"name": "get_weather", "arguments": {"city" : "Tokyo"}}\n</tool_call>'
    canonical = format_tool_calls([WEATHER])
    assert [accepts_text(vocab, hf_tokenizer, grammar, t) for t in (tight, loose, canonical)] == [False, False, True]


def test_one_think_block_may_open_the_answer_only_when_thinking(vocab: GrammarVocab, hf_tokenizer: Any) -> None:
    think = "<think>\nThe user wants Tokyo's weather; get_weather fits.\n</think>\n\n"
    call_ids = call_tokens(vocab, [WEATHER])
    encode = lambda text: hf_tokenizer.encode(text, add_special_tokens=False).ids  # noqa: E731
    thinking = tool_grammar(TOOLS, thinking=True)
    assert accepts_ids(vocab, thinking, encode(think) + call_ids)
    assert accepts_text(vocab, hf_tokenizer, thinking, think + "Sunny, I think.")
    assert accepts_ids(vocab, thinking, call_ids)  # thinking may be skipped
    assert not accepts_text(vocab, hf_tokenizer, thinking, think + think + "Sunny.")  # one block only
    assert not accepts_text(vocab, hf_tokenizer, thinking, think + json.dumps(WEATHER))  # no disguise after it
    assert not accepts_ids(vocab, tool_grammar(TOOLS, "required", thinking=True), encode(think + "Sunny."))
    assert not accepts_ids(vocab, tool_grammar(TOOLS), encode(think) + call_ids)


def test_end_of_turn_only_where_the_grammar_accepts(vocab: GrammarVocab) -> None:
    grammar = tool_grammar(TOOLS, "required")
    ids = call_tokens(vocab, [WEATHER])
    m = matcher(vocab, grammar)
    for position, token in enumerate(ids):
        m_eot = m.deep_copy()
        assert not m_eot.consume_token(END_OF_TURN[0]), f"end of turn allowed after {position} tokens"
        assert m.consume_token(token)
    assert m.is_accepting() and m.consume_token(END_OF_TURN[0])


# --- relaxation -------------------------------------------------------------------------------


def _with_property(schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": "f", "parameters": {"type": "object", "properties": {"x": schema}, "required": ["x"]}}


@pytest.mark.parametrize("schema, warning, loose_value, still_rejected", [
    ({"type": "string", "pattern": "^(?=a)a+$"}, "pattern", "bbb", 5),
    ({"type": "string", "pattern": "(a)\\1"}, "pattern", "zz", 5),
    ({"type": "string", "format": "phone-number"}, "format 'phone-number'", "not a phone", 5),
    ({"type": "array", "items": {"type": "integer"}, "uniqueItems": True}, "'uniqueItems'", [1, 1], ["a"]),
    ({"type": "array", "contains": {"type": "integer"}}, "'contains'", ["a"], "a"),
    ({"type": "integer", "not": {"const": 3}}, "'not'", 3, "3"),
    ({"oneOf": [{"type": "number"}, {"type": "integer"}]}, "'oneOf' enforced as 'anyOf'", 2, "2"),
    ({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "minProperties": 2},
     "minProperties", {"a": "x"}, {"a": 1}),
])
def test_unsupported_schema_parts_are_relaxed_with_a_warning(schema: dict[str, Any], warning: str,
                                                             loose_value: Any, still_rejected: Any,
                                                             vocab: GrammarVocab) -> None:
    grammar = tool_grammar([_with_property(schema)])
    assert len(grammar.warnings) == 1 and warning in grammar.warnings[0]
    assert grammar.warnings[0].startswith("tool 'f': ")
    assert accepts_ids(vocab, grammar, call_tokens(vocab, [{"name": "f", "arguments": {"x": loose_value}}]))
    assert not accepts_ids(vocab, grammar, call_tokens(vocab, [{"name": "f", "arguments": {"x": still_rejected}}]))


@pytest.mark.parametrize("parameters", [
    {"type": "object", "properties": {"x": {"$ref": "#/$defs/missing"}}},
    {"type": "object", "properties": {"x": {"$ref": "https://example.com/remote.json"}}},
    {"type": "object", "properties": {"x": {"type": "integer", "minimum": 5, "maximum": 1}}, "required": ["x"]},
])
def test_schemas_llguidance_cannot_compile_fall_back_to_any_object(parameters: dict[str, Any],
                                                                   vocab: GrammarVocab) -> None:
    grammar = tool_grammar([{"name": "f", "parameters": parameters}])
    assert len(grammar.warnings) == 1 and "only checked to be a JSON object" in grammar.warnings[0]
    assert accepts_ids(vocab, grammar, call_tokens(vocab, [{"name": "f", "arguments": {"y": [1, {"z": None}]}}]))


def test_recursive_refs_and_defs_are_enforced(vocab: GrammarVocab) -> None:
    node = {"type": "object", "properties": {"value": {"type": "integer"}, "next": {"$ref": "#/$defs/node"}},
            "required": ["value"]}
    grammar = tool_grammar([{"name": "f", "parameters": {"type": "object", "$defs": {"node": node},
                                                         "properties": {"head": {"$ref": "#/$defs/node"}}}}])
    assert grammar.warnings == ()
    deep = {"head": {"value": 1, "next": {"value": 2, "next": {"value": 3}}}}
    assert accepts_ids(vocab, grammar, call_tokens(vocab, [{"name": "f", "arguments": deep}]))
    bad = {"head": {"value": 1, "next": {"value": "2"}}}
    assert not accepts_ids(vocab, grammar, call_tokens(vocab, [{"name": "f", "arguments": bad}]))


def test_objects_beside_all_of_stay_open(vocab: GrammarVocab) -> None:
    parameters = {"type": "object", "allOf": [{"properties": {"a": {"type": "integer"}}},
                                              {"properties": {"b": {"type": "integer"}}}]}
    grammar = tool_grammar([{"name": "f", "parameters": parameters}])
    assert accepts_ids(vocab, grammar, call_tokens(vocab, [{"name": "f", "arguments": {"a": 1, "b": 2}}]))


# --- property tests ----------------------------------------------------------------------------

THINK_TAGS = ("<think>", "</think>")  # parse reads these anywhere (see test_parse_fuzz): generated text avoids them
LOOKALIKES = ["<tool_call>", "</tool_call>", "```", "{", '"', "\\", REFUSAL, '{"name": "x", "arguments": {}}',
              "\u2028", "\x7f", "\x00", "東京", "😀"]
plain_text = (st.text(max_size=10) | st.sampled_from(LOOKALIKES)).filter(lambda s: not any(t in s for t in THINK_TAGS))
tool_names = st.text(min_size=1, max_size=16).filter(lambda s: bool(s.strip()) and not any(t in s for t in THINK_TAGS))
# Property names the schema lists are literals llguidance spells raw, also U+007F (see canonical), so none has it.
property_names = plain_text.filter(lambda s: "\x7f" not in s)


def _string_schema(bounds: tuple[int, int] | None, enum: list[str] | None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if enum:
        return {**schema, "enum": enum}
    if bounds:
        schema.update(minLength=min(bounds), maxLength=max(bounds))
    return schema


def _number_schema(kind: str, bounds: tuple[int, int] | None) -> dict[str, Any]:
    """A number schema; bounds are kept apart (min == max) since llguidance's range then takes only "0", not "0.0"."""
    bounded = bounds is not None and bounds[0] != bounds[1]
    return {"type": kind, **({"minimum": min(bounds), "maximum": max(bounds)} if bounded else {})}


small = st.integers(min_value=-50, max_value=50)
leaf_schemas = st.one_of(
    st.builds(_string_schema, st.none() | st.tuples(st.integers(0, 4), st.integers(0, 8)),
              st.none() | st.lists(plain_text, min_size=1, max_size=3, unique=True)),
    st.builds(_number_schema, st.sampled_from(["integer", "number"]), st.none() | st.tuples(small, small)),
    st.just({"type": "boolean"}), st.just({"type": "null"}), st.just({}),
    st.just({"type": ["string", "integer"]}),
)


def _object_schema(properties: dict[str, Any], required: list[bool]) -> dict[str, Any]:
    names = list(properties)
    return {"type": "object", "properties": properties,
            "required": [name for name, needed in zip(names, required) if needed]}


schemas = st.recursive(
    leaf_schemas,
    lambda inner: st.one_of(
        st.builds(lambda items, lo, extra: {"type": "array", "items": items, "minItems": lo, "maxItems": lo + extra},
                  inner, st.integers(0, 2), st.integers(0, 2)),
        st.builds(_object_schema, st.dictionaries(property_names, inner, max_size=3),
                  st.lists(st.booleans(), max_size=3)),
        st.builds(lambda a, b: {"anyOf": [a, b]}, inner, inner),
    ),
    max_leaves=6,
)


@st.composite
def tool_sets(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(st.lists(tool_names, min_size=1, max_size=4, unique=True))
    return [{"type": "function", "function": {
        "name": name, "description": "",
        "parameters": _object_schema(draw(st.dictionaries(property_names, schemas, max_size=4)),
                                     draw(st.lists(st.booleans(), max_size=4)))}} for name in names]


json_values = st.recursive(st.none() | st.booleans() | small | st.floats(allow_nan=False, allow_infinity=False)
                           | plain_text, lambda c: st.lists(c, max_size=3) | st.dictionaries(plain_text, c, max_size=3),
                           max_leaves=5)


def values(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid for a generated schema, objects in schema property order."""
    if "anyOf" in schema:
        return st.one_of([values(branch) for branch in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([values({"type": k}) for k in kind])
    lo, hi = schema.get("minimum"), schema.get("maximum")
    lo_len, hi_len = schema.get("minLength", 0), schema.get("maxLength", math.inf)
    builders: dict[Any, Callable[[], st.SearchStrategy[Any]]] = {
        "string": lambda: plain_text.filter(lambda s: lo_len <= len(s) <= hi_len)
        | st.text(min_size=lo_len, max_size=min(hi_len, 8)).filter(lambda s: not any(t in s for t in THINK_TAGS)),
        "integer": lambda: st.integers(lo, hi),
        "number": lambda: st.integers(lo, hi) | st.floats(lo, hi, allow_nan=False, allow_infinity=False).filter(
            lambda x: lo is None or _in_llguidance_range(x, hi)),
        "boolean": st.booleans, "null": st.none,
        "array": lambda: st.lists(values(schema["items"]), min_size=schema["minItems"], max_size=schema["maxItems"]),
        "object": lambda: _object_values(schema),
        None: lambda: json_values,
    }
    return builders[kind]()


def _in_llguidance_range(x: float, maximum: float) -> bool:
    """Whether llguidance's regex for a bounded number takes json.dumps(x): no exponent, no "-0.0", and no
    "0.0" when the maximum is 0 (its range regexes are narrower than JSON Schema there; never wider)."""
    return "e" not in repr(x) and (x != 0 or (math.copysign(1, x) > 0 and maximum != 0))


def _object_values(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    parts = [st.tuples(st.just(name), values(sub), st.just(True) if name in schema["required"] else st.booleans())
             for name, sub in schema["properties"].items()]
    return st.tuples(*parts).map(lambda kept: {name: value for name, value, keep in kept if keep})


@st.composite
def tools_and_calls(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[ToolCall]]:
    tools = draw(tool_sets())
    chosen = draw(st.lists(st.sampled_from(tools), min_size=1, max_size=3))
    return tools, [{"name": t["function"]["name"], "arguments": draw(_object_values(t["function"]["parameters"]))}
                   for t in chosen]


def _schemas(tools: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {tool["function"]["name"]: tool["function"]["parameters"] for tool in tools}


def _check_canonical_calls(tools: list[dict[str, Any]], calls: list[ToolCall], vocab: GrammarVocab,
                           newline: bool) -> None:
    for grammar in (tool_grammar(tools), tool_grammar(tools, "required")):
        assert grammar.warnings == ()
        assert accepts_ids(vocab, grammar, call_tokens(vocab, calls, newline))
    text = canonical(calls) + ("\n" if newline else "")
    result = parse(text, tools)
    assert result.calls == calls and result.unknown_tools == [] and result.format == "tool_call"
    schemas_by_name = _schemas(tools)
    assert all(valid(call["arguments"], schemas_by_name[call["name"]]) for call in calls)


def _check_disguises_rejected(tools: list[dict[str, Any]], calls: list[ToolCall], vocab: GrammarVocab,
                              hf_tokenizer: Any, cut: int) -> None:
    grammar = tool_grammar(tools)
    payload = calls[0] if len(calls) == 1 else calls
    for disguise in ("```json\n" + json.dumps(payload, indent=2, ensure_ascii=False) + "\n```",
                     json.dumps(payload, ensure_ascii=False),
                     "Here you go: " + json.dumps(payload, ensure_ascii=False)):
        assert not accepts_text(vocab, hf_tokenizer, grammar, disguise)
    ids = call_tokens(vocab, calls[:1])
    m = matcher(vocab, grammar)
    assert m.consume_tokens(ids[: cut % len(ids)]) and not m.is_accepting()  # cut before its </tool_call>
    unknown = [{"name": "".join(_schemas(tools)) + "_", "arguments": {}}]
    assert not accepts_ids(vocab, grammar, call_tokens(vocab, unknown))


@PROPERTY
@given(case=tools_and_calls(), newline=st.booleans())
def test_canonical_calls_are_accepted_and_parse_back(case: Any, newline: bool, vocab: GrammarVocab) -> None:
    _check_canonical_calls(*case, vocab, newline)


@PROPERTY
@given(case=tools_and_calls(), cut=st.integers(min_value=0))
def test_disguised_and_cut_calls_are_rejected(case: Any, cut: int, vocab: GrammarVocab, hf_tokenizer: Any) -> None:
    _check_disguises_rejected(*case, vocab, hf_tokenizer, cut)


FRAGMENTS = ["<tool_call>", "</tool_call>", "```", "```json\n", "{", "}", "[", "]", '{"', '{ "', '"name"', ":",
             '"arguments"', "\n", " ", "<", "`", REFUSAL, '{"name": "f", "arguments": {}}', "'", "True", "东京"]
texts = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=5), max_size=12).map("".join)


@settings(PROPERTY, max_examples=400)
@given(text=texts)
@example(text="\x1f")  # whitespace to Python's strip, not to the regex \s: once accepted as empty text
def test_text_the_grammar_takes_never_carries_a_call(text: str, vocab: GrammarVocab, hf_tokenizer: Any) -> None:
    auto, none = tool_grammar(TOOLS), tool_grammar(TOOLS, "none")
    taken = accepts_text(vocab, hf_tokenizer, auto, text)
    assert taken == accepts_text(vocab, hf_tokenizer, none, text)
    if taken:
        result = parse(text, TOOLS)
        assert result.calls == [] and result.kind in ("text", "refusal")


CLOSERS = ('"', "}", "]", '"}', "}}", '"]', "}\n", ".")


def walk(vocab: GrammarVocab, grammar: ToolGrammar, seed: int, max_tokens: int = 300) -> tuple[list[int], bool]:
    """A random answer drawn through the grammar (a 'model' that picks any allowed token, often a closing one,
    ending the turn when it may); returns the ids and whether the turn ended."""
    rng = np.random.default_rng(seed)
    tok = vocab.tokenizer
    closer = np.zeros(tok.vocab_size, dtype=bool)
    closer[[t for text in CLOSERS for t in tok.greedy_tokenize(text)] + list(END_OF_TURN)] = True
    constraint = Constraint(vocab, grammar)
    ids: list[int] = []
    while len(ids) < max_tokens:
        allowed = np.flatnonzero(constraint.allowed(tok.vocab_size))
        openers = allowed[vocab.call_intent[allowed]]
        if not ids and openers.size and rng.random() < 0.5:
            allowed = openers  # under auto, start a call half the time rather than 1 in 90K
        ending = allowed[closer[allowed]]
        token = int(rng.choice(ending) if ending.size and rng.random() < 0.4 else rng.choice(allowed))
        if token in END_OF_TURN:
            return ids, True
        ids += [token, *constraint.advance(token)]
        if constraint.done:
            return ids, True
    return ids, False


STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def assert_canonical_layout(text: str, calls: list[ToolCall]) -> None:
    """text is calls in format_tool_calls' layout: tags on their own lines, one JSON line per call with name
    then arguments, and outside strings no whitespace but json.dumps' separators (escapes and number
    spellings may differ: llguidance takes any valid JSON there, and parse reads them the same)."""
    lines = text.split("\n")  # JSON strings cannot hold a raw newline
    assert lines[len(calls) * 3 - 1:] in (["</tool_call>"], ["</tool_call>", ""])
    for index, call in enumerate(calls):
        opening, body, closing = lines[index * 3: index * 3 + 3]
        assert (opening, closing) == ("<tool_call>", "</tool_call>")
        assert list(json.loads(body)) == ["name", "arguments"] and json.loads(body)["name"] == call["name"]
        bare = STRING.sub('""', body).replace(", ", ",").replace(": ", ":")
        assert not re.search(r"\s", bare), body


def _check_walk(tools: list[dict[str, Any]], choice: str, parallel: bool, seed: int, vocab: GrammarVocab,
                hf_tokenizer: Any) -> None:
    grammar = tool_grammar(tools, choice, parallel)
    ids, ended = walk(vocab, grammar, seed)
    text = hf_tokenizer.decode(ids, skip_special_tokens=False)
    result = parse(text, tools)
    event(f"walk ended with {result.kind}" if ended else "walk ran out of tokens")
    if not ended:
        return
    if result.calls:
        assert choice != "none"
        assert result.unknown_tools == [] and result.errors == []
        assert_canonical_layout(text, result.calls)
        schemas_by_name = _schemas(tools)
        assert all(valid(call["arguments"], schemas_by_name[call["name"]]) for call in result.calls)
        assert parallel or len(result.calls) == 1
    else:
        assert choice in ("auto", "none") and result.kind in ("text", "refusal"), text


@PROPERTY
@given(tools=tool_sets(), choice=st.sampled_from(["auto", "required", "none"]), parallel=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_everything_the_grammar_generates_parses_to_valid_calls_or_text(tools: Any, choice: str, parallel: bool,
                                                                         seed: int, vocab: GrammarVocab,
                                                                         hf_tokenizer: Any) -> None:
    _check_walk(tools, choice, parallel, seed, vocab, hf_tokenizer)


@pytest.mark.parametrize("name, properties", [
    ("\uf900", {}),  # NFC turns the forced name into another character's token
    ("f", {"<tool_call>": {"type": "boolean"}}),  # the forced property name is also a special token's text
])
@pytest.mark.parametrize("seed", range(4))
def test_forced_bytes_the_tokenizer_spells_otherwise(name: str, properties: dict[str, Any], seed: int,
                                                     vocab: GrammarVocab, hf_tokenizer: Any) -> None:
    tools = [{"type": "function", "function": {"name": name, "description": "",
                                               "parameters": {"type": "object", "properties": properties}}}]
    ids, ended = walk(vocab, tool_grammar(tools, "required"), seed)
    assert ended
    result = parse(hf_tokenizer.decode(ids, skip_special_tokens=False), tools)
    assert [call["name"] for call in result.calls][:1] == [name]


@pytest.mark.slow
@PROPERTY_SLOW
@given(tools=tool_sets(), choice=st.sampled_from(["auto", "required", "none"]), parallel=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_thousands_of_generated_answers_parse(tools: Any, choice: str, parallel: bool, seed: int,
                                              vocab: GrammarVocab, hf_tokenizer: Any) -> None:
    _check_walk(tools, choice, parallel, seed, vocab, hf_tokenizer)


@pytest.mark.slow
@PROPERTY_SLOW
@given(case=tools_and_calls(), newline=st.booleans(), cut=st.integers(min_value=0))
def test_thousands_of_canonical_and_disguised_calls(case: Any, newline: bool, cut: int, vocab: GrammarVocab,
                                                    hf_tokenizer: Any) -> None:
    _check_canonical_calls(*case, vocab, newline)
    _check_disguises_rejected(*case, vocab, hf_tokenizer, cut)
