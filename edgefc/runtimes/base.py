"""One interface over every inference backend: messages + tools in, text + parsed calls + timings out.

A runtime only has to tokenize, detokenize and generate token ids; rendering (the model's own chat
template) and parsing (the protocol) happen here, once, so every backend sees the same prompt.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Sequence

import numpy as np

from edgefc.errors import EdgefcError
from edgefc.protocol.constrain import Constraint, GrammarVocab
from edgefc.protocol.grammar import tool_grammar
from edgefc.protocol.parse import ParseResult, parse
from edgefc.protocol.render import ChatTemplate, Message
from edgefc.runtimes.drafts import PromptLookup

# Called with each batch of new token ids as they are generated (end-of-turn excluded); returns whether to go on.
# False ends the answer there, finish_reason "stop": a server streams through it, cuts at stop strings, and
# stops the generation of a client that went away.
TokenSink = Callable[[list[int]], bool]

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
    grammar_s: float = 0.0  # time spent masking and advancing the tool grammar (constrained decoding)
    forced_tokens: int = 0  # tokens the grammar forced and that were evaluated in a batch (jump-forward)
    drafted_tokens: int = 0  # prompt-lookup draft tokens evaluated beside them (drafts.py)
    accepted_tokens: int = 0  # draft tokens the model agreed with
    forward_passes: int = 0  # model evaluations, the prompt's included (0: the backend's own loop, not counted)


@dataclass
class Clock:
    """Collects the three instants a request is measured by."""

    start: float = field(default_factory=time.perf_counter)
    first: float | None = None
    end: float | None = None
    steps: int = 0  # tokens generated, the end-of-turn token included
    first_tokens: int = 0  # tokens that arrived with the first one (jump-forward can bring several)
    grammar_s: float = 0.0
    forced: int = 0
    drafted: int = 0  # prompt-lookup draft tokens evaluated
    accepted: int = 0  # of which the model agreed with
    passes: int = 0  # forward passes, the prompt's included (0 where the backend's own loop decodes)

    def token(self, count: int = 1) -> None:
        """Call as tokens arrive (the end-of-turn token included: it was computed too); `count` > 1 when a
        batch of forced tokens came with the picked one."""
        self.steps += count
        if self.first is None:
            self.first = time.perf_counter()
            self.first_tokens = count
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
            decode_tps=(self.steps - self.first_tokens) / decode_s if decode_s > 0 else 0.0,
            prefill_tps=evaluated / ttft if ttft > 0 else 0.0,
            total_s=end - self.start,
            grammar_s=self.grammar_s,
            forced_tokens=self.forced,
            drafted_tokens=self.drafted,
            accepted_tokens=self.accepted,
            forward_passes=self.passes,
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
    constrained: bool = False  # decoded under the tool grammar
    grammar_warnings: tuple[str, ...] = ()  # schema parts the grammar could not enforce
    call_share: float | None = None  # under an `auto` grammar: the calls' share of the first token's mass
    calls_in_content: int | None = None  # a chat API's answer: calls written in its content, none returned

    def to_dict(self) -> dict[str, Any]:
        return {
            "runtime": self.runtime,
            "text": self.text,
            "calls": self.parsed.calls,
            "parsed": self.parsed.to_dict(),
            "tokens": self.tokens,
            "finish_reason": self.finish_reason,
            "constrained": self.constrained,
            "grammar_warnings": list(self.grammar_warnings),
            "call_share": self.call_share,
            "calls_in_content": self.calls_in_content,
            "timings": asdict(self.timings),
        }


class Runtime(ABC):
    """A loaded model in one backend. Subclasses provide tokenization and token generation."""

    name: ClassVar[str]
    format: ClassVar[str]  # the model format it loads: gguf, onnx or hf
    adapter: Path | None = None  # a LoRA adapter file applied over `path` at run time, where the runtime takes one
    # What the backend can do, for callers that would otherwise check its name:
    fixed_context: ClassVar[bool] = False  # its context is sized at load (`n_ctx`); the others grow as needed
    raw_baseline: ClassVar[bool] = False  # its engine can be timed alone beside edgefc's loop (bench latency)
    takes_grammar: ClassVar[bool] = True  # it decodes here, so the tool grammar can steer it (constrained calls)
    keeps_prefix_state: ClassVar[bool] = False  # it saves a prompt prefix's state to disk (`warm_prefix`)
    takes_messages: ClassVar[bool] = False  # it answers a conversation (`generate`), never a rendered prompt
    # A setting: greedy constrained answers evaluate prompt-lookup drafts (drafts.py) where the backend can rewind.
    drafts: bool = True

    def __init__(self, path: Path, template: ChatTemplate, threads: int | None):
        self.path = path
        self.template = template
        self.threads = threads

    def drafter(self, prompt_tokens: Sequence[int]) -> PromptLookup | None:
        """A prompt-lookup drafter for one answer to `prompt_tokens`, unless drafts are off."""
        return PromptLookup(prompt_tokens, self.detokenize, self.tokenize) if self.drafts else None

    @property
    def files(self) -> list[Path]:
        """The files this model is: the model and any adapter applied over it."""
        return [self.path] + ([self.adapter] if self.adapter is not None else [])

    def render(self, messages: str | Iterable[Message], tools: Any = None, *, enable_thinking: bool = False) -> str:
        """The exact prompt this model sees for a conversation and tools."""
        return self.template.render(messages, tools, add_generation_prompt=True, enable_thinking=enable_thinking)

    def generate(self, messages: str | Iterable[Message], tools: Any = None, *, max_tokens: int = 256,
                 sampling: Sampling = Sampling(), enable_thinking: bool = False, constrain: bool | None = None,
                 tool_choice: Any = "auto", parallel_tool_calls: bool = True,
                 jump_forward: bool = True, on_tokens: TokenSink | None = None) -> Generation:
        """Answer a conversation: render, tokenize, generate, decode, parse.

        With tools, decoding is constrained by default: the answer is canonical tool calls or plain text, as
        `tool_choice` and `parallel_tool_calls` allow (see edgefc.protocol.grammar); `constrain=False` lets
        the model write whatever it likes, and then only `tool_choice="auto"` can be honoured."""
        prompt = self.render(messages, tools, enable_thinking=enable_thinking)
        return self.answer(prompt, tools, max_tokens=max_tokens, sampling=sampling, enable_thinking=enable_thinking,
                           constrain=constrain, tool_choice=tool_choice, parallel_tool_calls=parallel_tool_calls,
                           jump_forward=jump_forward, on_tokens=on_tokens)

    def answer(self, prompt: str, tools: Any = None, *, max_tokens: int = 256, sampling: Sampling = Sampling(),
               enable_thinking: bool = False, constrain: bool | None = None, tool_choice: Any = "auto",
               parallel_tool_calls: bool = True, jump_forward: bool = True,
               on_tokens: TokenSink | None = None) -> Generation:
        """Answer an already rendered prompt (the agent extends its prompt turn by turn rather than render
        the whole conversation again); the options are generate's."""
        constraint = self.constraint(tools, tool_choice, parallel_tool_calls, constrain=constrain,
                                     jump_forward=jump_forward, thinking=enable_thinking, greedy=sampling.greedy)
        completion = self.complete(self.tokenize(prompt), max_tokens=max_tokens, sampling=sampling,
                                   constraint=constraint, on_tokens=on_tokens)
        text = self.detokenize(completion.tokens)
        warnings = constraint.grammar.warnings if constraint else ()
        return Generation(self.name, prompt, text, parse(text, tools), completion.tokens, completion.finish_reason,
                          completion.timings, constraint is not None, warnings,
                          constraint.call_share if constraint else None)

    def constraint(self, tools: Any, tool_choice: Any = "auto", parallel_tool_calls: bool = True, *,
                   constrain: bool | None = None, jump_forward: bool = True, thinking: bool = False,
                   greedy: bool = False) -> Constraint | None:
        """The grammar state for one answer, or None for free decoding (the default without tools)."""
        if constrain is None:
            constrain = bool(tools) or tool_choice != "auto"
        if not constrain:
            if tool_choice != "auto":
                raise EdgefcError(f"tool_choice {tool_choice!r} needs constrained decoding; drop --free "
                                  "(constrain=False) or use tool_choice 'auto'")
            return None
        grammar = tool_grammar(tools, tool_choice, parallel_tool_calls, thinking=thinking)
        return Constraint(self.grammar_vocab, grammar, jump_forward=jump_forward, greedy=greedy)

    @cached_property
    def grammar_vocab(self) -> GrammarVocab:
        """The model's vocabulary for the grammar engine, built on first use (about a second) and kept."""
        return self._grammar_vocab()

    @abstractmethod
    def _grammar_vocab(self) -> GrammarVocab:
        """Build the grammar engine's view of this model's vocabulary, with the ids it stops on."""

    @abstractmethod
    def tokenize(self, prompt: str) -> list[int]:
        """Token ids of a rendered prompt (special tokens parsed, no BOS added: the template owns it)."""

    @abstractmethod
    def detokenize(self, tokens: Sequence[int]) -> str:
        """Text of generated ids, special tokens written out (so `<tool_call>` survives)."""

    @abstractmethod
    def complete(self, prompt_tokens: list[int], *, max_tokens: int, sampling: Sampling,
                 constraint: Constraint | None = None, on_tokens: TokenSink | None = None) -> Completion:
        """Generate up to `max_tokens` ids after the prompt, stopping at an end-of-turn token or when
        `on_tokens` says so; under a constraint, only tokens its grammar allows (see edgefc.runtimes.decode)."""

    @abstractmethod
    def logits(self, tokens: list[int], last: int) -> np.ndarray:
        """Float32 logits at the last `last` positions of `tokens`, shape (last, vocab): row j predicts the
        token after position len(tokens) - last + j. Used to verify exports against their source."""

    @property
    def context_size(self) -> int | None:
        """Tokens the prompt and the answer share at most, where the backend has a fixed context (else None)."""
        return None

    def warm_prefix(self, prefix_text: str, cache_dir: Path | None = None) -> str | None:
        """Make the prompt cache hold `prefix_text` (an agent's system + tools block), restoring it from disk
        when it was saved before: "cached", "restored" or "saved"; None where the backend keeps no state."""
        return None

    def reset_cache(self) -> None:
        """Forget the prompt state kept from earlier requests, so the next one is evaluated cold (no-op without
        a cache)."""

    def close(self) -> None:
        """Free the model's memory now rather than at garbage collection."""
