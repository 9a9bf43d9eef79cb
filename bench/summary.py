"""A bench run's summary as typed records: built by edgefc.bench.report from the run folder, read by its tables,
its Markdown and tune. `to_dict()` is the summary.json that run folders have always held; `from_dict` reads one
back, an older folder's too (a figure it lacks reads None)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from edgefc.bfcl.score import Scores


@dataclass
class BfclBlock:
    """One variant's BFCL rows: scores by BFCL's decoding and by edgefc's tolerant parser, response and prompt
    tokens (evaluated vs served from the prefix cache), and the grammar's share of the work."""

    entries: int
    failed: int  # rows that failed to run, counted wrong
    scores: Scores
    scores_edgefc_decoding: Scores
    response_tokens: dict[str, Any]  # {"by_category": {category: mean}, "mean": float | None}
    think_share: float
    unclosed_calls: int | None  # <tool_call> blocks left open: BFCL's decoding reads no call from them
    wall_s: float
    prompt_tokens: int
    cached_tokens: int | None
    evaluated_tokens: int | None
    prefill_tps: float | None
    decode_tps: float
    grammar_ms_per_token: float | None  # under the grammar: its mask + advance time per generated token
    forced_share: float | None  # under the grammar: the share of tokens it forced (jump-forward)
    multi_turn: dict[str, Any] | None = None  # the multi-turn entries' work, where any ran

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["scores"], out["scores_edgefc_decoding"] = self.scores.to_dict(), self.scores_edgefc_decoding.to_dict()
        if self.multi_turn is None:
            del out["multi_turn"]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BfclBlock:
        values = {f.name: data.get(f.name) for f in fields(cls)}
        values["scores"] = Scores.from_dict(data["scores"])
        values["scores_edgefc_decoding"] = Scores.from_dict(data["scores_edgefc_decoding"])
        return cls(**values)


@dataclass
class ModelSummary:
    """One variant (a model file under one decoding) of the run. `latency` is edgefc.bench.latency's record,
    `agent` edgefc.bench.agent.score's block; each is None where that suite did not run."""

    model: str  # the variant's label
    source: str | None  # the model as given
    constrain: bool
    latency: dict[str, Any] | None = None
    bfcl: BfclBlock | None = None
    agent: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model, "source": self.source, "constrain": self.constrain,
                               "latency": self.latency}
        if self.bfcl is not None:
            out["bfcl"] = self.bfcl.to_dict()
        if self.agent is not None:
            out["agent"] = self.agent
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelSummary:
        return cls(data["model"], data.get("source"), data.get("constrain", False), data.get("latency"),
                   BfclBlock.from_dict(data["bfcl"]) if data.get("bfcl") else None, data.get("agent"))


@dataclass
class BenchSummary:
    """The run's settings and machine (`meta`, as run.json's settings plus platform and wall time), a summary per
    variant, and each compared pair's deltas (edgefc.bench.report._deltas)."""

    meta: dict[str, Any]
    models: list[ModelSummary]
    deltas: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**self.meta, "models": [m.to_dict() for m in self.models], "deltas": self.deltas}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BenchSummary:
        meta = {k: v for k, v in data.items() if k not in ("models", "deltas")}
        return cls(meta, [ModelSummary.from_dict(m) for m in data["models"]], list(data.get("deltas", [])))
