"""Latency measurement: fresh process per variant, cold vs warm TTFT, raw llama-cpp-python beside edgefc,
jump-forward on vs off under the grammar."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgefc.bench.latency import SIDES, Spread, abba, measure_in_subprocess
from edgefc.errors import EdgefcError


def test_gguf_latency_has_raw_llama_cpp_baseline(tiny_gguf: Path) -> None:
    r = measure_in_subprocess(str(tiny_gguf), None, threads=1, repeats=2, constrain=False)
    assert r.runtime == "llamacpp" and r.threads == 1 and r.file_bytes == tiny_gguf.stat().st_size
    assert not r.constrain and r.grammar_ms_per_token is r.forced_share is r.jump_forward_off is None
    assert r.cold_ttft_s.n == 2 and 0 < r.cold_ttft_s.min <= r.cold_ttft_s.median <= r.cold_ttft_s.max
    assert r.warm_cached_tokens > 0.8 * r.prompt_tokens  # the tools prefix was reused
    assert r.decode_tps.median > 0 and r.prefill_tps.median > 0 and r.e2e_s.median > r.cold_ttft_s.median
    assert r.peak_rss_mb > 50  # the model's own process: at least its weights
    raw = r.raw_llama_cpp
    assert raw is not None and raw["decode_tps"].median > 0 and raw["cold_ttft_s"].n == raw["e2e_s"].n == 2
    assert raw["warm_ttft_s"].median < raw["cold_ttft_s"].median  # the baseline's warm request reuses its prefix
    assert r.decode_ratio_vs_raw is not None and r.decode_ratio_vs_raw > 0
    assert r.e2e_ratio_vs_raw == r.e2e_s.median / raw["e2e_s"].median
    assert r.grammar_decode_ratio_vs_raw is None


def test_constrained_latency_has_jump_forward_on_and_off(tiny_gguf: Path) -> None:
    r = measure_in_subprocess(str(tiny_gguf), None, threads=1, repeats=2, constrain=True)
    # the random model may answer in text (nothing forced) or call (tags and names forced): either is honest
    assert r.constrain and r.grammar_ms_per_token > 0 and 0 <= r.forced_share < 1
    off = r.jump_forward_off
    assert off is not None and set(off) == {"e2e_s", "e2e_warm_s", "decode_tps"}
    assert all(s.n == 2 and s.min > 0 for s in (*off.values(), r.e2e_s, r.e2e_warm_s, r.decode_tps))
    raw = r.raw_llama_cpp
    assert raw is not None and raw["cold_ttft_s"].n == 2  # still alternating with the baseline
    # The baseline decodes freely: no overhead ratio on other tokens, the grammar's price with jump-forward off.
    assert r.decode_ratio_vs_raw is None and r.e2e_ratio_vs_raw is None
    assert r.grammar_decode_ratio_vs_raw == off["decode_tps"].median / raw["decode_tps"].median


def test_edgefc_and_raw_take_turns() -> None:
    assert abba(4) == ["edgefc", "raw", "raw", "edgefc", "edgefc", "raw", "raw", "edgefc"]
    assert abba(2, SIDES[True]) == ["edgefc", "jump-forward off", "raw", "raw", "jump-forward off", "edgefc"]


def test_a_hung_measurement_is_stopped(tiny_gguf: Path) -> None:
    with pytest.raises(EdgefcError, match=r"did not finish within 0\.2 s and was stopped; nothing was recorded"):
        measure_in_subprocess(str(tiny_gguf), None, threads=1, repeats=1, constrain=True, timeout_s=0.2)


def test_onnx_latency_has_no_raw_baseline_and_reuses_the_prefix(tiny_onnx: Path) -> None:
    r = measure_in_subprocess(str(tiny_onnx), None, threads=1, repeats=1, constrain=False)
    assert r.runtime == "onnxruntime" and r.raw_llama_cpp is None and r.decode_ratio_vs_raw is None
    assert r.warm_cached_tokens > 0  # onnxruntime reuses the previous request's prefix too


def test_spread() -> None:
    s = Spread.of([3.0, 1.0, 2.0])
    assert (s.median, s.min, s.max, s.n) == (2.0, 1.0, 3.0, 3)


def test_reset_cache_makes_the_next_request_cold(tiny_gguf: Path) -> None:
    from edgefc.runtimes.llamacpp import LlamaCppRuntime

    rt = LlamaCppRuntime(tiny_gguf, threads=1)
    try:
        rt.generate("Hello there", max_tokens=2)
        assert rt.generate("Hello there", max_tokens=2).timings.cached_tokens > 0
        rt.reset_cache()
        assert rt.generate("Hello there", max_tokens=2).timings.cached_tokens == 0
    finally:
        rt.close()


def test_peak_rss_is_the_measuring_process_own(tiny_gguf: Path) -> None:
    """A measurement started by a big process (tune, after an export) reports its own memory, not the parent's:
    Linux carries getrusage's ru_maxrss across fork and exec."""
    held = bytearray(600 * 1024 * 1024)
    held[::4096] = b"\x01" * len(held[::4096])  # touch every page: 600 MB resident in this process
    result = measure_in_subprocess(str(tiny_gguf), None, 1, 1, raw=False, constrain=False)
    assert result.peak_rss_mb < 500, result.peak_rss_mb
    assert held[0] == 1
