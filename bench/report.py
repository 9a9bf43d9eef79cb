"""Summaries and reports of a bench run, rebuilt from its files: summary.json, report.md, plot.png, tables.

Each variant (a model, decoded constrained or free) is compared with a base, paired on the same entries: a
later model with the first model under the same decoding, so `edgefc bench base.gguf q4.gguf` reads as "what
q4 cost and bought"; and, with `--constrain both`, a model's free decoding with its constrained one, so the
delta reads "what free decoding costs (or buys)" against the default users get. The agent suite's rows (category
AGENT) get their own block, tables and paired deltas (edgefc.bench.agent.score and .report).
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from rich.table import Table

from edgefc.bench.runner import AGENT, LATENCY, RESULTS, Variant, is_endpoint, read_jsonl, variants
from edgefc.bench.summary import BenchSummary, BfclBlock, ModelSummary
from edgefc.bfcl.categories import names
from edgefc.bfcl.stats import DEFAULT_WITHIN
from edgefc.fsutil import subplots, write_json, write_png, write_text
from edgefc.tables import Section, fmt, to_markdown, to_rich


def _bfcl_block(rows: list[dict[str, Any]]) -> BfclBlock:
    """Scores (failed rows count as wrong), response tokens, prompt tokens (evaluated vs served from the
    prefix cache) and the grammar's share of the work, of one variant's rows."""
    from edgefc.bfcl.score import summarize

    answered = [r for r in rows if "error" not in r]
    by_cat: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in answered:
        by_cat[r["category"]].append(r)
    prompt = sum(r["prompt_tokens"] for r in answered)
    cached = sum(r.get("cached_tokens", 0) for r in answered)
    ttft = sum(r["ttft_s"] for r in answered)
    decode = [r["decode_tps"] for r in answered if r["decode_tps"] > 0]
    constrained = [r for r in answered if r.get("constrain")]
    generated = sum(r["completion_tokens"] for r in constrained)
    multi = [r for r in rows if r["category"] in names(multi_turn=True)]
    return BfclBlock(
        entries=len(rows),
        failed=len(rows) - len(answered),
        scores=summarize(rows),
        scores_edgefc_decoding=summarize({**r, "valid": r["valid_edgefc"]} for r in rows),
        response_tokens={"by_category": {c: statistics.mean(r["completion_tokens"] for r in rs)
                                         for c, rs in by_cat.items()},
                         "mean": statistics.mean(r["completion_tokens"] for r in answered) if answered else None},
        think_share=sum(r["think"] for r in answered) / len(answered) if answered else 0.0,
        # an irrelevance entry whose <tool_call> is left open passes: BFCL's decoding reads no call from it
        unclosed_calls=sum(r.get("unclosed_calls", 0) for r in answered),
        wall_s=sum(r["total_s"] for r in answered),
        prompt_tokens=prompt,
        cached_tokens=cached,
        evaluated_tokens=prompt - cached,
        prefill_tps=(prompt - cached) / ttft if ttft > 0 else 0.0,
        decode_tps=statistics.median(decode) if decode else 0.0,
        grammar_ms_per_token=1000 * sum(r["grammar_s"] for r in constrained) / generated if generated else None,
        forced_share=sum(r["forced_tokens"] for r in constrained) / generated if generated else None,
        multi_turn=_multi_turn_block(multi) if multi else None,
    )


def _multi_turn_block(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The multi-turn entries' work: turns, calls, model answers, prompt tokens (evaluated vs from the prefix
    cache, which keeps each conversation's earlier turns) and wall time (model, APIs and ground truth)."""
    total = {key: sum(r.get(key, 0) for r in rows) for key in ("calls", "generations", "prompt_tokens",
                                                                "cached_tokens", "total_s")}
    return {"entries": len(rows), "failed": sum("error" in r for r in rows),
            "turns": sum(len(r.get("turns", [])) for r in rows), "calls": total["calls"],
            "generations": total["generations"], "prompt_tokens": total["prompt_tokens"],
            "cached_tokens": total["cached_tokens"],
            "evaluated_tokens": total["prompt_tokens"] - total["cached_tokens"],
            "cached_share": total["cached_tokens"] / total["prompt_tokens"] if total["prompt_tokens"] else None,
            "wall_s": total["total_s"]}


