"""Summaries and reports of a bench run, rebuilt from its files: summary.json, report.md, plot.png, tables.

Deltas are against the first model, so `edgefc bench base.gguf q4.gguf` reads as "what q4 cost and bought".
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from rich.table import Table

from edgefc.bench.runner import LATENCY, RESULTS, read_jsonl
from edgefc.fsutil import atomic_file


def _bfcl_block(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Scores (failed rows count as wrong), response tokens and prompt tokens (evaluated vs served from the
    prefix cache) of one model's rows."""
    from edgefc.bench.bfcl.score import summarize

    answered = [r for r in rows if "error" not in r]
    by_cat: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in answered:
        by_cat[r["category"]].append(r)
    prompt = sum(r["prompt_tokens"] for r in answered)
    cached = sum(r.get("cached_tokens", 0) for r in answered)
    ttft = sum(r["ttft_s"] for r in answered)
    decode = [r["decode_tps"] for r in answered if r["decode_tps"] > 0]
    return {
        "entries": len(rows),
        "failed": len(rows) - len(answered),
        "scores": summarize(rows),
        "scores_edgefc_decoding": summarize({**r, "valid": r["valid_edgefc"]} for r in rows),
        "response_tokens": {"by_category": {c: statistics.mean(r["completion_tokens"] for r in rs)
                                            for c, rs in by_cat.items()},
                            "mean": statistics.mean(r["completion_tokens"] for r in answered) if answered else None},
        "think_share": sum(r["think"] for r in answered) / len(answered) if answered else 0.0,
        "wall_s": sum(r["total_s"] for r in answered),
        "prompt_tokens": prompt,
        "cached_tokens": cached,
        "evaluated_tokens": prompt - cached,
        "prefill_tps": (prompt - cached) / ttft if ttft > 0 else 0.0,
        "decode_tps": statistics.median(decode) if decode else 0.0,
    }


def latest_rows(rows: Iterable[dict[str, Any]], models: list[str],
                planned: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Each model's rows for the planned entries only, the last row of each (model, id) pair (a crash and
    resume can leave two)."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        if row.get("model") in models and row.get("id") in planned:
            latest[(row["model"], row["id"])] = row
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (model, _), row in latest.items():
        by_model[model].append(row)
    return by_model


