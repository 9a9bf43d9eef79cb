"""What the worker thread does for one request: the prompt and its token budget, then the generation, watched
token by token (stop strings, streamed text, a client that went away)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable

from edgefc.errors import EdgefcError
from edgefc.runtimes.base import Generation, Runtime, Sampling
from edgefc.serve.output import cut_at_stop, is_call_text
from edgefc.serve.schemas import ApiError, ChatRequest, CompletionRequest

DEFAULT_MAX_TOKENS = 256  # Runtime.generate's default, where a backend has no fixed context to fill


@dataclass(frozen=True)
class Prepared:
    """A request ready for the model: the rendered prompt, its length and the answer's token budget."""

    prompt: str
    prompt_tokens: int
    max_tokens: int
    sampling: Sampling
    stop: tuple[str, ...]
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = "auto"
    parallel_tool_calls: bool = True

    @property
    def calls_possible(self) -> bool:
        return bool(self.tools) and self.tool_choice != "none"


def prepare_chat(runtime: Runtime, request: ChatRequest) -> Prepared:
    """Render the conversation with the model's template and fit the answer into the context."""
    try:
        prompt = runtime.render(request.messages, request.tools)
    except EdgefcError as exc:
        raise ApiError(str(exc), param="messages") from None
    c = request.common
    return Prepared(prompt, *_budget(runtime, prompt, c.max_tokens, "messages"), c.sampling, c.stop, request.tools,
                    request.tool_choice, request.parallel_tool_calls)


def prepare_completion(runtime: Runtime, request: CompletionRequest) -> Prepared:
    """A raw prompt, as the client formatted it (BFCL's harness renders its own)."""
    c = request.common
    return Prepared(request.prompt, *_budget(runtime, request.prompt, c.max_tokens, "prompt"), c.sampling, c.stop)


def _budget(runtime: Runtime, prompt: str, requested: int | None, param: str) -> tuple[int, int]:
    """Prompt tokens and the answer's max_tokens: as requested, capped to what the context leaves."""
    n = len(runtime.tokenize(prompt))
    context = runtime.context_size
    if context is None:
        return n, requested or DEFAULT_MAX_TOKENS
    if n >= context:
        raise ApiError(f"the prompt has {n} tokens, and the model's context holds {context} (prompt and answer "
                       "together)", param=param, code="context_length_exceeded")
    return n, min(requested or context, context - n)


class Watch:
    """Sees each batch of new tokens in the worker thread: keeps the answer's text, hands it to `emit` (a
    stream), and ends the generation at a stop string or once `cancel` is set."""

    def __init__(self, runtime: Runtime, stop: tuple[str, ...], calls_possible: bool,
                 emit: Callable[[str], None] | None = None):
        self.runtime, self.stop, self.calls_possible, self.emit = runtime, stop, calls_possible, emit
        self.cancel = threading.Event()
        self.tokens: list[int] = []
        self._settled = ""  # text of tokens[:_settled_at], which ends on a whole character
        self._settled_at = 0

    @property
    def text(self) -> str:
        """The answer so far, detokenized incrementally (the tail is decoded again until its characters are whole)."""
        tail = self.runtime.detokenize(self.tokens[self._settled_at:])
        if not tail.endswith("\ufffd"):
            self._settled, self._settled_at = self._settled + tail, len(self.tokens)
            return self._settled
        return self._settled + tail

    def __call__(self, ids: list[int]) -> bool:
        if self.cancel.is_set():
            return False
        self.tokens += ids
        if self.emit is None and not self.stop:
            return True
        text = self.text
        if self.emit is not None:
            self.emit(text)
        if self.stop and not (self.calls_possible and is_call_text(text)):
            return not cut_at_stop(text, self.stop)[1]
        return True


def generate(runtime: Runtime, prepared: Prepared, watch: Watch) -> Generation:
    """The answer (call it on the worker thread): constrained when tools are offered, free otherwise."""
    return runtime.answer(prepared.prompt, prepared.tools, max_tokens=prepared.max_tokens, sampling=prepared.sampling,
                          tool_choice=prepared.tool_choice, parallel_tool_calls=prepared.parallel_tool_calls,
                          on_tokens=watch)
