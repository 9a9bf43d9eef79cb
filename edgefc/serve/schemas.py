"""Request bodies of the OpenAI API -> checked requests, or one-sentence OpenAI-shaped 4xx errors.

Unknown fields are ignored (clients send many the server has no use for); a known field of the wrong type or
out of range is a 400 naming it. `null` counts as absent, as OpenAI's own server treats it.
"""

from __future__ import annotations

import json
import math
import secrets
from dataclasses import dataclass
from typing import Any, Callable

from edgefc.errors import EdgefcError
from edgefc.protocol.grammar import parse_tool_choice
from edgefc.protocol.schema import normalize_tools
from edgefc.runtimes.base import Sampling

ROLES = ("system", "developer", "user", "assistant", "tool")
MAX_STOPS = 4  # OpenAI's limit on stop sequences


class ApiError(Exception):
    """An error the client caused, sent as OpenAI's {"error": {...}} body with an HTTP status."""

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None, status: int = 400,
                 kind: str = "invalid_request_error", headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message, self.param, self.code, self.status, self.kind = message, param, code, status, kind
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


@dataclass(frozen=True)
class Common:
    """The fields chat and text completions share."""

    sampling: Sampling
    max_tokens: int | None  # None: what the context leaves
    stop: tuple[str, ...]
    stream: bool
    include_usage: bool  # stream_options.include_usage: a last chunk carries the usage


@dataclass(frozen=True)
class ChatRequest:
    """A checked POST /v1/chat/completions: messages as the chat template takes them, canonical tools."""

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None
    tool_choice: str | dict[str, Any]
    parallel_tool_calls: bool
    common: Common


@dataclass(frozen=True)
class CompletionRequest:
    """A checked POST /v1/completions: a raw prompt, decoded freely."""

    prompt: str
    common: Common


