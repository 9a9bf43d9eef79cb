"""`edgefc bench speed` runs every part on tiny models: ONNX prefill at the last position and at every position in
fresh processes, a first export in a new cache and a second that reuses it, and the whole report (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgefc.bench import speed
from tests.bfcl_support import real_wheel


def test_onnx_prefill_at_the_last_and_at_every_position(tiny_onnx: Path) -> None:
    sides = {all_logits: speed._in_subprocess("onnx_prefill", {"path": str(tiny_onnx), "threads": 1, "repeats": 1,
                                                               "all_logits": all_logits}, 300)
             for all_logits in (False, True)}
    assert [s["all_logits"] for s in sides.values()] == [False, True]
    assert sides[False]["prompt_tokens"] == sides[True]["prompt_tokens"] > 100
    assert all(s["prefill_tps"]["median"] > 0 and s["peak_rss_mb"] > 0 for s in sides.values())


def test_a_first_export_in_a_new_cache_then_a_second_from_the_same_source(tiny_qwen3: Path) -> None:
    real_wheel()  # the probes draw from BFCL
    walls = speed.export_walls(str(tiny_qwen3), 1, 1, 600)
    assert [walls[k]["quant"] for k in ("first", "second")] == ["q4_K_M", "q4_0"]
    assert all(walls[k]["probes"] == 1 and walls[k]["wall_s"] > 0 for k in ("first", "second"))


@pytest.mark.slow
def test_the_whole_report(tiny_gguf: Path, tiny_onnx: Path, tiny_qwen3: Path) -> None:
    real_wheel()
    result = speed.measure(str(tiny_gguf), str(tiny_gguf), str(tiny_onnx), str(tiny_qwen3), 1, 1, probes=1)
    assert set(result["files"]) == {"old", "new"} and set(result["onnx"]) == {"before", "after"}
    assert set(result["met"]) == {"tool_call_turn_s", "ticket_call_turn_s", "first_export_s", "second_export_s"}
    table = speed.text_table(result)
    assert "drafts on" in table and "every position" in table and "second export" in table
