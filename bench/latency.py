"""Latency of one model file on the CPU, measured in a fresh process so memory figures are its own.

Per repeat: a cold request (no prompt cache: time to first token over the whole prompt), then a warm one
that shares the tools prefix (prompt caching, where the runtime has it). For GGUF the same file is also
timed through plain llama-cpp-python, on the same token ids with the same token-by-token loop and sampling
parameters, so the ratio is edgefc's own overhead (rendering, parsing, bookkeeping) and nothing else. Its
repeats alternate with edgefc's (ABBA) so load drift hits both, and edgefc's peak RSS is read before the
baseline loads its own copy of the weights.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edgefc.errors import EdgefcError
from edgefc.fsutil import size_bytes
from edgefc.runtimes.base import Clock, Timings

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather in a city.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]}}},
    {"type": "function", "function": {
        "name": "convert_currency", "description": "Convert money between currencies.",
        "parameters": {"type": "object", "properties": {
            "amount": {"type": "number"}, "from_currency": {"type": "string"}, "to_currency": {"type": "string"}},
            "required": ["amount", "from_currency", "to_currency"]}}}]
COLD_MESSAGE = "What's the weather in Tokyo right now?"
WARM_MESSAGE = "And how much is 20 euros in US dollars?"
MAX_TOKENS = 64


@dataclass(frozen=True)
class Spread:
    """Median and range of repeated measurements."""

    median: float
    min: float
    max: float
    n: int

    @classmethod
    def of(cls, values: list[float]) -> "Spread":
        return cls(statistics.median(values), min(values), max(values), len(values))


@dataclass(frozen=True)
class LatencyResult:
    """What one model costs per request on this machine."""

    model: str
    runtime: str
    threads: int
    file_bytes: int
    prompt_tokens: int
    completion_tokens: int
    cold_ttft_s: Spread
    warm_ttft_s: Spread
    warm_cached_tokens: int
    prefill_tps: Spread
    decode_tps: Spread
    e2e_s: Spread  # the whole request as a caller sees it: render, tokenize, generate, detokenize, parse
    peak_rss_mb: float  # edgefc's process before the raw baseline loaded
    load_s: float
    loadavg_before: float
    loadavg_after: float
    raw_llama_cpp: dict[str, Spread] | None = None  # same ids through plain llama-cpp-python (GGUF only)
    decode_ratio_vs_raw: float | None = None  # edgefc decode tok/s / raw decode tok/s
    e2e_ratio_vs_raw: float | None = None  # edgefc e2e / raw e2e: above 1 is edgefc's overhead

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Request:
    """One timed request: the runtime's timings and its wall time from the caller's side."""

    timings: Timings
    wall_s: float


class _RawLlamaCpp:
    """The GGUF in plain llama-cpp-python, driven with edgefc's llama.cpp loop: greedy, token by token."""

    def __init__(self, path: Path, threads: int):
        import llama_cpp

        self.llm = llama_cpp.Llama(str(path), n_ctx=8192, n_threads=threads, n_threads_batch=threads,
                                   n_gpu_layers=0, verbose=False)
        self.vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        self.is_eog = llama_cpp.llama_vocab_is_eog

    def complete(self, tokens: list[int], max_tokens: int) -> _Request:
        start = time.perf_counter()
        clock = Clock()
        out: list[int] = []
        for token in self.llm.generate(tokens, temp=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0):
            clock.token()
            if self.is_eog(self.vocab, token):
                break
            out.append(token)
            if len(out) >= max_tokens:
                break
        self.llm.detokenize(out, special=True)
        return _Request(clock.timings(len(tokens), len(out)), time.perf_counter() - start)


@dataclass
class _Series:
    """The cold and warm requests of one side of the comparison."""

    cold: list[_Request] = field(default_factory=list)
    warm: list[_Request] = field(default_factory=list)


def _edgefc(rt: Any, messages: Any) -> tuple[Any, _Request]:
    start = time.perf_counter()
    gen = rt.generate(messages, TOOLS, max_tokens=MAX_TOKENS)
    return gen, _Request(gen.timings, time.perf_counter() - start)


def _edgefc_repeat(rt: Any, series: _Series) -> tuple[list[int], list[int]]:
    """A cold request, then a warm one continuing its conversation; returns both prompts' token ids."""
    rt.reset_cache()  # cold means cold: no prefix left from the previous repeat
    gen, request = _edgefc(rt, COLD_MESSAGE)
    warm_gen, warm_request = _edgefc(rt, [{"role": "user", "content": COLD_MESSAGE},
                                          {"role": "assistant", "content": gen.text},
                                          {"role": "user", "content": WARM_MESSAGE}])
    series.cold.append(request)
    series.warm.append(warm_request)
    return rt.tokenize(gen.prompt), rt.tokenize(warm_gen.prompt)


