"""Latency of one model file on the CPU, measured in a fresh process so memory figures are its own.

Per repeat: a cold request (no prompt cache: time to first token over the whole prompt), then a warm one
that shares the tools prefix (prompt caching, where the runtime has it). For GGUF the same file is also
timed through plain llama-cpp-python, on the same token ids with the same token-by-token loop and sampling
parameters. Its repeats alternate with edgefc's (ABBA) so load drift hits both, and edgefc's peak RSS is
read before the baseline loads its own copy of the weights.

A variant decodes freely or under the tool grammar (`constrain`). The baseline always decodes freely, so the
ratios to it are only honest where the work is the same:
- free: the same ids give the same tokens through the same loop, so `decode_ratio_vs_raw` and
  `e2e_ratio_vs_raw` are edgefc's own overhead (rendering, parsing, bookkeeping) and nothing else;
- constrained: the grammar changes which tokens come and how many, and jump-forward evaluates forced tokens
  in batches, so those two ratios are left out (None). `grammar_decode_ratio_vs_raw` instead compares decode
  tok/s with jump-forward off (one token per step, as raw) with raw's: the per-token price of the mask plus
  edgefc's overhead, on other tokens of the same length class. The grammar's own time is measured directly
  (`grammar_ms_per_token`), and the same request runs with jump-forward on and off (`jump_forward_off`),
  both under the grammar, so that comparison is like for like.
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
    e2e_warm_s: Spread
    peak_rss_mb: float  # edgefc's process before the raw baseline loaded
    load_s: float  # with the grammar's view of the vocabulary for a constrained variant (built once per model)
    loadavg_before: float
    loadavg_after: float
    constrain: bool = False  # decoded under the tool grammar
    grammar_ms_per_token: float | None = None  # grammar mask + advance time / generated tokens (constrained)
    forced_share: float | None = None  # tokens forced by the grammar and batched (jump-forward) / generated tokens
    jump_forward_off: dict[str, Spread] | None = None  # e2e_s, e2e_warm_s, decode_tps of the same requests
    raw_llama_cpp: dict[str, Spread] | None = None  # same ids through plain llama-cpp-python (GGUF only)
    decode_ratio_vs_raw: float | None = None  # free only: edgefc decode tok/s / raw decode tok/s
    e2e_ratio_vs_raw: float | None = None  # free only: edgefc e2e / raw e2e: above 1 is edgefc's overhead
    grammar_decode_ratio_vs_raw: float | None = None  # constrained only: decode tok/s, jump-forward off / raw

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Request:
    """One timed request: the runtime's timings and its wall time from the caller's side."""

    timings: Timings
    wall_s: float


class _RawLlamaCpp:
    """The GGUF in plain llama-cpp-python, driven with edgefc's llama.cpp loop: greedy, token by token; an adapter
    is applied the way a plain user would (`lora_path`)."""

    def __init__(self, path: Path, threads: int, adapter: Path | None = None):
        import llama_cpp

        self.llm = llama_cpp.Llama(str(path), n_ctx=8192, n_threads=threads, n_threads_batch=threads,
                                   n_gpu_layers=0, verbose=False, lora_path=str(adapter) if adapter else None)
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


def _edgefc(rt: Any, messages: Any, constrain: bool, jump_forward: bool) -> tuple[Any, _Request]:
    start = time.perf_counter()
    gen = rt.generate(messages, TOOLS, max_tokens=MAX_TOKENS, constrain=constrain, jump_forward=jump_forward)
    return gen, _Request(gen.timings, time.perf_counter() - start)


def _edgefc_repeat(rt: Any, series: _Series, constrain: bool, jump_forward: bool) -> tuple[list[int], list[int]]:
    """A cold request, then a warm one continuing its conversation; returns both prompts' token ids."""
    rt.reset_cache()  # cold means cold: no prefix left from the previous repeat
    gen, request = _edgefc(rt, COLD_MESSAGE, constrain, jump_forward)
    warm_gen, warm_request = _edgefc(rt, [{"role": "user", "content": COLD_MESSAGE},
                                          {"role": "assistant", "content": gen.text},
                                          {"role": "user", "content": WARM_MESSAGE}], constrain, jump_forward)
    series.cold.append(request)
    series.warm.append(warm_request)
    return rt.tokenize(gen.prompt), rt.tokenize(warm_gen.prompt)


def _raw_repeat(baseline: _RawLlamaCpp, ids: tuple[list[int], list[int]], series: _Series) -> None:
    """The same cold and warm token ids through the baseline."""
    baseline.llm.reset()
    series.cold.append(baseline.complete(ids[0], MAX_TOKENS))
    series.warm.append(baseline.complete(ids[1], MAX_TOKENS))


# The sides a variant's repeats take turns between; a constrained one also runs its requests with jump-forward
# off, so on and off are timed on the same requests under the same load.
SIDES: dict[bool, tuple[str, ...]] = {False: ("edgefc", "raw"), True: ("edgefc", "jump-forward off", "raw")}


