"""The token loop of every runtime that decodes step by step in Python: evaluate, mask, pick, advance.

A backend supplies one function, `step(ids) -> logits`: evaluate `ids` after everything evaluated so far
and return the next-token logits (a writable float32 row). The loop picks tokens (greedy, or temperature +
top-p from a seeded generator), stops at end of turn or `max_tokens`, and under a tool grammar masks each
row first and evaluates the tokens the grammar forces in one batch with the picked one (jump-forward).
"""

from __future__ import annotations

import time
from typing import Callable, Collection

import numpy as np

from edgefc.protocol.constrain import Constraint
from edgefc.runtimes.base import Clock, Completion, Sampling, TokenSink

Step = Callable[[list[int]], np.ndarray]


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
           constraint: Constraint | None = None, cached_tokens: int = 0,
           evaluate: list[int] | None = None, on_tokens: TokenSink | None = None) -> Completion:
    """Generate after `prompt_tokens`, of which `evaluate` (default: all) still has to be evaluated.

    Under a constraint the answer ends when an end-of-turn id is picked (the mask allows it only where the
    grammar accepts) or when the grammar can take nothing more (`done`: no step spent on the end-of-turn id).
    """
    rng = np.random.default_rng(sampling.seed)
    clock = Clock()
    tokens: list[int] = []
    finish = "length"
    pending = list(prompt_tokens if evaluate is None else evaluate)
    while len(tokens) < max_tokens:
        logits = step(pending)
        if constraint is not None:
            started = time.perf_counter()
            constraint.mask(logits)
            clock.grammar_s += time.perf_counter() - started
        token = pick_token(logits, sampling, rng)
        if token in stop_ids:
            clock.token()
            finish = "stop"
            break
        pending = [token]
        if constraint is not None:
            started = time.perf_counter()
            forced = constraint.advance(token)
            clock.grammar_s += time.perf_counter() - started
            pending += forced[: max_tokens - len(tokens) - 1]
            clock.forced += len(pending) - 1
        clock.token(len(pending))
        tokens += pending
        if on_tokens is not None and not on_tokens(pending):
            finish = "stop"
            break
        if constraint is not None and constraint.done:
            finish = "stop"
            break
    return Completion(tokens, finish, clock.timings(len(prompt_tokens), len(tokens), cached_tokens))
