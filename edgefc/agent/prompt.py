"""An agent's conversation as the model sees it: rendered once, then extended append-only, turn by turn.

The first prompt is the chat template's rendering of the messages. After that, each answer is kept exactly as
the model wrote it and the template only writes what follows it (the answer's end marker, the new tool
results or user message, the generation prompt), found by rendering the conversation with a stand-in answer.
So every prompt extends the previous prompt + answer, and the runtime's prefix cache evaluates only the new
tokens, even with templates that rewrite history (Qwen3 drops earlier turns' `<think>` blocks, and renders
the generation prompt's empty think block only for the last turn).
"""

from __future__ import annotations

import os
from typing import Any

from edgefc.protocol.render import ChatTemplate, TemplateError

_STAND_IN = "\u2063edgefc-answer\u2063"  # invisible separators: text no real answer contains


class Conversation:
    """Messages (OpenAI form) plus the exact text the model has read and written so far."""

    def __init__(self, template: ChatTemplate, tools: list[dict[str, Any]] | None, *, system: str | None = None,
                 thinking: bool = False):
        self.template = template
        self.tools = tools
        self.thinking = thinking
        self.messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
        self._written: str | None = None  # prompt + answer up to the last assistant message
        self._answer_at = -1  # that message's index

    def add(self, *messages: dict[str, Any]) -> None:
        """Append user or tool messages."""
        self.messages.extend(messages)

    def prompt(self) -> str:
        """The next prompt: the previous prompt + answer, then the template's text for what came since."""
        if self._written is None:
            return self._render(self.messages)
        stand_in = [*self.messages[: self._answer_at], {"role": "assistant", "content": _STAND_IN},
                    *self.messages[self._answer_at + 1:]]
        rendered = self._render(stand_in)
        at = rendered.rfind(_STAND_IN)
        if at < 0:  # a template that drops assistant text: render it all, the prefix cache reuses what matches
            return self._render(self.messages)
        return self._written + rendered[at + len(_STAND_IN):]

    def answered(self, prompt: str, text: str, content: str, tool_calls: list[dict[str, Any]]) -> dict[str, Any]:
        """Record the model's answer to `prompt`: its raw text for the next prompt, and as a message its text
        part and calls (OpenAI form, so a full rendering writes the calls the template's way)."""
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if tool_calls:
            message["tool_calls"] = tool_calls
        self.messages.append(message)
        self._written = prompt + text
        self._answer_at = len(self.messages) - 1
        return message

    def _render(self, messages: list[dict[str, Any]]) -> str:
        return self.template.render(messages, self.tools, add_generation_prompt=True, enable_thinking=self.thinking)


def tools_prefix(template: ChatTemplate, tools: list[dict[str, Any]] | None, system: str | None = None, *,
                 thinking: bool = False) -> str:
    """The text every first prompt of these tools and system message starts with: the system + tools block,
    cut before the first user message (what a runtime can keep warm on disk, see `warm_prefix`).

    Rendered with a stand-in user message; the cut is where the rendering without it (system only) stops
    agreeing. Templates that cannot render a conversation without a user (Qwen's, when there is no system
    message) are cut at the stand-in, after the user's turn header: still the start of every first prompt."""
    head = [{"role": "system", "content": system}] if system else []
    full = template.render([*head, {"role": "user", "content": _STAND_IN}], tools, add_generation_prompt=True,
                           enable_thinking=thinking)
    before_user = full[: full.index(_STAND_IN)]
    try:
        alone = template.render(head, tools, add_generation_prompt=False, enable_thinking=thinking)
    except TemplateError:
        return before_user
    common = os.path.commonprefix([alone, before_user])
    return common if common else before_user