def _raw_repeat(baseline: _RawLlamaCpp, ids: tuple[list[int], list[int]], series: _Series) -> None:
    """The same cold and warm token ids through the baseline."""
    baseline.llm.reset()
    series.cold.append(baseline.complete(ids[0], MAX_TOKENS))
    series.warm.append(baseline.complete(ids[1], MAX_TOKENS))


def abba(repeats: int) -> list[str]:
    """Who runs when: edgefc then raw, raw then edgefc, and so on, so a drift in machine load hits both alike."""
    return [side for i in range(repeats) for side in (("edgefc", "raw") if i % 2 == 0 else ("raw", "edgefc"))]


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(model: str, runtime: str | None, threads: int, repeats: int, raw: bool = True) -> LatencyResult:
    """Measure one model in this process (call it through `measure_in_subprocess` for clean memory figures)."""
    from edgefc.runtimes import load

    before = os.getloadavg()[0]
    start = time.perf_counter()
    rt = load(model, runtime, threads=threads)
    load_s = time.perf_counter() - start
    ours, theirs = _Series(), _Series()
    baseline: _RawLlamaCpp | None = None
    peak_rss_mb: float | None = None
    try:
        for side in abba(repeats):
            if side == "edgefc":
                ids = _edgefc_repeat(rt, ours)
            elif raw and rt.format == "gguf":
                if baseline is None:
                    peak_rss_mb = _peak_rss_mb()  # edgefc's own, before the baseline maps its copy
                    baseline = _RawLlamaCpp(rt.path, threads)
                _raw_repeat(baseline, ids, theirs)
    finally:
        rt.close()
        if baseline is not None:
            baseline.llm.close()
    decode = Spread.of([r.timings.decode_tps for r in ours.cold])
    e2e = Spread.of([r.wall_s for r in ours.cold])
    raw_result = None
    if theirs.cold:
        raw_result = {"cold_ttft_s": Spread.of([r.timings.ttft_s for r in theirs.cold]),
                      "warm_ttft_s": Spread.of([r.timings.ttft_s for r in theirs.warm]),
                      "decode_tps": Spread.of([r.timings.decode_tps for r in theirs.cold]),
                      "e2e_s": Spread.of([r.wall_s for r in theirs.cold])}
    first = ours.cold[0].timings
    return LatencyResult(
        model=str(model), runtime=rt.name, threads=threads, file_bytes=size_bytes(rt.path),
        prompt_tokens=first.prompt_tokens, completion_tokens=first.completion_tokens,
        cold_ttft_s=Spread.of([r.timings.ttft_s for r in ours.cold]),
        warm_ttft_s=Spread.of([r.timings.ttft_s for r in ours.warm]),
        warm_cached_tokens=min(r.timings.cached_tokens for r in ours.warm),
        prefill_tps=Spread.of([r.timings.prefill_tps for r in ours.cold]),
        decode_tps=decode, e2e_s=e2e, peak_rss_mb=peak_rss_mb if peak_rss_mb is not None else _peak_rss_mb(),
        load_s=load_s, loadavg_before=before, loadavg_after=os.getloadavg()[0],
        raw_llama_cpp=raw_result,
        decode_ratio_vs_raw=_ratio(decode.median, raw_result["decode_tps"].median) if raw_result else None,
        e2e_ratio_vs_raw=_ratio(e2e.median, raw_result["e2e_s"].median) if raw_result else None,
    )


def measure_in_subprocess(model: str, runtime: str | None, threads: int, repeats: int, raw: bool = True,
                          timeout_s: float = 900.0) -> LatencyResult:
    """Run `measure` in a fresh Python process (peak memory is then this model's alone), stopped after
    `timeout_s` seconds: a hung measurement is a one-line error, not a hung bench."""
    args = json.dumps({"model": str(model), "runtime": runtime, "threads": threads, "repeats": repeats, "raw": raw})
    try:
        proc = subprocess.run([sys.executable, "-m", "edgefc.bench.latency", args], capture_output=True, text=True,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise EdgefcError(f"the latency run of {model} did not finish within {timeout_s:g} s and was stopped; "
                          "nothing was recorded for it (raise --latency-timeout on a slow machine)") from None
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise EdgefcError(f"latency run of {model} failed: {tail}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    spreads = {k: Spread(**v) for k, v in data.items() if isinstance(v, dict) and "median" in v}
    raw_result = data.pop("raw_llama_cpp")
    return LatencyResult(**{**data, **spreads, "raw_llama_cpp": {k: Spread(**v) for k, v in raw_result.items()}
                            if raw_result else None})


if __name__ == "__main__":
    params = json.loads(sys.argv[1])
    print(json.dumps(measure(**params).to_dict()))
