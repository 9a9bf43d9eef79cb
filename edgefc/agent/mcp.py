"""MCP servers as a tool source: stdio servers started from a command line or from the `{"mcpServers": {...}}`
config file MCP clients already use, through the `mcp` SDK's `Client` (edgefc[mcp]).

Each server's tools become `{server}__{tool}` (names kept to [A-Za-z0-9_-]); a tool whose schema the protocol's
normalizer or JSON Schema rejects is skipped with a warning. A tool the server marks `destructiveHint: true`
needs the user's yes, like a Python tool marked `needs_confirmation` (annotations can only add that safeguard).
A result with `isError` makes the handler raise, so the loop hands the model a tool error; otherwise the model
reads the structured content as JSON when the server sends it, else the text content.

Safety: a server process gets only the variables of its config's `env` on top of the SDK's allow-list
(`mcp.client.stdio.DEFAULT_INHERITED_ENV_VARS`: HOME, LOGNAME, PATH, SHELL, TERM and USER on POSIX), never the
rest of edgefc's environment; its stderr goes to a temporary file whose last line explains a failed start.

Servers run on an event loop thread of their own, one task per server holding its session from start to close
(the SDK's sessions must close in the task that opened them), so they outlive any one Agent and start in
parallel; tool handlers called from the agent's tools loop hop onto it. `McpServers.close()` (or leaving its
`with` block) ends each session, which closes the server's stdin and then terminates it (SDK policy).
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import sys
import tempfile
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, TextIO

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError as JsonSchemaError

from edgefc.agent.loopthread import LoopThread
from edgefc.agent.tools import Handler, Tool
from edgefc.errors import EdgefcError, SchemaError, require
from edgefc.protocol.schema import normalize_tool

if TYPE_CHECKING:
    from mcp import Client
    from mcp.types import CallToolResult, ListToolsResult

STARTUP_TIMEOUT_S = 20.0  # a server that has not answered `list_tools` by then is reported, never waited on
NAMESPACE_SEPARATOR = "__"
# launchers whose first plain argument names the server better than they do: `python notes_server.py` -> notes_server
LAUNCHERS = frozenset({"python", "python3", "node", "npx", "uv", "uvx", "pipx", "deno", "bun", "bunx"})
# `python` in a config means the interpreter running edgefc, which has the mcp SDK even in an unactivated venv
THIS_PYTHON = frozenset({"python", "python3"})


class McpToolError(Exception):
    """An MCP tool reported a failure (`isError`); its text is what the model reads."""


@dataclass(frozen=True)
class ServerSpec:
    """One stdio MCP server to start: its name (the namespace of its tools), command line, env and folder."""

    name: str
    command: str
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None

    def command_line(self) -> str:
        return shlex.join([self.command, *self.args])


# --- where servers come from --------------------------------------------------------------------


def server_from_command(command_line: str, name: str | None = None) -> ServerSpec:
    """A server started by a shell-like command line (`--mcp-command "CMD ARGS"`); it gets no extra env."""
    try:
        words = shlex.split(command_line)
    except ValueError as exc:
        raise EdgefcError(f"MCP command {command_line!r} cannot be split into words: {exc}") from None
    if not words:
        raise EdgefcError("the MCP command is empty")
    return ServerSpec(_sanitize(name or _derived_name(words)), _resolve_python(words[0]), tuple(words[1:]))


def servers_from_config(path: Path) -> list[ServerSpec]:
    """The stdio servers of an `{"mcpServers": {name: {command, args, env, cwd}}}` file (entries with
    `"disabled": true` are left out); a relative `cwd` is taken from the file's folder, which is also the default."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EdgefcError(f"MCP config {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EdgefcError(f"MCP config {path} cannot be read as JSON: {exc}") from None
    servers = raw.get("mcpServers") if isinstance(raw, dict) else None
    if not isinstance(servers, dict) or not servers:
        raise EdgefcError(f"MCP config {path} has no \"mcpServers\" object naming at least one server")
    specs = [_config_server(path, str(name), entry) for name, entry in servers.items()
             if not (isinstance(entry, dict) and entry.get("disabled") is True)]
    if not specs:
        raise EdgefcError(f"MCP config {path}: every server is disabled")
    return specs


def _config_server(path: Path, name: str, entry: object) -> ServerSpec:
    where = f"MCP config {path}: server {name!r}"
    if not isinstance(entry, dict):
        raise EdgefcError(f"{where} is not an object")
    if "url" in entry or entry.get("type", "stdio") != "stdio":
        transport = entry.get("type") or "HTTP"
        raise EdgefcError(f"{where} uses the {transport} transport ({entry.get('url', 'no command')}); edgefc "
                          "supports only stdio servers (a \"command\") so far")
    command, args, env = entry.get("command"), entry.get("args", []), entry.get("env", {})
    if not isinstance(command, str) or not command.strip():
        raise EdgefcError(f"{where} has no \"command\" string")
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise EdgefcError(f"{where} has \"args\" that is not a list of strings")
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise EdgefcError(f"{where} has \"env\" that is not an object of string values")
    cwd = entry.get("cwd", ".")
    if not isinstance(cwd, str):
        raise EdgefcError(f"{where} has \"cwd\" that is not a string")
    return ServerSpec(_sanitize(name), _resolve_python(command), tuple(args), dict(env),
                      (path.parent / Path(cwd).expanduser()).resolve())


