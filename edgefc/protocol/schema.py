"""Any tool description -> the one canonical form HF chat templates expect.

Canonical form: {"type": "function", "function": {"name", "description", "parameters"}}, where
parameters is a plain JSON-Schema object {"type": "object", "properties": {...}, "required": [...]}.

Accepted inputs: OpenAI tools, bare {"name", "description", "parameters"} docs, BFCL/Gorilla docs
("type": "dict", "float", "HashMap", ...), xLAM docs (parameters as {name: {"type": "List[int], optional"}})
and Python callables (signature, type hints and a Google-style docstring).

Choices:
- The top-level "required" list is always emitted, possibly empty; nested objects keep theirs only if given.
- Optional[X] becomes X's schema: a model passes "no value" by leaving the argument out.
- Only name, description and parameters survive from a function dict (e.g. OpenAI's "strict" is dropped).
- Errors name a tool by its name once known, before that by its 0-based position ("tool at index 2").
"""

from __future__ import annotations

import copy
import inspect
import itertools
import json
import re
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable, Literal, Union

from edgefc.errors import SchemaError

JSON_TYPES = ("string", "integer", "number", "boolean", "array", "object", "null")

# BFCL's GORILLA_TO_OPENAPI: the type names BFCL function docs use, as JSON-Schema types.
GORILLA_TO_JSON_SCHEMA: dict[str, str] = {
    "integer": "integer",
    "number": "number",
    "float": "number",
    "double": "number",
    "string": "string",
    "String": "string",
    "char": "string",
    "any": "string",
    "Any": "string",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "tuple": "array",
    "ArrayList": "array",
    "Array": "array",
    "Queue": "array",
    "Stack": "array",
    "dict": "object",
    "HashMap": "object",
    "Hashtable": "object",
    "byte": "integer",
    "short": "integer",
    "long": "integer",
    "Bigint": "integer",
}

_SCHEMA_TYPES: dict[str, str] = {**{name: name for name in JSON_TYPES}, **GORILLA_TO_JSON_SCHEMA}

# Python type names (xLAM type strings, type hints) without type arguments, as JSON Schema.
# JSON-Schema names are accepted too, since some xLAM docs use them.
PYTHON_TYPES: dict[str, dict[str, str]] = {
    **{name: {"type": name} for name in JSON_TYPES},
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "list": {"type": "array"},
    "List": {"type": "array"},
    "tuple": {"type": "array"},
    "Tuple": {"type": "array"},
    "dict": {"type": "object"},
    "Dict": {"type": "object"},
    "None": {"type": "null"},
    "Any": {},
}

# Type-hint objects (or their typing origins) and the Python type names they stand for.
_HINT_NAMES: tuple[tuple[object, str], ...] = (
    (str, "str"),
    (int, "int"),
    (float, "float"),
    (bool, "bool"),
    (list, "list"),
    (dict, "dict"),
    (tuple, "tuple"),
    (type(None), "None"),
    (None, "None"),
    (Any, "Any"),
    (Union, "Union"),
    (types.UnionType, "Union"),
    (Ellipsis, "..."),
)

