"""BFCL's AST checker semantics (bfcl-eval 2026.3.23, Python categories), written independently of its code.

`check(entry, decoded)` gives the verdict bfcl-eval's eval_runner gives for the same decoded calls, with the
same error_type; tests/test_bfcl_conformance.py holds the two to 100% agreement. The rules:

- decoded is BFCL's decoded form [{name: {argument: value}}]; None means decoding failed.
- Irrelevance categories pass iff no call was decoded: None, [], or anything not in the decoded form.
- Other categories: None fails ("ast_decoder:decoder_failed"), a value not in the decoded form fails
  ("ast_decoder:decoder_wrong_output_format"); [] is well formed and fails on the call count.
- Each category's rule is its row in edgefc.bfcl.categories (bfcl-eval picks it from the name): "parallel"
  matches the expected calls in any order, greedily: each expected call in turn takes the first
  still-unmatched decoded call that passes; "multiple" needs exactly one call, checked against the doc of the
  expected function; "simple" needs exactly one call, checked against the entry's first doc.
- Function names are compared verbatim, dots included: for BFCL's Qwen FC models (registry key
  "Qwen/Qwen3-1.7B-FC", QwenFCHandler) `underscore_to_dot` is False, so no dot-to-underscore rewrite applies,
  and the handler shows the model the original dotted names.
- Per call: every required parameter present; every given parameter in the doc and in the possible answer;
  every possible-answer parameter given unless its options contain "" (optional).
- Types compare exactly (`type(v) is T`, so a bool is not an integer) through BFCL's map: string/any -> str,
  integer -> int, float -> float, boolean -> bool, array/tuple -> list, dict -> dict. An int given for a float
  becomes a float first; a float for an int fails. A value of the type of the first non-"" option is a
  "variable" and is compared verbatim. Arrays check their items' type, one level deep, against any option.
- Values: strings (and strings inside lists and dicts) compare after deleting spaces and ,./-_*^, lower-casing
  and turning ' into "; dicts are checked key by key against each option; lists of dicts element by element
  and in order; anything else must equal one of the options (Python ==, so 1 == 1.0 == True).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from edgefc.bfcl.categories import get
from edgefc.bfcl.data import Entry

# BFCL's Python type map: function-doc type name -> the Python type a value must have.
BFCL_TYPES: dict[str, type] = {
    "string": str, "integer": int, "float": float, "boolean": bool,
    "array": list, "tuple": list, "dict": dict, "any": str,
}
_ITEM_CHECKED = ("array", "tuple")
_IGNORED = re.compile(r"[ ,./\-_*^]")
_NONE = object()  # "no option tells the type", distinct from a null option


@dataclass(frozen=True)
class Verdict:
    """Whether decoded calls pass, BFCL's error_type when they do not ("" when valid), and why."""

    valid: bool
    error_type: str = ""
    errors: list[str] = field(default_factory=list)


_PASS = Verdict(True)


def check(entry: Entry, decoded: list[dict[str, Any]] | None) -> Verdict:
    """BFCL's verdict on the decoded calls of one entry (None: the output could not be decoded)."""
    rule = get(entry.category, multi_turn=False).rule
    if rule == "irrelevance":
        if decoded is not None and _well_formed(decoded) and decoded:
            return Verdict(False, "irrelevance_error:decoder_success", ["a call was made where none should be"])
        return _PASS
    if decoded is None:
        return Verdict(False, "ast_decoder:decoder_failed", ["the output could not be decoded"])
    if not _well_formed(decoded):
        return Verdict(False, "ast_decoder:decoder_wrong_output_format",
                       [f"not in the form [{{name: {{arg: value}}}}]: {decoded!r}"])
    if rule == "parallel":
        return _any_order(entry, decoded)
    kind = f"{rule}_function_checker"
    if len(decoded) != len(entry.answer):
        return Verdict(False, f"{kind}:wrong_count", [f"{len(decoded)} calls, expected {len(entry.answer)}"])
    doc = _doc(entry, entry.answer[0]) if rule == "multiple" else entry.functions[0]
    return _call(doc, decoded[0], entry.answer[0])


