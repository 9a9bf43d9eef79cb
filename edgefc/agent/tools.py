"""The tools an agent may run: each a canonical schema, a handler, and whether it needs the user's yes.

Sources are a registry by file kind: a Python file (its public functions; schemas from type hints and
docstrings, via the protocol's schema module) or a JSON file of schemas whose `handler` names a Python
function (`module:function`, or `file.py:function` beside the JSON). Either may carry a system prompt that
suits its tools (`SYSTEM` in Python, `"system"` in JSON). MCP servers are a source too (see mcp.py).
Nothing else can become a tool: edgefc ships no shell or file tool.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Awaitable, Callable, Iterable, Mapping

from edgefc.errors import EdgefcError, SchemaError
from edgefc.protocol.schema import normalize_tool

Handler = Callable[[dict[str, Any]], Awaitable[Any]]  # arguments -> result (anything JSON-able or text)
CONFIRM_ATTR = "__edgefc_confirm__"


def needs_confirmation(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a Python tool as one the user must approve (y/n) before each run."""
    setattr(fn, CONFIRM_ATTR, True)
    return fn


@dataclass(frozen=True)
class Tool:
    """One runnable tool: the canonical OpenAI-form schema the model sees, and how to run it."""

    spec: dict[str, Any]
    handler: Handler
    confirm: bool = False
    source: str = "python"

    @property
    def name(self) -> str:
        return self.spec["function"]["name"]

    @property
    def parameters(self) -> dict[str, Any]:
        return self.spec["function"]["parameters"]


def from_callable(fn: Callable[..., Any], *, confirm: bool | None = None, spec: Any = None) -> Tool:
    """A Python function (sync or async) as a tool; its schema comes from `spec` or its hints and docstring."""
    schema = normalize_tool(spec if spec is not None else fn)
    run = fn

    async def handler(arguments: dict[str, Any]) -> Any:
        if inspect.iscoroutinefunction(run):
            return await run(**arguments)
        return await asyncio.to_thread(run, **arguments)  # a slow sync tool must not block the others

    return Tool(schema, handler, bool(getattr(fn, CONFIRM_ATTR, False)) if confirm is None else confirm)


@dataclass(frozen=True)
class ToolFile:
    """What a tools file provides: its tools, and the system prompt it suggests for them (if any)."""

    tools: list[Tool]
    system: str | None = None


class Toolbox:
    """The tools of one agent, by name (names are unique: the protocol calls tools by name)."""

    def __init__(self, tools: Iterable[Tool] = ()):
        self.tools: dict[str, Tool] = {}
        for tool in tools:
            self.add(tool)

    def add(self, tool: Tool) -> None:
        if tool.name in self.tools:
            raise EdgefcError(f"two tools are named {tool.name!r} ({self.tools[tool.name].source} and "
                              f"{tool.source}); rename one")
        self.tools[tool.name] = tool

    def specs(self) -> list[dict[str, Any]]:
        """The schemas the model is shown, in the order the tools were added."""
        return [tool.spec for tool in self.tools.values()]

    def __contains__(self, name: object) -> bool:
        return name in self.tools

    def __getitem__(self, name: str) -> Tool:
        return self.tools[name]

    def __len__(self) -> int:
        return len(self.tools)


# --- sources by file kind -----------------------------------------------------------------------


def _import_file(path: Path) -> ModuleType:
    """Import a Python file as a module of its own name (its folder first on sys.path for its imports)."""
    name = f"edgefc_tools_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise EdgefcError(f"tools file {path} cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's module may raise anything while importing
        raise EdgefcError(f"tools file {path} failed to import: {type(exc).__name__}: {exc}") from exc
    finally:
        sys.path.remove(str(path.parent))
    return module


def python_file_tools(path: Path) -> ToolFile:
    """The tools of a Python file: the functions in its `TOOLS` list, else every public function it defines;
    its `SYSTEM` string, if any."""
    module = _import_file(path)
    listed = getattr(module, "TOOLS", None)
    functions = list(listed) if listed is not None else [
        fn for name, fn in vars(module).items()
        if inspect.isfunction(fn) and fn.__module__ == module.__name__ and not name.startswith("_")]
    if not functions:
        raise EdgefcError(f"tools file {path} defines no public function (or an empty TOOLS list)")
    system = getattr(module, "SYSTEM", None)
    try:
        return ToolFile([from_callable(fn) for fn in functions], system if isinstance(system, str) else None)
    except SchemaError as exc:
        raise EdgefcError(f"tools file {path}: {exc}") from None


def _handler_function(reference: str, base: Path, tool: str) -> Callable[..., Any]:
    """The function a JSON tool's `handler` names: `module:function` or `file.py:function` (beside the JSON)."""
    target, _, attr = reference.rpartition(":")
    if not target or not attr:
        raise EdgefcError(f"tool {tool!r}: handler {reference!r} is not 'module:function' or 'file.py:function'")
    if target.endswith(".py"):
        module = _import_file((base / target).resolve())
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise EdgefcError(f"tool {tool!r}: handler module {target!r} cannot be imported ({exc})") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise EdgefcError(f"tool {tool!r}: {target} has no function {attr!r}")
    return fn


def json_file_tools(path: Path) -> ToolFile:
    """Tools from a JSON file: a list (or {"tools": [...], "system": "..."}) of schemas in any accepted form,
    each with a `handler` naming its Python function and optionally `"confirm": true`."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EdgefcError(f"tools file {path} is not valid JSON: {exc}") from None
    entries = raw.get("tools") if isinstance(raw, Mapping) and "tools" in raw else raw
    entries = entries if isinstance(entries, list) else [entries]
    tools = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("handler"), str):
            raise EdgefcError(f"tools file {path}: tool at index {index} has no 'handler' (\"module:function\"); "
                              "an agent runs only tools it has code for")
        spec = {k: v for k, v in entry.items() if k not in ("handler", "confirm")}
        try:
            schema = normalize_tool(spec)
        except SchemaError as exc:
            raise EdgefcError(f"tools file {path}: {exc}") from None
        fn = _handler_function(entry["handler"], path.parent, schema["function"]["name"])
        tools.append(from_callable(fn, confirm=bool(entry.get("confirm", False)), spec=schema))
    system = raw.get("system") if isinstance(raw, Mapping) else None
    return ToolFile(tools, system if isinstance(system, str) else None)


SOURCES: dict[str, Callable[[Path], ToolFile]] = {".py": python_file_tools, ".json": json_file_tools}


def load_tool_file(path: Path) -> ToolFile:
    """The tools of one file, by its suffix."""
    if not path.is_file():
        raise EdgefcError(f"tools file {path} does not exist" if not path.exists() else
                          f"tools file {path} is not a file")
    source = SOURCES.get(path.suffix.lower())
    if source is None:
        raise EdgefcError(f"tools file {path} is neither Python (.py) nor JSON (.json)")
    return source(path)
