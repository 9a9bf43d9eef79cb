"""The token loop of every runtime that decodes step by step in Python: evaluate, mask, pick, advance.

A backend supplies `step(ids, rows) -> logits`: evaluate `ids` after everything evaluated so far and return the
logits of their last `rows` positions (writable float32 rows), and, for drafts, `rewind(n)`. The loop picks tokens
(greedy, or temperature + top-p from a seeded generator), stops at end of turn or `max_tokens`, and under a tool
grammar masks each row first and evaluates the tokens the grammar forces in one batch with the picked one
(jump-forward), and a prompt-lookup draft with them (drafts.py).
"""

from __future__ import annotations

import time
from typing import Callable, Collection

import numpy as np

from edgefc.protocol.constrain import Constraint
from edgefc.runtimes.base import Clock, Completion, Sampling, TokenSink
from edgefc.runtimes.drafts import PromptLookup

# Evaluate ids after everything evaluated so far; the logits of the last `rows` of them, (rows, vocab), writable.
Step = Callable[[list[int], int], np.ndarray]
# Forget the last n evaluated positions (a draft's rejected tokens).
Rewind = Callable[[int], None]


def pick_token(logits: np.ndarray, sampling: Sampling, rng: np.random.Generator) -> int:
    """Greedy argmax, or temperature + top-p sampling over one row of logits (-inf rows never drawn)."""
    if sampling.greedy:
        return int(np.argmax(logits))
    z = logits.astype(np.float64) / sampling.temperature
    p = np.exp(z - z.max())
    p /= p.sum()
    order = np.argsort(-p)
    keep = order[: int(np.searchsorted(np.cumsum(p[order]), sampling.top_p)) + 1]
    keep = keep[p[keep] > 0]  # top_p=1 would otherwise reach into the masked tail
    return int(rng.choice(keep, p=p[keep] / p[keep].sum()))


def decode(step: Step, prompt_tokens: list[int], *, max_tokens: int, sampling: Sampling, stop_ids: Collection[int],
           constraint: Constraint | None = None, cached_tokens: int = 0, evaluate: list[int] | None = None,
           on_tokens: TokenSink | None = None, drafter: PromptLookup | None = None,
           rewind: Rewind | None = None) -> Completion:
    """Generate after `prompt_tokens`, of which `evaluate` (default: all) still has to be evaluated.

    Under a constraint the answer ends when an end-of-turn id is picked (the mask allows it only where the
    grammar accepts) or when the grammar can take nothing more (`done`: no step spent on the end-of-turn id).
    With a `drafter` and a backend that can `rewind`, greedy constrained decoding also evaluates the draft the
    grammar allows in the same batch and keeps the prefix the model agrees with (plus the model's next token).
    """
    rng = np.random.default_rng(sampling.seed)
    drafting = drafter is not None and rewind is not None and constraint is not None and sampling.greedy
    clock = Clock()
    tokens: list[int] = []
    finish = "length"
    pending = list(prompt_tokens if evaluate is None else evaluate)
    while len(tokens) < max_tokens and finish == "length":
        draft = drafter.propose()[: max_tokens - len(tokens) - 1] if drafting and tokens else []
        if draft:
            draft = draft[: constraint.valid_prefix(draft)]
        rows = step(pending + draft, len(draft) + 1)
        clock.passes += 1
        emitted, accepted = [], 0
        for row in rows:
            if constraint is not None:
                started = time.perf_counter()
                constraint.mask(row)
                clock.grammar_s += time.perf_counter() - started
            token = pick_token(row, sampling, rng)
            if token in stop_ids:
                finish = "stop"
                break
            forced: list[int] = []
            if constraint is not None:
                started = time.perf_counter()
                forced = constraint.advance(token)
                clock.grammar_s += time.perf_counter() - started
            emitted += [token, *forced]
            clock.forced += len(forced)
            if accepted < len(draft) and token == draft[accepted]:
                accepted += 1
                if not forced:
                    continue  # the next row is the model's pick after this draft token
            break
        if draft:
            clock.drafted += len(draft)
            clock.accepted += accepted
            if accepted < len(draft):
                rewind(len(draft) - accepted)
        emitted = emitted[: max_tokens - len(tokens)]
        pending = emitted[accepted:]  # the tokens not evaluated yet: the last pick and what it forced
        if finish == "stop" and not emitted:
            clock.token()  # the end-of-turn token was computed too
            break
        clock.token(len(emitted) + (finish == "stop"))
        tokens += emitted
        if drafting:
            drafter.accept(emitted)
        if on_tokens is not None and not on_tokens(emitted):
            finish = "stop"
        if constraint is not None and constraint.done:
            finish = "stop"
    return Completion(tokens, finish, clock.timings(len(prompt_tokens), len(tokens), cached_tokens))