def latest_rows(rows: Iterable[dict[str, Any]], models: list[str],
                planned: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Each variant's rows (by label) for the planned entries only, the last row of each (label, id) pair (a
    crash and resume can leave two)."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        if row.get("model") in models and row.get("id") in planned:
            latest[(row["model"], row["id"])] = row
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (model, _), row in latest.items():
        by_model[model].append(row)
    return by_model


def build_summary(out: Path, meta: dict[str, Any], planned: set[str],
                  within: float = DEFAULT_WITHIN) -> BenchSummary:
    """The summary of a run folder, also written as its summary.json: per variant latency and BFCL on the planned
    entries, plus deltas against each variant's base (BFCL deltas paired entry by entry, with bootstrap
    intervals and the one-sided loss bound that certifies `within` points or not)."""
    from edgefc.bench.agent.score import agent_block

    latency = json.loads((out / LATENCY).read_text()) if (out / LATENCY).is_file() else {}
    runs = variants(meta["models"], meta["constrain"])
    rows_by_model = latest_rows(read_jsonl(out / RESULTS), [v.label for v in runs], planned)
    bfcl_rows = {m: [r for r in rows if r["category"] != AGENT] for m, rows in rows_by_model.items()}
    agent_rows = {m: [r for r in rows if r["category"] == AGENT] for m, rows in rows_by_model.items()}
    models = [ModelSummary(v.label, v.model, v.constrain, latency.get(v.label),
                           _bfcl_block(bfcl_rows[v.label]) if bfcl_rows.get(v.label) else None,
                           agent_block(agent_rows[v.label]) if agent_rows.get(v.label) else None) for v in runs]
    settings = {k: v for k, v in meta.items() if k != "models"}  # the variants' summaries take the list's place
    summary = BenchSummary(settings, models, _deltas(models, delta_pairs(runs), bfcl_rows, agent_rows,
                                                     meta.get("seed", 0), within))
    write_json(out / "summary.json", summary.to_dict())
    return summary


def delta_pairs(runs: list[Variant]) -> list[tuple[str, str]]:
    """(base, other) labels to compare: each model's free decoding against its constrained one, then each later
    model against the first under the same decoding; a served model (an endpoint) against the run's first
    variant, whatever its decoding (its server decides its own)."""
    constrained = {v.model: v.label for v in runs if v.constrain}
    pairs = [(constrained[v.model], v.label) for v in runs if not v.constrain and v.model in constrained]
    first: dict[bool, Variant] = {}
    for v in runs:
        if is_endpoint(v.model):
            if v is not runs[0]:
                pairs.append((runs[0].label, v.label))
        elif first.setdefault(v.constrain, v) is not v:
            pairs.append((first[v.constrain].label, v.label))
    return pairs


def headline(model: ModelSummary) -> dict[str, float | None]:
    """The few numbers a comparison is about."""
    lat, bfcl, agent = model.latency or {}, model.bfcl, model.agent
    return {
        "overall": bfcl.scores.value("overall") if bfcl else None,
        "overall_edgefc": bfcl.scores_edgefc_decoding.value("overall") if bfcl else None,
        "decode_tps": lat.get("decode_tps", {}).get("median") if lat else (bfcl.decode_tps if bfcl else None),
        "cold_ttft_s": lat.get("cold_ttft_s", {}).get("median") if lat else None,
        "warm_ttft_s": lat.get("warm_ttft_s", {}).get("median") if lat else None,
        "peak_rss_mb": lat.get("peak_rss_mb") if lat else None,
        "file_mb": lat["file_bytes"] / 1e6 if lat else None,
        "response_tokens": bfcl.response_tokens.get("mean") if bfcl else None,
        "grammar_ms_per_token": bfcl.grammar_ms_per_token if bfcl else lat.get("grammar_ms_per_token"),
        "forced_share": bfcl.forced_share if bfcl else lat.get("forced_share"),
        "agent_pass_rate": agent["groups"]["all"]["rate"] if agent else None,
    }