def standardize(text: str) -> str:
    """A string as BFCL compares it: spaces and ,./-_*^ removed, lower case, ' turned into "."""
    return _IGNORED.sub("", text).lower().replace("'", '"')


# --- calls -------------------------------------------------------------------------------------


def _well_formed(decoded: object) -> bool:
    """Whether decoded is a list of {name: {arguments}} dicts with exactly one name each."""
    return type(decoded) is list and all(
        type(call) is dict and len(call) == 1 and type(next(iter(call.values()))) is dict for call in decoded
    )


def _doc(entry: Entry, expected: dict[str, Any]) -> dict[str, Any]:
    """The function doc named by an expected call."""
    name = next(iter(expected))
    return next(doc for doc in entry.functions if doc["name"] == name)


def _any_order(entry: Entry, decoded: list[dict[str, Any]]) -> Verdict:
    """Parallel categories: each expected call, in order, takes the first unmatched decoded call that passes."""
    if len(decoded) != len(entry.answer):
        return Verdict(False, "parallel_function_checker_no_order:wrong_count",
                       [f"{len(decoded)} calls, expected {len(entry.answer)}"])
    unmatched = list(range(len(decoded)))
    for number, expected in enumerate(entry.answer):
        doc = _doc(entry, expected)
        found = next((i for i in unmatched if _call(doc, decoded[i], expected).valid), None)
        if found is None:
            return Verdict(False, "parallel_function_checker_no_order:cannot_find_match",
                           [f"no decoded call matches expected call #{number} ({next(iter(expected))})"])
        unmatched.remove(found)
    return _PASS


def _call(doc: dict[str, Any], call: dict[str, Any], expected: dict[str, Any]) -> Verdict:
    """One decoded call against one function doc and its expected {name: {param: options}}."""
    options = next(iter(expected.values()))
    name = doc["name"]
    if name not in call:
        return Verdict(False, "simple_function_checker:wrong_func_name", [f"{name!r} was not called"])
    args = call[name]
    properties = doc["parameters"]["properties"]
    missing = next((param for param in doc["parameters"]["required"] if param not in args), None)
    if missing is not None:
        return Verdict(False, "simple_function_checker:missing_required", [f"required {missing!r} is missing"])
    for param, value in args.items():
        if param not in properties or param not in options:
            return Verdict(False, "simple_function_checker:unexpected_param", [f"unexpected parameter {param!r}"])
        verdict = _argument(param, value, properties[param], options[param])
        if not verdict.valid:
            return verdict
    left_out = next((p for p, allowed in options.items() if p not in args and "" not in allowed), None)
    if left_out is not None:
        return Verdict(False, "simple_function_checker:missing_optional",
                       [f"{left_out!r} was left out but is not optional"])
    return _PASS


# --- arguments ---------------------------------------------------------------------------------


def _argument(param: str, value: Any, schema: dict[str, Any], options: list[Any]) -> Verdict:
    """One argument: its type, then its value against the possible answer's options."""
    type_name = schema["type"]
    expected = BFCL_TYPES[type_name]
    item_type = BFCL_TYPES[schema["items"]["type"]] if type_name in _ITEM_CHECKED else None
    if type_name == "float" and type(value) is int:
        value = float(value)
    verdict, variable = _type(param, value, options, expected, item_type)
    if not verdict.valid:
        return verdict
    if not variable:
        if expected is dict:
            return _dict(value, options)
        if expected is list and item_type is dict:
            return _list_of_dicts(value, options)
        if expected is str:
            return _string(param, value, options)
        if expected is list:
            return _list(param, value, options)
    if value not in options:
        return Verdict(False, "value_error:others", [f"{param!r}: {value!r} is not one of {options!r}"])
    return _PASS


