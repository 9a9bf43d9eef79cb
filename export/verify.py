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
from edgefc.progress import report
from edgefc.protocol.parse import ParseResult
from edgefc.runtimes.base import Generation, Runtime

MAX_TOKENS = 64  # answer length compared: a call to a BFCL function fits
POSITIONS = 16  # answer positions whose logits are compared


@dataclass(frozen=True)
class Reference:
    """What the source model did on one probe: its prompt tokens and greedy answer."""

    probe: Probe
    prompt_tokens: list[int]
    generation: Generation


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


def references(source: Runtime, probes: list[Probe], *, max_tokens: int = MAX_TOKENS) -> list[Reference]:
    """The source model's greedy answers to the probes (computed once, shared by every export)."""
    out = []
    for probe in probes:
        gen = source.generate(probe.messages, probe.tools, max_tokens=max_tokens)
        out.append(Reference(probe, source.tokenize(gen.prompt), gen))
        report(f"source answers ({len(probes)} probes)", len(out), len(probes))
    return out


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


def source_logits(source: Runtime, ref: Reference, *, positions: int = POSITIONS) -> np.ndarray:
    """The source's logits on the compared positions of one probe: its prompt and first answer tokens (computed
    once per probe, shared by every export compared to it)."""
    answer = ref.generation.tokens[: positions - 1]
    return source.logits(ref.prompt_tokens + answer, len(answer) + 1)


def compare(src: np.ndarray, exported: Runtime, ref: Reference, *, max_tokens: int = MAX_TOKENS) -> ProbeResult:
    """Score one probe: the export's logits on the tokens `src` (source_logits) was computed on, then its own
    answer."""
    last = src.shape[0]
    tokens = ref.prompt_tokens + ref.generation.tokens[: last - 1]
    exp = exported.logits(tokens, last)
    gen = exported.generate(ref.probe.messages, ref.probe.tools, max_tokens=max_tokens)
    return ProbeResult(
        id=ref.probe.id,
        category=ref.probe.category,
        positions=last,
        max_abs_diff=float(np.abs(src - exp).max()),
        kl_mean=float(_kl(src, exp).mean()),
        greedy_agreement=float((src.argmax(-1) == exp.argmax(-1)).mean()),
        same_prompt_tokens=exported.tokenize(gen.prompt) == ref.prompt_tokens,
        source_kind=ref.generation.parsed.kind,
        export_kind=gen.parsed.kind,
        calls_agree=_same_answer(ref.generation.parsed, gen.parsed),
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
