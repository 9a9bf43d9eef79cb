"""`edgefc bench` end to end on the tiny GGUF: results streamed per entry, resume after a kill, reports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgefc.bench.report import markdown, plot, tables
from edgefc.bench.runner import read_jsonl
from tests.bfcl_support import real_wheel

CATEGORIES = "simple_python,parallel,irrelevance"


def _bench(*args: str, home: Path, wheel: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "EDGEFC_HOME": str(home), "EDGEFC_BFCL_WHEEL": str(wheel), "EDGEFC_NO_PROGRESS": "1"}
    return subprocess.Popen([sys.executable, "-m", "edgefc.cli", "bench", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


@pytest.fixture(scope="module")
def wheel() -> Path:
    return real_wheel()


def test_bfcl_suite_streams_scores_and_reports(tiny_gguf: Path, wheel: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = _bench(str(tiny_gguf), str(tiny_gguf), "--suite", "bfcl", "--categories", CATEGORIES, "--limit", "2",
                  "--max-tokens", "8", "--threads", "1", "--out", str(out), "--json", home=tmp_path, wheel=wheel)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr
    summary = json.loads(stdout)
    rows = list(read_jsonl(out / "results.jsonl"))
    assert len(rows) == 2 * 2 * 3  # two models (the same file twice), two entries, three categories
    assert {r["category"] for r in rows} == set(CATEGORIES.split(","))
    assert all(r["completion_tokens"] <= 8 and isinstance(r["valid"], bool) for r in rows)
    # A random model makes no call: it fails the call categories and passes irrelevance, under both decodings.
    assert all(r["valid"] == (r["category"] == "irrelevance") == r["valid_edgefc"] for r in rows)
    bfcl = summary["models"][0]["bfcl"]
    assert bfcl["scores"]["categories"]["irrelevance"]["accuracy"] == 1.0
    assert bfcl["scores"]["categories"]["simple_python"]["high"] < 1.0  # a real interval, not a point
    assert bfcl["response_tokens"]["mean"] > 0 and 0.0 <= bfcl["think_share"] <= 1.0
    assert summary["deltas"][0]["response_tokens"] == 0.0  # same file twice: no difference
    assert (out / "summary.json").is_file() and "| simple_python |" in (out / "report.md").read_text()


def test_resume_after_kill_loses_nothing(tiny_gguf: Path, wheel: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = (str(tiny_gguf), "--suite", "bfcl", "--categories", CATEGORIES, "--limit", "4", "--max-tokens", "24",
            "--threads", "1", "--out", str(out))
    proc = _bench(*args, home=tmp_path, wheel=wheel)
    deadline = time.time() + 300
    while time.time() < deadline and len(list(read_jsonl(out / "results.jsonl"))) < 3:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = list(read_jsonl(out / "results.jsonl"))
    assert 3 <= len(before) < 12
    again = _bench(*args, "--resume", home=tmp_path, wheel=wheel)
    _, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr
    after = list(read_jsonl(out / "results.jsonl"))
    assert len(after) == 12 and len({r["id"] for r in after}) == 12
    assert after[: len(before)] == before  # what was scored before the kill is kept as it was


def test_results_without_resume_are_not_overwritten(tiny_gguf: Path, wheel: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "results.jsonl").write_text('{"model": "x", "id": "y"}\n')
    proc = _bench(str(tiny_gguf), "--suite", "bfcl", "--categories", "irrelevance", "--limit", "1", "--out", str(out),
                  home=tmp_path, wheel=wheel)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "use --resume" in stderr
    assert (out / "results.jsonl").read_text() == '{"model": "x", "id": "y"}\n'


def test_only_cpu(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "edgefc.cli", "bench", "--device", "cuda"], capture_output=True,
                          text=True)
    assert proc.returncode == 2 and proc.stderr.startswith("error: device 'cuda' is not supported")


def test_reports_from_a_summary(tmp_path: Path) -> None:
    category = {"n": 50, "correct": 40, "accuracy": 0.8, "low": 0.67, "high": 0.89}
    aggregates = [{"name": "overall", "value": 0.8, "formula": "mean(non_live, live, irrelevance)"}]
    scores = {"categories": {"simple_python": category}, "aggregates": aggregates}
    bfcl = {"entries": 50, "scores": scores, "scores_edgefc_decoding": scores,
            "response_tokens": {"by_category": {"simple_python": 22.7}, "mean": 22.7}, "think_share": 0.0,
            "wall_s": 100.0, "prompt_tokens": 20000, "prefill_tps": 120.0, "decode_tps": 22.0}
    latency = {"decode_tps": {"median": 22.0}, "cold_ttft_s": {"median": 2.5}, "warm_ttft_s": {"median": 0.2},
               "peak_rss_mb": 680.0, "file_bytes": 491_400_064, "raw_llama_cpp": {"decode_tps": {"median": 22.5}},
               "decode_ratio_vs_raw": 0.98}
    summary = {"suite": "full", "threads": 2, "seed": 0, "limit": 50, "wall_s": 100.0,
               "machine": {"platform": "linux"}, "models": [{"model": "a.gguf", "latency": latency, "bfcl": bfcl}],
               "deltas": []}
    assert plot(summary, tmp_path / "plot.png") and (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"
    md = markdown(summary)
    assert "| a.gguf | 80.0% | 80.0% | 22.0 |" in md and "mean(non_live, live, irrelevance)" in md
    assert len(tables(summary)) == 2
