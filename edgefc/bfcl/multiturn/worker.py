"""The process that holds one BFCL multi-turn entry's API instances and runs calls on them, as bfcl-eval's
execute_multi_turn_func_call does, but by method name and keyword arguments (no eval of model text).

Run as a script (standard library only, so it needs no edgefc import): one JSON request per line on stdin, one
JSON reply per line on the original stdout; whatever the APIs print goes to stderr. Requests:
{"op": "init", "root", "package", "classes": {class: module}, "initial_config", "long_context"},
{"op": "call", "name", "args", "kwargs"} -> {"result": text}, {"op": "state"} -> {"state": snapshot};
a failure of ours answers {"bug": traceback}, a missing third-party module {"missing": name}.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import os
import sys
import traceback
from typing import Any

# bfcl-eval: classes built without a scenario, and the names its executor refuses to call.
STATELESS_CLASSES = ("MathAPI",)
REFUSED_NAMES = ("kill", "exit", "quit", "remove", "unlink", "popen", "Popen", "run")
ERROR_PREFIX = "Error during execution: "

# Objects in the APIs' state that define __eq__: the attributes it compares (Directory.parent is not one).
EQUALITY_FIELDS = {"File": ("name", "content"), "Directory": ("name", "contents")}


def build_instances(root: str, package: str, classes: dict[str, str], initial_config: dict[str, Any],
                    long_context: bool) -> dict[str, Any]:
    """One instance per involved class, in order, loaded from its part of initial_config as bfcl-eval does."""
    if root not in sys.path:
        sys.path.insert(0, root)
    instances = {}
    for class_name, module in classes.items():
        instance = getattr(importlib.import_module(f"{package}.{module}"), class_name)()
        if class_name not in STATELESS_CLASSES:
            instance._load_scenario(copy.deepcopy(initial_config.get(class_name, {})), long_context=long_context)
        instances[class_name] = instance
    return instances


def method_table(instances: dict[str, Any]) -> dict[str, Any]:
    """Public method name -> bound method; a later class wins a shared name, as in bfcl-eval."""
    table = {}
    for instance in instances.values():
        for name, method in inspect.getmembers(instance, predicate=inspect.ismethod):
            if not name.startswith("_"):
                table[name] = method
    return table


def call(table: dict[str, Any], name: str, args: list[Any], kwargs: dict[str, Any]) -> str:
    """The text bfcl-eval records for one call: the result as text, or its "Error during execution: ..." line."""
    try:
        if name in REFUSED_NAMES:
            raise Exception(f"Function call {name} is not allowed.")
        if name not in table:
            raise NameError(f"name '{name}' is not defined")
        return result_text(table[name](*args, **kwargs))
    except Exception as exc:  # noqa: BLE001 - bfcl-eval turns every failure into the model's result text
        return f"{ERROR_PREFIX}{exc}"


def result_text(value: Any) -> str:
    """A result as bfcl-eval stores it: strings as they are, dicts as JSON (else str), anything else str()."""
    if type(value) is str:
        return value
    if type(value) is dict:
        try:
            return json.dumps(value)
        except Exception:  # noqa: BLE001 - bfcl-eval falls back to str() on any failure
            return str(value)
    return str(value)


def snapshot(instances: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every instance's public attributes as JSON-able data, equal (==, once loaded) exactly when bfcl-eval's
    state checker finds the attributes equal."""
    return {name: {attr: encode(value) for attr, value in vars(instance).items() if not attr.startswith("_")}
            for name, instance in instances.items()}


def encode(value: Any) -> Any:
    """JSON-able data that keeps ==: tuples, sets and dicts with non-string keys are tagged, objects with
    __eq__ keep the fields it compares; anything else is our bug and raises."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) is list:
        return [encode(item) for item in value]
    if type(value) is tuple:
        return {"__tuple__": [encode(item) for item in value]}
    if type(value) in (set, frozenset):
        return {"__set__": sorted((encode(item) for item in value), key=json.dumps)}
    if type(value) is dict:
        if all(type(key) is str for key in value):
            return {key: encode(item) for key, item in value.items()}
        items = [[encode(key), encode(item)] for key, item in value.items()]
        return {"__items__": sorted(items, key=lambda pair: json.dumps(pair[0]))}
    fields = EQUALITY_FIELDS.get(type(value).__name__)
    if fields is None:
        raise TypeError(f"no JSON form for a {type(value).__qualname__} in an API's state")
    return {"__object__": type(value).__name__, **{field: encode(getattr(value, field)) for field in fields}}


def serve(requests: Any, replies: Any) -> None:
    """Answer requests (JSON lines) until stdin closes."""
    instances: dict[str, Any] = {}
    table: dict[str, Any] = {}
    for line in requests:
        request = json.loads(line)
        try:
            if request["op"] == "init":
                instances = build_instances(request["root"], request["package"], request["classes"],
                                            request["initial_config"], request["long_context"])
                table = method_table(instances)
                reply: dict[str, Any] = {"ok": True}
            elif request["op"] == "call":
                reply = {"result": call(table, request["name"], request["args"], request["kwargs"])}
            else:
                reply = {"state": snapshot(instances)}
        except ModuleNotFoundError as exc:  # a third-party import of an API module (mpmath for MathAPI)
            reply = {"missing": exc.name}
        except Exception:  # noqa: BLE001 - our bug, or a broken API module: the parent raises it
            reply = {"bug": traceback.format_exc()}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main() -> None:
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # API prints must not reach the reply channel
    sys.stdout = sys.stderr
    serve(sys.stdin, replies)


if __name__ == "__main__":
    main()