def build_summary(out: Path, meta: dict[str, Any], planned: set[str]) -> dict[str, Any]:
    """One JSON-able summary of a run folder: per model latency and BFCL on the planned entries, plus deltas
    against the first model (BFCL deltas paired entry by entry, with bootstrap intervals)."""
    latency = json.loads((out / LATENCY).read_text()) if (out / LATENCY).is_file() else {}
    rows_by_model = latest_rows(read_jsonl(out / RESULTS), meta["models"], planned)
    models = []
    for name in meta["models"]:
        entry: dict[str, Any] = {"model": name, "latency": latency.get(name)}
        if rows_by_model.get(name):
            entry["bfcl"] = _bfcl_block(rows_by_model[name])
        models.append(entry)
    summary = {**meta, "models": models}
    summary["deltas"] = _deltas(models, rows_by_model, meta.get("seed", 0))
    with atomic_file(out / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    return summary


def _headline(model: dict[str, Any]) -> dict[str, float | None]:
    """The few numbers a comparison is about."""
    lat, bfcl = model.get("latency") or {}, model.get("bfcl") or {}
    def overall(key: str) -> float | None:
        return next((g["value"] for g in bfcl.get(key, {}).get("aggregates", []) if g["name"] == "overall"), None)

    return {
        "overall": overall("scores"),
        "overall_edgefc": overall("scores_edgefc_decoding"),
        "decode_tps": lat.get("decode_tps", {}).get("median") if lat else bfcl.get("decode_tps"),
        "cold_ttft_s": lat.get("cold_ttft_s", {}).get("median") if lat else None,
        "warm_ttft_s": lat.get("warm_ttft_s", {}).get("median") if lat else None,
        "peak_rss_mb": lat.get("peak_rss_mb") if lat else None,
        "file_mb": lat["file_bytes"] / 1e6 if lat else None,
        "response_tokens": bfcl.get("response_tokens", {}).get("mean"),
    }


def _deltas(models: list[dict[str, Any]], rows_by_model: dict[str, list[dict[str, Any]]],
            seed: int) -> list[dict[str, Any]]:
    """Each later model minus the first: headline differences, and BFCL deltas paired on common entries."""
    from edgefc.bench.paired import paired_deltas

    base = _headline(models[0]) if models else {}
    out = []
    for m in models[1:]:
        h = _headline(m)
        both = rows_by_model.get(models[0]["model"]) and rows_by_model.get(m["model"])
        out.append({"model": m["model"], **{k: (h[k] - base[k]) if h[k] is not None and base.get(k) is not None
                                            else None for k in h},
                    "bfcl_paired": paired_deltas(rows_by_model[models[0]["model"]], rows_by_model[m["model"]],
                                                 seed=seed) if both else None})
    return out


def _fmt(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def tables(summary: dict[str, Any]) -> list[Table]:
    """Rich tables: headline per model (with deltas), then BFCL per category with 95% intervals."""
    head = Table(title=f"edgefc bench · suite {summary['suite']} · {summary['threads']} threads")
    for col in ("model", "BFCL overall", "edgefc decode", "decode tok/s", "raw llama.cpp", "TTFT cold", "TTFT warm", "peak RSS",
                "size", "resp. tokens"):
        head.add_column(col, justify="left" if col == "model" else "right")
    for m in summary["models"]:
        h = _headline(m)
        raw = ((m.get("latency") or {}).get("raw_llama_cpp") or {}).get("decode_tps", {}).get("median")
        ratio = (m.get("latency") or {}).get("decode_ratio_vs_raw")
        head.add_row(Path(m["model"]).name, _fmt(h["overall"], ".1%"), _fmt(h["overall_edgefc"], ".1%"),
                     _fmt(h["decode_tps"], ".1f"),
                     f"{raw:.1f} (x{ratio:.2f})" if raw and ratio else "-", _fmt(h["cold_ttft_s"], ".2f") + " s",
                     _fmt(h["warm_ttft_s"], ".2f") + " s", _fmt(h["peak_rss_mb"], ".0f") + " MB",
                     _fmt(h["file_mb"], ".0f") + " MB", _fmt(h["response_tokens"], ".1f"))
    out = [head]
    scored = [m for m in summary["models"] if m.get("bfcl")]
    if scored:
        cats = Table(title="BFCL accuracy by category: BFCL's decoding [95% Wilson interval] · edgefc's decoding")
        cats.add_column("category")
        for m in scored:
            cats.add_column(Path(m["model"]).name, justify="right")
        names = list(scored[0]["bfcl"]["scores"]["categories"])
        for c in names:
            cells = []
            for m in scored:
                s = m["bfcl"]["scores"]["categories"].get(c)
                t = m["bfcl"]["scores_edgefc_decoding"]["categories"].get(c)
                cells.append(f"{s['accuracy']:.0%} [{s['low']:.0%}, {s['high']:.0%}] n={s['n']} · edgefc "
                             f"{t['accuracy']:.0%}" if s else "-")
            cats.add_row(c, *cells)
        for agg in scored[0]["bfcl"]["scores"]["aggregates"]:
            cells = [_fmt(next(a["value"] for a in m["bfcl"]["scores"]["aggregates"] if a["name"] == agg["name"]),
                          ".1%") for m in scored]
            cats.add_row(f"[bold]{agg['name']}[/]", *cells)
        out.append(cats)
    paired = [d for d in summary.get("deltas", []) if d.get("bfcl_paired")]
    if paired:
        deltas = Table(title=f"BFCL paired deltas against {Path(summary['models'][0]['model']).name} "
                             "[95% paired bootstrap interval]")
        deltas.add_column("")
        for d in paired:
            deltas.add_column(Path(d["model"]).name, justify="right")
        for name, cells in _paired_rows(paired):
            deltas.add_row(name, *cells)
        out.append(deltas)
    return out


def markdown(summary: dict[str, Any]) -> str:
    """The run as a Markdown report, formulas written out."""
    lines = [f"# edgefc bench: suite {summary['suite']}", "",
             f"threads {summary['threads']} · seed {summary['seed']} · limit per category {summary['limit']} · "
             f"wall {summary.get('wall_s', 0):.0f} s · {summary['machine']['platform']}", "",
             "BFCL overall uses BFCL's own decoding of the answer (the leaderboard's rule); 'edgefc decode' scores "
             "the same answers read by edgefc's tolerant parser (```json fences, bare JSON).", "",
             "| model | BFCL overall | edgefc decode | decode tok/s | TTFT cold s | TTFT warm s | peak RSS MB | size MB "
             "| resp. tokens |",
             "|---|---|---|---|---|---|---|---|---|"]
    for m in summary["models"]:
        h = _headline(m)
        lines.append(f"| {Path(m['model']).name} | {_fmt(h['overall'], '.1%')} | {_fmt(h['overall_edgefc'], '.1%')} | "
                     f"{_fmt(h['decode_tps'], '.1f')} | "
                     f"{_fmt(h['cold_ttft_s'], '.2f')} | {_fmt(h['warm_ttft_s'], '.2f')} | "
                     f"{_fmt(h['peak_rss_mb'], '.0f')} | {_fmt(h['file_mb'], '.0f')} | "
                     f"{_fmt(h['response_tokens'], '.1f')} |")
    for m in [m for m in summary["models"] if m.get("bfcl")]:
        b = m["bfcl"]
        lines += ["", f"## {Path(m['model']).name}", "",
                  "| category | accuracy | 95% CI | edgefc decode | n | resp. tokens |", "|---|---|---|---|---|---|"]
        tolerant = b["scores_edgefc_decoding"]["categories"]
        for c, s in b["scores"]["categories"].items():
            lines.append(f"| {c} | {s['accuracy']:.1%} | {s['low']:.1%} - {s['high']:.1%} | "
                         f"{tolerant[c]['accuracy']:.1%} | {s['n']} | "
                         f"{b['response_tokens']['by_category'].get(c, 0):.1f} |")
        lines += ["", "| aggregate | value | formula |", "|---|---|---|"]
        lines += [f"| {a['name']} | {_fmt(a['value'], '.1%')} | {a['formula']} |" for a in b["scores"]["aggregates"]]
        lines += ["", f"entries {b['entries']} ({b['failed']} failed to run, counted wrong) · think share "
                      f"{b['think_share']:.1%} · wall {b['wall_s']:.0f} s · prompt tokens {b['prompt_tokens']:,} "
                      f"(evaluated {b['evaluated_tokens']:,}, from the prefix cache {b['cached_tokens']:,}) · "
                      f"prefill {b['prefill_tps']:.0f} tok/s"]
    paired = [d for d in summary["deltas"] if d.get("bfcl_paired")]
    if paired:
        base = Path(summary["models"][0]["model"]).name
        lines += ["", f"## Paired deltas against {base}", "",
                  "Each model minus the first on the entries both scored: point delta [95% paired bootstrap "
                  f"interval, {paired[0]['bfcl_paired']['resamples']} resamples of entries within each category]; "
                  "+gained/-lost counts the entries only one of the two got right.", "",
                  "| | " + " | ".join(Path(d["model"]).name for d in paired) + " |",
                  "|---|" + "---|" * len(paired)]
        for name, cells in _paired_rows(paired):
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _paired_rows(paired: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """(row name, one cell per model) for the paired deltas: categories, then aggregates."""
    def cell(d: dict[str, Any] | None, counts: bool) -> str:
        if not d:
            return "-"
        text = f"{d['delta'] * 100:+.1f} pts [{d['low'] * 100:+.1f}, {d['high'] * 100:+.1f}]"
        return text + (f" n={d['n']} +{d['gained']}/-{d['lost']}" if counts else "")

    first = paired[0]["bfcl_paired"]
    rows = [(c, [cell(d["bfcl_paired"]["categories"].get(c), True) for d in paired]) for c in first["categories"]]
    rows += [(name, [cell(d["bfcl_paired"]["aggregates"].get(name), False) for d in paired])
             for name in first["aggregates"]]
    return rows


def plot(summary: dict[str, Any], path: Path) -> bool:
    """Accuracy against decode tokens/s, marker area by file size; False when there is nothing to plot."""
    points = [(_headline(m), Path(m["model"]).name) for m in summary["models"]]
    points = [(h, n) for h, n in points if h["overall"] is not None and h["decode_tps"]]
    if not points:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    for h, name in points:
        ax.scatter(h["decode_tps"], h["overall"] * 100, s=max(20.0, (h["file_mb"] or 100) / 2), alpha=0.6)
        ax.annotate(name, (h["decode_tps"], h["overall"] * 100), fontsize=8, xytext=(5, 5),
                    textcoords="offset points")
    ax.set_xlabel("decode tokens/s (CPU)")
    ax.set_ylabel("BFCL overall accuracy (%)")
    ax.set_title("Accuracy vs speed (marker area ~ file size)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_file(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    return True


def write_reports(out: Path, summary: dict[str, Any]) -> None:
    """report.md and plot.png beside summary.json."""
    with atomic_file(out / "report.md") as tmp:
        tmp.write_text(markdown(summary), encoding="utf-8")
    plot(summary, out / "plot.png")
