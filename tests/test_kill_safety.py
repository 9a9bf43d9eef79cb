"""Long work killed with SIGKILL while it writes: nothing half-written sits under a final name, and `--resume` (or
a rerun) finishes with the same results as a run that was never killed. The kills come from outside, at points
found by watching the files the command writes (a row appended, a temporary appearing), as a power cut would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from tests.bfcl_support import real_wheel


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "EDGEFC_HOME": str(home), "EDGEFC_BFCL_WHEEL": str(real_wheel()), "HF_HUB_OFFLINE": "1",
            "EDGEFC_NO_PROGRESS": "1"}


def _run(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edgefc.cli", *args], capture_output=True, text=True,
                          env=_env(home), timeout=600)


def _kill_when(args: list[str], home: Path, ready: Callable[[], bool], timeout: float = 300.0) -> bool:
    """Start the command and SIGKILL it as soon as `ready()` holds; False if it finished first."""
    proc = subprocess.Popen([sys.executable, "-m", "edgefc.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=_env(home))
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None:
            if ready():
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return True
            assert time.monotonic() < deadline, "the command neither finished nor reached the kill point"
            time.sleep(0.005)
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _rows(path: Path) -> dict[tuple[str, str], dict]:
    keep = ("valid", "valid_edgefc", "decoded", "text", "completion_tokens")
    return {(r["model"], r["id"]): {k: r.get(k) for k in keep} for r in map(json.loads, path.read_text().splitlines())}


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _bench_args(tiny_gguf: Path) -> list[str]:
    return ["bench", str(tiny_gguf), "--suite", "bfcl", "-c", "simple_python,irrelevance", "-n", "3",
            "--max-tokens", "16", "--threads", "1"]


@pytest.fixture(scope="module")
def whole_bench(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bench run without a kill, the reference of every killed one."""
    home = tmp_path_factory.mktemp("whole-bench")
    assert _run([*_bench_args(tiny_gguf), "--out", str(home / "run")], home).returncode == 0
    return home / "run"


@pytest.mark.parametrize("kill_at_rows", [0, 1, 3])
def test_a_killed_bench_resumes_to_the_same_results(tiny_gguf: Path, tmp_path: Path, kill_at_rows: int,
                                                    whole_bench: Path) -> None:
    """Killed before its first row, after one, after three: no summary is left as if the run were done, every row
    written is whole, and --resume ends with the rows an unkilled run writes."""
    common, whole = _bench_args(tiny_gguf), whole_bench
    killed = tmp_path / "killed"
    results = killed / "results.jsonl"
    at_point = (lambda: (killed / "run.json").is_file()) if kill_at_rows == 0 else (
        lambda: _lines(results) >= kill_at_rows)
    assert _kill_when([*common, "--out", str(killed)], tmp_path, at_point)
    assert not (killed / "summary.json").exists() and not (killed / "report.md").exists()
    for line in results.read_text().splitlines() if results.exists() else []:
        if line.strip():
            json.loads(line)  # whole rows only, or a last partial one that the resume sets aside
    resumed = _run([*common, "--out", str(killed), "--resume"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert _rows(results) == _rows(whole / "results.jsonl")
    def scores(folder: Path) -> list[dict]:  # the verdicts (times differ from run to run)
        return [(m["bfcl"]["entries"], m["bfcl"]["scores"]) for m in
                json.loads((folder / "summary.json").read_text())["models"]]
    assert scores(killed) == scores(whole)


def test_a_killed_export_leaves_no_final_file_and_a_rerun_makes_the_same_bytes(tiny_qwen3: Path,
                                                                              tmp_path: Path) -> None:
    """Killed while a quant's temporary is being written: no GGUF or manifest under a final name; the rerun
    clears the dead run's temporaries and writes files identical to an unkilled export's."""
    args = ["export", str(tiny_qwen3), "--format", "gguf", "--quant", "f16,q8_0", "--no-verify", "--no-modelfile"]
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert _run([*args, "-o", str(whole)], tmp_path).returncode == 0
    killed.mkdir()
    assert _kill_when([*args, "-o", str(killed)], tmp_path,
                      lambda: any(p.name.endswith(".partial") and p.stat().st_size > 0 for p in killed.iterdir()))
    finals = [p for p in killed.iterdir() if not p.name.startswith(".")]
    assert not [p for p in finals if p.suffix == ".gguf" or p.name.endswith(".manifest.json")], finals
    again = _run([*args, "-o", str(killed)], tmp_path)
    assert again.returncode == 0, again.stderr
    assert not [p for p in killed.iterdir() if p.name.endswith(".partial")]  # the dead run's temporaries are gone
    for made in sorted(whole.glob("*.gguf")):
        assert (killed / made.name).read_bytes() == made.read_bytes(), made.name


def test_a_killed_tune_resumes_to_the_same_verdicts(tiny_qwen3: Path, tmp_path: Path) -> None:
    """Killed once its bench has begun (the exports done): --resume reuses the exports, finishes the bench, and
    weighs every file as an unkilled tune does (accuracy, loss and gate; speeds are measured again)."""
    args = ["tune", str(tiny_qwen3), "--formats", "gguf", "--quants", "q8_0", "--budget", "100",
            "-c", "simple_python", "-n", "2", "--threads", "1", "--probes", "2", "--max-tokens", "16"]
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    first = _run([*args, "-o", str(whole)], tmp_path)
    assert first.returncode == 0, first.stderr
    assert _kill_when([*args, "-o", str(killed)], tmp_path, lambda: _lines(killed / "bench" / "results.jsonl") >= 2)
    assert not (killed / "tune.json").exists()
    resumed = _run([*args, "-o", str(killed), "--resume"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr

    def verdicts(folder: Path) -> list[tuple]:
        tune = json.loads((folder / "tune.json").read_text())
        return [(r["quant"], r["accuracy"], r["loss"]["points"] if r["loss"] else None, r["gate_passed"])
                for r in tune["candidates"]]
    assert verdicts(killed) == verdicts(whole)
    assert json.loads((killed / "tune.json").read_text())["reused"] == ["gguf:q8_0"]