def _deltas(models: list[ModelSummary], pairs: list[tuple[str, str]], bfcl_rows: dict[str, list[dict[str, Any]]],
            agent_rows: dict[str, list[dict[str, Any]]], seed: int, within: float) -> list[dict[str, Any]]:
    """Each pair's other minus base: headline differences, and BFCL and agent deltas paired on common entries
    (BFCL's with the bound that certifies `within` points or not)."""
    from edgefc.bench.agent.score import agent_paired
    from edgefc.bfcl.stats import paired_deltas

    by_label = {m.model: m for m in models}
    out = []
    for base_label, label in pairs:
        base, h = headline(by_label[base_label]), headline(by_label[label])
        delta = {"model": label, "against": base_label,
                 **{k: (h[k] - base[k]) if h[k] is not None and base[k] is not None else None for k in h}}
        both = bfcl_rows.get(base_label) and bfcl_rows.get(label)
        delta["bfcl_paired"] = paired_deltas(bfcl_rows[base_label], bfcl_rows[label], seed=seed,
                                             within=within) if both else None
        both = agent_rows.get(base_label) and agent_rows.get(label)
        delta["agent_paired"] = agent_paired(agent_rows[base_label], agent_rows[label], seed=seed) if both else None
        out.append(delta)
    return out


def display_names(labels: Iterable[str]) -> dict[str, str]:
    """Each variant's label shortened to its file name, with as many parent folders as it takes to tell it from
    another of the same name (two runs' `model-q4_K_M.gguf` read `s1/model-q4_K_M.gguf`, `s2/...`)."""
    labels = list(dict.fromkeys(labels))

    def tail(label: str, depth: int) -> str:
        return "/".join(Path(label).parts[-depth:])

    out = {}
    for label in labels:
        if is_endpoint(label):  # a served model is its URL
            out[label] = label
            continue
        depth = 1
        while depth < len(Path(label).parts) and any(tail(o, depth) == tail(label, depth) for o in labels
                                                      if o != label):
            depth += 1
        out[label] = tail(label, depth)
    return out


def _names(summary: BenchSummary) -> dict[str, str]:
    """The run's variants' display names, by label."""
    return display_names(m.model for m in summary.models)


HEADLINE_COLUMNS = ("model", "BFCL overall", "edgefc decode", "decode tok/s", "TTFT cold s", "TTFT warm s",
                    "peak RSS MB", "size MB", "resp. tokens", "grammar ms/tok", "forced", "vs raw")
HEADLINE_NOTE = (
    "BFCL overall uses BFCL's own decoding of the answer (the leaderboard's rule); 'edgefc decode' scores the same "
    "answers read by edgefc's tolerant parser (```json fences, bare JSON).\n\nUnder the grammar, 'grammar ms/tok' is "
    "its mask + advance time per generated token and 'forced' the share of tokens it forced (evaluated in one batch: "
    "jump-forward). 'vs raw' compares decode tok/s with plain llama-cpp-python on the same prompt ids, which decodes "
    "freely: for a free variant it is edgefc's own overhead; for a constrained one it is taken with jump-forward off "
    "and adds the grammar's per-token price (on other tokens than raw's).")
JUMP_FORWARD_COLUMNS = ("e2e cold s on", "e2e cold s off", "e2e warm s on", "e2e warm s off", "decode tok/s on",
                        "decode tok/s off")
V4_NOTE = ("agentic (40%: web search, memory) is not measured: it needs live web-search and memory backends an "
           "offline bench does not have")
V4_COLUMNS = ("overall (single-turn)", "multi_turn", "overall_v4 (measured parts)", "multi-turn entries",
              "prompt tokens", "evaluated", "from cache", "multi-turn wall s")


