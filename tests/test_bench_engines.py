"""The grammar-engine benchmark on the tiny GGUF: every engine runs, and both grammars hold their schema."""

from __future__ import annotations

import json
from pathlib import Path

from edgefc.bench.engines import measure


def test_engines_side_by_side_on_a_tiny_gguf(tiny_gguf: Path) -> None:
    result = measure(str(tiny_gguf), threads=1, repeats=1)
    engines = result["engines"]
    assert list(engines) == ["free", "gbnf", "free (edgefc loop)", "llguidance"]
    assert all(row["decode_ms_per_token"] > 0 and row["tokens"] > 0 for row in engines.values())
    for name in ("gbnf", "llguidance"):  # a random model under a JSON-Schema grammar still writes the call shape
        text = engines[name]["text"]
        assert text.startswith('{"name": "get_weather"') or text.startswith('{"name":"get_weather"'), (name, text)
        assert "overhead_ms_per_token" in engines[name]
    assert engines["llguidance"]["mask_ms_per_token"] > 0
    json.dumps(result)  # the command prints it as JSON
