"""Grammar-constrained decoding, one step at a time, for any backend: mask the logits, advance, jump forward.

Engine: llguidance, chosen over llama.cpp's GBNF (`LlamaGrammar`) and xgrammar because it is the one that
serves all three runtimes from one grammar without torch: it builds its tokenizer from a GGUF vocabulary
(llama.cpp) or a tokenizer.json (onnxruntime, transformers), compiles JSON Schema inside a Lark grammar
(`%json`, one rule per tool), and says which tokens are forced (jump-forward). It is also the cheapest:
`python -m edgefc.bench.engines` decodes the same JSON-Schema-constrained call both ways on the embedded
model, and GBNF's overhead per token was more than ten times llguidance's (a mask over 152K tokens costs well
under a millisecond). GBNF exists only inside llama.cpp; xgrammar's Python package needs torch.

A runtime builds a `GrammarVocab` once per model (about 1 s) and a `Constraint` per request, then per step:
`mask(logits)`, pick a token (greedy or sampled), `advance(token)` -> forced tokens to evaluate in one batch
with it; it stops when it picks an end-of-turn id or `done` is true. End-of-turn ids pass the mask only
where the grammar accepts, so a call can never be cut before `</tool_call>`.

Steering: masking alone lets a model that always fences its calls escape into prose under `auto`: its ```
and `{` (85% of the mass on a weather question for the embedded model) are forbidden, `<tool_call>` has
1e-10, so "Here's the response: ``json ..." wins. So at the first step of an `auto` answer the model's
choice between calling and answering is made on the mass it gives each: call openers, canonical or
disguised (a fence, a bare `{` or `[`, a spelled-out `<`), against the text tokens the grammar allows.
Sampling moves the disguised openers' probability onto the canonical one, so it calls exactly as often as
the model meant to; greedy decoding takes the heavier side (comparing the call mass with the single likeliest
text token instead would call whenever the text mass is spread over several first words).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
from llguidance import LLMatcher, LLTokenizer
from llguidance.numpy import allocate_token_bitmask, fill_next_token_bitmask

from edgefc.protocol.grammar import ToolGrammar
from edgefc.protocol.parse import TAGS

_CALL_OPENERS = (b"<", b"{", b"[", b"`")  # first characters of a call in any form parse reads
_CALL_TAG = b"<tool_call>"
_CHECKED = 16  # masks this small come from forced bytes, whose tokenization Constraint._repair checks


@dataclass(frozen=True, eq=False)
class GrammarVocab:
    """A model's vocabulary as llguidance sees it, with the ids that end a turn; build once per model."""

    tokenizer: LLTokenizer
    end_of_turn: frozenset[int]
    special_tags: frozenset[str]  # the protocol's tags (`<tool_call>`, `<think>`...) that are single special tokens
    call_intent: np.ndarray  # bool per id: the token starts a call, canonical or disguised (see steering)

    @classmethod
    def build(cls, tokenizer: LLTokenizer) -> GrammarVocab:
        """Wrap an llguidance tokenizer whose eos ids are the model's end-of-turn ids."""
        tags = frozenset(tag for tag in TAGS.values()
                         if LLMatcher.validate_grammar(LLMatcher.grammar_from_lark(f"start: {tag}"), tokenizer) == "")
        intent = np.zeros(tokenizer.vocab_size, dtype=bool)
        for token in range(tokenizer.vocab_size):
            text = tokenizer.decode_bytes([token])
            special = tokenizer.is_special_token(token)
            intent[token] = text == _CALL_TAG if special else text.lstrip(b" \t\r\n").startswith(_CALL_OPENERS)
        return cls(tokenizer, frozenset(tokenizer.eos_tokens), tags, intent)

    @classmethod
    def from_llama(cls, vocab: Any, end_of_turn: Iterable[int] | None = None,
                   n_vocab: int | None = None) -> GrammarVocab:
        """From a llama.cpp vocabulary (`llama_model_get_vocab`); end of turn defaults to llama.cpp's own
        end-of-generation set, the ids the llama.cpp runtime stops on."""
        import llama_cpp
        from llguidance.llamacpp import lltokenizer_from_vocab

        if end_of_turn is None:
            count = llama_cpp.llama_vocab_n_tokens(vocab)
            end_of_turn = [i for i in range(count) if llama_cpp.llama_vocab_is_eog(vocab, i)]
        with warnings.catch_warnings():  # llguidance calls llama_token_get_attr, deprecated: once per token
            warnings.simplefilter("ignore", DeprecationWarning)
            tokenizer = lltokenizer_from_vocab(vocab, n_vocab=n_vocab, eos_token=sorted(end_of_turn))
        return cls.build(tokenizer)

    @classmethod
    def from_hf(cls, tokenizer: Any, end_of_turn: Iterable[int], n_vocab: int | None = None) -> GrammarVocab:
        """From a `tokenizers.Tokenizer` (onnxruntime runtime) or a transformers fast tokenizer."""
        backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
        config = json.loads(backend.to_str())
        config["padding"] = config["truncation"] = None  # as llguidance.hf does: encode texts as they are
        return cls.build(LLTokenizer(json.dumps(config), n_vocab=n_vocab, eos_token=sorted(end_of_turn)))


