"""edgefc's BFCL checker on hand-checked entries of every category (copied from bfcl-eval 2026.3.23's data).

Each case names the verdict bfcl-eval gives, worked out by hand from its ast_checker and eval_runner;
tests/test_bfcl_conformance.py compares the two checkers mechanically on thousands of cases.
"""

from __future__ import annotations

from typing import Any

import pytest

from edgefc.bfcl.checker import Verdict, check, standardize
from edgefc.bfcl.data import Entry
from edgefc.errors import EdgefcError


def _doc(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"name": name, "description": f"{name}.", "parameters": {"type": "dict", "properties": properties,
                                                                     "required": required}}


INT, FLOAT, STR = {"type": "integer"}, {"type": "float"}, {"type": "string"}
FACTORIAL = _doc("math.factorial", {"number": INT}, ["number"])
TRIANGLE = _doc("calculate_triangle_area", {"base": INT, "height": INT, "unit": STR}, ["base", "height"])
WEATHER = _doc("get_current_weather", {"location": STR, "unit": {**STR, "enum": ["celsius", "fahrenheit"]}},
               ["location"])
USER_INFO = _doc("update_user_info", {"user_id": INT, "update_info": {"type": "dict", "properties": {
    "name": STR, "email": STR}}, "database": STR}, ["user_id", "update_info"])
SUM = _doc("sum_numbers", {"numbers_list": {"type": "array", "items": FLOAT}}, ["numbers_list"])
TODO = _doc("todo", {"type": {**STR, "enum": ["add", "delete", "update"]}, "content": STR}, ["type", "content"])


def _entry(id: str, functions: list[dict[str, Any]], answer: list[dict[str, Any]] | None) -> Entry:
    return Entry(id=id, category=id.rsplit("_", 1)[0], question=[{"role": "user", "content": "?"}],
                 functions=functions, answer=answer)


ENTRIES = {
    "simple_python": _entry("simple_python_0", [TRIANGLE], [
        {"calculate_triangle_area": {"base": [10], "height": [5], "unit": ["units", ""]}}]),
    "simple_python_dict": _entry("simple_python_94", [USER_INFO], [{"update_user_info": {
        "user_id": [43523], "update_info": [{"name": ["John Doe"], "email": ["johndoe@email.com"]}],
        "database": ["CustomerInfo", ""]}}]),
    "parallel_greedy": _entry("parallel_9999", [WEATHER], [  # made up: options that overlap
        {"get_current_weather": {"location": ["Boston, MA", "Paris, France"]}},
        {"get_current_weather": {"location": ["Boston, MA"]}}]),
    "multiple": _entry("multiple_73", [
        _doc("religion.get_core_beliefs", {"religion": STR}, ["religion"]),
        _doc("religion.get_origin", {"religion": STR}, ["religion"])],
        [{"religion.get_origin": {"religion": ["Buddhism"]}}]),
    "parallel": _entry("parallel_7", [FACTORIAL], [
        {"math.factorial": {"number": [5]}}, {"math.factorial": {"number": [10]}},
        {"math.factorial": {"number": [15]}}]),
    "parallel_multiple": _entry("parallel_multiple_48", [
        _doc("frequency_to_wavelength", {"frequency": FLOAT}, ["frequency"]),
        _doc("note_conversion.indian", {"note": STR}, ["note"])],
        [{"note_conversion.indian": {"note": ["C"]}}, {"frequency_to_wavelength": {"frequency": [440.0]}}]),
    "irrelevance": _entry("irrelevance_8", [_doc("str_to_int", {"value": STR}, ["value"])], None),
    "live_simple": _entry("live_simple_116-72-0", [SUM], [{"sum_numbers": {"numbers_list": [[133.0, 34.0]]}}]),
    "live_multiple": _entry("live_multiple_27-7-0", [
        _doc("multiply", {"a": INT, "b": INT}, ["a", "b"]), _doc("add", {"a": INT, "b": INT}, ["a", "b"])],
        [{"add": {"a": [100], "b": [-40]}}]),
    "live_parallel": _entry("live_parallel_8-4-0", [TODO], [
        {"todo": {"type": ["add"], "content": ["Machine Learning Study Session"]}},
        {"todo": {"type": ["delete"], "content": ["todo random"]}}]),
    "live_parallel_multiple": _entry("live_parallel_multiple_16-14-0", [
        WEATHER, _doc("get_area_of_square", {"size": FLOAT}, ["size"])],
        [{"get_area_of_square": {"size": [5.0]}},
         {"get_current_weather": {"location": ["Queenstown, Singapore"], "unit": ["", "fahrenheit"]}}]),
    "live_irrelevance": _entry("live_irrelevance_120-9-0", [], None),
}

