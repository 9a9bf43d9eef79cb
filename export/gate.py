"""Quality gates: the least an exported file must keep of its source to be published under its final name.

Each quant entry (GGUF_QUANTS, ONNX_QUANTS) carries one of the gates below as a field; the numbers live
here, in one table, so they can be re-measured and adjusted together. `--gate` overrides them per run.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from edgefc.errors import EdgefcError


@dataclass(frozen=True)
class Gate:
    """Thresholds on verification figures (point estimates): mean KL(source || export) at most
    `kl_mean_max`, greedy-token agreement and tool-call agreement at least `greedy_min` / `tool_calls_min`."""

    kl_mean_max: float
    greedy_min: float
    tool_calls_min: float

    def judge(self, kl_mean: float, greedy: float, tool_calls: float, prompt_mismatches: int) -> list[str]:
        """Why a file fails this gate (empty when it passes)."""
        why = []
        if kl_mean > self.kl_mean_max:
            why.append(f"KL {kl_mean:.1e} > {self.kl_mean_max:.0e}")
        if greedy < self.greedy_min:
            why.append(f"greedy {greedy:.1%} < {self.greedy_min:.0%}")
        if tool_calls < self.tool_calls_min:
            why.append(f"calls {tool_calls:.0%} < {self.tool_calls_min:.0%}")
        if prompt_mismatches:
            why.append(f"prompt tokens differ on {prompt_mismatches}")  # a tokenizer bug, at any quant
        return why


# Default gates by precision: each bound sits about a 95% interval's width (at 100 probes) below what its
# precision measured; the figures and the commands that measured them are in export/gate.md.
LOSSLESS = Gate(kl_mean_max=1e-4, greedy_min=0.99, tool_calls_min=0.95)  # f32, fp32: rounding only
HALF = Gate(kl_mean_max=1e-3, greedy_min=0.97, tool_calls_min=0.92)  # f16, bf16
EIGHT_BIT = Gate(kl_mean_max=5e-3, greedy_min=0.95, tool_calls_min=0.9)  # q8_0, weight-only int8
SIX_BIT = Gate(kl_mean_max=1e-2, greedy_min=0.93, tool_calls_min=0.85)  # q6_K, q5_K_M
FOUR_BIT = Gate(kl_mean_max=4e-2, greedy_min=0.88, tool_calls_min=0.75)  # q4_K_M, q4_0, int4
DYNAMIC_INT8 = Gate(kl_mean_max=0.12, greedy_min=0.85, tool_calls_min=0.6)  # int8 activations too

GATE_KEYS = {"kl": "kl_mean_max", "greedy": "greedy_min", "calls": "tool_calls_min"}


def parse_gate(text: str | None) -> dict[str, float]:
    """`kl=0.05,greedy=0.9,calls=0.8` (any subset; percentages allowed) -> overrides for `Gate` fields."""
    out: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        key, _, value = item.partition("=")
        if key.strip() not in GATE_KEYS:
            raise EdgefcError(f"unknown gate '{key.strip()}' in --gate; use {', '.join(GATE_KEYS)} (e.g. calls=0.8)")
        try:
            number = float(value.strip().removesuffix("%")) / (100 if value.strip().endswith("%") else 1)
        except ValueError:
            raise EdgefcError(f"--gate {key.strip()} needs a number, not '{value.strip()}'") from None
        out[GATE_KEYS[key.strip()]] = number
    return out


def with_overrides(gate: Gate, overrides: dict[str, float]) -> Gate:
    """`gate` with some thresholds replaced (keys are Gate field names)."""
    known = {f.name for f in fields(Gate)}
    return replace(gate, **{k: v for k, v in overrides.items() if k in known})
