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
from edgefc.bench.summary import BenchSummary
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
    assert bfcl["unclosed_calls"] == sum({r["id"]: r["unclosed_calls"] for r in rows}.values())  # one per entry
    assert summary["deltas"][0]["response_tokens"] == 0.0  # same file twice: no difference
    assert (out / "summary.json").is_file() and "| simple_python |" in (out / "report.md").read_text()


def test_resume_after_kill_loses_nothing(tiny_gguf: Path, wheel: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    # Free decoding runs the random model to max_tokens on every entry: rows slow enough to kill the run midway
    # (under the grammar it finishes a call in a few steps, and the whole run in a blink).
    args = (str(tiny_gguf), "--suite", "bfcl", "--categories", CATEGORIES, "--limit", "4", "--max-tokens", "64",
            "--threads", "1", "--constrain", "off", "--out", str(out))
    proc = _bench(*args, home=tmp_path, wheel=wheel)
    deadline = time.time() + 300
    while time.time() < deadline and len(list(read_jsonl(out / "results.jsonl"))) < 3:
        time.sleep(0.02)
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
    proc = _bench(str(tiny_gguf), "--suite", "quick", "--categories", "irrelevance", "--limit", "1", "--out",
                  str(out), home=tmp_path, wheel=wheel)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "use --resume" in stderr
    assert (out / "results.jsonl").read_text() == '{"model": "x", "id": "y"}\n'
    assert sorted(p.name for p in out.iterdir()) == ["results.jsonl"]  # refused before any latency was measured
    again = _bench(str(tiny_gguf), "--suite", "bfcl", "--categories", "irrelevance", "--limit", "1", "--out",
                   str(out), "--resume", home=tmp_path, wheel=wheel)
    _, stderr = again.communicate(timeout=300)
    assert again.returncode == 2 and "has no run.json, so its settings are unknown" in stderr


def _tiny_run(out: Path, tiny_gguf: Path, *extra: str) -> tuple[str, ...]:
    return (str(tiny_gguf), "--suite", "bfcl", "--categories", "irrelevance,parallel", "--limit", "2",
            "--max-tokens", "4", "--threads", "1", "--out", str(out), *extra)


def test_resume_with_other_settings_refuses(tiny_gguf: Path, wheel: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = _bench(*_tiny_run(out, tiny_gguf), home=tmp_path, wheel=wheel)
    assert first.communicate(timeout=600) and first.returncode == 0
    saved = json.loads((out / "run.json").read_text())
    assert saved["settings"]["max_tokens"] == 4 and saved["settings"]["prompt_format"].startswith("bfcl-eval 2026")
    assert {c: len(ids) for c, ids in saved["plan"].items()} == {"irrelevance": 2, "parallel": 2}
    before = (out / "results.jsonl").read_text()
    again = _bench(*_tiny_run(out, tiny_gguf, "--resume", "--max-tokens", "5"), home=tmp_path, wheel=wheel)
    _, stderr = again.communicate(timeout=600)
    assert again.returncode == 2
    assert stderr.strip() == (f"error: cannot resume {out}: the run in this folder has max_tokens 4, not 5; use the "
                              "same settings or --out for a new run")
    assert (out / "results.jsonl").read_text() == before
    same = _bench(*_tiny_run(out, tiny_gguf, "--resume"), home=tmp_path, wheel=wheel)
    _, stderr = same.communicate(timeout=600)
    assert same.returncode == 0, stderr
    assert (out / "results.jsonl").read_text() == before  # nothing left to do


def test_a_torn_line_loses_nothing(tiny_gguf: Path, wheel: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = _bench(*_tiny_run(out, tiny_gguf), home=tmp_path, wheel=wheel)
    assert first.communicate(timeout=600) and first.returncode == 0
    lines = (out / "results.jsonl").read_text().splitlines(keepends=True)
    lost = json.loads(lines[-1])
    # A kill in the middle of writing the last row: half of it on disk, no newline.
    (out / "results.jsonl").write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])
    again = _bench(*_tiny_run(out, tiny_gguf, "--resume", "--json"), home=tmp_path, wheel=wheel)
    stdout, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr
    rows = list(read_jsonl(out / "results.jsonl"))
    assert len(rows) == 4 and rows[-1]["id"] == lost["id"]  # rescored, on a line of its own
    assert json.loads(stdout)["models"][0]["bfcl"]["entries"] == 4


def test_failed_entries_are_rows_and_the_run_goes_on(tiny_gguf: Path, wheel: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from edgefc import runtimes
    from edgefc.bfcl import data, prompts
    from edgefc.bench.runner import BenchConfig, run
    from edgefc.runtimes.llamacpp import LlamaCppRuntime

    monkeypatch.setenv(data.WHEEL_ENV, str(wheel))
    entries = data.load_category("irrelevance", limit=2) + data.load_category("live_multiple", limit=2)
    probe = LlamaCppRuntime(tiny_gguf, threads=1)
    lengths = sorted(len(probe.tokenize(probe.render(*prompts.build(e)))) for e in entries)
    probe.close()
    # A model whose context holds the shorter prompts only: the longer ones cannot run.
    n_ctx = lengths[1] + 8
    monkeypatch.setattr(runtimes, "load", lambda model, runtime=None, threads=None, **_: LlamaCppRuntime(
        tiny_gguf, threads=threads, n_ctx=n_ctx))
    out, summary = run(BenchConfig([str(tiny_gguf)], suite="bfcl", categories=["irrelevance", "live_multiple"],
                                   limit=2, threads=1, max_tokens=4, out=tmp_path / "run"))
    rows = list(read_jsonl(out / "results.jsonl"))
    failed = [r for r in rows if "error" in r]
    assert len(rows) == 4 and len(failed) == sum(n + 4 > n_ctx for n in lengths) == 2
    assert all(r["valid"] is False and r["valid_edgefc"] is False and r["error_type"] == "edgefc:generation_failed"
               and "exceeds the context" in r["error"] for r in failed)
    bfcl = summary.models[0].bfcl
    assert bfcl.entries == 4 and bfcl.failed == 2
    for category in ("irrelevance", "live_multiple"):  # a failed row counts in n, never as correct
        score = bfcl.scores.categories[category]
        assert score.n == 2 and score.correct <= 2 - sum(r["category"] == category for r in failed)
    assert "2 failed to run, counted wrong" in (out / "report.md").read_text()


def test_summary_counts_each_planned_entry_once(tmp_path: Path) -> None:
    from edgefc.bench.report import build_summary

    def row(model: str, id: str, valid: bool) -> dict:
        return {"model": model, "category": "multiple", "id": id, "valid": valid, "valid_edgefc": valid,
                "prompt_tokens": 100, "cached_tokens": 40, "completion_tokens": 5, "ttft_s": 0.5, "decode_tps": 20.0,
                "total_s": 1.0, "think": False}

    rows = [row("a", "multiple_0", False), row("a", "multiple_1", True),
            row("a", "multiple_0", True),  # a crash and resume scored it again: the last row counts
            row("a", "multiple_9", False),  # not in this run's plan
            row("b", "multiple_0", False), row("b", "multiple_1", False)]
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    meta = {"suite": "bfcl", "models": ["a", "b"], "constrain": "on", "threads": 1, "seed": 0, "limit": 2,
            "machine": {"platform": "linux"}}
    summary = build_summary(tmp_path, meta, {"multiple_0", "multiple_1"})
    a, b = (m.bfcl for m in summary.models)
    assert (a.entries, a.scores.categories["multiple"].correct) == (2, 2)
    assert (b.entries, b.scores.categories["multiple"].correct) == (2, 0)
    assert (a.prompt_tokens, a.cached_tokens, a.evaluated_tokens) == (200, 80, 120)
    paired = summary.deltas[0]["bfcl_paired"]["categories"]["multiple"]
    assert (paired["n"], paired["delta"], paired["lost"]) == (2, -1.0, 2)
    assert summary.deltas[0]["against"] == "a" and "| | b vs a |" in markdown(summary)
    assert len(tables(summary)) == 3
    written = json.loads((tmp_path / "summary.json").read_text())  # the JSON as it always was, read back whole
    assert written["models"][0]["bfcl"]["scores"]["categories"]["multiple"]["correct"] == 2
    assert BenchSummary.from_dict(written) == summary and BenchSummary.from_dict(written).to_dict() == written


def test_files_of_the_same_name_are_told_apart_by_their_folders(tmp_path: Path) -> None:
    from edgefc.bench.report import build_summary, display_names

    assert display_names(["/r/s1/model-q4.gguf", "/r/s2/model-q4.gguf", "/r/base.gguf", "/x/m.gguf [free]",
                          "/x/m.gguf [constrained]"]) == {
        "/r/s1/model-q4.gguf": "s1/model-q4.gguf", "/r/s2/model-q4.gguf": "s2/model-q4.gguf",
        "/r/base.gguf": "base.gguf", "/x/m.gguf [free]": "m.gguf [free]",
        "/x/m.gguf [constrained]": "m.gguf [constrained]"}
    assert display_names(["catalog-name"]) == {"catalog-name": "catalog-name"}
    models = ["/r/s1/model-q4.gguf", "/r/s2/model-q4.gguf"]
    rows = [{"model": m, "category": "multiple", "id": "multiple_0", "valid": v, "valid_edgefc": v,
             "prompt_tokens": 10, "cached_tokens": 0, "completion_tokens": 5, "ttft_s": 0.5, "decode_tps": 20.0,
             "total_s": 1.0, "think": False} for m, v in zip(models, (True, False))]
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    meta = {"suite": "bfcl", "models": models, "constrain": "on", "threads": 1, "seed": 0, "limit": 1,
            "machine": {"platform": "linux"}}
    summary = build_summary(tmp_path, meta, {"multiple_0"})
    md = markdown(summary)
    assert "| s1/model-q4.gguf |" in md and "| | s2/model-q4.gguf vs s1/model-q4.gguf |" in md
    assert [c.header for c in tables(summary)[1].columns][1:] == ["s1/model-q4.gguf", "s2/model-q4.gguf"]


def test_entries_run_grouped_by_prefix_and_scores_are_keyed_by_id(tiny_gguf: Path, wheel: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from edgefc.bfcl import data, prompts
    from edgefc.bench.report import latest_rows
    from edgefc.bench.runner import BenchConfig, by_prefix, run_bfcl

    monkeypatch.setenv(data.WHEEL_ENV, str(wheel))
    entries = data.load_category("live_multiple")
    keys = [prompts.prefix_key(e) for e in entries]
    shared = next(k for k in keys if keys.count(k) >= 3)
    chosen = [e for e, k in zip(entries, keys) if k == shared][:3] + entries[:3]
    ordered = by_prefix(chosen[::-1])
    assert ordered == by_prefix(chosen)  # deterministic: the input order does not matter
    order_keys = [prompts.prefix_key(e) for e in ordered]
    assert all(order_keys[i] <= order_keys[i + 1] for i in range(len(ordered) - 1))
    same = [e for e in ordered if prompts.prefix_key(e) == shared]
    assert [e.id for e in same] == sorted(e.id for e in same)  # ties by id
    cfg = BenchConfig([str(tiny_gguf)], threads=1, max_tokens=2)
    grouped, by_id = tmp_path / "grouped", tmp_path / "by-id"
    for folder, order in ((grouped, by_prefix), (by_id, lambda es: sorted(es, key=lambda e: e.id))):
        folder.mkdir()
        run_bfcl(cfg, folder, chosen, order=order)
    rows = list(read_jsonl(grouped / "results.jsonl"))
    assert [r["id"] for r in rows] == [e.id for e in ordered]
    # Within the shared group, every entry after the first finds the system + tools prefix in the cache.
    group = [r for r in rows if r["id"] in {e.id for e in same}]
    assert all(r["cached_tokens"] > 0.5 * r["prompt_tokens"] for r in group[1:])
    evaluated = {f.name: sum(r["prompt_tokens"] - r["cached_tokens"] for r in read_jsonl(f / "results.jsonl"))
                 for f in (grouped, by_id)}
    assert evaluated["grouped"] < evaluated["by-id"]
    # The same verdicts by id, whatever order produced the rows.
    planned = {e.id for e in chosen}
    verdicts = [{r["id"]: r["valid"] for r in latest_rows(read_jsonl(f / "results.jsonl"), cfg.models, planned)[
        str(tiny_gguf)]} for f in (grouped, by_id)]
    assert verdicts[0] == verdicts[1] and len(verdicts[0]) == 6


def test_a_hung_latency_run_is_stopped(tiny_gguf: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = _bench(str(tiny_gguf), "--suite", "latency", "--latency-timeout", "0.5", "--threads", "1", "--out",
                  str(out), home=tmp_path, wheel=tmp_path / "unused.whl")
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert stderr.count("\n") == 1 and stderr.startswith(f"error: the latency run of {tiny_gguf} did not finish "
                                                          "within 0.5 s and was stopped")
    assert sorted(p.name for p in out.iterdir()) == ["run.json"]  # no latency.json, no temporary left


def test_only_cpu(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "edgefc.cli", "bench", "--device", "cuda"], capture_output=True,
                          text=True)
    assert proc.returncode == 2 and proc.stderr.startswith("error: device 'cuda' is not supported")


def test_unknown_constrain_mode_is_refused_before_anything_runs(tmp_path: Path) -> None:
    proc = _bench("--constrain", "maybe", "--out", str(tmp_path / "run"), home=tmp_path, wheel=tmp_path / "unused")
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2 and stderr == "error: unknown --constrain 'maybe'; choose one of on, off, both\n"
    assert not (tmp_path / "run").exists()


def test_constrain_both_runs_each_model_constrained_and_free(tiny_gguf: Path, wheel: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = _bench(*_tiny_run(out, tiny_gguf, "--constrain", "both", "--max-tokens", "8", "--json"), home=tmp_path,
                  wheel=wheel)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr
    constrained, free = f"{tiny_gguf} [constrained]", f"{tiny_gguf} [free]"
    rows = list(read_jsonl(out / "results.jsonl"))
    by_label = {label: [r for r in rows if r["model"] == label] for label in (constrained, free)}
    assert len(rows) == 8 and [r["id"] for r in by_label[constrained]] == [r["id"] for r in by_label[free]]
    assert all(r["constrain"] and r["grammar_s"] > 0 for r in by_label[constrained])
    assert all(not r["constrain"] and r["grammar_s"] == 0 == r["forced_tokens"] for r in by_label[free])
    summary = json.loads(stdout)
    assert summary["constrain"] == json.loads((out / "run.json").read_text())["settings"]["constrain"] == "both"
    first, second = summary["models"]
    assert [(m["model"], m["constrain"]) for m in (first, second)] == [(constrained, True), (free, False)]
    generated = sum(r["completion_tokens"] for r in by_label[constrained])
    assert first["bfcl"]["grammar_ms_per_token"] == pytest.approx(
        1000 * sum(r["grammar_s"] for r in by_label[constrained]) / generated)
    assert first["bfcl"]["forced_share"] == sum(r["forced_tokens"] for r in by_label[constrained]) / generated
    assert second["bfcl"]["grammar_ms_per_token"] is None and second["bfcl"]["forced_share"] is None
    (delta,) = summary["deltas"]  # what free decoding costs, paired on the same entries
    assert (delta["model"], delta["against"]) == (free, constrained)
    assert {c: d["n"] for c, d in delta["bfcl_paired"]["categories"].items()} == {"parallel": 2, "irrelevance": 2}
    report = (out / "report.md").read_text()
    assert f"## {tiny_gguf.name} [constrained]" in report and f"## {tiny_gguf.name} [free]" in report
    assert f"| | {tiny_gguf.name} [free] vs {tiny_gguf.name} [constrained] |" in report
    assert f"| {tiny_gguf.name} [free] |" in report
    before = (out / "results.jsonl").read_text()
    again = _bench(*_tiny_run(out, tiny_gguf, "--constrain", "on", "--max-tokens", "8", "--resume"), home=tmp_path,
                   wheel=wheel)
    _, stderr = again.communicate(timeout=600)
    assert again.returncode == 2 and (out / "results.jsonl").read_text() == before
    assert stderr == (f"error: cannot resume {out}: the run in this folder has constrain 'both', not 'on'; use the "
                      "same settings or --out for a new run\n")


def test_a_model_is_loaded_once_for_both_decodings(tiny_gguf: Path, wheel: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from edgefc import runtimes
    from edgefc.bfcl import data
    from edgefc.bench.runner import BenchConfig, run_bfcl
    from edgefc.runtimes.llamacpp import LlamaCppRuntime

    monkeypatch.setenv(data.WHEEL_ENV, str(wheel))
    loads = []
    monkeypatch.setattr(runtimes, "load", lambda model, runtime=None, threads=None, **_: loads.append(model) or
                        LlamaCppRuntime(Path(model), threads=threads))
    cfg = BenchConfig([str(tiny_gguf)], threads=1, max_tokens=2, constrain="both")
    run_bfcl(cfg, tmp_path, data.load_category("irrelevance", limit=2))
    rows = list(read_jsonl(tmp_path / "results.jsonl"))
    assert loads == [str(tiny_gguf)]
    assert [(r["model"].removeprefix(str(tiny_gguf)), r["constrain"]) for r in rows] == [
        (" [constrained]", True)] * 2 + [(" [free]", False)] * 2  # variant by variant, constrained first


def test_reports_from_a_summary(tmp_path: Path) -> None:
    category = {"n": 50, "correct": 40, "accuracy": 0.8, "low": 0.67, "high": 0.89}
    aggregates = [{"name": "overall", "value": 0.8, "formula": "mean(non_live, live, irrelevance)"}]
    scores = {"categories": {"simple_python": category}, "aggregates": aggregates}
    bfcl = {"entries": 50, "failed": 1, "scores": scores, "scores_edgefc_decoding": scores,
            "response_tokens": {"by_category": {"simple_python": 22.7}, "mean": 22.7}, "think_share": 0.0,
            "unclosed_calls": 1, "wall_s": 100.0, "prompt_tokens": 20000, "cached_tokens": 15000, "evaluated_tokens": 5000,
            "prefill_tps": 120.0, "decode_tps": 22.0}
    latency = {"decode_tps": {"median": 22.0}, "cold_ttft_s": {"median": 2.5}, "warm_ttft_s": {"median": 0.2},
               "peak_rss_mb": 680.0, "file_bytes": 491_400_064, "raw_llama_cpp": {"decode_tps": {"median": 22.5}},
               "decode_ratio_vs_raw": 0.98}
    spread = lambda median: {"median": median}  # noqa: E731
    constrained = {**latency, "decode_tps": spread(30.0), "decode_ratio_vs_raw": None, "e2e_s": spread(0.9),
                   "e2e_warm_s": spread(0.5), "grammar_ms_per_token": 0.4, "forced_share": 0.25,
                   "jump_forward_off": {"e2e_s": spread(1.2), "e2e_warm_s": spread(0.7), "decode_tps": spread(21.0)},
                   "grammar_decode_ratio_vs_raw": 0.93}
    # an older folder's summary.json: no "constrain" or "source" per model, no grammar figures in its BFCL block
    summary = BenchSummary.from_dict({
        "suite": "full", "threads": 2, "seed": 0, "limit": 50, "wall_s": 100.0, "machine": {"platform": "linux"},
        "models": [{"model": "a.gguf", "latency": latency, "bfcl": bfcl},
                   {"model": "a.gguf [constrained]", "latency": constrained}], "deltas": []})
    assert plot(summary, tmp_path / "plot.png") and (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"
    md = markdown(summary)
    assert "| a.gguf | 80.0% | 80.0% | 22.0 |" in md and "mean(non_live, live, irrelevance)" in md
    assert "unclosed <tool_call> 1 ·" in md
    assert "(1 failed to run, counted wrong)" in md and "(evaluated 5,000, from the prefix cache 15,000)" in md
    assert md.count("| - | - | x0.98 |") == 1  # a free variant: grammar figures empty, the overhead ratio as is
    assert "| 0.40 | 25% | x0.93 grammar, jf off |" in md  # a constrained one: named for what it measures
    assert "| a.gguf [constrained] | 0.900 | 1.200 | 0.500 | 0.700 | 30.0 | 21.0 |" in md  # jump-forward on, off
    assert [t.title.split(":")[0] for t in tables(summary)] == [
        "edgefc bench · suite full · 2 threads", "Jump-forward on vs off", "BFCL accuracy by category"]