def _derived_name(words: list[str]) -> str:
    """A server's name from its command: the program's name, or for a launcher the script, module or package it
    runs (`python -m notes` -> notes, `npx -y @scope/server-x@1.2` -> server-x)."""
    program = Path(words[0]).stem
    if program.lower() not in LAUNCHERS:
        return program
    for word in words[1:]:
        if word == "-c":  # inline code names nothing
            return program
        if not word.startswith("-") and word not in ("run", "exec", "x"):
            package = word[:word.index("@", 1)] if "@" in word[1:] else word
            return Path(package).stem
    return program


def _sanitize(name: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")
    if not clean:
        raise EdgefcError(f"MCP server name {name!r} has no letters or digits to name its tools by")
    return clean


def _resolve_python(command: str) -> str:
    return sys.executable if command in THIS_PYTHON else command


# --- running servers ----------------------------------------------------------------------------


class McpServers:
    """Running MCP servers and their tools (`tools`, `warnings`); `close()` stops every server."""

    def __init__(self, specs: Iterable[ServerSpec], *, startup_timeout_s: float = STARTUP_TIMEOUT_S,
                 call_timeout_s: float | None = None):
        self.specs = list(specs)
        names = [spec.name for spec in self.specs]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise EdgefcError(f"two MCP servers are named {duplicated[0]!r}; tool names would clash")
        self.startup_timeout_s = startup_timeout_s
        self.call_timeout_s = call_timeout_s
        self.tools: list[Tool] = []
        self.warnings: list[str] = []
        self._mcp = require("mcp", "mcp")
        self._thread: LoopThread | None = None
        self._keepers: list[asyncio.Task[None]] = []
        self._stop: asyncio.Event | None = None
        self._closed = False

    def open(self) -> McpServers:
        """Start every server and list its tools; a failure stops those that started and says why in one line."""
        self._thread = LoopThread("edgefc-mcp")
        try:
            self.tools = self._run(self._open())
        except BaseException:
            self._shut_loop()
            raise
        return self

    def close(self) -> None:
        """End every session (the SDK closes each server's stdin, then terminates it) and stop the thread."""
        if self._closed or self._thread is None:
            return
        try:
            self._run(self._close())
        finally:
            self._shut_loop()

    def __enter__(self) -> McpServers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _loop(self) -> asyncio.AbstractEventLoop:
        assert self._thread is not None
        return self._thread.loop

    def _run(self, coroutine: Any) -> Any:
        assert self._thread is not None
        return self._thread.run(coroutine)

    def _shut_loop(self) -> None:
        self._closed = True
        if self._thread is not None:
            self._thread.close()

    async def _open(self) -> list[Tool]:
        self._stop = asyncio.Event()
        readies = [self._loop.create_future() for _ in self.specs]
        self._keepers = [asyncio.create_task(self._keep(spec, ready), name=f"mcp-{spec.name}")
                         for spec, ready in zip(self.specs, readies)]
        outcomes = await asyncio.gather(*readies, return_exceptions=True)
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if failures:
            await self._close()
            raise failures[0]
        return [tool for tools in outcomes for tool in tools]

    async def _close(self) -> None:
        assert self._stop is not None
        self._stop.set()
        await asyncio.gather(*self._keepers)

    async def _keep(self, spec: ServerSpec, ready: asyncio.Future[list[Tool]]) -> None:
        """One server's life in one task: start it, hand its tools over, hold the session until stop."""
        stdio = self._mcp.StdioServerParameters(command=spec.command, args=list(spec.args), env=dict(spec.env),
                                                cwd=spec.cwd)
        started = False
        # the deadline cancels this task itself: the SDK's shielded shutdown then stops the server (an anyio
        # timeout scope could not end before the session it encloses; asyncio.timeout needs Python 3.11)
        deadline = asyncio.get_running_loop().call_later(self.startup_timeout_s, _cancel, asyncio.current_task())
        with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as stderr:
            try:
                async with AsyncExitStack() as stack:
                    try:
                        client = await stack.enter_async_context(
                            self._mcp.Client(self._mcp.stdio_client(stdio, errlog=stderr)))
                        listing = await _all_tools(client)
                    finally:
                        deadline.cancel()
                    started = True
                    ready.set_result(self._tools(spec, client, listing))
                    assert self._stop is not None
                    await self._stop.wait()
            except (Exception, asyncio.CancelledError) as exc:  # what stopped the start is the reason to report,
                if ready.done():  # in one line, read once the server has stopped (its stderr complete)
                    raise
                ready.set_exception(exc if started else
                                    EdgefcError(_why_not_started(spec, exc, self.startup_timeout_s, stderr)))

    def _tools(self, spec: ServerSpec, client: Client, listing: list[Any]) -> list[Tool]:
        tools = []
        for item in listing:
            name = f"{spec.name}{NAMESPACE_SEPARATOR}{re.sub(r'[^A-Za-z0-9_-]+', '_', item.name)}"
            try:
                schema = normalize_tool({"name": name, "description": item.description or "",
                                         "parameters": item.input_schema})
                Draft202012Validator.check_schema(schema["function"]["parameters"])
            except (SchemaError, JsonSchemaError) as exc:
                reason = exc.message if isinstance(exc, JsonSchemaError) else str(exc)
                self.warnings.append(f"MCP server {spec.name!r}: tool {item.name!r} skipped, its input schema "
                                     f"cannot be used: {reason}")
                continue
            hints = item.annotations
            confirm = bool(hints and hints.destructive_hint is True and hints.read_only_hint is not True)
            tools.append(Tool(schema, self._handler(client, item.name), confirm, source=f"mcp:{spec.name}"))
        if not listing:
            self.warnings.append(f"MCP server {spec.name!r} offers no tools")
        return tools

    def _handler(self, client: Client, tool: str) -> Handler:
        async def handler(arguments: dict[str, Any]) -> Any:
            if self._closed:
                raise McpToolError(f"the MCP server of {tool!r} was stopped")
            call = client.call_tool(tool, arguments, read_timeout_seconds=self.call_timeout_s)
            if asyncio.get_running_loop() is self._loop:
                return tool_output(await call)
            # from another loop (the agent's): cancelling this await (a timeout) cancels the call on ours
            return tool_output(await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(call, self._loop)))

        return handler


