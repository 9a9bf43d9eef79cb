"""`edgefc tune`'s report: a table of the files with their fronts marked, Markdown, and accuracy-vs-cost plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from edgefc.export.tune.front import AXES, signed
from edgefc.fsutil import subplots, write_png, write_text
from edgefc.tables import fmt

COLUMNS = ("file", "gate", "BFCL accuracy", "loss vs source [95%]", "loss bound (95%)",
           *(f"{a.label} {a.unit}" for a in AXES.values()), "resp. tokens", "front")


def _short(row: dict[str, Any]) -> str:
    """`gguf q4_0`, `source`: what a terminal-width table can show (file names run to 50 characters)."""
    return f"{row['format']} {row['quant']}" if "format" in row else "source"


def _cells(row: dict[str, Any], tune: dict[str, Any], short: bool = False) -> list[str]:
    """One file's cells, in COLUMNS order (the source's loss and front are blank: it is the reference)."""
    loss = row.get("loss")
    gate = "" if "gate_passed" not in row else "pass" if row["gate_passed"] else "FAIL" if row[
        "gate_passed"] is False else "-"
    on = [name for name, labels in tune["fronts"].items() if row["label"] in labels]
    return [_short(row) if short else row["name"], gate, fmt(row["accuracy"], ".1%"),
            f"{signed(loss['points'])} [{signed(loss['low'])}, {signed(loss['high'])}]" if loss else "-",
            _bound(loss),
            *(fmt(row.get(a.key), ".1f" if a.higher_is_better else ".0f") for a in AXES.values()),
            fmt(row.get("response_tokens"), ".1f"), ", ".join(on)]


def _bound(loss: dict[str, Any] | None) -> str:
    """The pooled one-sided bound, marked with a check when it certifies the budget: "<= +2.4 ok", "<= +4.1"."""
    certificate = (loss or {}).get("certificate")
    if not certificate:
        return "-"
    return f"<= {signed(certificate['bound'])}" + (" ok" if certificate["certified"] else "")


def _model(tune: dict[str, Any]) -> str:
    """The model as the user named it (a catalog name, or a folder's name)."""
    s = tune["settings"]
    return Path(s.get("model") or s["source"]).name


def _lines(tune: dict[str, Any]) -> list[str]:
    """The recommendation and the run's facts, one sentence each."""
    rec, s = tune["recommendation"], tune["settings"]
    name = Path(rec["label"]).name if rec["label"] else None
    rule = "certified: the pooled loss bound" if s.get("certify") else "point estimate; interval and bound beside it"
    lines = [f"recommendation: {name}: {rec['why']}" if name else f"no recommendation: {rec['why']}",
             f"budget {s['budget']:g} points of BFCL {tune['metric']} ({rule}) · speed "
             f"{s['speed']} · {s['limit']} entries per category, seed {s['seed']} · {s['threads']} threads · "
             f"wall {tune['wall_s']:.0f} s over {len(tune['runs'])} run(s)"]
    if tune.get("reused"):
        lines.append(f"reused exports: {', '.join(tune['reused'])}")
    lines += [f"not weighed: {key}: {error}" for key, error in tune.get("export_errors", {}).items()]
    if tune.get("picked"):
        lines.append(f"picked: {tune['picked']}")
    return lines


def table(tune: dict[str, Any]) -> Table:
    """The files as a rich table, the source first, the recommendation in bold."""
    t = Table(title=f"edgefc tune · {_model(tune)} · loss = source minus file, points",
              caption="\n".join(escape(line) for line in _lines(tune)))
    for col in COLUMNS:
        t.add_column(col, justify="left" if col in ("file", "gate", "front") else "right",
                      no_wrap=col == "file")
    t.add_row(*map(escape, _cells(tune["source"], tune, short=True)), style="dim")
    for row in tune["candidates"]:
        t.add_row(*map(escape, _cells(row, tune, short=True)),
                  style="bold" if row["label"] == tune["recommendation"]["label"] else None)
    return t


def markdown(tune: dict[str, Any]) -> str:
    """The tune as Markdown: what was weighed, the fronts, the recommendation and how it was chosen."""
    lines = [f"# edgefc tune: {_model(tune)}", "", *_lines(tune), "",
             f"Accuracy is BFCL's {tune['metric']} (BFCL's decoding of the answers, calls under the tool grammar). "
             "Loss is the source's accuracy minus the file's, paired on the same entries (95% paired bootstrap "
             "interval); 'loss bound' is the one-sided 95% bound on the loss over the entries pooled (Tango's score "
             "bound; 'ok' where it is within the budget, which `--certify` requires); 'front' names the axes on "
             "whose Pareto front (accuracy against that axis) the file lies, 'all' the front over accuracy and "
             "every axis together. Decode and prefill are tokens/s of the latency request, peak RSS the "
             "process's, each file measured in a fresh process.", "",
             "| " + " | ".join(COLUMNS) + " |", "|---" * len(COLUMNS) + "|"]
    lines.append("| " + " | ".join(_cells(tune["source"], tune)) + " |")
    for row in tune["candidates"]:
        cells = _cells(row, tune)
        if row["label"] == tune["recommendation"]["label"]:
            cells[0] = f"**{cells[0]}**"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(tune: dict[str, Any], path: Path) -> bool:
    """Accuracy against each axis, one panel per axis: files, their front joined, the source's accuracy and the
    budget below it as lines, the recommendation starred. False when no file has an accuracy."""
    rows = [r for r in tune["candidates"] if r["accuracy"] is not None]
    if not rows:
        return False
    fig, axes = subplots(2, 2, figsize=(10, 8))
    source = tune["source"]["accuracy"]
    chosen = tune["recommendation"]["label"]
    for ax, (name, axis) in zip(axes.flat, AXES.items()):
        points = [r for r in rows if r.get(axis.key) is not None]
        for r in points:
            ax.scatter(r[axis.key], 100 * r["accuracy"], marker="*" if r["label"] == chosen else "o",
                       s=160 if r["label"] == chosen else 40, color="C3" if r["label"] == chosen else "C0")
            name_on_plot = _short(r) + (" (gate FAIL)" if r.get("gate_passed") is False else "")
            ax.annotate(name_on_plot, (r[axis.key], 100 * r["accuracy"]), fontsize=7, xytext=(4, 4),
                        textcoords="offset points")
        front = sorted((r for r in points if r["label"] in tune["fronts"][name]), key=lambda r: r[axis.key])
        if len(front) > 1:
            ax.plot([r[axis.key] for r in front], [100 * r["accuracy"] for r in front], color="C1", lw=1,
                    label="front")
        if source is not None:
            ax.axhline(100 * source, color="grey", ls="--", lw=1, label="source")
            ax.axhline(100 * source - tune["settings"]["budget"], color="grey", ls=":", lw=1, label="budget")
        ax.set_xlabel(f"{axis.label} ({axis.unit}, {'higher' if axis.higher_is_better else 'lower'} is better)")
        ax.set_ylabel(f"BFCL {tune['metric']} (%)")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"edgefc tune: accuracy against cost ({_model(tune)})")
    write_png(fig, path, dpi=110)
    return True


def write_reports(out: Path, tune: dict[str, Any]) -> None:
    """tune.md and tune.png beside tune.json."""
    write_text(out / "tune.md", markdown(tune))
    plot(tune, out / "tune.png")
