"""A small subset of Go's text/template, enough to render Ollama Modelfile templates in tests (Ollama itself
cannot run here): text and actions with `{{-`/`-}}` trimming; `if`/`else if`/`else`, `range` (with `$i, $x :=`),
`$x := ...` and `$x = ...`; fields (`.A.B`, `$.A`, `$x.A`, `(expr).A`), strings, numbers, true/false; the
functions eq, ne, and, or (short-circuit, as Go 1.18+), not, len, slice, index. Values print with `str`, so a
test gives objects a `__str__` where Go would call their String method."""

from __future__ import annotations

import re
from typing import Any

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)
_TOKEN = re.compile(r'\s*(\(|\)|"(?:\\.|[^"\\])*"|:=|=|,|[^\s(),]+)')


def _tokens(text: str) -> list[str]:
    out, at = [], 0
    while at < len(text):
        m = _TOKEN.match(text, at)
        if not m or not m.group(1):
            break
        out.append(m.group(1))
        at = m.end()
    return out


def _lex(source: str) -> list[tuple[str, str]]:
    """("text", s) and ("action", s) items with the trim markers applied to the neighbouring text."""
    items: list[tuple[str, str]] = []
    at, trim_next = 0, False
    for m in _ACTION.finditer(source):
        text = source[at:m.start()]
        if trim_next:
            text = text.lstrip()
        if m.group(1):
            text = text.rstrip()
        items.append(("text", text))
        items.append(("action", m.group(2).strip()))
        trim_next, at = bool(m.group(3)), m.end()
    tail = source[at:]
    items.append(("text", tail.lstrip() if trim_next else tail))
    return items


def _parse(items: list[tuple[str, str]], at: int = 0, stop: tuple[str, ...] = ()) -> tuple[list[Any], int, str]:
    """Nodes until an action starting with one of `stop` ("end", "else"); returns nodes, next index, stopper."""
    nodes: list[Any] = []
    while at < len(items):
        kind, body = items[at]
        at += 1
        if kind == "text":
            nodes.append(("text", body))
            continue
        word = body.split(None, 1)[0] if body else ""
        if word in stop:
            return nodes, at, body
        if word in ("if", "range"):
            nodes_at, branches = at, []
            cond = body[len(word):].strip()
            while True:
                inner, nodes_at, stopper = _parse(items, nodes_at, ("end", "else"))
                branches.append((cond, inner))
                if stopper == "end":
                    break
                rest = stopper[len("else"):].strip()
                cond = rest[len("if"):].strip() if rest.startswith("if") else None
            nodes.append((word, branches))
            at = nodes_at
        else:
            nodes.append(("action", body))
    return nodes, at, ""


class Renderer:
    def __init__(self, source: str):
        self.nodes, _, _ = _parse(_lex(source))

    def render(self, data: dict[str, Any]) -> str:
        out: list[str] = []
        self._run(self.nodes, data, {"$": data}, out)
        return "".join(out)

    def _run(self, nodes: list[Any], dot: Any, scope: dict[str, Any], out: list[str]) -> None:
        for kind, body in nodes:
            if kind == "text":
                out.append(body)
            elif kind == "if":
                for cond, inner in body:
                    if cond is None or _truth(self._pipe(_tokens(cond), dot, scope)):
                        self._run(inner, dot, scope, out)
                        break
            elif kind == "range":
                (head, inner), *rest = body
                tokens = _tokens(head)
                names: list[str] = []
                if ":=" in tokens:
                    cut = tokens.index(":=")
                    names = [t for t in tokens[:cut] if t != ","]
                    tokens = tokens[cut + 1:]
                items = self._pipe(tokens, dot, scope) or []
                if not items and rest:
                    self._run(rest[0][1], dot, scope, out)
                for i, item in enumerate(items):
                    local = dict(scope)
                    if len(names) == 2:
                        local[names[0]], local[names[1]] = i, item
                    elif names:
                        local[names[0]] = item
                    self._run(inner, item, local, out)
                    for name in scope:  # assignments to outer variables persist (Go 1.11+)
                        if name not in names:
                            scope[name] = local[name]
            else:
                tokens = _tokens(body)
                if len(tokens) > 1 and tokens[1] in (":=", "="):
                    scope[tokens[0]] = self._pipe(tokens[2:], dot, scope)
                else:
                    value = self._pipe(tokens, dot, scope)
                    out.append("" if value is None else str(value))

    def _pipe(self, tokens: list[str], dot: Any, scope: dict[str, Any]) -> Any:
        args, at = [], 0
        while at < len(tokens):
            if tokens[at] == "(":
                depth, end = 1, at + 1
                while depth:
                    depth += {"(": 1, ")": -1}.get(tokens[end], 0)
                    end += 1
                inner = tokens[at + 1:end - 1]
                if end < len(tokens) and tokens[end].startswith(".") and len(tokens[end]) > 1:  # (expr).Field
                    args.append(("field", (inner, tokens[end][1:])))
                    end += 1
                else:
                    args.append(("expr", inner))
                at = end
            else:
                args.append(("atom", tokens[at]))
                at += 1
        if args[0] == ("atom", "and") or args[0] == ("atom", "or"):
            want = args[0][1] == "and"
            value: Any = None
            for arg in args[1:]:
                value = self._value(arg, dot, scope)
                if _truth(value) != want:
                    return value
            return value
        if args[0][0] == "atom" and args[0][1] in FUNCS:
            return FUNCS[args[0][1]](*(self._value(a, dot, scope) for a in args[1:]))
        assert len(args) == 1, tokens
        return self._value(args[0], dot, scope)

    def _value(self, arg: tuple[str, Any], dot: Any, scope: dict[str, Any]) -> Any:
        kind, token = arg
        if kind == "expr":
            return self._pipe(token, dot, scope)
        if kind == "field":
            return _fields(self._pipe(token[0], dot, scope), token[1])
        if token.startswith('"'):
            return bytes(token[1:-1], "utf-8").decode("unicode_escape")
        if token in ("true", "false"):
            return token == "true"
        if re.fullmatch(r"-?\d+", token):
            return int(token)
        if token.startswith("$"):
            name, _, path = token.partition(".")
            return _fields(scope[name], path)
        if token.startswith("."):
            return _fields(dot, token[1:])
        raise AssertionError(f"unknown token {token!r}")


def _fields(value: Any, path: str) -> Any:
    for name in [p for p in path.split(".") if p]:
        value = value.get(name) if isinstance(value, dict) else getattr(value, name, None)
    return value


def _truth(value: Any) -> bool:
    return bool(value)


FUNCS = {"eq": lambda a, *b: any(a == x for x in b), "ne": lambda a, b: a != b, "not": lambda a: not _truth(a),
         "len": lambda a: len(a), "slice": lambda a, i: a[i:], "index": lambda a, i: a[i]}