def sections(summary: BenchSummary) -> list[Section]:
    """The run's tables, laid out once for the terminal and the report: headline per variant (when latency or
    BFCL ran), jump-forward on vs off (constrained latency), BFCL per category with 95% intervals, BFCL V4's
    overall (multi-turn), paired deltas; the agent suite's pass rates and paired deltas."""
    from edgefc.bench.agent.report import agent_sections

    names = _names(summary)
    found = [_headline(summary, names) if _measured(summary) else None, _jump_forward(summary, names),
             _categories(summary, names), _v4(summary, names), _paired(summary, names)]
    return [s for s in found if s is not None] + agent_sections(summary, names)


def tables(summary: BenchSummary) -> list[Table]:
    """The run's sections as rich tables."""
    return [to_rich(s) for s in sections(summary)]


def markdown(summary: BenchSummary) -> str:
    """The run as a Markdown report: its sections with what they mean, then each variant's BFCL detail with the
    aggregates' formulas."""
    meta = summary.meta
    lines = [f"# edgefc bench: suite {meta['suite']}", "",
             f"threads {meta['threads']} · seed {meta['seed']} · limit per category {meta['limit']} · "
             f"wall {meta.get('wall_s', 0):.0f} s · {meta['machine']['platform']}", "",
             *([f"The model ran at {meta['endpoint']} (`--endpoint`, its /v1/completions, decoded freely): times "
                "are the client's, from request to streamed tokens, and peak RSS is the client's, not the server's.",
                ""] if meta.get("endpoint") else [])]
    for section in sections(summary):
        lines += to_markdown(section) + [""]
    names = _names(summary)
    for m in [m for m in summary.models if m.bfcl]:
        lines += _bfcl_detail(m.bfcl, names[m.model])
    return "\n".join(lines).rstrip("\n") + "\n"


def _measured(summary: BenchSummary) -> bool:
    """Whether any variant has latency or BFCL figures (the headline table's); an agent run has neither."""
    return any(m.latency or m.bfcl for m in summary.models)


def _headline(summary: BenchSummary, names: dict[str, str]) -> Section:
    meta = summary.meta
    title = f"edgefc bench · suite {meta['suite']} · " + (
        f"served at {meta['endpoint']} (client-side times; RSS is the client's)" if meta.get("endpoint")
        else f"{meta['threads']} threads")
    rows = []
    for m in summary.models:
        h = headline(m)
        rows.append([names[m.model], fmt(h["overall"], ".1%"), fmt(h["overall_edgefc"], ".1%"),
                     fmt(h["decode_tps"], ".1f"), fmt(h["cold_ttft_s"], ".2f"), fmt(h["warm_ttft_s"], ".2f"),
                     fmt(h["peak_rss_mb"], ".0f"), fmt(h["file_mb"], ".0f"), fmt(h["response_tokens"], ".1f"),
                     fmt(h["grammar_ms_per_token"], ".2f"), fmt(h["forced_share"], ".0%"), _vs_raw(m)])
    return Section(title, HEADLINE_COLUMNS, rows, note=HEADLINE_NOTE)


def _jump_forward(summary: BenchSummary, names: dict[str, str]) -> Section | None:
    """The constrained variants whose latency ran with jump-forward on and off (medians)."""
    rows = []
    for m in summary.models:
        lat = m.latency or {}
        if lat.get("jump_forward_off"):
            on, off = lat, lat["jump_forward_off"]
            rows.append([names[m.model], *(f"{side[key]['median']:{spec}}" for key, spec in (
                ("e2e_s", ".3f"), ("e2e_warm_s", ".3f"), ("decode_tps", ".1f")) for side in (on, off))])
    return Section("Jump-forward on vs off: the latency request under the grammar (medians)",
                   ("model", *JUMP_FORWARD_COLUMNS), rows, heading="Jump-forward on vs off",
                   note="The latency request under the grammar, forced tokens evaluated in one batch (on) or one per "
                        "step (off), repeats interleaved; medians.") if rows else None