_OPTIONAL_SUFFIX = re.compile(r",\s*optional\s*$", re.IGNORECASE)
_TYPE_TOKEN = re.compile(r"\.\.\.|[A-Za-z_]\w*|[\[\],]")
_DOC_SECTION = re.compile(r"^\s*([A-Z][A-Za-z ]*):\s*$")
_DOC_ARG = re.compile(r"^\s*\**(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_ARGS_SECTIONS = ("Args", "Arguments", "Parameters")
_JSON_VALUE_TYPES: dict[type, str] = {bool: "boolean", int: "integer", float: "number", str: "string"}
_NOT_JSON = object()


def normalize_tool(tool: dict[str, Any] | Callable[..., Any]) -> dict[str, Any]:
    """Turn one tool in any accepted form into the canonical OpenAI form, so templates see one shape."""
    return _normalize_one(tool, "tool")


def normalize_tools(tools: object) -> list[dict[str, Any]]:
    """Normalize a list, a single tool, {"tools": [...]} or a JSON string of those, rejecting duplicate names."""
    normalized: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, tool in enumerate(_tool_list(tools)):
        result = _normalize_one(tool, f"tool at index {index}")
        name = result["function"]["name"]
        if name in seen:
            raise SchemaError(f"tools at index {seen[name]} and {index} are both named {name!r}")
        seen[name] = index
        normalized.append(result)
    return normalized


# --- tool level -------------------------------------------------------------------------------


def _tool_list(tools: object) -> list[object]:
    """Whatever normalize_tools was given, as a list of individual tools."""
    if isinstance(tools, str):
        try:
            tools = json.loads(tools)
        except ValueError as exc:
            raise SchemaError(f"the tools string is not valid JSON ({exc})") from exc
    if isinstance(tools, dict) and "tools" in tools and "name" not in tools and "function" not in tools:
        tools = tools["tools"]
        if not isinstance(tools, (list, tuple)):
            raise SchemaError("the 'tools' entry is not a list")
    if isinstance(tools, (list, tuple)):
        return list(tools)
    if isinstance(tools, dict) or callable(tools):
        return [tools]
    raise SchemaError(f"tools must be a list, a dict, a callable or a JSON string, not a {type(tools).__name__}")


def _normalize_one(tool: object, label: str) -> dict[str, Any]:
    """One tool, dict or callable, in canonical form; label names it in errors until its name is known."""
    if isinstance(tool, dict):
        spec = _unwrap(tool, label)
    elif callable(tool):
        spec = _spec_from_callable(tool, label)
    else:
        raise SchemaError(f"{label} is a {type(tool).__name__}, not a dict or a callable")
    return {"type": "function", "function": _function_from_spec(spec, label)}


def _unwrap(tool: dict[str, Any], label: str) -> dict[str, Any]:
    """The function dict inside an OpenAI tool, or the tool itself when it is a bare function doc."""
    if "function" not in tool:
        return tool
    if tool.get("type", "function") != "function":
        raise SchemaError(f"{label} has type {tool['type']!r}, not 'function'")
    if not isinstance(tool["function"], dict):
        raise SchemaError(f"{label} has a 'function' entry that is not a dict")
    return tool["function"]


def _function_from_spec(spec: dict[str, Any], label: str) -> dict[str, Any]:
    """Validated name, description and JSON-Schema parameters of a bare function doc."""
    if "name" not in spec:
        raise SchemaError(f"{label} has no 'name'")
    name = spec["name"]
    if not isinstance(name, str) or not name.strip():
        raise SchemaError(f"{label} has a 'name' that is not a non-empty string: {name!r}")
    label = f"tool {name!r}"
    description = spec.get("description")
    if description is None:
        description = ""
    elif not isinstance(description, str):
        raise SchemaError(f"{label} has a 'description' that is not a string")
    return {"name": name, "description": description, "parameters": _parameters(spec.get("parameters"), label)}


def _parameters(params: object, label: str) -> dict[str, Any]:
    """A tool's parameters, JSON Schema or xLAM map or missing, as a JSON-Schema object."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise SchemaError(f"{label} has 'parameters' that is not a dict")
    if _is_param_map(params):
        params = _schema_from_param_map(params, label)
    schema = _normalize_schema({"type": "object", "properties": {}, "required": [], **params}, label, "")
    if schema["type"] != "object":
        raise SchemaError(f"{label} parameter schema has type {params['type']!r}, not 'object'")
    return schema


def _is_param_map(params: dict[str, Any]) -> bool:
    """Whether parameters is an xLAM {name: spec} map rather than a JSON-Schema object.

    A JSON-Schema object has a string (or list) "type" and a "properties" map of schemas;
    in an xLAM map every value is a spec dict, also one for a parameter named "type" or "properties".
    """
    if "type" in params:
        return isinstance(params["type"], dict)
    properties = params.get("properties")
    return not (isinstance(properties, dict) and not isinstance(properties.get("type"), str))


# --- JSON Schema ------------------------------------------------------------------------------


def _where(label: str, path: str) -> str:
    """How errors refer to the schema node at path ("" for the parameters object itself)."""
    return f"{label} parameter {path!r}" if path else f"{label} parameter schema"


def _normalize_schema(schema: object, label: str, path: str) -> dict[str, Any]:
    """A validated deep copy of one schema node, BFCL type names mapped, items and properties recursed."""
    if not isinstance(schema, dict):
        raise SchemaError(f"{_where(label, path)} is not a dict")
    out = {
        key: _SCHEMA_KEYS[key](value, label, path) if key in _SCHEMA_KEYS else copy.deepcopy(value)
        for key, value in schema.items()
    }
    if "properties" in out:
        unknown = [name for name in out.get("required", []) if name not in out["properties"]]
        if unknown:
            raise SchemaError(f"{_where(label, path)} requires {unknown[0]!r}, which is not among its properties")
    return out


def _map_type(value: object, label: str, path: str) -> str | list[str]:
    """A "type" value (a name or a list of names) with BFCL names mapped to JSON-Schema types."""
    if isinstance(value, list):
        return [_map_type_name(name, label, path) for name in value]
    return _map_type_name(value, label, path)


def _map_type_name(name: object, label: str, path: str) -> str:
    """One type name as a JSON-Schema type."""
    if isinstance(name, str) and name in _SCHEMA_TYPES:
        return _SCHEMA_TYPES[name]
    raise SchemaError(f"{_where(label, path)} has unknown type {name!r}")


def _map_items(value: object, label: str, path: str) -> dict[str, Any] | list[dict[str, Any]]:
    """An "items" value: one schema, or a list of them (tuple validation)."""
    if isinstance(value, list):
        return [_normalize_schema(item, label, f"{path}[]") for item in value]
    return _normalize_schema(value, label, f"{path}[]")


def _map_properties(value: object, label: str, path: str) -> dict[str, Any]:
    """A "properties" map with every property schema normalized."""
    if not isinstance(value, dict):
        raise SchemaError(f"{_where(label, path)} has 'properties' that is not a dict")
    properties: dict[str, Any] = {}
    for name, schema in value.items():
        if not isinstance(name, str):
            raise SchemaError(f"{_where(label, path)} has a property name that is not a string: {name!r}")
        properties[name] = _normalize_schema(schema, label, f"{path}.{name}" if path else name)
    return properties


def _map_required(value: object, label: str, path: str) -> list[str]:
    """A "required" value, which must be a list of property names."""
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise SchemaError(f"{_where(label, path)} has 'required' that is not a list of strings")
    return list(value)


# Schema keywords that are checked or rewritten; every other keyword is copied untouched.
_SCHEMA_KEYS: dict[str, Callable[[Any, str, str], Any]] = {
    "type": _map_type,
    "items": _map_items,
    "properties": _map_properties,
    "required": _map_required,
}


# --- Python types (xLAM type strings and type hints) --------------------------------------------


@dataclass(frozen=True)
class _PyType:
    """A Python type written as name[args], from an xLAM type string or a type hint; Literal keeps values."""

    name: str
    args: tuple[_PyType, ...] = ()
    values: tuple[Any, ...] = ()


def _py_schema(py_type: _PyType, where: str) -> tuple[dict[str, Any], bool]:
    """JSON Schema for a Python type, and whether the type admits None."""
    builder = _GENERICS.get(py_type.name)
    if builder is not None and (py_type.args or py_type.values):
        return builder(py_type, where)
    if py_type.name in PYTHON_TYPES and not py_type.args:
        return dict(PYTHON_TYPES[py_type.name]), py_type.name == "None"
    if builder is not None or py_type.name in PYTHON_TYPES:
        raise SchemaError(f"{where} gives {py_type.name!r} the wrong type arguments")
    raise SchemaError(f"{where} has unknown type {py_type.name!r}")


def _type_args(py_type: _PyType, count: int, where: str) -> tuple[_PyType, ...]:
    """The type arguments of a generic, which must number count."""
    if len(py_type.args) != count:
        raise SchemaError(f"{where} gives {py_type.name!r} {len(py_type.args)} type arguments instead of {count}")
    return py_type.args


def _with_items(schema: dict[str, Any], items: dict[str, Any]) -> dict[str, Any]:
    """An array schema with items, left out when they are unconstrained (Any)."""
    return {**schema, "items": items} if items else schema


def _list_schema(py_type: _PyType, where: str) -> tuple[dict[str, Any], bool]:
    """list[X] -> an array of X."""
    (item,) = _type_args(py_type, 1, where)
    return _with_items({"type": "array"}, _py_schema(item, where)[0]), False


def _dict_schema(py_type: _PyType, where: str) -> tuple[dict[str, Any], bool]:
    """dict[K, V] -> an object whose values are V (JSON keys are always strings)."""
    _, value = _type_args(py_type, 2, where)
    values = _py_schema(value, where)[0]
    return ({"type": "object", "additionalProperties": values} if values else {"type": "object"}), False


def _tuple_schema(py_type: _PyType, where: str) -> tuple[dict[str, Any], bool]:
    """tuple[X, ...] -> an array of X; tuple[A, B] -> an array of exactly two, A then B."""
    if len(py_type.args) == 2 and py_type.args[1].name == "...":
        return _with_items({"type": "array"}, _py_schema(py_type.args[0], where)[0]), False
    schemas = [_py_schema(arg, where)[0] for arg in py_type.args]
    if all(schema == schemas[0] for schema in schemas):
        schema = _with_items({"type": "array"}, schemas[0])
    else:
        schema = {"type": "array", "prefixItems": schemas}
    return {**schema, "minItems": len(schemas), "maxItems": len(schemas)}, False


def _optional_schema(py_type: _PyType, where: str) -> tuple[dict[str, Any], bool]:
    """Optional[X] -> X, admitting None."""
    (inner,) = _type_args(py_type, 1, where)
    return _py_schema(inner, where)[0], True


def _union_schema(py_type: _PyType, where: str) -> tuple[dict[str, Any], bool]:
    """Union[A, B] -> anyOf [A, B]; a None member makes it admit None instead of adding a branch."""
    schemas: list[dict[str, Any]] = []
    nullable = False
    for arg in py_type.args:
        schema, arg_nullable = _py_schema(arg, where)
        nullable = nullable or arg_nullable
        if arg.name != "None" and schema not in schemas:
            schemas.append(schema)
    if not schemas:
        return {"type": "null"}, True
    return (schemas[0] if len(schemas) == 1 else {"anyOf": schemas}), nullable


def _literal_schema(py_type: _PyType, where: str) -> tuple[dict[str, Any], bool]:
    """Literal[...] -> an enum, typed when all values share one JSON type."""
    if py_type.args or not py_type.values:
        raise SchemaError(f"{where} gives 'Literal' the wrong type arguments")
    values = [value for value in py_type.values if value is not None]
    value_types = {_JSON_VALUE_TYPES.get(type(value)) for value in values}
    if None in value_types:
        raise SchemaError(f"{where} has a Literal value that is not a JSON string, number or boolean")
    if not values:
        return {"type": "null"}, True
    schema: dict[str, Any] = {"type": value_types.pop()} if len(value_types) == 1 else {}
    return {**schema, "enum": values}, len(values) < len(py_type.values)


_GENERICS: dict[str, Callable[[_PyType, str], tuple[dict[str, Any], bool]]] = {
    "list": _list_schema,
    "List": _list_schema,
    "dict": _dict_schema,
    "Dict": _dict_schema,
    "tuple": _tuple_schema,
    "Tuple": _tuple_schema,
    "Optional": _optional_schema,
    "Union": _union_schema,
    "Literal": _literal_schema,
}


# --- xLAM -------------------------------------------------------------------------------------


def _schema_from_param_map(params: dict[str, Any], label: str) -> dict[str, Any]:
    """An xLAM {name: {"type": "int, optional", ...}} map as a JSON-Schema object."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, spec in params.items():
        if not isinstance(name, str):
            raise SchemaError(f"{label} has a parameter name that is not a string: {name!r}")
        where = f"{label} parameter {name!r}"
        if not isinstance(spec, dict):
            raise SchemaError(f"{where} is not a dict")
        properties[name], optional = _xlam_param(spec, where)
        if not optional and "default" not in spec:
            required.append(name)
    return {"type": "object", "properties": properties, "required": required}


def _xlam_param(spec: dict[str, Any], where: str) -> tuple[dict[str, Any], bool]:
    """One xLAM parameter spec as a JSON-Schema property, and whether its type marks it optional."""
    text = spec.get("type", "Any")
    if not isinstance(text, str):
        raise SchemaError(f"{where} has a 'type' that is not a string")
    body, optional_marks = _OPTIONAL_SUFFIX.subn("", text)
    schema, nullable = _py_schema(_parse_type_string(body, text, where), where)
    extras = {key: copy.deepcopy(value) for key, value in spec.items() if key != "type"}
    return {**schema, **extras}, bool(optional_marks) or nullable


def _parse_type_string(body: str, text: str, where: str) -> _PyType:
    """Parse a type string such as "List[Dict[str, Any]]"; text is the original, for errors."""
    tokens = _TYPE_TOKEN.findall(body)
    if "".join(tokens) != re.sub(r"\s+", "", body):
        raise SchemaError(f"{where} has a malformed type {text!r}")
    py_type, end = _parse_type_tokens(tokens, 0, text, where)
    if end != len(tokens):
        raise SchemaError(f"{where} has a malformed type {text!r}")
    return py_type


def _parse_type_tokens(tokens: list[str], pos: int, text: str, where: str) -> tuple[_PyType, int]:
    """Parse name or name[arg, ...] starting at tokens[pos]; return it and the position after it."""
    if pos >= len(tokens) or tokens[pos] in ("[", "]", ","):
        raise SchemaError(f"{where} has a malformed type {text!r}")
    name, pos = tokens[pos], pos + 1
    if pos >= len(tokens) or tokens[pos] != "[":
        return _PyType(name), pos
    arg, pos = _parse_type_tokens(tokens, pos + 1, text, where)
    args = [arg]
    while pos < len(tokens) and tokens[pos] == ",":
        arg, pos = _parse_type_tokens(tokens, pos + 1, text, where)
        args.append(arg)
    if pos >= len(tokens) or tokens[pos] != "]":
        raise SchemaError(f"{where} has a malformed type {text!r}")
    return _PyType(name, tuple(args)), pos + 1


# --- callables --------------------------------------------------------------------------------


def _spec_from_callable(fn: Callable[..., Any], label: str) -> dict[str, Any]:
    """A bare function doc from a callable's signature, type hints and Google-style docstring."""
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str) or not name.isidentifier():
        raise SchemaError(f"{label} is a callable without a usable __name__")
    label = f"tool {name!r}"
    try:
        signature = inspect.signature(fn)
        hints = typing.get_type_hints(fn)
    except Exception as exc:  # evaluating annotations runs the user's code, which may raise anything
        raise SchemaError(f"{label} has a signature or type hints that cannot be read ({exc})") from exc
    description, arg_docs = _parse_docstring(inspect.getdoc(fn) or "")
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue  # *args and **kwargs cannot be named in a JSON call
        properties[param.name] = _callable_param(param, hints, arg_docs.get(param.name), label)
        if param.default is param.empty:
            required.append(param.name)
    parameters = {"type": "object", "properties": properties, "required": required}
    return {"name": name, "description": description, "parameters": parameters}


