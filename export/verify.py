"""Verify an exported model against its source on a fixed probe set of tool-call prompts.

For every probe the source answers greedily; both models then score the same tokens (prompt plus the
source's first answer tokens), which gives logits max-abs-diff, KL(source || export) and greedy-token
agreement position by position; finally the export answers on its own and its parsed calls are compared
with the source's. Plain data in, plain data out: the caller loads the runtimes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any, Callable

import numpy as np

from edgefc.protocol.parse import ParseResult
from edgefc.runtimes.base import Generation, Runtime

# An f32/f16/fp32 export is faithful when it barely moves the distribution and keeps the greedy choices.
FAITHFUL = {"kl_mean_max": 1e-3, "greedy_agreement_min": 0.98}
LOSSLESS_QUANTS = {"f32", "f16", "fp32"}


@dataclass(frozen=True)
class Probe:
    """One verification prompt: a user message and the tools offered with it."""

    id: str
    lang: str
    kind: str  # single, parallel or irrelevant
    user: str
    tools: list[dict[str, Any]]


def load_probes() -> list[Probe]:
    """The probe set shipped with edgefc (export/probes.json): English and Vietnamese tool-call prompts."""
    data = json.loads(resources.files("edgefc.export").joinpath("probes.json").read_text(encoding="utf-8"))
    return [Probe(p["id"], p["lang"], p["kind"], p["user"], [data["tools"][t] for t in p["tools"]])
            for p in data["probes"]]


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
    """Export vs source over the probe set, with the per-probe rows."""

    probes: list[ProbeResult] = field(default_factory=list)
    max_abs_diff: float = 0.0
    kl_mean: float = 0.0
    kl_max: float = 0.0
    greedy_agreement: float = 0.0
    tool_call_agreement: float = 0.0
    faithful: bool | None = None  # judged for lossless quants only

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def references(source: Runtime, probes: list[Probe], *, max_tokens: int = 64,
               on_step: Callable[[], None] | None = None) -> list[Reference]:
    """The source model's greedy answers to the probes (computed once, shared by every export)."""
    out = []
    for probe in probes:
        gen = source.generate(probe.user, probe.tools, max_tokens=max_tokens)
        out.append(Reference(probe, source.tokenize(gen.prompt), gen))
        if on_step:
            on_step()
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


def compare(source: Runtime, exported: Runtime, ref: Reference, *, positions: int = 16,
            max_tokens: int = 64) -> ProbeResult:
    """Score one probe: logits on the same tokens, then the export's own answer."""
    answer = ref.generation.tokens[: positions - 1]
    tokens = ref.prompt_tokens + answer
    last = len(answer) + 1
    src, exp = source.logits(tokens, last), exported.logits(tokens, last)
    gen = exported.generate(ref.probe.user, ref.probe.tools, max_tokens=max_tokens)
    return ProbeResult(
        id=ref.probe.id,
        positions=last,
        max_abs_diff=float(np.abs(src - exp).max()),
        kl_mean=float(_kl(src, exp).mean()),
        greedy_agreement=float((src.argmax(-1) == exp.argmax(-1)).mean()),
        same_prompt_tokens=exported.tokenize(gen.prompt) == ref.prompt_tokens,
        source_kind=ref.generation.parsed.kind,
        export_kind=gen.parsed.kind,
        calls_agree=_same_answer(ref.generation.parsed, gen.parsed),
    )


def summarize(rows: list[ProbeResult], quant: str) -> Verification:
    """Aggregate per-probe rows; judge faithfulness for lossless quants."""
    positions = np.array([r.positions for r in rows], dtype=np.float64)
    agreement = float((np.array([r.greedy_agreement for r in rows]) * positions).sum() / positions.sum())
    kl_mean = float((np.array([r.kl_mean for r in rows]) * positions).sum() / positions.sum())
    faithful = None
    if quant in LOSSLESS_QUANTS:
        faithful = (kl_mean <= FAITHFUL["kl_mean_max"] and agreement >= FAITHFUL["greedy_agreement_min"]
                    and all(r.same_prompt_tokens for r in rows))
    return Verification(
        probes=rows,
        max_abs_diff=max(r.max_abs_diff for r in rows),
        kl_mean=kl_mean,
        kl_max=max(r.kl_mean for r in rows),
        greedy_agreement=agreement,
        tool_call_agreement=sum(r.calls_agree for r in rows) / len(rows),
        faithful=faithful,
    )
