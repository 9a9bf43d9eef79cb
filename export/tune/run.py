"""`edgefc tune`: export every candidate file of a model, bench them beside the source on the same BFCL entries,
and name the fastest file whose accuracy stays within a budget of the source's.

A tune folder (`-o`, default tune-results/NAME) holds:
- exports/ (or `--exports`): the candidates, each verified against the source and kept with its manifest even
  when it fails its quant's gate (the bench, not the gate, decides here; the gate's verdict is reported). An
  export already there whose manifest names these source weights is reused, never redone;
- bench/: an `edgefc bench` run (suite full: latency in a fresh process per file, then BFCL) with the source
  first, so every file's BFCL delta is paired with the source's on the same entries; `--resume` continues it;
- tune.json, tune.md, tune.png: the candidates, the Pareto fronts and the recommendation, rebuilt at the end;
- with `--pick`, a copy of the recommended file and its manifest.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from edgefc.errors import EdgefcError
from edgefc.export.manifest import folder_sha256, manifest_path
from edgefc.export.tune.candidates import Candidate, existing_export, plan_candidates
from edgefc.export.tune.front import SPEEDS, fronts, recommend
from edgefc.fsutil import atomic_dir, atomic_file, write_json
from edgefc.progress import console, installed, reporting

if TYPE_CHECKING:  # tune reads the bench's summary; the export library itself never imports the bench
    from edgefc.bench.summary import BenchSummary, ModelSummary

TUNE_JSON = "tune.json"
BENCH = "bench"
RUNS = "runs.json"
# The accuracy files are weighed on: the first of BFCL's aggregates the run's categories define (overall_v4 with
# multi-turn, BFCL's single-turn overall with a category of each group, else the mean of the categories run).
METRICS = ("overall_v4", "overall", "category_avg")


@dataclass
class TuneConfig:
    """One `edgefc tune` invocation."""

    model: str
    formats: list[str] = field(default_factory=lambda: ["gguf", "onnx"])
    quants: list[str] | None = None  # default: each format's `tune` quants
    budget: float = 1.0  # BFCL overall points a file may lose against the source
    speed: str = "decode"  # a front.SPEEDS name: what "fastest" means
    categories: list[str] | None = None
    limit: int = 25
    seed: int = 0
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    out: Path | None = None
    exports: Path | None = None
    resume: bool = False
    probes: int = 16  # export verification probes per file
    max_tokens: int = 256
    pick: bool = False
    certify: bool = False  # recommend by the one-sided 95% bound on the loss instead of its point estimate


class WallClock:
    """Each invocation's wall time in OUT/runs.json, rewritten as work finishes: a killed tune's time still counts
    when it is resumed."""

    def __init__(self, out: Path):
        self.path = out / RUNS
        self.runs: list[dict[str, Any]] = json.loads(self.path.read_text(encoding="utf-8")) if self.path.is_file() \
            else []
        self.runs.append({"started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "wall_s": 0.0})
        self._start = time.monotonic()
        self.tick()

    def tick(self, **facts: Any) -> None:
        """Record the time so far (and any facts about this run)."""
        self.runs[-1].update(facts, wall_s=time.monotonic() - self._start)
        write_json(self.path, self.runs)

    @property
    def total_s(self) -> float:
        return sum(r["wall_s"] for r in self.runs)


class _Whole:
    """tune's own progress, under one label beside its parts': the candidates exported plus the bench's units
    (work_units in all); each step also records the wall time so far."""

    def __init__(self, label: str, total: int, clock: WallClock):
        self.label, self.total, self.clock = label, total, clock
        self.exported = 0
        self.bench: dict[str, int] = {}
        self.outer = installed()

    def _report(self) -> None:
        self.outer(self.label, self.exported + sum(self.bench.values()), self.total)
        self.clock.tick()

    def exports_done(self, count: int) -> None:
        self.exported += count
        self._report()

    def __call__(self, label: str, done: int, total: int, *, unit: str = "", note: str = "") -> None:
        """Hears the bench's reports: passes them on and counts them into the whole."""
        self.outer(label, done, total, unit=unit, note=note)
        if self.bench.get(label) != done:
            self.bench[label] = done
            self._report()


