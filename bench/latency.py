"""Latency of one model file on the CPU, measured in a fresh process so memory figures are its own.

Per repeat: a cold request (no prompt cache: time to first token over the whole prompt), then a warm one
that shares the tools prefix (prompt caching, where the runtime has it). The same file is also timed
through raw llama-cpp-python (no edgefc layer) for GGUF, so edgefc's overhead shows as a ratio.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from edgefc.errors import EdgefcError
from edgefc.fsutil import size_bytes

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
    e2e_s: Spread
    peak_rss_mb: float
    load_s: float
    loadavg_before: float
    loadavg_after: float
    raw_llama_cpp: dict[str, Spread] | None = None  # same file through plain llama-cpp-python (GGUF only)
    decode_ratio_vs_raw: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _raw_llama_cpp(path: Path, prompt: str, threads: int, repeats: int) -> dict[str, Spread]:
    """The same prompt through llama-cpp-python's own completion API, streamed, greedy, cache cleared each time."""
    from llama_cpp import Llama

    llm = Llama(str(path), n_ctx=8192, n_threads=threads, n_threads_batch=threads, verbose=False)
    ttft, decode = [], []
    try:
        for _ in range(repeats):
            llm.reset()
            start = time.perf_counter()
            first = last = None
            n = 0
            for _chunk in llm.create_completion(prompt, max_tokens=MAX_TOKENS, temperature=0.0, top_k=1,
                                                stream=True):
                last = time.perf_counter()
                first = first or last
                n += 1
            ttft.append((first or start) - start)
            decode.append((n - 1) / (last - first) if n > 1 and last > first else 0.0)
    finally:
        llm.close()
    return {"cold_ttft_s": Spread.of(ttft), "decode_tps": Spread.of(decode)}


def measure(model: str, runtime: str | None, threads: int, repeats: int, raw: bool = True) -> LatencyResult:
    """Measure one model in this process (call it through `measure_in_subprocess` for clean memory figures)."""
    from edgefc.runtimes import load

    before = os.getloadavg()[0]
    start = time.perf_counter()
    rt = load(model, runtime, threads=threads)
    load_s = time.perf_counter() - start
    cold, warm = [], []
    try:
        for _ in range(repeats):
            if hasattr(rt, "llm"):
                rt.llm.reset()  # cold means cold: no prefix left from the previous repeat
            cold.append(rt.generate(COLD_MESSAGE, TOOLS, max_tokens=MAX_TOKENS))
            warm.append(rt.generate([{"role": "user", "content": COLD_MESSAGE},
                                     {"role": "assistant", "content": cold[-1].text},
                                     {"role": "user", "content": WARM_MESSAGE}], TOOLS, max_tokens=MAX_TOKENS))
        prompt = cold[0].prompt
    finally:
        rt.close()
    raw_result = _raw_llama_cpp(rt.path, prompt, threads, repeats) if raw and rt.format == "gguf" else None
    decode = Spread.of([g.timings.decode_tps for g in cold])
    return LatencyResult(
        model=str(model), runtime=rt.name, threads=threads, file_bytes=size_bytes(rt.path),
        prompt_tokens=cold[0].timings.prompt_tokens, completion_tokens=cold[0].timings.completion_tokens,
        cold_ttft_s=Spread.of([g.timings.ttft_s for g in cold]),
        warm_ttft_s=Spread.of([g.timings.ttft_s for g in warm]),
        warm_cached_tokens=min(g.timings.cached_tokens for g in warm),
        prefill_tps=Spread.of([g.timings.prefill_tps for g in cold]),
        decode_tps=decode,
        e2e_s=Spread.of([g.timings.total_s for g in cold]),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        load_s=load_s, loadavg_before=before, loadavg_after=os.getloadavg()[0],
        raw_llama_cpp=raw_result,
        decode_ratio_vs_raw=(decode.median / raw_result["decode_tps"].median
                             if raw_result and raw_result["decode_tps"].median else None),
    )


def measure_in_subprocess(model: str, runtime: str | None, threads: int, repeats: int,
                          raw: bool = True) -> LatencyResult:
    """Run `measure` in a fresh Python process: peak memory is then this model's alone."""
    args = json.dumps({"model": str(model), "runtime": runtime, "threads": threads, "repeats": repeats, "raw": raw})
    proc = subprocess.run([sys.executable, "-m", "edgefc.bench.latency", args], capture_output=True, text=True)
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
