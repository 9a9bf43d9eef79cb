"""Where an agent task's tools come from, opened for one task on a database of its own.

A task names a tools file (Python or JSON, as `edgefc agent --tools` takes) or an MCP config (`--mcp`). Its
`db_env` names the environment variable its tools read their SQLite path from (the examples' $SHOP_DB,
$HOME_DB, $NOTES_DB): each opening points it at a path in the task's own scratch folder, so every task starts
from the example's seeded rows and its SQL check reads that task's state alone. A tools file is imported again
at each opening, with the variable set (the examples read it when imported), and the variable stays set while
the task runs; an MCP server is started for the task with the variable in its env, and stopped after it.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, ContextManager, Iterator, Mapping

from edgefc.agent.tools import Tool, load_tool_file


@dataclass(frozen=True)
class Toolset:
    """The tools one task runs with, and the system prompt their file suggests (None for MCP servers)."""

    tools: list[Tool]
    system: str | None = None


@contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    """These environment variables set inside the block, as they were after it."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _tools_file(path: Path, env: Mapping[str, str], timeout_s: float) -> Iterator[Toolset]:
    """A Python or JSON tools file, imported afresh under `env`."""
    with _environ(env):
        loaded = load_tool_file(path)
        yield Toolset(loaded.tools, loaded.system)


@contextmanager
def _mcp_config(path: Path, env: Mapping[str, str], timeout_s: float) -> Iterator[Toolset]:
    """The servers of an MCP config, started with `env` added to each one's own."""
    from edgefc.agent.mcp import open_servers, servers_from_config

    specs = [replace(spec, env={**spec.env, **env}) for spec in servers_from_config(path)]
    with open_servers(specs, call_timeout_s=timeout_s) as servers:
        yield Toolset(servers.tools)


# a task's tools field -> how to open what it names
OPENERS: dict[str, Callable[[Path, Mapping[str, str], float], ContextManager[Toolset]]] = {
    "tools": _tools_file, "mcp": _mcp_config}


def open_toolset(kind: str, path: Path, db_env: str | None, db: Path, timeout_s: float) -> ContextManager[Toolset]:
    """The tools of a tools file or MCP config (`kind`), their database at `db` through `db_env` when given."""
    return OPENERS[kind](path, {db_env: str(db)} if db_env else {}, timeout_s)
