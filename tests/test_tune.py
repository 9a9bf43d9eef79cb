"""`edgefc tune`: candidates from the registries, exports reused by manifest, the Pareto fronts and the budget
rule on made-up tables, and the whole loop on the tiny Qwen3 (export once, bench, recommend, resume, pick)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edgefc.bench.runner import read_jsonl
from edgefc.export.tune.candidates import Candidate, existing_export, plan_candidates
from edgefc.export.tune.front import change_sentence, fronts, pareto_front, recommend, signed
from edgefc.export.tune.report import markdown, plot, table
from edgefc.export.tune.run import RUNS, TuneConfig, WallClock, run_tune
from edgefc.errors import EdgefcError
from edgefc.export.gguf import GGUF_QUANTS
from edgefc.export.manifest import folder_sha256, write_manifest
from edgefc.export.onnx import ONNX_QUANTS
from edgefc.export.pipeline import run_export
from tests.bfcl_support import real_wheel


def _row(label: str, accuracy: float | None, loss: float | None, decode: float | None, prefill: float, rss: float,
         size: float) -> dict[str, Any]:
    return {"label": label, "name": label, "format": "gguf", "quant": label, "accuracy": accuracy,
            "loss": None if loss is None else {"points": loss, "low": loss - 2.0, "high": loss + 2.0},
            "decode_tps": decode, "prefill_tps": prefill, "peak_rss_mb": rss, "size_mb": size}


# Made up: f16 is as good as the source but big and slow; q8 loses a little; q4_0 is fastest and loses more;
# q4_K_M is worse than q4_0 everywhere but size; slow_q4 is dominated by q4_0 on every axis; nodec has no decode.
TABLE = [
    _row("f16", 0.50, 0.0, 30.0, 150.0, 1200.0, 990.0),
    _row("q8", 0.49, 1.0, 45.0, 250.0, 700.0, 530.0),
    _row("q4_0", 0.46, 4.0, 67.0, 302.0, 500.0, 350.0),
    _row("q4_K_M", 0.45, 5.0, 43.0, 221.0, 520.0, 340.0),
    _row("slow_q4", 0.44, 6.0, 40.0, 200.0, 600.0, 400.0),
    _row("nodec", 0.52, -2.0, None, 100.0, 2000.0, 2000.0),
]


def test_pareto_front_on_a_made_up_table() -> None:
    assert pareto_front(TABLE, ["decode"]) == ["f16", "q8", "q4_0"]  # nodec has no decode; the rest dominated
    assert pareto_front(TABLE, ["size"]) == ["f16", "q8", "q4_0", "q4_K_M", "nodec"]  # q4_K_M: smallest
    assert pareto_front(TABLE, ["memory"]) == ["f16", "q8", "q4_0", "nodec"]
    both = fronts(TABLE)
    assert "slow_q4" not in both["all"] and "q4_K_M" in both["all"] and "nodec" not in both["all"]
    assert set(both) == {"decode", "prefill", "memory", "size", "all"}


def test_a_tie_is_not_domination() -> None:
    twins = [_row("a", 0.5, 0.0, 50.0, 1.0, 1.0, 1.0), _row("b", 0.5, 0.0, 50.0, 1.0, 1.0, 1.0)]
    assert pareto_front(twins, ["decode", "size"]) == ["a", "b"]


def test_budget_rule_picks_the_fastest_file_within_budget() -> None:
    assert recommend(TABLE, 1.0, "decode")["label"] == "q8"  # loss 1.0 is within a budget of 1.0
    assert recommend(TABLE, 0.5, "decode")["label"] == "f16"
    assert recommend(TABLE, 4.0, "decode")["label"] == "q4_0"
    assert recommend(TABLE, 100.0, "prefill")["label"] == "q4_0"
    chosen = recommend(TABLE, 1.0, "decode")
    assert "loses 1.0 points [95% paired interval -1.0, +3.0]" in chosen["why"]
    # A file better than the source on these entries gains, with the interval of the gain.
    assert "gains 2.0 points [95% paired interval +0.0, +4.0]" in recommend(TABLE[-1:], 0.0, "prefill")["why"]
    assert change_sentence({"points": -0.0, "low": -0.0, "high": 0.0}).startswith("the same accuracy")
    assert signed(-0.04) == "+0.0" and signed(-0.06) == "-0.1"
    ties = [_row("big", 0.5, 0.0, 50.0, 1.0, 1.0, 900.0), _row("small", 0.5, 0.0, 50.0, 1.0, 1.0, 300.0)]
    assert recommend(ties, 1.0, "decode")["label"] == "small"


def test_budget_rule_says_when_nothing_fits() -> None:
    lossy = [r for r in TABLE if r["label"] in ("q4_0", "q4_K_M")]
    none = recommend(lossy, 1.0, "decode")
    assert none["label"] is None and "closest is q4_0 at 4.0 points" in none["why"]
    with pytest.raises(EdgefcError, match="speed"):
        recommend(TABLE, 1.0, "size")
    with pytest.raises(EdgefcError, match="negative"):
        recommend(TABLE, -1.0, "decode")


def test_default_candidates_come_from_the_registries(tmp_path: Path) -> None:
    plan = plan_candidates(["gguf", "onnx"], None, "m", tmp_path)
    expected = [("gguf", q) for q, e in GGUF_QUANTS.items() if e.tune] + [
        ("onnx", q) for q, e in ONNX_QUANTS.items() if e.tune]
    assert [(c.format, c.quant) for c in plan] == expected
    assert {q for f, q in expected} >= {"f16", "q8_0", "q4_0", "q4_K_M", "q5_K_M", "int8", "int4"}
    assert plan[0].path == tmp_path / "m-f16.gguf" and plan[-1].path == tmp_path / "m-int4-onnx"
    named = plan_candidates(["gguf", "onnx"], ["Q4_0", "int4"], "m", tmp_path)
    assert [c.key for c in named] == ["gguf:q4_0", "onnx:int4"]
    with pytest.raises(EdgefcError, match="no chosen format has quant int4"):
        plan_candidates(["gguf"], ["int4"], "m", tmp_path)
    with pytest.raises(EdgefcError, match="unknown format 'tflite'"):
        plan_candidates(["tflite"], None, "m", tmp_path)


def test_an_export_is_reused_only_from_the_same_source_made_the_same_way(tmp_path: Path) -> None:
    gguf = tmp_path / "m-q4_0.gguf"
    gguf.write_bytes(b"weights")
    record = {"format": "gguf", "quant": "q4_0", "method": GGUF_QUANTS["q4_0"].method, "source": {"sha256": "abc"},
              "size_bytes": 7, "passed": True}
    write_manifest(gguf, record)
    c = Candidate("gguf", "q4_0", gguf)
    assert existing_export(c, "abc") == gguf
    assert existing_export(c, "other weights") is None
    assert existing_export(Candidate("gguf", "q8_0", gguf), "abc") is None  # the manifest names another quant
    for method in ({**GGUF_QUANTS["q4_0"].method, "ftype": "MOSTLY_Q4_1"}, None):  # changed, or not recorded
        write_manifest(gguf, {**record, "method": method})
        assert existing_export(c, "abc") is None
    write_manifest(gguf, record)
    gguf.write_bytes(b"truncated")  # a file that changed since its manifest
    assert existing_export(c, "abc") is None
    folder = tmp_path / "m-int8-onnx"  # an ONNX folder keeps its manifest inside, not counted in its size
    folder.mkdir()
    (folder / "model.onnx").write_bytes(b"12345")
    onnx_record = {"format": "onnx", "quant": "int8", "source": {"sha256": "abc"}, "size_bytes": 5}
    write_manifest(folder, {**onnx_record, "method": ONNX_QUANTS["int8"].method})
    assert existing_export(Candidate("onnx", "int8", folder), "abc") == folder
    # int8 made at accuracy level 0 (float activations), before the method moved to level 4: not reused
    write_manifest(folder, {**onnx_record, "method": {**ONNX_QUANTS["int8"].method, "accuracy_level": 0}})
    assert existing_export(Candidate("onnx", "int8", folder), "abc") is None
    failed = tmp_path / "m-q8_0-FAILED.gguf"  # kept by keep_failed: still a candidate, its verdict reported
    failed.write_bytes(b"w")
    write_manifest(failed, {**record, "quant": "q8_0", "method": GGUF_QUANTS["q8_0"].method, "size_bytes": 1,
                            "passed": False})
    assert existing_export(Candidate("gguf", "q8_0", tmp_path / "m-q8_0.gguf"), "abc") == failed


def test_reports_from_a_made_up_tune(tmp_path: Path) -> None:
    candidates = [_certified(r, 1, 0, 400, 3.0) if r["label"] == "q8" else r for r in TABLE if r["label"] != "nodec"]
    tune = {"metric": "overall", "settings": {"source": "/x/model", "budget": 1.0, "speed": "decode", "limit": 25, "seed": 0,
                         "threads": 2},
            "source": {k: v for k, v in _row("/x/model", 0.5, None, 10.0, 90.0, 2500.0, 2000.0).items()
                       if k not in ("format", "quant")}, "candidates": candidates,
            "fronts": fronts(candidates), "recommendation": recommend(candidates, 1.0, "decode"),
            "runs": [{"wall_s": 10.0}, {"wall_s": 5.0}], "wall_s": 15.0, "reused": ["gguf:f16"],
            "export_errors": {"onnx:int4": "boom"}}
    md = markdown(tune)
    assert "recommendation: q8: fastest by decode" in md and "| **q8** |" in md
    assert "not weighed: onnx:int4: boom" in md and "wall 15 s over 2 run(s)" in md
    assert "| q4_0 |" in md and "decode, prefill, memory, size, all |" in md.split("| q4_0 |")[1].split("\n")[0]
    assert "+1.0 [-1.0, +3.0] | <= +1.1 ok |" in md.split("| **q8** |")[1].split("\n")[0]
    assert "+4.0 [+2.0, +6.0] | - |" in md.split("| q4_0 |")[1].split("\n")[0]  # a row without a bound
    rich_table = table(tune)
    assert rich_table.row_count == 1 + len(candidates)
    # the terminal table names files by format and quant: full names would be cut to "qwen…" at 80 columns
    assert list(rich_table.columns[0].cells) == ["source", *(f"gguf {r['label']}" for r in candidates)]
    assert plot(tune, tmp_path / "tune.png") and (tmp_path / "tune.png").stat().st_size > 1000


def test_a_killed_runs_wall_time_still_counts(tmp_path: Path) -> None:
    first = WallClock(tmp_path)
    first.tick(exporting=["gguf:q4_0"])
    first.runs[-1]["wall_s"] = 60.0  # as if it had worked a minute before being killed
    (tmp_path / RUNS).write_text(json.dumps(first.runs))
    resumed = WallClock(tmp_path)
    assert [r["wall_s"] for r in resumed.runs][0] == 60.0 and len(resumed.runs) == 2
    assert resumed.total_s >= 60.0 and json.loads((tmp_path / RUNS).read_text())[0]["exporting"] == ["gguf:q4_0"]


@pytest.fixture()
def bench_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EDGEFC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EDGEFC_BFCL_WHEEL", str(real_wheel()))
    return tmp_path


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def test_tune_exports_once_benches_recommends_and_resumes(tiny_qwen3: Path, bench_env: Path) -> None:
    out = bench_env / "tune"
    cfg = TuneConfig(model=str(tiny_qwen3), formats=["gguf"], quants=["f16", "q8_0"], budget=100.0,
                     categories=["simple_python", "irrelevance"], limit=2, threads=1, out=out, probes=2,
                     max_tokens=16, pick=True)
    folder, tune = run_tune(cfg)
    exports = out / "exports"
    files = sorted(p.name for p in exports.glob("*.gguf"))
    assert len(files) == 2 and all("f16" in f or "q8_0" in f for f in files)
    assert tune["reused"] == [] and len(tune["runs"]) == 1 and tune["runs"][0]["exporting"] == ["gguf:f16", "gguf:q8_0"]
    rows = {r["quant"]: r for r in tune["candidates"]}
    assert set(rows) == {"f16", "q8_0"}
    assert tune["metric"] == "category_avg"  # two categories do not make BFCL's overall: the mean of those run
    for r in rows.values():  # every figure measured, none made up
        assert 0.0 <= r["accuracy"] <= 1.0 and r["decode_tps"] > 0 and r["prefill_tps"] > 0
        assert r["peak_rss_mb"] > 0 and r["size_mb"] > 0 and isinstance(r["gate_passed"], bool)
        assert r["loss"]["low"] <= r["loss"]["points"] <= r["loss"]["high"]
        certificate = r["loss"]["certificate"]  # the bench's pooled bound, for the tune's budget
        assert certificate["n"] == 4 and certificate["within"] == 100.0 and certificate["certified"]
    assert rows["q8_0"]["size_mb"] < rows["f16"]["size_mb"]
    # Budget 100 points admits every file: the recommendation is the fastest decoder, copied with its manifest.
    fastest = max(tune["candidates"], key=lambda r: r["decode_tps"])
    assert tune["recommendation"]["label"] == fastest["label"]
    picked = Path(tune["picked"])
    assert picked.parent == out and picked.read_bytes() == Path(fastest["label"]).read_bytes()
    assert (out / (picked.name + ".manifest.json")).is_file()
    assert json.loads((out / "tune.json").read_text())["recommendation"] == tune["recommendation"]
    assert "| **" in (out / "tune.md").read_text() and (out / "tune.png").is_file()
    assert folder == out

    with pytest.raises(EdgefcError, match="--resume"):
        run_tune(cfg)
    # A killed bench: the last rows and one latency never written. --resume redoes only those, exports untouched.
    results = out / "bench" / "results.jsonl"
    lines = results.read_text().splitlines()
    results.write_text("\n".join(lines[:-3]) + "\n")
    latency = json.loads((out / "bench" / "latency.json").read_text())
    latency.pop(fastest["label"])
    (out / "bench" / "latency.json").write_text(json.dumps(latency))
    before = _mtimes(exports)
    _, again = run_tune(TuneConfig(**{**cfg.__dict__, "resume": True}))
    assert _mtimes(exports) == before
    assert sorted(again["reused"]) == ["gguf:f16", "gguf:q8_0"] and again["runs"][1]["exporting"] == []
    assert len(again["runs"]) == 2 and again["wall_s"] == pytest.approx(sum(r["wall_s"] for r in again["runs"]))
    rerun = list(read_jsonl(results))
    assert len(rerun) == len(lines) and len({(r["model"], r["id"]) for r in rerun}) == len(lines)
    assert fastest["label"] in json.loads((out / "bench" / "latency.json").read_text())


def test_exports_are_named_and_reused_as_the_user_named_the_model(tiny_qwen3: Path, bench_env: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A catalog name resolves to a cache folder of another name: tune's own exports, and `edgefc export`'s made
    earlier into another folder, are both named after the catalog name, so the next tune finds and reuses them."""
    import importlib

    from edgefc.export import pipeline
    from edgefc.models.resolve import LocalModel

    resolve_module = importlib.import_module("edgefc.models.resolve")  # the package re-exports the function

    real = resolve_module.resolve

    def catalog(ref: str | Path, *, want: str | None = None) -> LocalModel:
        return LocalModel(tiny_qwen3, "hf", "tiny-catalog") if ref == "tiny-catalog" else real(ref, want=want)

    monkeypatch.setattr(resolve_module, "resolve", catalog)
    monkeypatch.setattr(pipeline, "resolve", catalog)
    shared = bench_env / "exports"
    [made] = run_export("tiny-catalog", "gguf", ["q8_0"], shared, verify=False)  # as `edgefc export -o` does
    stamp = made.path.stat().st_mtime_ns
    cfg = TuneConfig(model="tiny-catalog", formats=["gguf"], quants=["f16", "q8_0"], exports=shared,
                     categories=["irrelevance"], limit=1, threads=1, out=bench_env / "t", probes=1, max_tokens=8)
    _, tune = run_tune(cfg)
    assert tune["reused"] == ["gguf:q8_0"] and made.path.stat().st_mtime_ns == stamp
    assert (shared / "tiny-catalog-f16.gguf").is_file()  # tune's own export, under the name it looks for
    rows = {r["quant"]: r for r in tune["candidates"]}
    assert rows["q8_0"]["gate_passed"] is None and isinstance(rows["f16"]["gate_passed"], bool)
    _, again = run_tune(TuneConfig(**{**cfg.__dict__, "out": bench_env / "t2"}))
    assert sorted(again["reused"]) == ["gguf:f16", "gguf:q8_0"]
    assert folder_sha256(tiny_qwen3) == json.loads(Path(str(made.path) + ".manifest.json").read_text())[
        "source"]["sha256"]


