"""The agent suite's task file: read (YAML or JSONL), every field checked, before any model loads.

A task file is a YAML list of tasks, or JSON Lines with one task per line. A task's fields:
- `id`: unique in the file.
- `tools` (a Python or JSON tools file, as `edgefc agent --tools` takes) or `mcp` (an MCP config, as `--mcp`
  takes), relative to the task file.
- `db_env`: the environment variable the tools read their SQLite path from; each task then runs on a fresh
  database of its own (see toolsets.py). Needed by `sql`.
- `user`: the user's message, or a list of messages sent one after the other (one conversation).
- `language`: en or vi.
- `calls`: the calls a right answer makes, each `{name, arguments}` with the argument values that matter (others
  may be anything); matched in any order, strings and numbers compared loosely (checks.py).
- `facts`: what the final answer must state, each a spelling or a list of acceptable spellings.
- `sql`: `{query, expect}`, the database's state afterwards: the query's rows (a list of rows, a list of values
  for one column, or one value for one row of one column), in any order.
- `negative: true`: no tool serves the request; it passes when no call is made and the answer declines.
- `split`: dev (the default) or heldout.
Every problem is one EdgefcError naming the task and the field. Each tools file or MCP config named is opened
once here, on a scratch database, to check that the expected calls name tools it offers.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from edgefc.errors import EdgefcError, require

LANGUAGES = ("en", "vi")
SPLITS = ("dev", "heldout")
SOURCES = ("tools", "mcp")  # the fields that name where a task's tools come from (toolsets.OPENERS)
VALIDATION_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Task:
    """One task of the agent suite, its paths resolved and its values checked."""

    id: str
    kind: str  # "tools" or "mcp": what `path` is
    path: Path
    user: tuple[str, ...]
    language: str
    db_env: str | None = None
    calls: tuple[dict[str, Any], ...] = ()  # {"name": str, "arguments": {str: value}}
    facts: tuple[tuple[str, ...], ...] = ()
    sql: dict[str, Any] | None = None  # {"query": str, "expect": [[value, ...], ...]}
    negative: bool = False
    split: str = "dev"


class FieldError(ValueError):
    """A field's value is wrong; the loader adds the file, the task and the field."""


def _text(value: Any, what: str = "a non-empty string") -> str:
    if not isinstance(value, str) or not value.strip():
        raise FieldError(f"must be {what}, not {value!r}")
    return value


def _file(value: Any, base: Path) -> Path:
    path = (base / _text(value, "a path relative to the task file")).resolve()
    if not path.is_file():
        raise FieldError(f"{value} does not exist" if not path.exists() else f"{value} is not a file")
    return path


def _user(value: Any, base: Path) -> tuple[str, ...]:
    messages = [value] if isinstance(value, str) else value
    if not isinstance(messages, list) or not messages:
        raise FieldError(f"must be a message or a list of messages, not {value!r}")
    return tuple(_text(m, "a non-empty message") for m in messages)


def _choice(options: tuple[str, ...]) -> Callable[[Any, Path], str]:
    def parse(value: Any, base: Path) -> str:
        if value not in options:
            raise FieldError(f"must be one of {', '.join(options)}, not {value!r}")
        return value

    return parse


def _db_env(value: Any, base: Path) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise FieldError(f"must name an environment variable, not {value!r}")
    return value


def _calls(value: Any, base: Path) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list):
        raise FieldError(f"must be a list of {{name, arguments}}, not {value!r}")
    calls = []
    for index, call in enumerate(value, 1):
        if not isinstance(call, Mapping) or set(call) - {"name", "arguments"}:
            raise FieldError(f"call {index} must be {{name, arguments}}, not {call!r}")
        arguments = call.get("arguments", {})
        if not isinstance(arguments, Mapping):
            raise FieldError(f"call {index}: arguments must be an object, not {arguments!r}")
        keys = [k for k in arguments if not isinstance(k, str)]
        if keys:
            raise FieldError(f"call {index}: argument name {keys[0]!r} is not a string (YAML reads an unquoted on, "
                             "off, yes or no as a boolean: quote it)")
        calls.append({"name": _text(call.get("name"), f"call {index}: a tool name"), "arguments": dict(arguments)})
    return tuple(calls)


def _spelling(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or not str(value).strip():
        raise FieldError(f"each fact must be a string or a list of strings, not {value!r}")
    return str(value)


def _facts(value: Any, base: Path) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list):
        raise FieldError(f"must be a list of facts, not {value!r}")
    facts = [tuple(_spelling(s) for s in fact) if isinstance(fact, list) and fact else (_spelling(fact),)
             for fact in value]
    return tuple(facts)


def _rows(value: Any) -> list[list[Any]]:
    """`expect` as rows: a list of rows, a list of one-column values, or one value."""
    if not isinstance(value, list):
        return [[value]]
    return [list(row) if isinstance(row, list) else [row] for row in value]


def _sql(value: Any, base: Path) -> dict[str, Any]:
    if not isinstance(value, Mapping) or set(value) != {"query", "expect"}:
        raise FieldError(f"must be {{query, expect}}, not {value!r}")
    return {"query": _text(value["query"], "an SQL query"), "expect": _rows(value["expect"])}


def _flag(value: Any, base: Path) -> bool:
    if not isinstance(value, bool):
        raise FieldError(f"must be true or false, not {value!r}")
    return value