def _option_type(options: list[Any]) -> Any:
    """The type of the first option that is not "" (optional), or _NONE."""
    return next((type(option) for option in options if option != ""), _NONE)


def _type(param: str, value: Any, options: list[Any], expected: type, item_type: type | None) -> tuple[Verdict, bool]:
    """BFCL's type check; also whether the value is a "variable" (compared verbatim, not standardized)."""
    option_type = _option_type(options)
    variable = option_type is not _NONE and option_type is not expected
    items_failed = False
    if type(value) is expected:
        if item_type is None or any(
            type(option) is not list or all(_item_type_ok(item, option, item_type) for item in value)
            for option in options
        ):
            return _PASS, variable
        items_failed = True
    if option_type is not _NONE and type(value) is option_type:
        if items_failed:
            return Verdict(False, "type_error:nested", [f"{param!r}: items of {value!r} have the wrong type"]), True
        return _PASS, True
    wrong = Verdict(False, "type_error:simple", [f"{param!r}: {type(value).__name__} {value!r} has the wrong type"])
    return wrong, variable


def _item_type_ok(item: Any, option: list[Any], item_type: type) -> bool:
    """Whether an array item has the item type, or the type of the option's first non-"" element."""
    return type(item) is item_type or type(item) is _option_type(option)


def _standard(value: Any) -> Any:
    """A value as BFCL compares it inside strings, lists and dicts: strings standardized, the rest as is."""
    return standardize(value) if type(value) is str else value


def _string(param: str, value: str, options: list[Any]) -> Verdict:
    """A string must equal a string option after standardization."""
    if standardize(value) not in [standardize(option) for option in options if type(option) is str]:
        return Verdict(False, "value_error:string", [f"{param!r}: {value!r} is not one of {options!r}"])
    return _PASS


def _list(param: str, value: list[Any], options: list[Any]) -> Verdict:
    """A list must equal an option element by element, strings standardized ("" reads as the empty list)."""
    if [_standard(item) for item in value] not in [[_standard(item) for item in option] for option in options]:
        return Verdict(False, "value_error:list/tuple", [f"{param!r}: {value!r} is not one of {options!r}"])
    return _PASS


def _dict(value: Any, options: list[Any]) -> Verdict:
    """A dict must match one non-"" option: known keys, allowed values, no missing non-optional key.

    When none matches, the verdict is that of the last option tried.
    """
    verdict = Verdict(False, "dict_checker:unclear")
    for option in options:
        if option == "":
            continue
        verdict = _dict_against(value, option)
        if verdict.valid:
            return _PASS
    return verdict


def _dict_against(value: dict[str, Any], option: Any) -> Verdict:
    """A dict against one option; a missing key overrides a wrong key or value as the error type."""
    errors: list[str] = []
    error_type = ""
    for key, item in value.items():
        if key not in option:
            error_type, reason = "value_error:dict_key", f"unexpected key {key!r}"
        elif _standard(item) not in [_standard(allowed) for allowed in option[key]]:
            error_type, reason = "value_error:dict_value", f"{key!r}: {item!r} is not one of {option[key]!r}"
        else:
            continue
        errors.append(reason)
        break
    missing = next((key for key, allowed in option.items() if key not in value and "" not in allowed), None)
    if missing is not None:
        error_type = "value_error:dict_key"
        errors.append(f"missing key {missing!r}")
    return Verdict(False, error_type, errors) if error_type else _PASS


def _list_of_dicts(value: list[Any], options: list[Any]) -> Verdict:
    """A list of dicts must match an option of the same length, dict by dict in order."""
    verdict = Verdict(False, "list_dict_checker:unclear")
    for option in options:
        if len(value) != len(option):
            verdict = Verdict(False, "value_error:list_dict_count", [f"{len(value)} dicts, expected {len(option)}"])
            continue
        for item, allowed in zip(value, option):
            verdict = _dict(item, [allowed])
            if not verdict.valid:
                break
        else:
            return _PASS
    return verdict