def decode_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a request body."""
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError("the request body must be a JSON object")
    return body


def _number(low: float, high: float, *, low_open: bool = False) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                and (low < value if low_open else low <= value) and value <= high)
    return check


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _stop(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and len(value) <= MAX_STOPS
                                      and all(isinstance(s, str) and s for s in value))


# field -> (check, what it must be): the fields both endpoints read.
FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "model": (lambda v: isinstance(v, str), "a string"),
    "temperature": (_number(0.0, 2.0), "a number from 0 to 2"),
    "top_p": (_number(0.0, 1.0, low_open=True), "a number above 0 and at most 1"),
    "seed": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "max_tokens": (_positive_int, "a positive integer"),
    "max_completion_tokens": (_positive_int, "a positive integer"),
    "stop": (_stop, f"a string or a list of at most {MAX_STOPS} non-empty strings"),
    "stream": (lambda v: isinstance(v, bool), "a boolean"),
    "stream_options": (lambda v: isinstance(v, dict), "an object"),
    "n": (lambda v: v == 1 and not isinstance(v, bool), "1 (one choice per request)"),
    "messages": (lambda v: isinstance(v, list) and len(v) > 0, "a non-empty list of messages"),
    "tools": (lambda v: isinstance(v, list), "a list of tools"),
    "tool_choice": (lambda v: isinstance(v, (str, dict)), "'auto', 'none', 'required' or a named function"),
    "parallel_tool_calls": (lambda v: isinstance(v, bool), "a boolean"),
    "prompt": (lambda v: isinstance(v, str) or (isinstance(v, list) and len(v) == 1 and isinstance(v[0], str)),
               "a string (or a list of one string)"),
}


def _field(body: dict[str, Any], name: str, default: Any = None) -> Any:
    """A known field, checked; `default` when absent or null."""
    value = body.get(name)
    if value is None:
        return default
    check, expected = FIELDS[name]
    if not check(value):
        raise ApiError(f"'{name}' must be {expected}", param=name)
    return value


def _common(body: dict[str, Any]) -> Common:
    _field(body, "model")
    _field(body, "n")
    seed = _field(body, "seed")
    seed = secrets.randbits(32) if seed is None else seed  # unseeded sampling differs from request to request
    sampling = Sampling(temperature=float(_field(body, "temperature", 0.0)), top_p=float(_field(body, "top_p", 1.0)),
                        seed=seed)
    stop = _field(body, "stop", ())
    options = _field(body, "stream_options", {})
    max_completion_tokens, max_tokens = _field(body, "max_completion_tokens"), _field(body, "max_tokens")
    max_tokens = max_completion_tokens or max_tokens
    return Common(sampling, max_tokens, (stop,) if isinstance(stop, str) else tuple(stop),
                  _field(body, "stream", False), bool(options.get("include_usage")))


def parse_completion(body: dict[str, Any]) -> CompletionRequest:
    """Check a /v1/completions body."""
    prompt = _field(body, "prompt")
    if prompt is None:
        raise ApiError("'prompt' is required", param="prompt")
    return CompletionRequest(prompt if isinstance(prompt, str) else prompt[0], _common(body))


def parse_chat(body: dict[str, Any]) -> ChatRequest:
    """Check a /v1/chat/completions body: messages, tools (any form edgefc reads) and tool_choice."""
    messages = _field(body, "messages")
    if messages is None:
        raise ApiError("'messages' is required", param="messages")
    raw_tools = _field(body, "tools")
    try:
        tools = normalize_tools(raw_tools) if raw_tools else None
    except EdgefcError as exc:
        raise ApiError(f"bad tool definition: {exc}", param="tools") from None
    tool_choice = _field(body, "tool_choice", "auto")
    try:
        parse_tool_choice(tool_choice, [tool["function"]["name"] for tool in tools or []])
    except EdgefcError as exc:
        raise ApiError(str(exc), param="tool_choice") from None
    return ChatRequest([_message(m, i) for i, m in enumerate(messages)], tools, tool_choice,
                       _field(body, "parallel_tool_calls", True), _common(body))


def _message(message: Any, index: int) -> dict[str, Any]:
    """One message as the chat template takes it: text content, tool calls with their arguments as objects."""
    where = f"messages[{index}]"
    if not isinstance(message, dict):
        raise ApiError(f"{where} must be an object", param=where)
    role = message.get("role")
    if role not in ROLES:
        raise ApiError(f"{where}.role must be one of {', '.join(ROLES)}", param=f"{where}.role")
    out: dict[str, Any] = {"role": "system" if role == "developer" else role,
                           "content": _content(message.get("content"), f"{where}.content")}
    if role == "assistant" and message.get("tool_calls"):
        out["tool_calls"] = _tool_calls(message["tool_calls"], f"{where}.tool_calls")
    if role == "tool":
        call_id = message.get("tool_call_id")
        if not isinstance(call_id, str):
            raise ApiError(f"{where}.tool_call_id must be a string", param=f"{where}.tool_call_id")
        out["tool_call_id"] = call_id
    if isinstance(message.get("name"), str):
        out["name"] = message["name"]
    return out


def _content(content: Any, where: str) -> str:
    """Message content as text: a string, null, or a list of text parts (joined)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) and p.get("type") == "text"
                                         and isinstance(p.get("text"), str) for p in content):
        return "".join(p["text"] for p in content)
    raise ApiError(f"{where} must be a string or a list of text parts", param=where)


def _tool_calls(calls: Any, where: str) -> list[dict[str, Any]]:
    """An assistant's earlier calls; arguments arrive as JSON strings and the templates want objects."""
    if not isinstance(calls, list):
        raise ApiError(f"{where} must be a list", param=where)
    out = []
    for i, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise ApiError(f"{where}[{i}] must be {{'type': 'function', 'function': {{'name', 'arguments'}}}}",
                           param=f"{where}[{i}]")
        arguments = function.get("arguments") or "{}"
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except json.JSONDecodeError:
                raise ApiError(f"{where}[{i}].function.arguments is not valid JSON",
                               param=f"{where}[{i}].function.arguments") from None
        if not isinstance(arguments, dict):
            raise ApiError(f"{where}[{i}].function.arguments must be a JSON object",
                           param=f"{where}[{i}].function.arguments")
        out.append({"id": call.get("id"), "type": "function",
                    "function": {"name": function["name"], "arguments": arguments}})
    return out