def _check(cfg: TuneConfig) -> None:
    """Refuse, before any work, what would only fail at the end."""
    if cfg.speed not in SPEEDS:
        raise EdgefcError(f"unknown --speed '{cfg.speed}'; choose one of {', '.join(SPEEDS)}")
    if cfg.budget < 0:
        raise EdgefcError(f"--budget is the accuracy points a file may lose; {cfg.budget:g} is negative")
    plan_candidates(cfg.formats, cfg.quants, "", Path())  # an unknown format or quant, before the source loads


def _export(todo: list[Candidate], folder: Path, cfg: TuneConfig,
            exported: Callable[[int], None]) -> tuple[dict[str, Path], dict[str, str]]:
    """Export the missing candidates, format by format (a format's quants share one base); returns the files
    made and, for a format that could not be exported, its error per candidate. The model is passed as the user
    named it, so the files get the names the candidates expect (a catalog name, not its cache folder's)."""
    from edgefc.export.pipeline import run_export

    made: dict[str, Path] = {}
    errors: dict[str, str] = {}
    for fmt in dict.fromkeys(c.format for c in todo):
        group = [c for c in todo if c.format == fmt]
        try:
            results = run_export(cfg.model, fmt, [c.quant for c in group], folder, force=True, threads=cfg.threads,
                                 probe_limit=cfg.probes, keep_failed=True)
        except EdgefcError as exc:  # one format failing leaves the others to weigh
            errors.update({c.key: str(exc) for c in group})
            console.print(f"[yellow]warning:[/] {fmt} export failed, its candidates are left out: {exc}",
                          highlight=False)
        else:
            made.update({f"{r.format}:{r.quant}": r.path for r in results if r.path is not None})
        exported(len(group))
    return made, errors


def _manifest(path: Path) -> dict[str, Any]:
    return json.loads(manifest_path(path).read_text(encoding="utf-8"))


def _accuracy(model: ModelSummary, metric: str, edgefc_decoding: bool = False) -> float | None:
    """One aggregate of a bench summary's model (None when it scored no BFCL entry)."""
    if model.bfcl is None:
        return None
    return (model.bfcl.scores_edgefc_decoding if edgefc_decoding else model.bfcl.scores).value(metric)


def _row(model: ModelSummary, delta: dict[str, Any] | None, metric: str) -> dict[str, Any]:
    """One file's figures from the bench summary: its accuracy (`metric`), its paired loss against the source
    (points, positive = worse; with the pooled entries' one-sided bound as `certificate`), latency, memory and
    size."""
    from edgefc.bench.report import headline

    h = headline(model)
    lat = model.latency or {}
    loss = None
    if delta and delta.get("bfcl_paired") and delta["bfcl_paired"]["aggregates"].get(metric):
        d = delta["bfcl_paired"]["aggregates"][metric]
        loss = {"points": -100 * d["delta"], "low": -100 * d["high"], "high": -100 * d["low"],
                "certificate": delta["bfcl_paired"].get("pooled")}
    return {"label": model.model, "name": Path(model.model).name, "accuracy": _accuracy(model, metric),
            "accuracy_edgefc": _accuracy(model, metric, edgefc_decoding=True), "loss": loss,
            "decode_tps": h["decode_tps"],
            "prefill_tps": (lat.get("prefill_tps") or {}).get("median"), "peak_rss_mb": h["peak_rss_mb"],
            "size_mb": h["file_mb"], "response_tokens": h["response_tokens"]}