# field -> its parser (value, the task file's folder) -> the Task attribute
FIELDS: dict[str, Callable[[Any, Path], Any]] = {
    "id": lambda value, base: _text(value), "tools": _file, "mcp": _file, "db_env": _db_env, "user": _user,
    "language": _choice(LANGUAGES), "calls": _calls, "facts": _facts, "sql": _sql, "negative": _flag,
    "split": _choice(SPLITS),
}
REQUIRED = ("id", "user", "language")


def _task(item: Any, number: int, base: Path) -> Task:
    """One task from its raw mapping (number: its place in the file, naming a task without an id); a problem is an
    EdgefcError naming the task and the field."""
    name = item.get("id") if isinstance(item, Mapping) and isinstance(item.get("id"), str) else f"#{number}"

    def fail(field: str, problem: str) -> EdgefcError:
        return EdgefcError(f"task {name!r}: field '{field}': {problem}")

    if not isinstance(item, Mapping):
        raise EdgefcError(f"task {name!r} must be an object of fields, not {item!r}")
    unknown = [k for k in item if k not in FIELDS]
    if unknown:
        raise fail(str(unknown[0]), f"unknown field; the fields are {', '.join(FIELDS)}")
    missing = [k for k in REQUIRED if k not in item] or ([] if any(k in item for k in SOURCES) else ["tools"])
    if missing:
        raise fail(missing[0], "missing" + (" (a tools file, or mcp: an MCP config)" if missing[0] == "tools" else ""))
    values = {}
    for field, raw in item.items():
        try:
            values[field] = FIELDS[field](raw, base)
        except FieldError as exc:
            raise fail(field, str(exc)) from None
    kinds = [k for k in SOURCES if k in values]
    if len(kinds) > 1:
        raise fail("mcp", "a task takes its tools from a tools file or an MCP config, not both")
    if "sql" in values and "db_env" not in values:
        raise fail("sql", "needs db_env, the variable that points the tools at the task's own database")
    if values.get("negative") and (values.get("calls") or values.get("facts")):
        raise fail("calls" if values.get("calls") else "facts", "a negative task expects no call and states no fact "
                   "(it passes when no tool runs and the answer declines)")
    if not values.get("negative") and not (values.get("calls") or values.get("facts") or values.get("sql")):
        raise fail("calls", "the task checks nothing: give calls, facts or sql, or negative: true")
    kind = kinds[0]
    path = values.pop(kind)
    return Task(kind=kind, path=path, **values)


def _read(path: Path) -> list[Any]:
    """The raw tasks of a YAML or JSONL file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EdgefcError(f"task file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EdgefcError(f"task file {path} cannot be read: {exc}") from None
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        items = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    items.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise EdgefcError(f"task file {path}: line {number} is not valid JSON: {exc.msg}") from None
        return items
    if suffix in (".yaml", ".yml"):
        yaml = require("yaml", "bench")
        try:
            items = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise EdgefcError(f"task file {path} is not valid YAML: {' '.join(str(exc).split())}") from None
        if not isinstance(items, list):
            raise EdgefcError(f"task file {path} must be a YAML list of tasks")
        return items
    raise EdgefcError(f"task file {path} must be YAML (.yaml, .yml) or JSON Lines (.jsonl)")


def load_tasks(path: Path) -> list[Task]:
    """Every task of a task file, checked: fields, unique ids, and expected calls that name offered tools."""
    raw = _read(path)
    if not raw:
        raise EdgefcError(f"task file {path} has no tasks")
    tasks, seen = [], set()
    for number, item in enumerate(raw, 1):
        try:
            task = _task(item, number, path.parent)
        except EdgefcError as exc:
            raise EdgefcError(f"task file {path}: {exc}") from None
        if task.id in seen:
            raise EdgefcError(f"task file {path}: task {task.id!r}: field 'id': another task has this id")
        seen.add(task.id)
        tasks.append(task)
    _check_tool_names(path, tasks)
    return tasks


def _check_tool_names(path: Path, tasks: list[Task]) -> None:
    """Open each toolset the tasks name once, on a scratch database, and check their expected calls against it."""
    from edgefc.bench.agent.toolsets import open_toolset

    names: dict[tuple[str, Path, str | None], list[str]] = {}
    for task in tasks:
        key = (task.kind, task.path, task.db_env)
        if key not in names:
            with tempfile.TemporaryDirectory(prefix="edgefc-agent-check-") as scratch:
                try:
                    with open_toolset(*key, Path(scratch) / "db.sqlite", VALIDATION_TIMEOUT_S) as toolset:
                        names[key] = [tool.name for tool in toolset.tools]
                except EdgefcError as exc:
                    raise EdgefcError(f"task file {path}: task {task.id!r}: field '{task.kind}': {exc}") from None
        for call in task.calls:
            if call["name"] not in names[key]:
                raise EdgefcError(f"task file {path}: task {task.id!r}: field 'calls': {task.path.name} offers no "
                                  f"tool {call['name']!r} (it has {', '.join(names[key]) or 'none'})")


def fingerprint(path: Path) -> dict[str, str]:
    """The task file as a run's settings record it: a resumed run must read the same tasks."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise EdgefcError(f"task file {path} does not exist") from None
    except OSError as exc:
        raise EdgefcError(f"task file {path} cannot be read: {exc.strerror or exc}") from None
    return {"path": str(path.resolve()), "sha256": hashlib.sha256(data).hexdigest()}
