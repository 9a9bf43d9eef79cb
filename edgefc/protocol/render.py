"""Prompt rendering through the model's own chat template, exactly as transformers renders it.

The core must not need transformers, so this mirrors `transformers.utils.chat_template_utils`:
the same sandboxed Jinja environment, the same `tojson`, `raise_exception` and `strftime_now`, and the
special tokens passed as variables. Tests hold it byte-identical to `apply_chat_template`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from edgefc.errors import EdgefcError
from edgefc.protocol.schema import normalize_tools

Message = Mapping[str, Any]


class TemplateError(EdgefcError):
    """A chat template that is missing, does not compile, or refuses the conversation."""


def _raise_exception(message: str) -> None:
    raise jinja2.exceptions.TemplateError(message)


def _tojson(x: Any, ensure_ascii: bool = False, indent: int | None = None,
            separators: tuple[str, str] | None = None, sort_keys: bool = False) -> str:
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


class _GenerationTag(jinja2.ext.Extension):
    """Accept `{% generation %}` blocks (used by training templates) and render their body unchanged."""

    tags = {"generation"}

    def parse(self, parser: jinja2.parser.Parser) -> jinja2.nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller: Any) -> str:
        return caller()


@lru_cache(maxsize=16)
def _compile(source: str) -> jinja2.Template:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[_GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    try:
        return env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"the chat template does not compile: {exc.message} (line {exc.lineno})") from exc


def as_messages(messages: str | Iterable[Message]) -> list[dict[str, Any]]:
    """Accept a bare user string or a list of chat messages; return a list of plain dicts."""
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    out = [dict(m) for m in messages]
    for i, m in enumerate(out):
        if "role" not in m:
            raise TemplateError(f"message #{i + 1} has no 'role'")
    return out


@dataclass(frozen=True)
class ChatTemplate:
    """A model's Jinja chat template plus the special-token variables its tokenizer passes to it."""

    source: str
    special_tokens: Mapping[str, Any] = field(default_factory=dict)

    @property
    def knows_thinking(self) -> bool:
        """True for templates with an `enable_thinking` switch (Qwen3)."""
        return "enable_thinking" in self.source

    def render(self, messages: str | Iterable[Message], tools: Any = None, *, add_generation_prompt: bool = True,
               enable_thinking: bool = False, **kwargs: Any) -> str:
        """Render a conversation (and tools, in any form `normalize_tools` accepts) into the prompt text."""
        variables: dict[str, Any] = {**self.special_tokens, **kwargs}
        if self.knows_thinking:
            variables["enable_thinking"] = enable_thinking
        try:
            return _compile(self.source).render(
                messages=as_messages(messages),
                tools=normalize_tools(tools) if tools else None,
                documents=None,
                add_generation_prompt=add_generation_prompt,
                **variables,
            )
        except jinja2.TemplateError as exc:
            raise TemplateError(f"the chat template refused this conversation: {exc}") from exc

    @classmethod
    def from_hf_dir(cls, path: str | Path) -> "ChatTemplate":
        """Read the template and special tokens of a Hugging Face model folder (tokenizer_config.json)."""
        path = Path(path)
        config = _read_json(path / "tokenizer_config.json")
        source = config.get("chat_template")
        jinja_file = path / "chat_template.jinja"
        if jinja_file.is_file():
            source = jinja_file.read_text(encoding="utf-8")
        if isinstance(source, list):  # named templates: take the default one
            source = next((t["template"] for t in source if t.get("name") == "default"), None)
        if not source:
            raise TemplateError(f"{path} has no chat template (tokenizer_config.json or chat_template.jinja)")
        return cls(source, special_tokens_from_config(config))


SPECIAL_TOKEN_KEYS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


def special_tokens_from_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The template variables transformers derives from a tokenizer config (its `special_tokens_map`)."""
    out: dict[str, Any] = {}
    for key in SPECIAL_TOKEN_KEYS:
        value = config.get(key)
        if isinstance(value, Mapping):
            value = value.get("content")
        if value is not None:
            out[key] = value
    extra = config.get("additional_special_tokens")
    if extra:
        out["additional_special_tokens"] = [t.get("content") if isinstance(t, Mapping) else t for t in extra]
    return out


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as exc:
        raise TemplateError(f"{path} is not valid JSON: {exc}") from exc
