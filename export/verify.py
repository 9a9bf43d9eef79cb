"""Verify an exported model against its source on the probe set (export/probes.py).

For every probe the source answers greedily; both models then score the same tokens (prompt plus the
source's first answer tokens), which gives logits max-abs-diff, KL(source || export) and greedy-token
agreement position by position; finally the export answers on its own and its parsed calls are compared
with the source's. Agreement figures carry 95% Wilson intervals (greedy agreement counts positions, which
are not independent within a probe: its interval is optimistic). Plain data in, plain data out.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from edgefc.bfcl.stats import wilson
from edgefc.export.probes import Probe
from edgefc.protocol.parse import ParseResult, parse
from edgefc.runtimes.base import Runtime

MAX_TOKENS = 64  # answer length compared: a call to a BFCL function fits
POSITIONS = 16  # answer positions whose logits are compared


@dataclass(frozen=True)
class Reference:
    """What the source model did on one probe: its prompt tokens, its greedy answer (tokens and text) and its
    logits on the compared positions (the prompt's last and the answer's first POSITIONS - 1)."""

    probe: Probe
    prompt_tokens: list[int]
    tokens: list[int]
    text: str
    logits: np.ndarray

    @property
    def parsed(self) -> ParseResult:
        return parse(self.text, self.probe.tools)  # as Runtime.generate parsed it


@dataclass(frozen=True)
class ProbeResult:
    """Export vs source on one probe."""

    id: str
    category: str
    positions: int
    max_abs_diff: float
    kl_mean: float
    greedy_agreement: float
    same_prompt_tokens: bool
    source_kind: str
    export_kind: str
    calls_agree: bool


@dataclass(frozen=True)
class Verification:
    """Export vs source over the probe set: figures with 95% intervals, and the per-probe rows."""

    probes: list[ProbeResult] = field(default_factory=list)
    max_abs_diff: float = 0.0
    kl_mean: float = 0.0
    kl_max: float = 0.0  # the largest per-probe mean
    greedy_agreement: float = 0.0
    greedy_interval: tuple[float, float] = (0.0, 1.0)
    tool_call_agreement: float = 0.0
    tool_call_interval: tuple[float, float] = (0.0, 1.0)
    prompt_mismatches: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def reference(source: Runtime, probe: Probe, *, max_tokens: int = MAX_TOKENS,
              positions: int = POSITIONS) -> Reference:
    """The source's greedy answer to one probe and its logits on the compared positions (computed once per probe
    and source, shared by every export compared to it; see export/source_cache.py)."""
    gen = source.generate(probe.messages, probe.tools, max_tokens=max_tokens)
    prompt_tokens = source.tokenize(gen.prompt)
    answer = gen.tokens[: positions - 1]
    logits = source.logits(prompt_tokens + answer, len(answer) + 1)
    return Reference(probe, prompt_tokens, list(gen.tokens), gen.text, np.asarray(logits, dtype=np.float32))


def _kl(p_logits: np.ndarray, q_logits: np.ndarray) -> np.ndarray:
    """KL(P || Q) per row, from logits, in float64."""
    p = p_logits.astype(np.float64)
    q = q_logits.astype(np.float64)
    logp = p - p.max(-1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(-1, keepdims=True))
    logq = q - q.max(-1, keepdims=True)
    logq -= np.log(np.exp(logq).sum(-1, keepdims=True))
    return (np.exp(logp) * (logp - logq)).sum(-1)


def _same_answer(a: ParseResult, b: ParseResult) -> bool:
    """Same kind and the same calls, in any order (parallel calls have no order)."""
    key = lambda c: json.dumps(c, sort_keys=True, ensure_ascii=False)  # noqa: E731
    return a.kind == b.kind and sorted(map(key, a.calls)) == sorted(map(key, b.calls))


def compare(exported: Runtime, ref: Reference, *, max_tokens: int = MAX_TOKENS) -> ProbeResult:
    """Score one probe: the export's logits on the tokens the source's were computed on, then its own answer."""
    src = ref.logits
    last = src.shape[0]
    tokens = ref.prompt_tokens + ref.tokens[: last - 1]
    exp = exported.logits(tokens, last)
    gen = exported.generate(ref.probe.messages, ref.probe.tools, max_tokens=max_tokens)
    source_parsed = ref.parsed
    return ProbeResult(
        id=ref.probe.id,
        category=ref.probe.category,
        positions=last,
        max_abs_diff=float(np.abs(src - exp).max()),
        kl_mean=float(_kl(src, exp).mean()),
        greedy_agreement=float((src.argmax(-1) == exp.argmax(-1)).mean()),
        same_prompt_tokens=exported.tokenize(gen.prompt) == ref.prompt_tokens,
        source_kind=source_parsed.kind,
        export_kind=gen.parsed.kind,
        calls_agree=_same_answer(source_parsed, gen.parsed),
    )


def aggregate(rows: list[ProbeResult]) -> Verification:
    """Per-probe rows -> figures over the set (KL and greedy agreement weighted by positions)."""
    positions = np.array([r.positions for r in rows], dtype=np.float64)
    agreeing = int(round(float((np.array([r.greedy_agreement for r in rows]) * positions).sum())))
    calls = sum(r.calls_agree for r in rows)
    return Verification(
        probes=rows,
        max_abs_diff=max(r.max_abs_diff for r in rows),
        kl_mean=float((np.array([r.kl_mean for r in rows]) * positions).sum() / positions.sum()),
        kl_max=max(r.kl_mean for r in rows),
        greedy_agreement=agreeing / int(positions.sum()),
        greedy_interval=wilson(agreeing, int(positions.sum())),
        tool_call_agreement=calls / len(rows),
        tool_call_interval=wilson(calls, len(rows)),
        prompt_mismatches=sum(not r.same_prompt_tokens for r in rows),
    )
