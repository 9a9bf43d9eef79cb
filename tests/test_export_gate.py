"""Nothing unverified under a final name: files are verified where they were written (a temporary), published
only when they pass their quant's gate, and a failing export exits 1; disk and concurrency errors leave nothing."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from edgefc.cli import app
from edgefc.errors import EdgefcError
from edgefc.export import pipeline
from edgefc.export.gate import Gate, parse_gate
from edgefc.export.gguf import GGUF_QUANTS
from edgefc.export.manifest import manifest_path
from edgefc.export.onnx import ONNX_QUANTS
from edgefc.export.pipeline import run_export
from tests.bfcl_support import real_wheel

NEVER = {"kl_mean_max": -1.0}  # no file has a negative KL: every one fails


@pytest.fixture(autouse=True)
def _bfcl_wheel() -> None:
    real_wheel()


def _visible(folder: Path) -> list[str]:
    """What a run left in `folder`, its log aside."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".export.log"))


def test_every_quant_carries_its_gate() -> None:
    for quant in [*GGUF_QUANTS.values(), *ONNX_QUANTS.values()]:
        assert isinstance(quant.gate, Gate) and 0 < quant.gate.tool_calls_min <= 1
    assert GGUF_QUANTS["f16"].gate.kl_mean_max < GGUF_QUANTS["q4_K_M"].gate.kl_mean_max
    assert ONNX_QUANTS["int8"].gate.kl_mean_max < ONNX_QUANTS["int8-dynamic"].gate.kl_mean_max


def test_gate_option_parses_and_refuses_nonsense() -> None:
    assert parse_gate("kl=0.05, greedy=90%,calls=0.8") == {"kl_mean_max": 0.05, "greedy_min": 0.9,
                                                           "tool_calls_min": 0.8}
    assert parse_gate(None) == {}
    with pytest.raises(EdgefcError, match="unknown gate 'kll'"):
        parse_gate("kll=1")
    with pytest.raises(EdgefcError, match="needs a number"):
        parse_gate("calls=most")


def test_gate_names_each_shortfall() -> None:
    gate = Gate(kl_mean_max=0.01, greedy_min=0.9, tool_calls_min=0.8)
    assert gate.judge(0.001, 0.95, 0.85, 0) == []
    assert gate.judge(0.02, 0.5, 0.62, 1) == ["KL 2.0e-02 > 1e-02", "greedy 50.0% < 90%", "calls 62% < 80%",
                                              "prompt tokens differ on 1"]


def test_a_kept_failure_is_named_so() -> None:
    assert pipeline.failed_name(Path("out/m-q4_0.gguf")) == Path("out/m-q4_0-FAILED.gguf")
    assert pipeline.failed_name(Path("out/qwen2.5-0.5b-int4-onnx")) == Path("out/qwen2.5-0.5b-int4-onnx-FAILED")


def test_failing_file_is_not_published(tiny_qwen3_256: Path, tmp_path: Path) -> None:
    [result] = run_export(tiny_qwen3_256, "gguf", ["f16"], tmp_path, threads=1, probe_limit=2, gate_overrides=NEVER)
    assert result.passed is False and result.path is None and result.failures[0].startswith("KL")
    assert _visible(tmp_path) == []  # no final name, no manifest, no temporary


def test_verification_happens_before_the_rename(tiny_qwen3_256: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Path] = []
    real_compare = pipeline.compare

    def spy(exported: Any, ref: Any) -> Any:
        seen.append(Path(exported.path))
        assert not (tmp_path / f"{tiny_qwen3_256.name}-f16.gguf").exists()
        return real_compare(exported, ref)

    monkeypatch.setattr(pipeline, "compare", spy)
    [result] = run_export(tiny_qwen3_256, "gguf", ["f16"], tmp_path, threads=1, probe_limit=2)
    assert result.passed and result.path == tmp_path / f"{tiny_qwen3_256.name}-f16.gguf" and result.path.exists()
    assert seen and all(p.name.endswith(".partial") and p.parent == tmp_path for p in seen)
    assert _visible(tmp_path) == [result.path.name, manifest_path(result.path).name]


def test_cli_exits_1_and_keeps_a_failed_file_only_when_asked(tiny_qwen3_256: Path, tmp_path: Path) -> None:
    args = ["export", str(tiny_qwen3_256), "-f", "gguf", "-q", "f16", "-o", str(tmp_path), "--probes", "2",
            "-t", "1", "--gate", "kl=-1", "--json"]
    result = CliRunner().invoke(app, [*args, "--keep-failed"])
    assert result.exit_code == 1, result.output
    failed = tmp_path / f"{tiny_qwen3_256.name}-f16-FAILED.gguf"
    assert _visible(tmp_path) == sorted([failed.name, manifest_path(failed).name])
    manifest = json.loads(manifest_path(failed).read_text())
    assert manifest["passed"] is False and manifest["failures"][0].startswith("KL")
    assert manifest["gate"]["kl_mean_max"] == -1.0 and manifest["path"] == failed.name
    passing = CliRunner().invoke(app, [*args[:-3], "--gate", "kl=1,greedy=0,calls=0", "--json"])
    assert passing.exit_code == 0, passing.output
    assert (tmp_path / f"{tiny_qwen3_256.name}-f16.gguf").is_file()


def test_not_enough_space_refuses_before_any_work(tiny_qwen3_256: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=10_000_000))
    with pytest.raises(EdgefcError, match=r"needs about 0\.\d GB but .* has 0\.0 GB free"):
        run_export(tiny_qwen3_256, "gguf", ["f16", "q4_K_M"], tmp_path, verify=False)
    assert list(tmp_path.iterdir()) == []


def test_disk_full_while_writing_is_one_sentence(tiny_qwen3_256: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def full(hf_dir: Path, out: Path, quant: str, **kwargs: Any) -> None:
        out.write_bytes(b"GGUF half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pipeline.gguf_export, "write_gguf", full)
    with pytest.raises(EdgefcError, match="no space left on the device"):
        run_export(tiny_qwen3_256, "gguf", ["f16"], tmp_path, verify=False)
    assert _visible(tmp_path) == []


def test_a_live_runs_temporaries_survive_a_forced_export(tiny_qwen3_256: Path, tmp_path: Path) -> None:
    final = tmp_path / f"{tiny_qwen3_256.name}-f16.gguf"
    live = tmp_path / f".{final.name}.{os.getppid()}.abcd1234.partial"  # our parent: a live process
    live.write_bytes(b"another run's work")
    run_export(tiny_qwen3_256, "gguf", ["f16"], tmp_path, verify=False, force=True)
    assert live.read_bytes() == b"another run's work" and final.is_file()