def summarize(summary: BenchSummary, files: dict[str, Candidate], budget: float, speed: str,
              certify: bool = False) -> dict[str, Any]:
    """The tune result from a bench summary whose first model is the source: the accuracy metric, a row per
    file (with its export's gate verdict), the fronts and the recommendation."""
    source, *others = summary.models
    deltas = {d["model"]: d for d in summary.deltas if d["against"] == source.model}
    metric = next((m for m in METRICS if _accuracy(source, m) is not None), METRICS[-1])
    rows = []
    for model in others:
        c = files[model.model]
        manifest = _manifest(Path(model.model))
        rows.append({**_row(model, deltas.get(model.model), metric), "format": c.format, "quant": c.quant,
                     "gate_passed": manifest.get("passed"), "gate_failures": manifest.get("failures") or []})
    return {"metric": metric, "source": _row(source, None, metric), "candidates": rows, "fronts": fronts(rows),
            "recommendation": recommend(rows, budget, speed, certify)}


def pick(path: Path, folder: Path) -> Path:
    """Copy a chosen export (file and manifest, or ONNX folder) into `folder`; returns the copy's path."""
    target = folder / path.name
    if path.is_dir():
        with atomic_dir(target, overwrite=True) as tmp:
            shutil.copytree(path, tmp, dirs_exist_ok=True)
        return target
    with atomic_file(target) as tmp:
        shutil.copy2(path, tmp)
    with atomic_file(manifest_path(target)) as tmp:
        shutil.copy2(manifest_path(path), tmp)
    return target


def run_tune(cfg: TuneConfig) -> tuple[Path, dict[str, Any]]:
    """Export, bench and weigh every candidate of `cfg.model`; returns the tune folder and its result. The bench
    harness is imported here, where tune measures with it: the export library itself never needs it."""
    from edgefc.bench.runner import SETTINGS, BenchConfig, run, work_units
    from edgefc.export.tune.report import write_reports
    from edgefc.models.resolve import resolve

    _check(cfg)
    source = resolve(cfg.model, want="hf")
    name = source.name.removesuffix(".gguf")
    out = Path(cfg.out) if cfg.out is not None else Path("tune-results") / name
    bench_dir = out / BENCH
    if not cfg.resume and (bench_dir / SETTINGS).exists():
        raise EdgefcError(f"{out} holds an earlier tune; use --resume to continue it or -o for a new one")
    folder = Path(cfg.exports) if cfg.exports is not None else out / "exports"
    candidates = plan_candidates(cfg.formats, cfg.quants, name, folder)
    out.mkdir(parents=True, exist_ok=True)
    sha = folder_sha256(source.path)
    found = {c.key: existing_export(c, sha) for c in candidates}
    todo = [c for c in candidates if found[c.key] is None]
    clock = WallClock(out)
    clock.tick(exporting=[c.key for c in todo])

    def bench_config(paths: list[Path]) -> Any:
        return BenchConfig(models=[str(source.path), *map(str, paths)], suite="full", categories=cfg.categories,
                           limit=cfg.limit, seed=cfg.seed, threads=cfg.threads, out=bench_dir, resume=cfg.resume,
                           max_tokens=cfg.max_tokens, constrain="on", within=cfg.budget)

    whole = _Whole(f"tune {name}", len(todo) + work_units(bench_config([c.path for c in candidates])), clock)
    made, errors = _export(todo, folder, cfg, whole.exports_done)
    paths = {c.key: found[c.key] or made.get(c.key) for c in candidates}
    kept = [c for c in candidates if paths[c.key] is not None]
    bcfg = bench_config([paths[c.key] for c in kept])
    whole.total = len(todo) + work_units(bcfg)
    with reporting(whole):
        _, summary = run(bcfg)
    result = summarize(summary, {str(paths[c.key]): c for c in kept}, cfg.budget, cfg.speed, cfg.certify)
    clock.tick()
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}
    tune = {"settings": {**settings, "source": str(source.path), "exports": str(folder)}, **result,
            "export_errors": errors, "reused": [c.key for c in candidates if found[c.key]], "bench": str(bench_dir),
            "runs": clock.runs, "wall_s": clock.total_s}
    chosen = result["recommendation"]["label"]
    if cfg.pick and chosen:
        tune["picked"] = str(pick(Path(chosen), out))
    write_json(out / TUNE_JSON, tune)
    write_reports(out, tune)
    return out, tune