def _categories(summary: BenchSummary, names: dict[str, str]) -> Section | None:
    """BFCL accuracy per category and aggregate, one column per variant that scored BFCL entries."""
    scored = [(m.model, m.bfcl) for m in summary.models if m.bfcl]
    if not scored:
        return None
    rows = []
    for c in scored[0][1].scores.categories:
        cells = []
        for _, b in scored:
            s, t = b.scores.categories.get(c), b.scores_edgefc_decoding.categories.get(c)
            cells.append(f"{s.accuracy:.0%} [{s.low:.0%}, {s.high:.0%}] n={s.n} · edgefc {t.accuracy:.0%}"
                         if s and t else "-")
        rows.append([c, *cells])
    for agg in scored[0][1].scores.aggregates:
        rows.append([agg.name, *(fmt(b.scores.value(agg.name), ".1%") for _, b in scored)])
    return Section("BFCL accuracy by category: BFCL's decoding [95% Wilson interval] · edgefc's decoding",
                   ("category", *(names[label] for label, _ in scored)), rows, heading="BFCL accuracy by category")


def _v4(summary: BenchSummary, names: dict[str, str]) -> Section | None:
    """The variants that scored multi-turn entries: the overalls and the multi-turn work."""
    rows = []
    for m in summary.models:
        mt = m.bfcl.multi_turn if m.bfcl else None
        if not mt:
            continue
        value = m.bfcl.scores.value
        rows.append([names[m.model], fmt(value("overall"), ".1%"), fmt(value("multi_turn"), ".1%"),
                     fmt(value("overall_v4"), ".1%"), f"{mt['entries']} ({mt['failed']} failed to run)",
                     f"{mt['prompt_tokens']:,}", f"{mt['evaluated_tokens']:,}",
                     f"{mt['cached_tokens']:,} ({fmt(mt['cached_share'], '.0%')})", f"{mt['wall_s']:.0f}"])
    note = ("overall_v4 = (10*non_live + 10*live + 10*irrelevance + 30*multi_turn) / 60: BFCL V4's Overall weights "
            f"renormalized over the measured parts; {V4_NOTE}. 'overall' is the single-turn one (10/10/10). "
            "Multi-turn entries run through edgefc's agent loop against BFCL's simulated APIs; tokens are the "
            "conversations' prompt tokens, evaluated vs reused from the prefix cache.")
    return Section(f"BFCL Overall: single-turn, and V4's weights over what edgefc measures ({V4_NOTE})",
                   ("model", *V4_COLUMNS), rows, heading="BFCL V4 Overall over what edgefc measures",
                   note=note) if rows else None


def _paired(summary: BenchSummary, names: dict[str, str]) -> Section | None:
    """Each variant minus its base, per category then aggregate: point [interval], n, entries gained and lost."""
    paired = [d for d in summary.deltas if d.get("bfcl_paired")]
    if not paired:
        return None

    def cell(d: dict[str, Any] | None, counts: bool) -> str:
        if not d:
            return "-"
        text = f"{d['delta'] * 100:+.1f} pts [{d['low'] * 100:+.1f}, {d['high'] * 100:+.1f}]"
        return text + (f" n={d['n']} +{d['gained']}/-{d['lost']}" if counts else "")

    first = paired[0]["bfcl_paired"]
    rows = [[c, *(cell(d["bfcl_paired"]["categories"].get(c), True) for d in paired)] for c in first["categories"]]
    rows += [[name, *(cell(d["bfcl_paired"]["aggregates"].get(name), False) for d in paired)]
             for name in first["aggregates"]]
    rows.append(["loss bound, pooled", *(certificate(d["bfcl_paired"].get("pooled")) for d in paired)])
    note = ("Each variant minus its base on the entries both scored (a model's free decoding against its constrained "
            "one; a later model against the first under the same decoding): point delta [95% paired bootstrap "
            f"interval, {first['resamples']} resamples of entries within each category]; +gained/-lost counts the "
            "entries only one of the two got right. 'loss bound, pooled': over all those entries, the loss at most "
            "(95%, one-sided: Tango's score bound), whether that certifies the variant within --within points of "
            "its base, and if not how many paired entries would at the rates seen.")
    return Section("BFCL paired deltas, each variant minus its base [95% paired bootstrap interval]",
                   ("", *(f"{names[d['model']]} vs {names[d['against']]}" for d in paired)), rows,
                   heading="Paired deltas", note=note)


