"""Tests for edgefc.protocol.schema: every accepted tool form comes out in the one canonical form."""

from __future__ import annotations

import copy
import json
from typing import Any, Literal, Optional, Union

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgefc.errors import SchemaError
from edgefc.protocol.schema import GORILLA_TO_JSON_SCHEMA, normalize_tool, normalize_tools

BFCL_TRIANGLE = {
    "name": "calculate_triangle_area",
    "description": "Calculate the area of a triangle given its base and height.",
    "parameters": {
        "type": "dict",
        "properties": {
            "base": {"type": "integer", "description": "The base of the triangle."},
            "height": {"type": "float"},
            "unit": {"type": "string", "default": "units"},
        },
        "required": ["base", "height"],
    },
}

XLAM_GIVEAWAYS = {
    "name": "live_giveaways_by_type",
    "description": "Retrieve live giveaways from the GamerPower API based on the specified type.",
    "parameters": {
        "type": {
            "description": "The type of giveaways to retrieve (e.g., game, loot, beta).",
            "type": "str",
            "default": "game",
        }
    },
}

OPENAI_WEATHER = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location.",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
                "when": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
            },
            "required": ["location"],
        },
    },
}


def search_flights(
    origin: str,
    destination: str,
    passengers: int = 1,
    cabin: Literal["economy", "business"] = "economy",
    max_price: Optional[float] = None,
    airlines: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Search one-way flights between two airports.

    Results are sorted by price.

    Args:
        origin: IATA code of the departure airport.
        destination (str): IATA code of the arrival
            airport.
        passengers: How many seats to book.
        cabin: Cabin class.
        max_price: Highest acceptable price in EUR.

    Returns:
        The matching flights.
    """
    return []


def params_of(tool: Any) -> dict[str, Any]:
    """The canonical parameters object of a normalized tool."""
    return normalize_tool(tool)["function"]["parameters"]


# --- accepted forms ---------------------------------------------------------------------------


def test_bfcl_doc_maps_gorilla_types() -> None:
    assert normalize_tool(BFCL_TRIANGLE) == {
        "type": "function",
        "function": {
            "name": "calculate_triangle_area",
            "description": "Calculate the area of a triangle given its base and height.",
            "parameters": {
                "type": "object",
                "properties": {
                    "base": {"type": "integer", "description": "The base of the triangle."},
                    "height": {"type": "number"},
                    "unit": {"type": "string", "default": "units"},
                },
                "required": ["base", "height"],
            },
        },
    }


def test_bfcl_nested_items_and_properties_are_mapped() -> None:
    tool = {
        "name": "plan_route",
        "parameters": {
            "type": "dict",
            "properties": {
                "stops": {
                    "type": "array",
                    "items": {
                        "type": "dict",
                        "properties": {
                            "lat": {"type": "double"},
                            "tags": {"type": "list", "items": {"type": "String"}},
                        },
                        "required": ["lat"],
                    },
                },
                "options": {"type": "HashMap", "properties": {"retries": {"type": "long"}}},
                "point": {"type": "tuple", "items": {"type": "float"}},
                "anything": {"type": "any"},
            },
            "required": ["stops"],
        },
    }
    props = params_of(tool)["properties"]
    assert props["stops"] == {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"lat": {"type": "number"}, "tags": {"type": "array", "items": {"type": "string"}}},
            "required": ["lat"],
        },
    }
    assert props["options"] == {"type": "object", "properties": {"retries": {"type": "integer"}}}
    assert props["point"] == {"type": "array", "items": {"type": "number"}}
    assert props["anything"] == {"type": "string"}


@pytest.mark.parametrize("gorilla_type", sorted(GORILLA_TO_JSON_SCHEMA))
def test_every_gorilla_type_maps_to_a_json_schema_type(gorilla_type: str) -> None:
    tool = {"name": "f", "parameters": {"type": "dict", "properties": {"x": {"type": gorilla_type}}}}
    mapped = params_of(tool)["properties"]["x"]["type"]
    assert mapped == GORILLA_TO_JSON_SCHEMA[gorilla_type]
    assert mapped in {"string", "integer", "number", "boolean", "array", "object"}


def test_gorilla_mapping_follows_bfcl() -> None:
    assert GORILLA_TO_JSON_SCHEMA["Hashtable"] == "object"
    assert GORILLA_TO_JSON_SCHEMA["Queue"] == "array"
    assert GORILLA_TO_JSON_SCHEMA["char"] == "string"
    assert GORILLA_TO_JSON_SCHEMA["Bigint"] == "integer"
    assert GORILLA_TO_JSON_SCHEMA["bool"] == "boolean"


def test_xlam_doc_with_a_parameter_named_type() -> None:
    assert normalize_tool(XLAM_GIVEAWAYS)["function"] == {
        "name": "live_giveaways_by_type",
        "description": "Retrieve live giveaways from the GamerPower API based on the specified type.",
        "parameters": {
            "type": "object",
            "properties": {
                "type": {
                    "type": "string",
                    "description": "The type of giveaways to retrieve (e.g., game, loot, beta).",
                    "default": "game",
                }
            },
            "required": [],
        },
    }


@pytest.mark.parametrize(
    ("type_string", "schema", "required"),
    [
        ("str", {"type": "string"}, True),
        ("int", {"type": "integer"}, True),
        ("float", {"type": "number"}, True),
        ("bool", {"type": "boolean"}, True),
        ("list", {"type": "array"}, True),
        ("dict", {"type": "object"}, True),
        ("Any", {}, True),
        ("List[int]", {"type": "array", "items": {"type": "integer"}}, True),
        ("List[str]", {"type": "array", "items": {"type": "string"}}, True),
        ("List[List[float]]", {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}, True),
        ("Dict[str, Any]", {"type": "object"}, True),
        ("Dict[str, int]", {"type": "object", "additionalProperties": {"type": "integer"}}, True),
        ("Tuple[int, int]", {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}, True),
        (
            "Tuple[str, float]",
            {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}], "minItems": 2, "maxItems": 2},
            True,
        ),
        ("Optional[str]", {"type": "string"}, False),
        ("Union[int, str]", {"anyOf": [{"type": "integer"}, {"type": "string"}]}, True),
        ("Union[int, None]", {"type": "integer"}, False),
        ("float, optional", {"type": "number"}, False),
        ("List[int], optional", {"type": "array", "items": {"type": "integer"}}, False),
        ("str, Optional", {"type": "string"}, False),
        ("integer", {"type": "integer"}, True),
    ],
)
def test_xlam_type_strings(type_string: str, schema: dict[str, Any], required: bool) -> None:
    tool = {"name": "f", "parameters": {"x": {"type": type_string, "description": "An x."}}}
    params = params_of(tool)
    assert params["properties"]["x"] == {**schema, "description": "An x."}
    assert params["required"] == (["x"] if required else [])


def test_xlam_default_makes_a_parameter_optional() -> None:
    tool = {
        "name": "get_stock_quote",
        "description": "Fetch a stock quote.",
        "parameters": {
            "symbol": {"description": "Ticker symbol.", "type": "str", "default": "AAPL"},
            "exchange": {"description": "Exchange code.", "type": "str"},
            "limit": {"description": "How many.", "type": "int, optional", "default": 10},
        },
    }
    params = params_of(tool)
    assert params["required"] == ["exchange"]
    assert params["properties"]["limit"] == {"type": "integer", "description": "How many.", "default": 10}


def test_xlam_json_string_of_a_list() -> None:
    text = json.dumps([XLAM_GIVEAWAYS, {"name": "ping", "description": "Check liveness.", "parameters": {}}])
    tools = normalize_tools(text)
    assert [tool["function"]["name"] for tool in tools] == ["live_giveaways_by_type", "ping"]
    assert tools[1]["function"]["parameters"] == {"type": "object", "properties": {}, "required": []}


def test_openai_form_keeps_standard_keywords() -> None:
    result = normalize_tool(OPENAI_WEATHER)
    assert result == OPENAI_WEATHER
    props = result["function"]["parameters"]["properties"]
    assert props["days"] == {"type": "integer", "minimum": 1, "maximum": 7}
    assert props["when"]["anyOf"][0]["format"] == "date"


def test_openai_function_without_type_and_extra_keys() -> None:
    tool = {"function": {**OPENAI_WEATHER["function"], "strict": True}}
    assert normalize_tool(tool) == OPENAI_WEATHER


def test_bare_json_schema_doc() -> None:
    bare = OPENAI_WEATHER["function"]
    assert normalize_tool(bare) == OPENAI_WEATHER


def test_schema_without_object_type_is_recognised() -> None:
    tool = {"name": "f", "parameters": {"properties": {"type": {"type": "string"}}, "required": ["type"]}}
    assert params_of(tool) == {"type": "object", "properties": {"type": {"type": "string"}}, "required": ["type"]}


def test_callable_with_google_docstring() -> None:
    assert normalize_tool(search_flights) == {
        "type": "function",
        "function": {
            "name": "search_flights",
            "description": "Search one-way flights between two airports.",
            "parameters": {
                "type": "object",
                "properties": {
                    "origin": {"type": "string", "description": "IATA code of the departure airport."},
                    "destination": {"type": "string", "description": "IATA code of the arrival airport."},
                    "passengers": {"type": "integer", "description": "How many seats to book.", "default": 1},
                    "cabin": {
                        "type": "string",
                        "enum": ["economy", "business"],
                        "description": "Cabin class.",
                        "default": "economy",
                    },
                    "max_price": {"type": "number", "description": "Highest acceptable price in EUR.", "default": None},
                    "airlines": {"type": "array", "items": {"type": "string"}, "default": None},
                },
                "required": ["origin", "destination"],
            },
        },
    }


def test_callable_hint_mapping() -> None:
    def convert(
        anything: Any,
        mapping: dict[str, int],
        pair: tuple[int, str],
        either: Union[int, str],
        flag: bool,
        *args: int,
        **kwargs: str,
    ) -> None:
        pass

    params = params_of(convert)
    assert params["properties"] == {
        "anything": {},
        "mapping": {"type": "object", "additionalProperties": {"type": "integer"}},
        "pair": {
            "type": "array",
            "prefixItems": [{"type": "integer"}, {"type": "string"}],
            "minItems": 2,
            "maxItems": 2,
        },
        "either": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        "flag": {"type": "boolean"},
    }
    assert params["required"] == ["anything", "mapping", "pair", "either", "flag"]
    assert normalize_tool(convert)["function"]["description"] == ""


def test_callable_default_that_is_not_json_is_left_out() -> None:
    def sleep(marker: str = object()) -> None:  # type: ignore[assignment]
        """Sleep."""

    assert params_of(sleep)["properties"]["marker"] == {"type": "string"}
    assert params_of(sleep)["required"] == []


def test_mixed_list_and_tools_wrapper() -> None:
    tools = [OPENAI_WEATHER, BFCL_TRIANGLE, XLAM_GIVEAWAYS, search_flights]
    names = ["get_current_weather", "calculate_triangle_area", "live_giveaways_by_type", "search_flights"]
    assert [tool["function"]["name"] for tool in normalize_tools(tools)] == names
    assert normalize_tools({"tools": tools}) == normalize_tools(tools)
    assert normalize_tools(BFCL_TRIANGLE) == [normalize_tool(BFCL_TRIANGLE)]
    assert normalize_tools(search_flights) == [normalize_tool(search_flights)]
    assert normalize_tools([]) == []


def test_missing_description_and_parameters() -> None:
    assert normalize_tool({"name": "ping"}) == {
        "type": "function",
        "function": {
            "name": "ping",
            "description": "",
            "parameters": {"type": "object", "properties": {}, "required": []},
        },
    }
    assert params_of({"name": "ping", "description": None, "parameters": None})["required"] == []


# --- idempotency and no mutation ----------------------------------------------------------------


ALL_FORMS = [OPENAI_WEATHER, OPENAI_WEATHER["function"], BFCL_TRIANGLE, XLAM_GIVEAWAYS, search_flights]


@pytest.mark.parametrize("tool", ALL_FORMS)
def test_idempotent(tool: Any) -> None:
    once = normalize_tool(tool)
    assert normalize_tool(once) == once
    assert normalize_tools([once]) == [once]


@pytest.mark.parametrize("tool", [t for t in ALL_FORMS if isinstance(t, dict)])
def test_input_is_not_mutated_and_output_shares_nothing(tool: dict[str, Any]) -> None:
    before = copy.deepcopy(tool)
    result = normalize_tool(tool)
    assert tool == before
    result["function"]["parameters"]["properties"].clear()
    result["function"]["parameters"]["required"].append("zzz")
    assert tool == before
    assert normalize_tool(tool) == normalize_tool(before)


def test_output_is_plain_json() -> None:
    tools = normalize_tools(ALL_FORMS[:1] + ALL_FORMS[2:])
    assert json.loads(json.dumps(tools)) == tools


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        ([OPENAI_WEATHER, 42], r"^tool at index 1 is a int, not a dict or a callable$"),
        ([OPENAI_WEATHER, {"description": "no name"}], r"^tool at index 1 has no 'name'$"),
        ([{"name": ""}], r"^tool at index 0 has a 'name' that is not a non-empty string"),
        ([{"name": 7}], r"^tool at index 0 has a 'name' that is not a non-empty string: 7$"),
        ([{"name": "f", "parameters": ["x"]}], r"^tool 'f' has 'parameters' that is not a dict$"),
        ([{"name": "f", "description": 3}], r"^tool 'f' has a 'description' that is not a string$"),
        (
            [{"name": "f", "parameters": {"type": "dict", "properties": {"x": {"type": "Integer"}}}}],
            r"^tool 'f' parameter 'x' has unknown type 'Integer'$",
        ),
        (
            [{"name": "f", "parameters": {"x": {"type": "Frobnicator"}}}],
            r"^tool 'f' parameter 'x' has unknown type 'Frobnicator'$",
        ),
        (
            [{"name": "f", "parameters": {"x": {"type": "List[int"}}}],
            r"^tool 'f' parameter 'x' has a malformed type 'List\[int'$",
        ),
        (
            [{"name": "f", "parameters": {"x": {"type": "Dict[str]"}}}],
            r"^tool 'f' parameter 'x' gives 'Dict' 1 type arguments instead of 2$",
        ),
        ([{"name": "f", "parameters": {"x": "int"}}], r"^tool 'f' parameter 'x' is not a dict$"),
        (
            [{"name": "f", "parameters": {"type": "object", "properties": ["x"]}}],
            r"^tool 'f' parameter schema has 'properties' that is not a dict$",
        ),
        (
            [{"name": "f", "parameters": {"type": "object", "properties": {}, "required": "x"}}],
            r"^tool 'f' parameter schema has 'required' that is not a list of strings$",
        ),
        (
            [{"name": "f", "parameters": {"type": "object", "properties": {}, "required": [1]}}],
            r"^tool 'f' parameter schema has 'required' that is not a list of strings$",
        ),
        (
            [{"name": "f", "parameters": {"type": "object", "properties": {"x": {}}, "required": ["y"]}}],
            r"^tool 'f' parameter schema requires 'y', which is not among its properties$",
        ),
        (
            [
                {
                    "name": "f",
                    "parameters": {
                        "type": "object",
                        "properties": {"o": {"type": "object", "properties": {}, "required": ["z"]}},
                    },
                }
            ],
            r"^tool 'f' parameter 'o' requires 'z', which is not among its properties$",
        ),
        (
            [{"name": "f", "parameters": {"type": "string"}}],
            r"^tool 'f' parameter schema has type 'string', not 'object'$",
        ),
        (
            [{"name": "f", "parameters": {"type": "object", "properties": {"x": {"items": 3}}}}],
            r"^tool 'f' parameter 'x\[\]' is not a dict$",
        ),
        ([{"type": "retrieval", "function": {"name": "f"}}], r"^tool at index 0 has type 'retrieval', not 'function'$"),
        ([{"type": "function", "function": "f"}], r"^tool at index 0 has a 'function' entry that is not a dict$"),
        (
            [BFCL_TRIANGLE, OPENAI_WEATHER, BFCL_TRIANGLE],
            r"^tools at index 0 and 2 are both named 'calculate_triangle_area'$",
        ),
        ("[{not json", r"^the tools string is not valid JSON"),
        ({"tools": {"name": "f"}}, r"^the 'tools' entry is not a list$"),
        (3.5, r"^tools must be a list, a dict, a callable or a JSON string, not a float$"),
    ],
)
def test_bad_input_raises_one_clear_schema_error(tools: Any, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        normalize_tools(tools)


def test_single_tool_errors_say_tool() -> None:
    with pytest.raises(SchemaError, match=r"^tool has no 'name'$"):
        normalize_tool({"parameters": {}})
    with pytest.raises(SchemaError, match=r"^tool is a str, not a dict or a callable$"):
        normalize_tool("get_weather")  # type: ignore[arg-type]


def test_callable_without_type_hint_names_function_and_parameter() -> None:
    def book_hotel(city: str, nights) -> None:  # type: ignore[no-untyped-def]
        """Book a hotel."""

    with pytest.raises(SchemaError, match=r"^tool 'book_hotel' parameter 'nights' has no type hint$"):
        normalize_tool(book_hotel)


class Point:
    """Not expressible in JSON Schema."""


def test_callable_errors() -> None:
    def locate(where: Point) -> None:
        pass

    def broken(x: "NoSuchType") -> None:  # type: ignore[name-defined]  # noqa: F821
        pass

    with pytest.raises(SchemaError, match=r"^tool 'locate' parameter 'where' has a type hint JSON cannot express"):
        normalize_tool(locate)
    with pytest.raises(SchemaError, match=r"^tool 'broken' has a signature or type hints that cannot be read"):
        normalize_tool(broken)
    with pytest.raises(SchemaError, match=r"^tool is a callable without a usable __name__$"):
        normalize_tool(lambda: None)


# --- property-based -----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)

# Keys the normalizer looks at, so random dicts often reach deep code paths.
schema_keys = st.sampled_from(
    ["name", "description", "parameters", "function", "type", "properties", "required", "items", "tools", "default"]
)
type_names = st.sampled_from(["object", "dict", "str", "float", "List[int]", "Optional[str]", "int, optional", "x["])
tool_like = st.recursive(
    st.none() | st.integers() | st.text(max_size=8) | type_names,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(schema_keys | st.text(max_size=4), children, max_size=5),
    max_leaves=30,
)
parameter_dicts = st.dictionaries(schema_keys | st.text(max_size=4), tool_like, max_size=5)


def _normalizes_or_raises_schema_error(value: object) -> None:
    """The property: SchemaError or a canonical, idempotent result; the input is left as it was."""
    before = copy.deepcopy(value)
    try:
        tools = normalize_tools(value)
    except SchemaError:
        assert value == before
        return
    assert value == before
    for tool in tools:
        assert tool["type"] == "function"
        assert set(tool["function"]) == {"name", "description", "parameters"}
        assert tool["function"]["parameters"]["type"] == "object"
        assert isinstance(tool["function"]["parameters"]["required"], list)
        assert normalize_tool(tool) == tool


@settings(max_examples=500, deadline=None)
@given(json_values)
def test_arbitrary_json_normalizes_or_raises_schema_error(value: object) -> None:
    _normalizes_or_raises_schema_error(value)


@settings(max_examples=500, deadline=None)
@given(st.text(min_size=1, max_size=8), parameter_dicts)
def test_named_tools_with_arbitrary_parameters(name: str, parameters: object) -> None:
    _normalizes_or_raises_schema_error([{"name": name, "parameters": parameters}])
    _normalizes_or_raises_schema_error({"type": "function", "function": {"name": name, "parameters": parameters}})