class Constraint:
    """One answer's grammar state: which tokens may come next, and which are forced."""

    def __init__(self, vocab: GrammarVocab, grammar: ToolGrammar, *, jump_forward: bool = True, steer: bool = True,
                 greedy: bool = False):
        self.vocab = vocab
        self.grammar = grammar
        self.jump_forward = jump_forward
        self.steer = steer and grammar.mode == "auto" and bool(grammar.names)  # only auto weighs calls vs text
        self.greedy = greedy  # the picker takes the argmax: steer by branch mass (see the module docstring)
        self.steps = 0
        self.call_share: float | None = None  # where steered: the calls' share of the first step's mass
        self.matcher = LLMatcher(vocab.tokenizer, LLMatcher.grammar_from_lark(grammar.lark(vocab.special_tags)),
                                 log_level=0)
        if self.matcher.is_error():
            raise RuntimeError(f"llguidance rejected the tool grammar: {self.matcher.get_error()}")
        self._bits = allocate_token_bitmask(1, vocab.tokenizer.vocab_size)

    def allowed(self, n_vocab: int) -> np.ndarray:
        """A bool array over n_vocab ids: which may come next (ids beyond the tokenizer's never)."""
        fill_next_token_bitmask(self.matcher, self._bits)
        allowed = np.unpackbits(self._bits.view(np.uint8), count=n_vocab, bitorder="little").view(bool)
        if np.count_nonzero(allowed) <= _CHECKED:
            self._repair(allowed)
        return allowed

    def _repair(self, allowed: np.ndarray) -> None:
        """Where the grammar forces bytes, llguidance's mask holds the model tokenizer's tokens for them, which
        can spell other bytes: a forced "<tool_call>" inside JSON (a property name) becomes the special token,
        U+F900 in a tool name becomes its NFC form U+8C48; the grammar then refuses them. Drop such tokens and
        offer the text token that starts the forced bytes instead."""
        wrong = [token for token in np.flatnonzero(allowed).tolist()
                 if token not in self.vocab.end_of_turn and not self.matcher.validate_tokens([token])]
        if not wrong:
            return
        allowed[wrong] = False
        forced = self.matcher.compute_ff_bytes().decode("utf-8", errors="ignore")
        first = self.vocab.tokenizer.greedy_tokenize(forced)[:1]
        if first and self.matcher.validate_tokens(first):
            allowed[first[0]] = True

    def mask(self, logits: np.ndarray) -> None:
        """Set the logits of every token the grammar forbids next to -inf, in place (a 1-D row); at the first
        step of an `auto` answer, first steer disguised call openers' mass onto the canonical one."""
        allowed = self.allowed(logits.shape[-1])
        if self.steer and self.steps == 0:
            n = min(logits.shape[-1], self.vocab.call_intent.size)  # logits may be wider than the vocabulary
            call, text = _masses(logits[:n], allowed[:n], self.vocab.call_intent[:n])
            self.call_share = call / (call + text) if call + text > 0 else None
            if self.greedy:
                _decide(logits[:n], allowed[:n], self.vocab.call_intent[:n], calls=call > text)
            else:
                _steer(logits[:n], allowed[:n], self.vocab.call_intent[:n])
        np.copyto(logits, -np.inf, where=~allowed)

    def advance(self, token: int) -> list[int]:
        """Consume the chosen token; return the tokens the grammar now forces (already consumed), to be
        evaluated in one batch with it. A token the mask forbade is our bug and raises."""
        if not self.matcher.consume_token(token):
            raise RuntimeError(f"token {token} broke the tool grammar: {self.matcher.get_error()}")
        self.steps += 1
        if not self.jump_forward or token in self.vocab.end_of_turn:
            return []
        # llguidance tokenizes forced bytes with the model's tokenizer, which can spell other bytes (see
        # _repair): keep the prefix the grammar takes and let the model write the rest.
        forced = self.matcher.compute_ff_tokens()
        return forced[: self.matcher.try_consume_tokens(forced)] if forced else []

    def valid_prefix(self, tokens: list[int]) -> int:
        """How many leading `tokens` the grammar would take from here (nothing is consumed)."""
        return self.matcher.validate_tokens(tokens)

    @property
    def accepting(self) -> bool:
        """Whether the answer so far is complete: an end-of-turn id may come next."""
        return self.matcher.is_accepting()

    @property
    def done(self) -> bool:
        """Whether nothing but end of turn can follow (the turn may end without sampling it)."""
        return self.matcher.is_stopped()


def _masses(logits: np.ndarray, allowed: np.ndarray, intent: np.ndarray) -> tuple[float, float]:
    """The model's probability of opening a call in any form and of the text tokens the grammar allows."""
    z = logits.astype(np.float64)
    z = np.exp(z - z.max())
    z /= z.sum()
    return float(z[intent].sum()), float(z[allowed & ~intent].sum())


def _decide(logits: np.ndarray, allowed: np.ndarray, intent: np.ndarray, *, calls: bool) -> None:
    """For greedy decoding: keep only the call openers where the model gives calls more mass than the allowed
    text (`calls`, from _masses), else only the text (logits in place)."""
    if calls:
        _steer(logits, allowed, intent)
        logits[allowed & ~intent] = -np.inf
    else:
        logits[intent] = -np.inf


def _steer(logits: np.ndarray, allowed: np.ndarray, intent: np.ndarray) -> None:
    """Add the probability of the forbidden call openers to the likeliest allowed one (logits in place)."""
    openers = np.flatnonzero(allowed & intent)
    disguised = logits[~allowed & intent]
    if openers.size and disguised.size:
        best = openers[np.argmax(logits[openers])]
        logits[best] = np.logaddexp(logits[best], np.logaddexp.reduce(disguised.astype(np.float64)))
