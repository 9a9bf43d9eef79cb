"""The embedded default model exported to q4_K_M and run by plain llama-cpp-python (no edgefc in the loop):
the tools prompt comes from the file's own template and the answer parses to the expected call.

Slow: materializes the HF folder (minutes), writes an f16 GGUF, quantizes it and verifies it on 10 probes
(BFCL and edgefc's own); CI runs it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import edgefc
from edgefc.export.pipeline import run_export
from edgefc.models import DEFAULT_MODEL
from tests.bfcl_support import real_wheel

pytestmark = pytest.mark.slow
WEATHER = json.loads((Path(__file__).parents[1] / "examples" / "tools" / "weather.json").read_text())


def test_q4_k_m_export_calls_tools_in_plain_llama_cpp(tmp_path: Path) -> None:
    from llama_cpp import Llama

    real_wheel()  # the probes draw from BFCL
    [result] = run_export(DEFAULT_MODEL, "gguf", ["q4_K_M"], tmp_path, probe_limit=10)
    assert result.passed, result.failures  # its default gate, on the first 10 probes
    assert result.verification.prompt_mismatches == 0
    llm = Llama(str(result.path), n_ctx=2048, verbose=False)
    try:
        out = llm.create_chat_completion(messages=[{"role": "user", "content": "What's the weather in Tokyo?"}],
                                         tools=WEATHER, temperature=0.0, max_tokens=64)
    finally:
        llm.close()
    calls = edgefc.parse(out["choices"][0]["message"]["content"]).calls
    assert calls and calls[0]["name"] == "get_weather" and calls[0]["arguments"]["city"] == "Tokyo"
