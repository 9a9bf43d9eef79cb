"""MCP servers as tools, against real stdio servers started by the tests: the example notes server and a probe
server (tests/fixtures/mcp_probe_server.py); the agent is driven by the scripted runtime of test_agent.py."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from edgefc.agent import Agent, Limits, Toolbox
from edgefc.agent.mcp import McpServers, open_servers, server_from_command, servers_from_config
from edgefc.errors import EdgefcError
from tests.test_agent import Scripted, call, calls, run

pytest.importorskip("mcp")

ROOT = Path(__file__).resolve().parent.parent
NOTES_SERVER = ROOT / "examples" / "mcp" / "notes_server.py"
PROBE_SERVER = ROOT / "tests" / "fixtures" / "mcp_probe_server.py"


def write_config(path: Path, servers: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"mcpServers": servers}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[McpServers]:
    """The notes server (its database in a test folder, given through the config's env) and the probe server,
    started once from one config file while the parent environment holds a variable the config does not pass."""
    folder = tmp_path_factory.mktemp("mcp")
    config = write_config(folder / "mcp.json", {
        "notes": {"command": "python", "args": [str(NOTES_SERVER)], "env": {"NOTES_DB": str(folder / "notes.sqlite")}},
        "probe": {"command": sys.executable, "args": [str(PROBE_SERVER)], "env": {"EDGEFC_GIVEN": "from the config"}},
    })
    with pytest.MonkeyPatch.context() as env:
        env.setenv("EDGEFC_PARENT_SECRET", "must not leak")
        with open_servers(servers_from_config(config), call_timeout_s=10) as opened:
            yield opened


def test_tools_are_namespaced_with_their_schemas(servers: McpServers) -> None:
    tools = {tool.name: tool for tool in servers.tools}
    assert {"notes__add_note", "notes__search_notes", "notes__get_note", "notes__list_notes", "notes__delete_note",
            "probe__getenv", "probe__pid", "probe__sleep"} == set(tools)
    add = tools["notes__add_note"]
    assert add.source == "mcp:notes" and add.spec["function"]["description"].startswith("Save a new note")
    assert add.parameters["required"] == ["title", "body"]
    assert add.parameters["properties"]["tag"]["type"] == "string"
    assert tools["notes__delete_note"].confirm and not add.confirm  # the server marked delete destructive
    # the probe's tool with an unusable schema is skipped with a warning, not a crash
    assert len(servers.warnings) == 1 and "'odd' skipped" in servers.warnings[0]


def test_agent_calls_mcp_tools_and_reads_their_errors(servers: McpServers) -> None:
    runtime = Scripted([
        calls(call("notes__add_note", title="Wifi", body="The wifi password is hunter2.", tag="Home")),
        "Saved.",
        calls(call("notes__get_note", note_id=999), call("notes__delete_note", note_id=1)),
        "There is no note 999, and deleting needs your permission.",
    ])
    agent = Agent(runtime, Toolbox(servers.tools))
    events = run(agent, "Note the wifi password hunter2, tag home.")
    result = next(e for e in events if e["kind"] == "result")
    assert not result["error"]
    saved = json.loads(result["output"])  # structured content, as JSON
    assert saved["title"] == "Wifi" and saved["tag"] == "home" and isinstance(saved["id"], int)
    assert events[-1] == {"kind": "text", "step": 2, "content": "Saved."}

    events = run(agent, "Show note 999 and delete note 1.")
    missing, delete = [e for e in events if e["kind"] == "result"]
    assert missing["error"] and "there is no note 999" in json.loads(missing["output"])["error"]
    assert delete["error"] and "the user declined to run notes__delete_note" in delete["output"]
    assert events[-1]["kind"] == "text"
    agent.close()


def test_server_sees_only_the_environment_its_config_gives(servers: McpServers) -> None:
    getenv = next(tool for tool in servers.tools if tool.name == "probe__getenv")
    agent = Agent(Scripted([calls(call("probe__getenv", name="EDGEFC_PARENT_SECRET"),
                                  call("probe__getenv", name="EDGEFC_GIVEN"),
                                  call("probe__getenv", name="PATH"))]), Toolbox([getenv]))
    outputs = [e["output"] for e in run(agent, "env?") if e["kind"] == "result"]
    assert os.environ["EDGEFC_PARENT_SECRET"] == "must not leak"
    assert outputs[0] == "(unset)" and outputs[1] == "from the config"
    assert outputs[2] == os.environ["PATH"]  # the SDK's allow-list (HOME, LOGNAME, PATH, SHELL, TERM, USER)
    agent.close()


def test_a_call_past_the_timeout_is_an_error_and_the_server_keeps_serving(servers: McpServers) -> None:
    toolbox = Toolbox(tool for tool in servers.tools if tool.source == "mcp:probe")
    agent = Agent(Scripted([calls(call("probe__sleep", seconds=30)), calls(call("probe__pid"))]), toolbox,
                  limits=Limits(timeout_s=0.5))
    started = time.perf_counter()
    slow, pid = [e for e in run(agent, "wait") if e["kind"] == "result"]
    assert time.perf_counter() - started < 10
    assert slow["error"] and "did not finish within 0.5 s" in slow["output"]
    assert not pid["error"] and pid["output"].isdigit()
    agent.close()


def test_close_stops_the_server_processes() -> None:
    with open_servers([server_from_command(f"python {PROBE_SERVER}")]) as opened:
        assert opened.tools[0].name.startswith("mcp_probe_server__")
        pid_tool = next(tool for tool in opened.tools if tool.name.endswith("__pid"))
        agent = Agent(Scripted([calls(call(pid_tool.name))]), Toolbox([pid_tool]))
        pid = int(next(e for e in run(agent, "pid?") if e["kind"] == "result")["output"])
        agent.close()
        assert alive(pid)  # while the servers are open
    assert not alive(pid)  # closing waits until the server has exited and been reaped


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("command, expected", [
    ("edgefc-no-such-server --stdio", "failed to start: command 'edgefc-no-such-server' was not found"),
    ("python -c 'import edgefc_no_such_module'", "it said: ModuleNotFoundError: No module named"),
    ("python -c 'import sys; sys.stdin.read()'", "it did not list its tools within 1 s"),
])
def test_a_server_that_does_not_start_is_one_line(command: str, expected: str) -> None:
    started = time.perf_counter()
    with pytest.raises(EdgefcError) as error:
        open_servers([server_from_command(command)], startup_timeout_s=1)
    message = str(error.value)
    assert expected in message and message.startswith("MCP server '") and "\n" not in message
    assert time.perf_counter() - started < 10


def test_config_errors(tmp_path: Path) -> None:
    remote = write_config(tmp_path / "remote.json", {"docs": {"url": "https://example.com/mcp"}})
    with pytest.raises(EdgefcError, match="'docs' uses the HTTP transport .* supports only stdio servers"):
        servers_from_config(remote)
    sse = write_config(tmp_path / "sse.json", {"docs": {"type": "sse", "url": "http://localhost:9/sse"}})
    with pytest.raises(EdgefcError, match="uses the sse transport"):
        servers_from_config(sse)
    (tmp_path / "empty.json").write_text("{}", encoding="utf-8")
    with pytest.raises(EdgefcError, match="no \"mcpServers\" object"):
        servers_from_config(tmp_path / "empty.json")
    with pytest.raises(EdgefcError, match="has \"args\" that is not a list of strings"):
        servers_from_config(write_config(tmp_path / "args.json", {"x": {"command": "x", "args": "a b"}}))
    with pytest.raises(EdgefcError, match="does not exist"):
        servers_from_config(tmp_path / "missing.json")


def test_the_example_config_and_command_names() -> None:
    (notes,) = servers_from_config(ROOT / "examples" / "mcp" / "mcp.json")
    assert notes.name == "notes" and notes.command == sys.executable  # `python`: the interpreter running edgefc
    assert notes.args == ("notes_server.py",) and notes.cwd == NOTES_SERVER.parent  # relative to the config
    assert server_from_command("npx -y @modelcontextprotocol/server-filesystem /tmp").name == "server-filesystem"
    assert server_from_command("uvx mcp-server-fetch").name == "mcp-server-fetch"
    assert server_from_command("/opt/bin/weather-server --port 3").name == "weather-server"
    with pytest.raises(EdgefcError, match="cannot be split"):
        server_from_command("python 'unclosed")


def test_what_the_model_reads_of_a_result() -> None:
    from mcp.types import CallToolResult, ImageContent, TextContent

    from edgefc.agent.mcp import McpToolError, tool_output

    text = [TextContent(text="line one"), ImageContent(data="AAAA", mime_type="image/png")]
    assert tool_output(CallToolResult(content=text)) == "line one\n[image content, image/png]"
    assert tool_output(CallToolResult(content=text, structured_content={"n": 1})) == {"n": 1}
    with pytest.raises(McpToolError, match="^line one"):
        tool_output(CallToolResult(content=text, is_error=True))


# --- hostile servers and tools: every fault ends as a tool error in time, the agent goes on, nothing is left ---

HOSTILE_SERVER = ROOT / "tests" / "fixtures" / "mcp_hostile_server.py"


def _children() -> set[int]:
    """This process's live child processes (the servers it started)."""
    import psutil

    return {p.pid for p in psutil.Process().children(recursive=True) if p.is_running()}


def test_hostile_mcp_servers_end_as_tool_errors_and_leave_no_process() -> None:
    before = _children()
    spec = server_from_command(f"python {HOSTILE_SERVER}", name="bad")
    with open_servers([spec], call_timeout_s=3) as opened:
        children = _children() - before
        tools = Toolbox(opened.tools)
        limits = Limits(timeout_s=5, max_output_chars=2000)
        agent = Agent(Scripted([calls(call("bad__hang")), "ok", calls(call("bad__huge", megabytes=5)), "ok",
                                calls(call("bad__garbage")), "ok", calls(call("bad__pid")), "ok",
                                calls(call("bad__huge", megabytes=100)), "ok",
                                calls(call("bad__crash")), "ok", calls(call("bad__pid")), "ok"]),
                      tools, limits=limits)
        outcomes = []
        for message in ("hang", "large", "garbage", "pid", "huge", "crash", "after the crash"):
            started = time.perf_counter()
            result = next(e for e in run(agent, message) if e["kind"] == "result")
            outcomes.append((message, result, time.perf_counter() - started))
        agent.close()
    by_name = {m: (r, s) for m, r, s in outcomes}
    hang, seconds = by_name["hang"]
    assert hang["error"] and seconds < 8  # the call timeout (3 s) or the agent's (5 s), whichever first
    huge, seconds = by_name["huge"]  # 100 MB: not through stdio within the call's 3 s, or capped if it is
    assert len(huge["output"]) <= 2000 + 80 and (huge["error"] or "cut" in huge["output"]) and seconds < 8
    large, _ = by_name["large"]  # 5 MB arrives, and is capped before it reaches the prompt
    assert len(large["output"]) <= 2000 + 80 and "cut" in large["output"] and not large["error"]
    assert by_name["pid"][0]["output"].isdigit()  # the server still serves after the garbage and the large result
    crash, seconds = by_name["crash"]
    assert crash["error"] and seconds < 8
    after, seconds = by_name["after the crash"]
    assert after["error"] and seconds < 8  # a dead server's tools fail fast, they do not hang the agent
    assert children  # the server ran as our child...
    assert not (_children() - before)  # ...and closing left none behind


def test_a_server_listing_500_tools_is_usable() -> None:
    spec = server_from_command(f"python {HOSTILE_SERVER}", name="many")
    spec = dataclasses.replace(spec, env={**spec.env, "HOSTILE_TOOLS": "500"})
    with open_servers([spec], call_timeout_s=10) as opened:
        names = {tool.name for tool in opened.tools}
        assert len(names) == 505 and "many__extra_499" in names
        agent = Agent(Scripted([calls(call("many__extra_499", value="v")), "ok"]), Toolbox(opened.tools))
        result = next(e for e in run(agent, "go") if e["kind"] == "result")
        agent.close()
    assert result["output"] == "499:v" and not result["error"]