def abba(repeats: int, sides: tuple[str, ...] = SIDES[False]) -> list[str]:
    """Who runs when: the sides in order, then reversed, and so on, so a drift in machine load hits all alike."""
    return [side for i in range(repeats) for side in (sides if i % 2 == 0 else sides[::-1])]


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def _peak_rss_mb() -> float:
    """This process's peak resident memory. Linux's VmHWM is its own address space's; getrusage's ru_maxrss keeps
    the parent's peak across fork and exec, so a measurement started by a big process (`edgefc tune` after an
    export) would report the parent's memory."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _per_token(series: _Series, part: str) -> float | None:
    """Sum of a Timings part (grammar_s, forced_tokens) over all requests / their generated tokens."""
    requests = series.cold + series.warm
    tokens = sum(r.timings.completion_tokens for r in requests)
    return sum(getattr(r.timings, part) for r in requests) / tokens if tokens else None


def _figures(series: _Series) -> dict[str, Spread]:
    """End-to-end cold and warm time and decode tok/s of one side."""
    return {"e2e_s": Spread.of([r.wall_s for r in series.cold]),
            "e2e_warm_s": Spread.of([r.wall_s for r in series.warm]),
            "decode_tps": Spread.of([r.timings.decode_tps for r in series.cold])}


def measure(model: str, runtime: str | None, threads: int, repeats: int, raw: bool = True, *,
            constrain: bool, endpoint: str | None = None, served_model: str | None = None,
            api: str = "completions") -> LatencyResult:
    """Measure one model, decoding freely or under the tool grammar, in this process (call it through
    `measure_in_subprocess` for clean memory figures). With `endpoint` the model runs on that server: its
    times are the client's, cold means whatever the server kept, and memory is this process's, not the server's."""
    from edgefc.runtimes import load

    before = os.getloadavg()[0]
    start = time.perf_counter()
    rt = load(model, runtime, threads=threads, endpoint=endpoint, served_model=served_model, api=api)
    if constrain:
        rt.grammar_vocab  # built once per model, like the load: not a cost of the first request
    load_s = time.perf_counter() - start
    series = {side: _Series() for side in SIDES[constrain]}
    baseline: _RawLlamaCpp | None = None
    peak_rss_mb: float | None = None
    try:
        for side in abba(repeats, SIDES[constrain]):
            if side != "raw":
                ids = _edgefc_repeat(rt, series[side], constrain, jump_forward=side == "edgefc")
            elif raw and rt.raw_baseline:
                if baseline is None:
                    peak_rss_mb = _peak_rss_mb()  # edgefc's own, before the baseline maps its copy
                    baseline = _RawLlamaCpp(rt.path, threads, rt.adapter)
                _raw_repeat(baseline, ids, series[side])
    finally:
        rt.close()
        if baseline is not None:
            baseline.llm.close()
    ours, theirs = series["edgefc"], series["raw"]
    figures = _figures(ours)
    raw_result = None
    if theirs.cold:
        raw_result = {"cold_ttft_s": Spread.of([r.timings.ttft_s for r in theirs.cold]),
                      "warm_ttft_s": Spread.of([r.timings.ttft_s for r in theirs.warm]),
                      **_figures(theirs)}
    jf_off = _figures(series["jump-forward off"]) if constrain else None
    grammar_s = _per_token(ours, "grammar_s")

    def vs_raw(mine: Spread, key: str) -> float | None:
        return _ratio(mine.median, raw_result[key].median) if raw_result else None

    first = ours.cold[0].timings
    return LatencyResult(
        model=str(model), runtime=rt.name, threads=threads, file_bytes=sum(size_bytes(f) for f in rt.files),
        prompt_tokens=first.prompt_tokens, completion_tokens=first.completion_tokens,
        cold_ttft_s=Spread.of([r.timings.ttft_s for r in ours.cold]),
        warm_ttft_s=Spread.of([r.timings.ttft_s for r in ours.warm]),
        warm_cached_tokens=min(r.timings.cached_tokens for r in ours.warm),
        prefill_tps=Spread.of([r.timings.prefill_tps for r in ours.cold]),
        decode_tps=figures["decode_tps"], e2e_s=figures["e2e_s"], e2e_warm_s=figures["e2e_warm_s"],
        peak_rss_mb=peak_rss_mb if peak_rss_mb is not None else _peak_rss_mb(),
        load_s=load_s, loadavg_before=before, loadavg_after=os.getloadavg()[0], constrain=constrain,
        grammar_ms_per_token=grammar_s * 1000 if constrain and grammar_s is not None else None,
        forced_share=_per_token(ours, "forced_tokens") if constrain else None,
        jump_forward_off=jf_off, raw_llama_cpp=raw_result,
        decode_ratio_vs_raw=None if constrain else vs_raw(figures["decode_tps"], "decode_tps"),
        e2e_ratio_vs_raw=None if constrain else vs_raw(figures["e2e_s"], "e2e_s"),
        grammar_decode_ratio_vs_raw=vs_raw(jf_off["decode_tps"], "decode_tps") if jf_off else None,
    )


def _spreads(data: dict[str, Any] | None) -> dict[str, Spread] | None:
    return {k: Spread(**v) for k, v in data.items()} if data else None


def measure_in_subprocess(model: str, runtime: str | None, threads: int, repeats: int, raw: bool = True, *,
                          constrain: bool, timeout_s: float = 900.0, endpoint: str | None = None,
                          served_model: str | None = None, api: str = "completions") -> LatencyResult:
    """Run `measure` in a fresh Python process (peak memory is then this model's alone), stopped after
    `timeout_s` seconds: a hung measurement is a one-line error, not a hung bench."""
    args = json.dumps({"model": str(model), "runtime": runtime, "threads": threads, "repeats": repeats, "raw": raw,
                       "constrain": constrain, "endpoint": endpoint, "served_model": served_model, "api": api})
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
    nested = {k: _spreads(data[k]) for k in ("raw_llama_cpp", "jump_forward_off")}
    return LatencyResult(**{**data, **spreads, **nested})


if __name__ == "__main__":
    params = json.loads(sys.argv[1])
    print(json.dumps(measure(**params).to_dict()))
