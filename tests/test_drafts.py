"""Prompt-lookup drafts in the constrained loop: greedy answers are token for token those of decoding without
drafts, in fewer forward passes where the model copies from the request; a draft token the grammar forbids is
never evaluated; every runtime that decodes here agrees with itself with drafts on and off."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pytest

from edgefc.protocol.constrain import Constraint, GrammarVocab
from edgefc.protocol.grammar import tool_grammar
from edgefc.protocol.render import ChatTemplate
from edgefc.runtimes.base import Sampling
from edgefc.runtimes.decode import decode
from edgefc.runtimes.drafts import JsonValueScanner, PromptLookup
from tests.test_grammar import END_OF_TURN

TOOLS = [{"type": "function", "function": {"name": "send_message", "description": "Send a text message",
                                           "parameters": {"type": "object", "properties": {
                                               "recipient": {"type": "string"}, "text": {"type": "string"},
                                               "priority": {"type": "integer"}},
                                               "required": ["recipient", "text"]}}},
         {"type": "function", "function": {"name": "get_time", "description": "Local time in a city",
                                           "parameters": {"type": "object", "properties": {
                                               "city": {"type": "string"}}, "required": ["city"]}}}]
REQUEST = "Nhắn cho Nguyễn Văn An rằng cuộc họp dời sang 15:30 ở số 42 Tràng Tiền, priority 2 please"
CALL = {"name": "send_message", "arguments": {"recipient": "Nguyễn Văn An",
                                              "text": "cuộc họp dời sang 15:30 ở số 42 Tràng Tiền", "priority": 2}}
CHOICES: list[Any] = ["auto", "required", {"type": "function", "function": {"name": "send_message"}}, "none"]


@pytest.fixture(scope="module")
def qwen(qwen_tokenizer_dir: Path) -> tuple[GrammarVocab, Any, list[int]]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(qwen_tokenizer_dir / "tokenizer.json"))
    prompt = ChatTemplate.from_hf_dir(qwen_tokenizer_dir).render(REQUEST, TOOLS)
    ids = tokenizer.encode(prompt, add_special_tokens=False).ids
    return GrammarVocab.from_hf(tokenizer, END_OF_TURN), tokenizer, ids


class Copier:
    """A scripted model over the real vocabulary: after a prompt, its greedy answer is `target` (its logits peak
    at the target's next token while the answer so far is a prefix of it, else at a token fixed by the prefix).
    It records every batch it evaluates, and rewinds."""

    def __init__(self, target: list[int], n_vocab: int):
        self.target, self.n_vocab = target, n_vocab
        self.answer: list[int] | None = None  # evaluated ids after the prompt; None before the prompt
        self.batches: list[list[int]] = []

    def step(self, ids: list[int], rows: int) -> np.ndarray:
        if self.answer is None:
            self.answer = []  # the prompt: its last position predicts the first answer token
        else:
            self.batches.append(list(ids))
            self.answer += ids
        out = np.zeros((rows, self.n_vocab), dtype=np.float32)
        for r, end in enumerate(range(len(self.answer) - rows + 1, len(self.answer) + 1)):
            prefix = self.answer[:end]
            on_track = prefix == self.target[:len(prefix)] and len(prefix) < len(self.target)
            out[r, self.target[len(prefix)] if on_track else END_OF_TURN[0]] = 40.0
            out[r, (sum(prefix) * 7919) % self.n_vocab] += 20.0  # a second choice where the peak is masked
        return out

    def rewind(self, count: int) -> None:
        assert self.answer is not None and count <= len(self.answer)
        del self.answer[len(self.answer) - count:]


def _target(tokenizer: Any, choice: Any) -> list[int]:
    text = "Tôi không gửi được." if choice == "none" else \
        "<tool_call>\n" + json.dumps(CALL, ensure_ascii=False) + "\n</tool_call>"
    return tokenizer.encode(text, add_special_tokens=False).ids


@pytest.mark.parametrize("choice", CHOICES, ids=["auto", "required", "named", "none"])
def test_drafts_give_the_same_greedy_tokens_in_fewer_passes(choice: Any, qwen: tuple[GrammarVocab, Any, list[int]]
                                                            ) -> None:
    vocab, tokenizer, prompt = qwen
    target = _target(tokenizer, choice)
    runs = {}
    for drafts in (False, True):
        model = Copier(target, vocab.tokenizer.vocab_size)
        constraint = Constraint(vocab, tool_grammar(TOOLS, choice), greedy=True)
        drafter = _lookup(tokenizer, prompt)
        completion = decode(model.step, prompt, max_tokens=96, sampling=Sampling(), stop_ids=set(END_OF_TURN),
                            constraint=constraint, drafter=drafter if drafts else None, rewind=model.rewind)
        runs[drafts] = completion, model
    (plain, _), (drafted, model) = runs[False], runs[True]
    assert drafted.tokens == plain.tokens and drafted.finish_reason == plain.finish_reason == "stop"
    assert plain.timings.drafted_tokens == 0 and plain.timings.forward_passes > 0
    if choice == "none":  # no call, nothing to copy into: drafts stay off
        assert drafted.tokens == target and drafted.timings.drafted_tokens == 0
        return
    assert tokenizer.decode(drafted.tokens, skip_special_tokens=False).endswith("</tool_call>")
    t = drafted.timings
    assert 0 < t.accepted_tokens <= t.drafted_tokens and t.forward_passes < plain.timings.forward_passes
    # the values were copied: most of their tokens came in drafts
    value_tokens = len(tokenizer.encode("Nguyễn Văn An cuộc họp dời sang 15:30 ở số 42 Tràng Tiền").ids)
    assert t.accepted_tokens >= value_tokens // 2, (t.accepted_tokens, value_tokens)
    # every batch the model saw is a string of tokens the grammar allows after what was kept before it
    check = Constraint(vocab, tool_grammar(TOOLS, choice), greedy=True, jump_forward=False)
    kept: list[int] = []
    for batch in model.batches:
        assert check.valid_prefix(batch) == len(batch), tokenizer.decode(batch, skip_special_tokens=False)
        agreed = next((i for i, (a, b) in enumerate(zip(batch, drafted.tokens[len(kept):])) if a != b), len(batch))
        for token in batch[:agreed]:
            check.advance(token)
        kept += batch[:agreed]
    assert kept == drafted.tokens[:len(kept)]


def test_a_draft_stops_at_the_first_token_the_grammar_forbids(qwen: tuple[GrammarVocab, Any, list[int]]) -> None:
    vocab, tokenizer, prompt = qwen
    # the model copies the request's "priority 2 please" into an integer: the grammar takes "2", not " please"
    call = {"name": "send_message", "arguments": {"recipient": "An", "text": "hi", "priority": 2}}
    target = tokenizer.encode("<tool_call>\n" + json.dumps(call) + "\n</tool_call>", add_special_tokens=False).ids
    model = Copier(target, vocab.tokenizer.vocab_size)
    constraint = Constraint(vocab, tool_grammar(TOOLS, "required"), greedy=True)
    drafter = _lookup(tokenizer, prompt)
    decode(model.step, prompt, max_tokens=96, sampling=Sampling(), stop_ids=set(END_OF_TURN), constraint=constraint,
           drafter=drafter, rewind=model.rewind)
    fed = tokenizer.decode([t for batch in model.batches for t in batch], skip_special_tokens=False)
    assert "please" not in fed


def _lookup(tokenizer: Any, prompt: list[int]) -> PromptLookup:
    return PromptLookup(prompt, lambda ids: tokenizer.decode(list(ids), skip_special_tokens=False),
                        lambda text: tokenizer.encode(text, add_special_tokens=False).ids)


def test_sampling_and_free_decoding_never_draft(qwen: tuple[GrammarVocab, Any, list[int]]) -> None:
    vocab, tokenizer, prompt = qwen
    target = _target(tokenizer, "required")
    for constraint, sampling in ((Constraint(vocab, tool_grammar(TOOLS, "required")), Sampling(temperature=0.7)),
                                 (None, Sampling())):
        model = Copier(target, vocab.tokenizer.vocab_size)
        drafter = _lookup(tokenizer, prompt)
        completion = decode(model.step, prompt, max_tokens=96, sampling=sampling, stop_ids=set(END_OF_TURN),
                            constraint=constraint, drafter=drafter, rewind=model.rewind)
        assert completion.timings.drafted_tokens == 0 and all(len(b) <= 1 + 8 for b in model.batches)


@pytest.mark.parametrize(("text", "inside"), [
    ('<tool_call>\n{"name": "f", "arguments": {"city": "Ha', True),
    ('<tool_call>\n{"name": "f", "arguments": {"city": "Hanoi"', False),
    ('<tool_call>\n{"name": "f", "arguments": {"n": 12', True),
    ('<tool_call>\n{"name": "f", "arguments": {"n": [1, 2', True),
    ('<tool_call>\n{"name": "f", "arguments": {"n": 12}', False),
    ('<tool_call>\n{"name": "f", "arguments": {"q": "say \\"hi', True),
    ('<tool_call>\n{"name": "f", "arguments": {"q": "a\\\\"', False),
    ('The city is "Hanoi', False),  # text, not a call
    ('<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>\n"x', False),
])
def test_the_scanner_knows_when_a_call_is_inside_a_value(text: str, inside: bool) -> None:
    whole, pieces = JsonValueScanner(), JsonValueScanner()
    whole.feed(text)
    for i in range(0, len(text), 3):  # token boundaries anywhere, the tags split too
        pieces.feed(text[i:i + 3])
    assert whole.in_value == pieces.in_value == inside


def test_the_draft_follows_the_latest_copy_of_the_longest_tail_of_the_value() -> None:
    prompt = "Call Anh Minh on 090 123 or Anh Tuan on 091 555, and Bình"
    lookup = PromptLookup([ord(c) for c in prompt], lambda ids: "".join(map(chr, ids)), lambda t: [ord(c) for c in t],
                          max_draft=6)

    def draft_after(text: str) -> str:
        lookup.accept([ord(c) for c in text])
        return "".join(map(chr, lookup.propose()))

    assert draft_after('<tool_call>\n{"name": "f", "arguments": {"who": "') == ""  # nothing of the value yet
    assert draft_after("Anh") == " Tuan "  # the latest copy
    assert draft_after(" M") == "inh on"  # the longest tail: "Anh M"
    assert draft_after('inh", ') == ""  # between values
    assert draft_after('"phone": 09') == "1 555,"
    assert draft_after('0, "x": "B\u00ecnh') == ""  # the prompt ends there


def test_a_character_split_across_tokens_is_matched_once_whole() -> None:
    """Byte-level tokens can end inside a character: its half is held back, not matched as U+FFFD."""
    prompt = "gửi cho Trần Thị Ánh nhé"
    spelled = {(1,): '<tool_call>\n{"name": "f", "arguments": {"to": "Tr', (2,): "\ufffd", (2, 3): "ần Th"}
    lookup = PromptLookup([0], lambda ids: prompt if list(ids) == [0] else spelled[tuple(ids)],
                          lambda t: [ord(c) for c in t], max_draft=4)
    lookup.accept([1])
    lookup.accept([2])
    assert lookup.propose() == []  # half a character: no guess
    lookup.accept([3])
    assert lookup.scanner.value == "Trần Th" and "".join(map(chr, lookup.propose())) == "ị Án"


class Oracle(PromptLookup):
    """Drafts the answer decoding without drafts gave, its third token spoiled: every draft is partly accepted,
    then rejected and rewound, whether or not the model copies from the prompt."""

    def __init__(self, answer: list[int]):
        self.answer, self.done = answer, 0

    def accept(self, tokens: Sequence[int]) -> None:
        self.done += len(tokens)

    def propose(self) -> list[int]:
        ahead = self.answer[self.done:self.done + 5]
        return ahead[:2] + [ahead[2] + 1] + ahead[3:] if len(ahead) > 2 else ahead


@pytest.mark.parametrize("name", ["llamacpp", "transformers", "onnxruntime"])
def test_every_runtime_gives_the_same_greedy_answer_with_drafts(name: str, tiny_gguf: Path, tiny_qwen3: Path,
                                                                  tiny_onnx: Path) -> None:
    from edgefc.runtimes import load

    model = {"llamacpp": tiny_gguf, "transformers": tiny_qwen3, "onnxruntime": tiny_onnx}[name]
    runtime = load(model, name, threads=1)
    for choice in CHOICES:
        runtime.drafts = False
        plain = runtime.generate(REQUEST, TOOLS, max_tokens=40, tool_choice=choice)
        runtime.reset_cache()
        runtime.drafter = lambda prompt: Oracle(plain.tokens)  # type: ignore[method-assign]
        drafted = runtime.generate(REQUEST, TOOLS, max_tokens=40, tool_choice=choice)
        again = runtime.generate(REQUEST, TOOLS, max_tokens=40, tool_choice=choice)  # after a rewound cache
        del runtime.drafter
        assert drafted.tokens == again.tokens == plain.tokens, (name, choice)
        t = drafted.timings
        assert 0 < t.accepted_tokens < t.drafted_tokens, (name, choice, t)
        assert t.forward_passes < plain.timings.forward_passes, (name, choice)