def _callable_param(
    param: inspect.Parameter, hints: dict[str, Any], doc: str | None, label: str
) -> dict[str, Any]:
    """One callable parameter as a JSON-Schema property with its docstring text and JSON default."""
    where = f"{label} parameter {param.name!r}"
    if param.name not in hints:
        raise SchemaError(f"{where} has no type hint")
    schema = _py_schema(_hint_type(hints[param.name], where), where)[0]
    if doc:
        schema["description"] = doc
    default = _NOT_JSON if param.default is param.empty else _json_copy(param.default)
    if default is not _NOT_JSON:
        schema["default"] = default
    return schema


def _hint_type(hint: object, where: str) -> _PyType:
    """A type hint as a _PyType, or SchemaError for hints JSON cannot express."""
    origin = typing.get_origin(hint)
    if origin is Literal:
        return _PyType("Literal", values=typing.get_args(hint))
    target = hint if origin is None else origin
    name = next((name for known, name in _HINT_NAMES if target is known), None)
    if name is None:
        raise SchemaError(f"{where} has a type hint JSON cannot express: {hint!r}")
    return _PyType(name, tuple(_hint_type(arg, where) for arg in typing.get_args(hint)))


def _json_copy(value: object) -> object:
    """A plain-JSON copy of value, or _NOT_JSON when it has none."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return _NOT_JSON


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """A Google-style docstring's first paragraph and its Args: entries by parameter name."""
    lines = doc.splitlines()
    summary = itertools.takewhile(lambda line: line.strip() and not _DOC_SECTION.match(line), lines)
    return " ".join(line.strip() for line in summary), _parse_args_section(lines)


def _parse_args_section(lines: list[str]) -> dict[str, str]:
    """The "name: text" / "name (type): text" entries under Args:, continuation lines joined."""
    start = next((i for i, line in enumerate(lines) if _is_args_header(line)), None)
    if start is None:
        return {}
    header_indent = _indent(lines[start])
    entry_indent: int | None = None
    docs: dict[str, str] = {}
    current: str | None = None
    for line in lines[start + 1 :]:
        if not line.strip():
            continue
        indent = _indent(line)
        if indent <= header_indent:
            break
        entry_indent = indent if entry_indent is None else entry_indent
        match = _DOC_ARG.match(line)
        if indent == entry_indent and match:
            current = match[1]
            docs[current] = match[2].strip()
        elif current is not None:
            docs[current] = f"{docs[current]} {line.strip()}".strip()
    return docs


def _is_args_header(line: str) -> bool:
    """Whether a docstring line opens the Args: section."""
    match = _DOC_SECTION.match(line)
    return bool(match) and match[1] in _ARGS_SECTIONS


def _indent(line: str) -> int:
    """How many leading whitespace characters a line has."""
    return len(line) - len(line.lstrip())
