"""`edgefc bench`: several models side by side, latency and BFCL, streamed to disk so nothing is lost.

Every BFCL entry's result is appended to results.jsonl as soon as it is scored; `--resume` skips the
(model, entry) pairs already there. Latency is measured per model in a fresh process (latency.json).
The summary, the Markdown report and the plot are rebuilt from those files at the end.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from edgefc.errors import EdgefcError
from edgefc.progress import step_progress

RESULTS = "results.jsonl"
LATENCY = "latency.json"


@dataclass(frozen=True)
class Suite:
    """What a suite measures: latency (with repeats) and/or BFCL (with a per-category sample size)."""

    latency: bool
    bfcl: bool
    limit: int | None
    repeats: int = 3


SUITES: dict[str, Suite] = {
    "quick": Suite(latency=True, bfcl=True, limit=3, repeats=3),
    "latency": Suite(latency=True, bfcl=False, limit=None, repeats=5),
    "bfcl": Suite(latency=False, bfcl=True, limit=None),
    "full": Suite(latency=True, bfcl=True, limit=None, repeats=5),
}


@dataclass
class BenchConfig:
    """One `edgefc bench` invocation."""

    models: list[str]
    suite: str = "quick"
    categories: list[str] | None = None
    limit: int | None = None
    seed: int = 0
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    out: Path | None = None
    resume: bool = False
    runtime: str | None = None
    max_tokens: int = 256


def output_dir(out: Path | None, resume: bool) -> Path:
    """The run folder: --out, else the newest under ./bench-results when resuming, else a new timestamped one."""
    root = Path("bench-results")
    if out is not None:
        return out
    if resume:
        runs = sorted(p for p in root.glob("*") if (p / RESULTS).is_file() or (p / LATENCY).is_file())
        if not runs:
            raise EdgefcError("--resume found no earlier run under ./bench-results; pass --out DIR")
        return runs[-1]
    return root / datetime.now().strftime("%Y%m%d-%H%M%S")


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a JSONL file; a torn last line (a killed run) is ignored."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def score_entry(rt: Any, entry: Any, max_tokens: int) -> dict[str, Any]:
    """Answer one BFCL entry and score it twice: BFCL's own decoding (`valid`, the leaderboard's rule) and
    edgefc's tolerant parser (`valid_edgefc`). One JSON-able row."""
    from edgefc.bench.bfcl import checker, prompts
    from edgefc.bench.bfcl.decode import official_decode
    from edgefc.protocol.parse import to_bfcl

    messages, tools = prompts.build(entry)
    gen = rt.generate(messages, tools, max_tokens=max_tokens)
    official = official_decode(gen.text)
    tolerant = None if gen.parsed.errors and not gen.parsed.calls else to_bfcl(gen.parsed.calls)
    verdict, tolerant_verdict = checker.check(entry, official), checker.check(entry, tolerant)
    t = gen.timings
    return {"category": entry.category, "id": entry.id, "valid": verdict.valid, "error_type": verdict.error_type,
            "valid_edgefc": tolerant_verdict.valid, "decoded": official, "decoded_edgefc": tolerant,
            "format": gen.parsed.format, "kind": gen.parsed.kind, "think": bool(gen.parsed.think) or "<think>" in gen.text,
            "prompt_tokens": t.prompt_tokens, "cached_tokens": t.cached_tokens,
            "completion_tokens": t.completion_tokens, "ttft_s": t.ttft_s, "decode_tps": t.decode_tps,
            "total_s": t.total_s, "finish_reason": gen.finish_reason, "text": gen.text}


def run_bfcl(cfg: BenchConfig, out: Path, limit: int | None) -> None:
    """Score every (model, entry) not yet in results.jsonl, appending each row as it finishes."""
    from edgefc.bench.bfcl import data
    from edgefc.runtimes import load

    categories = cfg.categories or list(data.CATEGORIES)
    entries = [e for c in categories for e in data.load_category(c, limit=limit, seed=cfg.seed)]
    results = out / RESULTS
    done = {(r["model"], r["id"]) for r in read_jsonl(results)} if cfg.resume else set()
    if not cfg.resume and results.exists():
        raise EdgefcError(f"{results} already exists; use --resume to continue it or --out for a new run")
    with step_progress() as bar, results.open("a", encoding="utf-8") as sink:
        for model in cfg.models:
            todo = [e for e in entries if (model, e.id) not in done]
            task = bar.add_task(f"BFCL {Path(model).name}", total=len(entries), completed=len(entries) - len(todo))
            if not todo:
                continue
            rt = load(model, cfg.runtime, threads=cfg.threads)
            try:
                for entry in todo:
                    row = {"model": model, **score_entry(rt, entry, cfg.max_tokens)}
                    sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                    sink.flush()
                    bar.advance(task)
            finally:
                rt.close()


def run_latency(cfg: BenchConfig, out: Path, repeats: int) -> None:
    """Measure each model not yet in latency.json, each in its own process; rewrite the file after each."""
    from edgefc.bench.latency import measure_in_subprocess
    from edgefc.fsutil import atomic_file

    path = out / LATENCY
    measured: dict[str, Any] = json.loads(path.read_text()) if path.is_file() and cfg.resume else {}
    with step_progress() as bar:
        task = bar.add_task("latency", total=len(cfg.models), completed=sum(m in measured for m in cfg.models))
        for model in [m for m in cfg.models if m not in measured]:
            measured[model] = measure_in_subprocess(model, cfg.runtime, cfg.threads, repeats).to_dict()
            with atomic_file(path) as tmp:
                tmp.write_text(json.dumps(measured, indent=2))
            bar.advance(task)


def run(cfg: BenchConfig) -> tuple[Path, dict[str, Any]]:
    """Run the configured suite; returns the run folder and its summary."""
    from edgefc.bench.report import build_summary, write_reports

    if cfg.suite not in SUITES:
        raise EdgefcError(f"unknown suite '{cfg.suite}'; choose one of {', '.join(SUITES)}")
    suite = SUITES[cfg.suite]
    out = output_dir(cfg.out, cfg.resume)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    meta = {"suite": cfg.suite, "models": cfg.models, "threads": cfg.threads, "seed": cfg.seed,
            "limit": cfg.limit if cfg.limit is not None else suite.limit, "categories": cfg.categories,
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "loadavg": os.getloadavg()}}
    if suite.latency:
        run_latency(cfg, out, suite.repeats)
    if suite.bfcl:
        run_bfcl(cfg, out, cfg.limit if cfg.limit is not None else suite.limit)
    meta["wall_s"] = time.time() - started
    summary = build_summary(out, meta)
    write_reports(out, summary)
    return out, summary