def certificate(pooled: dict[str, Any] | None) -> str:
    """A pooled loss bound in words: "loss +1.9, <= +4.2 pts (95%); not within 3: needs ~1,169 entries"."""
    if not pooled:  # a summary written before the bound existed
        return "-"
    head = f"loss {pooled['loss']:+.1f}, <= {pooled['bound']:+.1f} pts ({pooled['confidence']:.0%}); "
    if pooled["certified"]:
        return f"{head}within {pooled['within']:g}"
    need = pooled["entries_needed"]
    return f"{head}not within {pooled['within']:g}: " + (
        f"needs ~{need:,} entries at these rates" if need else "the loss measured is that large")


def _bfcl_detail(b: BfclBlock, name: str) -> list[str]:
    """One variant's BFCL detail in Markdown: categories with response tokens, aggregates with their formulas."""
    tolerant = b.scores_edgefc_decoding.categories
    lines = [f"## {name}", "", "| category | accuracy | 95% CI | edgefc decode | n | resp. tokens |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {c} | {s.accuracy:.1%} | {s.low:.1%} - {s.high:.1%} | {tolerant[c].accuracy:.1%} | "
              f"{s.n} | {b.response_tokens['by_category'].get(c, 0):.1f} |" for c, s in b.scores.categories.items()]
    lines += ["", "| aggregate | value | formula |", "|---|---|---|"]
    lines += [f"| {a.name} | {fmt(a.value, '.1%')} | {a.formula} |" for a in b.scores.aggregates]
    return lines + ["", f"entries {b.entries} ({b.failed} failed to run, counted wrong) · think share "
                        f"{b.think_share:.1%} · unclosed <tool_call> {fmt(b.unclosed_calls, 'd')} · wall "
                        f"{b.wall_s:.0f} s · prompt tokens {b.prompt_tokens:,} "
                        f"(evaluated {fmt(b.evaluated_tokens, ',')}, from the prefix cache "
                        f"{fmt(b.cached_tokens, ',')}) · prefill {fmt(b.prefill_tps, '.0f')} tok/s", ""]


def _vs_raw(model: ModelSummary) -> str:
    """The decode ratio to plain llama-cpp-python, named for what it measures (see edgefc.bench.latency)."""
    lat = model.latency or {}
    if lat.get("decode_ratio_vs_raw"):
        return f"x{lat['decode_ratio_vs_raw']:.2f}"
    if lat.get("grammar_decode_ratio_vs_raw"):
        return f"x{lat['grammar_decode_ratio_vs_raw']:.2f} grammar, jf off"
    return "-"


def plot(summary: BenchSummary, path: Path) -> bool:
    """Accuracy against decode tokens/s, marker area by file size; False when there is nothing to plot."""
    names = _names(summary)
    points = [(headline(m), names[m.model]) for m in summary.models]
    points = [(h, n) for h, n in points if h["overall"] is not None and h["decode_tps"]]
    if not points:
        return False
    fig, ax = subplots(figsize=(7, 5))
    for h, name in points:
        ax.scatter(h["decode_tps"], h["overall"] * 100, s=max(20.0, (h["file_mb"] or 100) / 2), alpha=0.6)
        ax.annotate(name, (h["decode_tps"], h["overall"] * 100), fontsize=8, xytext=(5, 5),
                    textcoords="offset points")
    ax.set_xlabel("decode tokens/s (CPU)")
    ax.set_ylabel("BFCL overall accuracy (%)")
    ax.set_title("Accuracy vs speed (marker area ~ file size)")
    ax.grid(alpha=0.3)
    write_png(fig, path, dpi=120)
    return True


def write_reports(out: Path, summary: BenchSummary) -> None:
    """report.md and plot.png beside summary.json."""
    write_text(out / "report.md", markdown(summary))
    plot(summary, out / "plot.png")