OK = ""
CASES: list[tuple[str, str, Any, str]] = [
    # simple_python: base/height integers, unit optional ("" among its options)
    ("simple_python", "correct", [{"calculate_triangle_area": {"base": 10, "height": 5}}], OK),
    ("simple_python", "optional given", [{"calculate_triangle_area": {"base": 10, "height": 5, "unit": "units"}}], OK),
    ("simple_python", "case and punctuation", [{"calculate_triangle_area": {"base": 10, "height": 5,
                                                                            "unit": " U.N-I_T*S^,"}}], OK),
    ("simple_python", "wrong value", [{"calculate_triangle_area": {"base": 11, "height": 5}}], "value_error:others"),
    ("simple_python", "wrong string", [{"calculate_triangle_area": {"base": 10, "height": 5, "unit": "cm"}}],
     "value_error:string"),
    ("simple_python", "missing required", [{"calculate_triangle_area": {"base": 10}}],
     "simple_function_checker:missing_required"),
    ("simple_python", "float for int", [{"calculate_triangle_area": {"base": 10.0, "height": 5}}], "type_error:simple"),
    ("simple_python", "bool for int", [{"calculate_triangle_area": {"base": True, "height": 5}}], "type_error:simple"),
    ("simple_python", "string for int", [{"calculate_triangle_area": {"base": "10", "height": 5}}],
     "type_error:simple"),
    ("simple_python", "unknown param", [{"calculate_triangle_area": {"base": 10, "height": 5, "color": "red"}}],
     "simple_function_checker:unexpected_param"),
    ("simple_python", "wrong function", [{"calculate_area": {"base": 10, "height": 5}}],
     "simple_function_checker:wrong_func_name"),
    ("simple_python", "extra call", [{"calculate_triangle_area": {"base": 10, "height": 5}}] * 2,
     "simple_function_checker:wrong_count"),
    ("simple_python", "no call", [], "simple_function_checker:wrong_count"),
    ("simple_python", "not decoded", None, "ast_decoder:decoder_failed"),
    ("simple_python", "arguments not a dict", [{"calculate_triangle_area": "base=10"}],
     "ast_decoder:decoder_wrong_output_format"),
    # a dict parameter: keys checked against the option's keys, values standardized
    ("simple_python_dict", "correct", [{"update_user_info": {"user_id": 43523, "update_info": {
        "name": "john doe", "email": "JohnDoe@email.com"}}}], OK),
    ("simple_python_dict", "wrong dict value", [{"update_user_info": {"user_id": 43523, "update_info": {
        "name": "Jane Doe", "email": "johndoe@email.com"}}}], "value_error:dict_value"),
    ("simple_python_dict", "missing dict key", [{"update_user_info": {"user_id": 43523, "update_info": {
        "name": "John Doe"}}}], "value_error:dict_key"),
    ("simple_python_dict", "extra dict key", [{"update_user_info": {"user_id": 43523, "update_info": {
        "name": "John Doe", "email": "johndoe@email.com", "age": 3}}}], "value_error:dict_key"),
    # multiple: exactly one call, to the expected one of several functions; dotted names compared verbatim
    ("multiple", "correct", [{"religion.get_origin": {"religion": "buddhism"}}], OK),
    ("multiple", "other function", [{"religion.get_core_beliefs": {"religion": "Buddhism"}}],
     "simple_function_checker:wrong_func_name"),
    ("multiple", "dots as underscores", [{"religion_get_origin": {"religion": "Buddhism"}}],
     "simple_function_checker:wrong_func_name"),
    ("multiple", "two calls", [{"religion.get_origin": {"religion": "Buddhism"}}] * 2,
     "multiple_function_checker:wrong_count"),
    # parallel: any order, every expected call matched once
    ("parallel", "correct", [{"math.factorial": {"number": n}} for n in (5, 10, 15)], OK),
    ("parallel", "any order", [{"math.factorial": {"number": n}} for n in (15, 5, 10)], OK),
    ("parallel", "one wrong", [{"math.factorial": {"number": n}} for n in (15, 5, 11)],
     "parallel_function_checker_no_order:cannot_find_match"),
    ("parallel", "duplicate", [{"math.factorial": {"number": n}} for n in (5, 5, 10)],
     "parallel_function_checker_no_order:cannot_find_match"),
    ("parallel", "missing call", [{"math.factorial": {"number": n}} for n in (5, 10)],
     "parallel_function_checker_no_order:wrong_count"),
    ("parallel", "extra call", [{"math.factorial": {"number": n}} for n in (5, 10, 15, 20)],
     "parallel_function_checker_no_order:wrong_count"),
    # matching is greedy: the first expected call takes the first decoded call it accepts, never revisited
    ("parallel_greedy", "greedy order works", [{"get_current_weather": {"location": "Paris, France"}},
                                               {"get_current_weather": {"location": "Boston, MA"}}], OK),
    ("parallel_greedy", "greedy order fails", [{"get_current_weather": {"location": "Boston, MA"}},
                                               {"get_current_weather": {"location": "Paris, France"}}],
     "parallel_function_checker_no_order:cannot_find_match"),
    # parallel_multiple: int accepted for float, order free
    ("parallel_multiple", "correct", [{"frequency_to_wavelength": {"frequency": 440.0}},
                                      {"note_conversion.indian": {"note": "C"}}], OK),
    ("parallel_multiple", "int for float", [{"note_conversion.indian": {"note": "c"}},
                                            {"frequency_to_wavelength": {"frequency": 440}}], OK),
    ("parallel_multiple", "wrong float", [{"note_conversion.indian": {"note": "C"}},
                                          {"frequency_to_wavelength": {"frequency": 441.5}}],
     "parallel_function_checker_no_order:cannot_find_match"),
    # irrelevance: passes iff nothing decodes to a call
    ("irrelevance", "no call", [], OK),
    ("irrelevance", "not decoded", None, OK),
    ("irrelevance", "empty call", [{}], OK),
    ("irrelevance", "a call", [{"str_to_int": {"value": "x^3"}}], "irrelevance_error:decoder_success"),
    ("irrelevance", "a call without arguments", [{"str_to_int": {}}], "irrelevance_error:decoder_success"),
    # live_simple: an array of floats; items are type-checked without int -> float conversion
    ("live_simple", "correct", [{"sum_numbers": {"numbers_list": [133.0, 34.0]}}], OK),
    ("live_simple", "ints in a float array", [{"sum_numbers": {"numbers_list": [133, 34]}}], "type_error:nested"),
    ("live_simple", "other order", [{"sum_numbers": {"numbers_list": [34.0, 133.0]}}], "value_error:list/tuple"),
    ("live_simple", "not a list", [{"sum_numbers": {"numbers_list": 167.0}}], "type_error:simple"),
    # live_multiple
    ("live_multiple", "correct", [{"add": {"a": 100, "b": -40}}], OK),
    ("live_multiple", "wrong function", [{"multiply": {"a": 100, "b": -40}}],
     "simple_function_checker:wrong_func_name"),
    ("live_multiple", "wrong value", [{"add": {"a": 100, "b": 40}}], "value_error:others"),
    # live_parallel: same function twice, matched in any order
    ("live_parallel", "correct", [{"todo": {"type": "delete", "content": "todo random"}},
                                  {"todo": {"type": "add", "content": "machine learning study session"}}], OK),
    ("live_parallel", "wrong enum", [{"todo": {"type": "remove", "content": "todo random"}},
                                     {"todo": {"type": "add", "content": "Machine Learning Study Session"}}],
     "parallel_function_checker_no_order:cannot_find_match"),
    # live_parallel_multiple: optional unit may be left out or given as an allowed value
    ("live_parallel_multiple", "correct", [{"get_area_of_square": {"size": 5}},
                                           {"get_current_weather": {"location": "Queenstown, Singapore"}}], OK),
    ("live_parallel_multiple", "optional given", [
        {"get_current_weather": {"location": "queenstown singapore", "unit": "Fahrenheit"}},
        {"get_area_of_square": {"size": 5.0}}], OK),
    ("live_parallel_multiple", "optional wrong", [
        {"get_current_weather": {"location": "Queenstown, Singapore", "unit": "celsius"}},
        {"get_area_of_square": {"size": 5.0}}], "parallel_function_checker_no_order:cannot_find_match"),
    # live_irrelevance (this entry offers no function at all)
    ("live_irrelevance", "no call", [], OK),
    ("live_irrelevance", "a call", [{"get_current_weather": {"location": "Boston, MA"}}],
     "irrelevance_error:decoder_success"),
]


@pytest.mark.parametrize(("entry", "label", "decoded", "error_type"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_verdict(entry: str, label: str, decoded: Any, error_type: str) -> None:
    verdict = check(ENTRIES[entry], decoded)
    assert (verdict.valid, verdict.error_type) == (error_type == OK, error_type), verdict.errors
    assert verdict.valid or verdict.errors


def test_every_category_is_covered() -> None:
    assert {ENTRIES[case[0]].category for case in CASES} == {entry.category for entry in ENTRIES.values()}
    assert len({entry.category for entry in ENTRIES.values()}) == 10


def test_standardize() -> None:
    assert standardize("April 1, 2024") == standardize("april 1,2024") == "april12024"
    assert standardize("It's A_B-C/D*E^F.") == 'it"sabcdef'


def test_valid_verdict_has_no_error() -> None:
    assert check(ENTRIES["multiple"], [{"religion.get_origin": {"religion": "Buddhism"}}]) == Verdict(True, "", [])


def test_java_is_not_supported() -> None:
    entry = Entry("simple_java_0", "simple_java", [], [FACTORIAL], [{"math.factorial": {"number": ["5"]}}])
    with pytest.raises(EdgefcError, match="is java"):
        check(entry, [{"math.factorial": {"number": "5"}}])