def open_servers(specs: Iterable[ServerSpec], *, startup_timeout_s: float = STARTUP_TIMEOUT_S,
                 call_timeout_s: float | None = None) -> McpServers:
    """Start the servers and list their tools: `with open_servers(specs) as servers: ... servers.tools`."""
    return McpServers(specs, startup_timeout_s=startup_timeout_s, call_timeout_s=call_timeout_s).open()


async def _all_tools(client: Client) -> list[Any]:
    """Every tool a server lists, page after page."""
    tools: list[Any] = []
    cursor: str | None = None
    while True:
        page: ListToolsResult = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            return tools


def tool_output(result: CallToolResult) -> Any:
    """What the model reads of a tool result: structured content (as JSON) when present, else the text; an
    `isError` result raises McpToolError so the loop reports it as a tool error."""
    text = "\n".join(_block_text(block) for block in result.content)
    if result.is_error:
        raise McpToolError(text or "the tool reported an error without a message")
    return result.structured_content if result.structured_content is not None else text


_BLOCK_TEXT: dict[str, Callable[[Any], str]] = {  # content kind -> what the model reads of it
    "text": lambda block: block.text,
    "resource": lambda block: getattr(block.resource, "text", None) or f"[resource {block.resource.uri}]",
    "resource_link": lambda block: f"[resource link {block.uri}]",
}


def _block_text(block: Any) -> str:
    """One content block as text; kinds without text (image, audio) are named with their MIME type."""
    kind = getattr(block, "type", "unknown")
    named = _BLOCK_TEXT.get(kind)
    return named(block) if named else f"[{kind} content, {getattr(block, 'mime_type', 'unknown type')}]"


def _why_not_started(spec: ServerSpec, exc: BaseException, timeout_s: float, stderr: TextIO) -> str:
    """One line saying why a server did not start, with the last line it wrote to stderr when there is one."""
    exc = _innermost(exc)
    if isinstance(exc, FileNotFoundError):
        reason = f"command {spec.command!r} was not found"
    elif isinstance(exc, PermissionError):
        reason = f"command {spec.command!r} cannot be run (permission denied)"
    elif isinstance(exc, asyncio.CancelledError):  # only the start's deadline cancels a server's task
        reason = f"it did not list its tools within {timeout_s:g} s"
    else:
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    stderr.flush()
    stderr.seek(0)
    lines = [line.strip() for line in stderr.read().splitlines() if line.strip()]
    said = f"; it said: {lines[-1][:300]}" if lines else ""
    return " ".join(f"MCP server {spec.name!r} ({spec.command_line()}) failed to start: {reason}{said}".split())


def _innermost(exc: BaseException) -> BaseException:
    """The one exception inside (nested) single-exception groups, as task groups raise them."""
    while isinstance(getattr(exc, "exceptions", None), tuple) and len(exc.exceptions) == 1:  # type: ignore[attr-defined]
        exc = exc.exceptions[0]  # type: ignore[attr-defined]
    return exc


def _cancel(task: asyncio.Task[Any] | None) -> None:
    if task is not None:
        task.cancel()

