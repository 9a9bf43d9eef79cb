"""One interface over every inference backend: messages + tools in, text + parsed calls + timings out.

A runtime only has to tokenize, detokenize and generate token ids; rendering (the model's own chat
template) and parsing (the protocol) happen here, once, so every backend sees the same prompt.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Sequence

import numpy as np

from edgefc.protocol.parse import ParseResult, parse
from edgefc.protocol.render import ChatTemplate, Message

# Token texts that end a turn, as llama.cpp's end-of-generation set recognises them.
END_OF_TURN_TEXTS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<end_of_turn>", "</s>")


def end_of_turn_ids(token_id: Callable[[str], int | None], *eos: int | list[int] | None) -> set[int]:
    """Ids that end a turn: the known end-of-turn texts the vocabulary has, plus configured eos ids."""
    ids = {i for i in map(token_id, END_OF_TURN_TEXTS) if i is not None}
    for value in eos:
        ids.update(value if isinstance(value, list) else [value] if value is not None else [])
    return ids


@dataclass(frozen=True)
class Sampling:
    """How to pick tokens. temperature 0 is greedy (the default: reproducible, and what BFCL uses)."""

    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


@dataclass(frozen=True)
class Timings:
    """Where the time of one request went."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int  # prompt tokens reused from the previous request (prefix cache), not evaluated again
    ttft_s: float  # request start -> first generated token (prefill + one step)
    decode_tps: float  # tokens/s after the first token
    prefill_tps: float  # evaluated prompt tokens / time to first token
    total_s: float


@dataclass
class Clock:
    """Collects the three instants a request is measured by."""

    start: float = field(default_factory=time.perf_counter)
    first: float | None = None
    end: float | None = None
    steps: int = 0

    def token(self) -> None:
        """Call once per generated token (the end-of-turn token included: it was computed too)."""
        self.steps += 1
        if self.first is None:
            self.first = time.perf_counter()
        self.end = time.perf_counter()

    def timings(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> Timings:
        """Timings of a request whose answer has `completion_tokens` tokens (end-of-turn excluded)."""
        end = self.end if self.end is not None else time.perf_counter()
        first = self.first if self.first is not None else end
        ttft = first - self.start
        decode_s = end - first
        evaluated = prompt_tokens - cached_tokens
        return Timings(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cached_tokens=cached_tokens,
            ttft_s=ttft,
            decode_tps=(self.steps - 1) / decode_s if self.steps > 1 and decode_s > 0 else 0.0,
            prefill_tps=evaluated / ttft if ttft > 0 else 0.0,
            total_s=end - self.start,
        )


@dataclass(frozen=True)
class Completion:
    """What a backend returns for a prompt: generated ids (end-of-turn token excluded) and timings."""

    tokens: list[int]
    finish_reason: str  # "stop" (end of turn) or "length" (max_tokens reached)
    timings: Timings


@dataclass(frozen=True)
class Generation:
    """One answered request: the prompt, the raw text, what the protocol parsed from it, and timings."""

    runtime: str
    prompt: str
    text: str
    parsed: ParseResult
    tokens: list[int]
    finish_reason: str
    timings: Timings

    def to_dict(self) -> dict[str, Any]:
        return {
            "runtime": self.runtime,
            "text": self.text,
            "calls": self.parsed.calls,
            "parsed": self.parsed.to_dict(),
            "tokens": self.tokens,
            "finish_reason": self.finish_reason,
            "timings": asdict(self.timings),
        }


class Runtime(ABC):
    """A loaded model in one backend. Subclasses provide tokenization and token generation."""

    name: ClassVar[str]
    format: ClassVar[str]  # the model format it loads: gguf, onnx or hf

    def __init__(self, path: Path, template: ChatTemplate, threads: int | None):
        self.path = path
        self.template = template
        self.threads = threads

    def render(self, messages: str | Iterable[Message], tools: Any = None, *, enable_thinking: bool = False) -> str:
        """The exact prompt this model sees for a conversation and tools."""
        return self.template.render(messages, tools, add_generation_prompt=True, enable_thinking=enable_thinking)

    def generate(self, messages: str | Iterable[Message], tools: Any = None, *, max_tokens: int = 256,
                 sampling: Sampling = Sampling(), enable_thinking: bool = False) -> Generation:
        """Answer a conversation: render, tokenize, generate, decode, parse."""
        prompt = self.render(messages, tools, enable_thinking=enable_thinking)
        completion = self.complete(self.tokenize(prompt), max_tokens=max_tokens, sampling=sampling)
        text = self.detokenize(completion.tokens)
        return Generation(self.name, prompt, text, parse(text, tools), completion.tokens, completion.finish_reason,
                          completion.timings)

    @abstractmethod
    def tokenize(self, prompt: str) -> list[int]:
        """Token ids of a rendered prompt (special tokens parsed, no BOS added: the template owns it)."""

    @abstractmethod
    def detokenize(self, tokens: Sequence[int]) -> str:
        """Text of generated ids, special tokens written out (so `<tool_call>` survives)."""

    @abstractmethod
    def complete(self, prompt_tokens: list[int], *, max_tokens: int, sampling: Sampling) -> Completion:
        """Generate up to `max_tokens` ids after the prompt, stopping at an end-of-turn token."""

    @abstractmethod
    def logits(self, tokens: list[int], last: int) -> np.ndarray:
        """Float32 logits at the last `last` positions of `tokens`, shape (last, vocab): row j predicts the
        token after position len(tokens) - last + j. Used to verify exports against their source."""

    def reset_cache(self) -> None:
        """Forget the prompt state kept from earlier requests, so the next one is evaluated cold (no-op without
        a cache)."""

    def close(self) -> None:
        """Free the model's memory now rather than at garbage collection."""
