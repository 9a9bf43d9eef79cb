"""The source's side of an export's verification is computed once per source and probe: a later export reads it
back without loading the source, with the same figures and verdicts; another source, probe or setting misses, and
a damaged file is deleted and recomputed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edgefc.export import pipeline, source_cache
from edgefc.export.pipeline import run_export
from edgefc.export.probes import own_probes
from edgefc.export.verify import Reference
from tests.bfcl_support import real_wheel

PROBES = 3


@pytest.fixture(autouse=True)
def _bfcl_wheel() -> None:
    real_wheel()  # the probe set draws from BFCL


def _counting_sources(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every source model the pipeline loads."""
    loaded: list[str] = []
    real = pipeline.runtime_class

    def runtime_class(name: str) -> Any:
        if name == "transformers":
            loaded.append(name)
        return real(name)

    monkeypatch.setattr(pipeline, "runtime_class", runtime_class)
    return loaded


def _figures(results: list[pipeline.ExportResult]) -> dict[str, tuple[Any, ...]]:
    return {r.quant: (r.passed, r.failures, r.verification.to_dict() if r.verification else None) for r in results}


def test_a_later_export_reads_the_source_side_back_with_the_same_figures_and_verdicts(
        tiny_qwen3_256: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setattr(source_cache, "default_dir", lambda: cache)
    loaded = _counting_sources(monkeypatch)
    quants = ["f16", "q4_0"]
    first = run_export(tiny_qwen3_256, "gguf", quants, tmp_path / "first", threads=1, probe_limit=PROBES)
    assert loaded == ["transformers"] and len(list(cache.glob("*.npz"))) == PROBES
    again = run_export(tiny_qwen3_256, "gguf", quants, tmp_path / "again", threads=1, probe_limit=PROBES)
    assert loaded == ["transformers"], "the second export loaded the source model"
    assert _figures(first) == _figures(again)
    assert first[0].passed  # f16 of a float32 source passes its gate; both verdicts survive the cache
    more = run_export(tiny_qwen3_256, "gguf", ["f16"], tmp_path / "more", threads=1, probe_limit=PROBES + 1)
    assert loaded == ["transformers"] * 2 and len(list(cache.glob("*.npz"))) == PROBES + 1  # the new probe only
    assert more[0].verification is not None and more[0].verification.probes[:PROBES] == first[0].verification.probes


def test_a_fresh_source_is_neither_read_nor_written(tiny_qwen3_256: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setattr(source_cache, "default_dir", lambda: cache)
    loaded = _counting_sources(monkeypatch)
    [result] = run_export(tiny_qwen3_256, "gguf", ["f16"], tmp_path, threads=1, probe_limit=1, verify=True,
                          reuse_source=False)
    assert loaded == ["transformers"] and result.passed and not cache.exists()


def _reference(probe_index: int = 0) -> Reference:
    probe = own_probes()[probe_index]
    logits = np.random.default_rng(probe_index).standard_normal((4, 1000)).astype(np.float32)
    return Reference(probe, [1, 2, 3], [7, 8, 9, 10], '<tool_call>\n{"name": "x", "arguments": {}}\n</tool_call>',
                     logits)


def test_a_reference_reads_back_exactly(tmp_path: Path) -> None:
    ref = _reference()
    key = source_cache.probe_key("a" * 64, ref.probe)
    source_cache.store(tmp_path, key, ref)
    back = source_cache.load(tmp_path, key, ref.probe)
    assert back is not None and back.logits.dtype == np.float32 and np.array_equal(back.logits, ref.logits)
    assert (back.prompt_tokens, back.tokens, back.text) == (ref.prompt_tokens, ref.tokens, ref.text)
    assert back.parsed == ref.parsed


def test_another_source_probe_or_setting_misses(tmp_path: Path) -> None:
    ref = _reference()
    key = source_cache.probe_key("a" * 64, ref.probe)
    source_cache.store(tmp_path, key, ref)
    others = [source_cache.probe_key("b" * 64, ref.probe), source_cache.probe_key("a" * 64, own_probes()[1]),
              source_cache.probe_key("a" * 64, ref.probe, positions=8),
              source_cache.probe_key("a" * 64, ref.probe, max_tokens=32),
              {**key, "code_sha256": "0" * 64}, {**key, "libraries": {**key["libraries"], "torch": "0.0"}}]
    for other in others:
        assert source_cache.path_for(tmp_path, other) != source_cache.path_for(tmp_path, key)
        assert source_cache.load(tmp_path, other, ref.probe) is None


@pytest.mark.parametrize("damage", ["truncate", "garbage", "other key"])
def test_a_damaged_file_is_deleted_and_reads_as_a_miss(tmp_path: Path, damage: str) -> None:
    ref = _reference()
    key = source_cache.probe_key("a" * 64, ref.probe)
    path = source_cache.store(tmp_path, key, ref)
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(b"\0" * 4096)
    else:  # a file renamed over another key's name
        other = source_cache.probe_key("b" * 64, ref.probe)
        source_cache.store(tmp_path, other, ref).replace(path)
    assert source_cache.load(tmp_path, key, ref.probe) is None
    assert not path.exists()


def test_the_code_a_reference_depends_on_is_hashed(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    before = source_cache.code_sha256()
    assert len(before) == 64
    for name in source_cache.CODE:
        assert Path(importlib.import_module(name).__file__ or "").is_file(), name
    source_cache.code_sha256.cache_clear()
    monkeypatch.setattr(source_cache, "CODE", source_cache.CODE[:-1])
    assert source_cache.code_sha256() != before
    source_cache.code_sha256.cache_clear()