def test_bad_settings_fail_before_any_work(tiny_qwen3: Path, bench_env: Path) -> None:
    with pytest.raises(EdgefcError, match="--speed"):
        run_tune(TuneConfig(model=str(tiny_qwen3), speed="size", out=bench_env / "x"))
    with pytest.raises(EdgefcError, match="negative"):
        run_tune(TuneConfig(model=str(tiny_qwen3), budget=-1, out=bench_env / "x"))
    assert not (bench_env / "x").exists()


def _certified(row: dict[str, Any], lost: int, gained: int, n: int, budget: float) -> dict[str, Any]:
    from edgefc.bfcl.stats import certify

    return {**row, "loss": {**row["loss"], "certificate": certify(lost, gained, n, budget)}}


def test_certify_recommends_by_the_bound_not_the_point_estimate() -> None:
    # q8 loses 1.0 point on its point estimate but its bound over 40 entries is far above 3; q4_0 loses more on
    # the point estimate... made up so that only f16 (all ties over 400 entries) is certified within 3 points.
    rows = [_certified(TABLE[0], 0, 0, 400, 3.0), _certified(TABLE[1], 1, 0, 40, 3.0),
            _certified(TABLE[2], 3, 1, 40, 3.0)]
    assert recommend(rows, 3.0, "decode")["label"] == "q8"  # fastest with a point loss <= 3
    chosen = recommend(rows, 3.0, "decode", certify=True)
    assert chosen["label"] == "f16" and chosen["certify"]
    assert "certified (95% one-sided bound)" in chosen["why"] and "at most 0.7 points at 95%" in chosen["why"]
    # Nothing certified: the closest bound is named, with the entries that would certify it at the rates seen.
    none = recommend(rows[1:], 3.0, "decode", certify=True)
    assert none["label"] is None and "closest is q8" in none["why"] and "paired entries would certify 3" in none["why"]
    # A row from before bounds were kept is never certified, and still recommended by its point estimate.
    assert recommend(TABLE[:2], 3.0, "decode", certify=True)["label"] is None
