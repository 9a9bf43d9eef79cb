"""The on-device agent: a loop that runs a model's tool calls safely (loop.py), over tools from Python,
JSON schemas with handlers and MCP servers (tools.py, mcp.py), with prompts extended append-only (prompt.py)."""

from edgefc.agent.loop import Agent, Event, Limits, replay
from edgefc.agent.tools import Tool, Toolbox, ToolFile, from_callable, load_tool_file, needs_confirmation

__all__ = ["Agent", "Event", "Limits", "Tool", "ToolFile", "Toolbox", "from_callable", "load_tool_file", "needs_confirmation",
           "replay"]
