"""The speed of the default files, in one run: what the speed work promised, measured side by side.

    edgefc bench speed [--old MODEL] [--new MODEL] [--onnx FOLDER] [--export-source MODEL] [-t 2]

On one machine and thread count, one after the other: the agent's warm tool-call turns (a short call and one
with free text) with prompt-lookup drafts on and off and the tokens per forward pass (bench/agent_latency.py);
decode and prefill tok/s and TTFT of the old and the new default file (bench/latency.py, free decoding, one
fresh process each); an ONNX folder's prefill tok/s and peak RSS with logits at the last position only (as
edgefc's graphs run) and at every position (as graphs without `logits_to_keep` do), one fresh process each; and
the wall time of a first export (a new cache: the GGUF materialized, the source's side computed) and of a second
quant from the same source (reusing both). Not a test: it prints figures against their targets, asserts nothing.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from edgefc.errors import EdgefcError

TARGETS = {"tool_call_turn_s_max": 0.20, "ticket_call_turn_s_max": 0.40, "first_export_s_max": 360.0,
           "second_export_s_max": 120.0}
ONNX_MESSAGE = "Where is my order 12345?"  # with the agent bench's customer-service tools: a ~400-token prompt


def onnx_prefill(path: str, threads: int, repeats: int, all_logits: bool) -> dict[str, Any]:
    """Prefill tok/s (median of `repeats` cold prompts) and this process's peak RSS for one ONNX folder."""
    from edgefc.agent import from_callable
    from edgefc.bench.agent_latency import TOOLS
    from edgefc.bench.latency import Spread
    from edgefc.runtimes.ort import OnnxRuntime

    rt = OnnxRuntime(Path(path), threads=threads)
    rt.all_logits = all_logits
    tools = [from_callable(fn).spec for fn in TOOLS]
    rates, ttfts, prompt = [], [], 0
    try:
        for _ in range(repeats):
            rt.reset_cache()
            gen = rt.generate([{"role": "user", "content": ONNX_MESSAGE}], tools, max_tokens=1, constrain=False)
            rates.append(gen.timings.prefill_tps)
            ttfts.append(gen.timings.ttft_s)
            prompt = gen.timings.prompt_tokens
    finally:
        rt.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"all_logits": all_logits, "prompt_tokens": prompt, "prefill_tps": asdict(Spread.of(rates)),
            "ttft_s": asdict(Spread.of(ttfts)), "peak_rss_mb": round(peak, 1)}


def _in_subprocess(function: str, params: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    """Run one of this module's functions in a fresh Python process (its memory figures are then its own)."""
    try:
        proc = subprocess.run([sys.executable, "-m", "edgefc.bench.speed", function, json.dumps(params)],
                              capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise EdgefcError(f"{function} did not finish within {timeout_s:g} s and was stopped") from None
    if proc.returncode != 0:
        raise EdgefcError(f"{function} failed: {(proc.stderr.strip().splitlines() or ['no output'])[-1]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def export_walls(source: str, threads: int, probes: int | None, timeout_s: float) -> dict[str, Any]:
    """Wall time of `edgefc export SOURCE -q q4_K_M` in a new, empty edgefc home (materializing a GGUF source and
    computing the source's side included), then of `-q q4_0` from the same source in the same home."""
    from edgefc.bfcl.data import WHEEL_ENV, wheel_path
    from edgefc.models.resolve import resolve

    local = resolve(source)  # fetched into the usual home first: the timed runs start from the file
    runs = []
    with tempfile.TemporaryDirectory(prefix="edgefc-speed-home-") as home:
        env = {**os.environ, "EDGEFC_HOME": home, WHEEL_ENV: str(wheel_path()), "EDGEFC_NO_PROGRESS": "1"}
        for quant in ("q4_K_M", "q4_0"):
            args = [sys.executable, "-m", "edgefc.cli", "export", str(local.path), "-f", "gguf", "-q", quant,
                    "-o", str(Path(home) / "out"), "-t", str(threads), "--json"]
            started = time.perf_counter()
            try:
                proc = subprocess.run(args + (["--probes", str(probes)] if probes else []), capture_output=True,
                                      text=True, env=env, timeout=timeout_s)
            except subprocess.TimeoutExpired:
                raise EdgefcError(f"the {quant} export did not finish within {timeout_s:g} s and was stopped") \
                    from None
            wall = time.perf_counter() - started
            if proc.returncode not in (0, 1):  # 1: it ran and failed its gate, still a timing
                raise EdgefcError(f"the {quant} export failed: {(proc.stderr.strip().splitlines() or [''])[-1]}")
            [row] = json.loads(proc.stdout)
            runs.append({"quant": quant, "wall_s": round(wall, 1), "passed": row["passed"],
                         "probes": len(row["verification"]["probes"]) if row["verification"] else 0})
    return {"source": str(local.path), "first": runs[0], "second": runs[1]}


def measure(old: str, new: str, onnx: str | None, export_source: str | None, threads: int, repeats: int,
            probes: int | None = None, timeout_s: float = 1800.0) -> dict[str, Any]:
    """Every figure of the module docstring, with the targets met or not."""
    from edgefc.bench import agent_latency
    from edgefc.bench.latency import measure_in_subprocess

    with tempfile.TemporaryDirectory(prefix="edgefc-prefix-state-") as scratch:
        agent = agent_latency.measure(new, None, threads, repeats, Path(scratch))
    files = {}
    for label, model in (("old", old), ("new", new)):
        result = measure_in_subprocess(model, None, threads, repeats, raw=False, constrain=False,
                                       timeout_s=timeout_s)
        files[label] = {"model": model, "file_bytes": result.file_bytes, "decode_tps": asdict(result.decode_tps),
                        "prefill_tps": asdict(result.prefill_tps), "cold_ttft_s": asdict(result.cold_ttft_s),
                        "warm_ttft_s": asdict(result.warm_ttft_s)}
    onnx_result = None
    if onnx:
        onnx_result = {side: _in_subprocess("onnx_prefill", {"path": onnx, "threads": threads, "repeats": repeats,
                                                              "all_logits": side == "before"}, timeout_s)
                       for side in ("before", "after")}
    exports = export_walls(export_source, threads, probes, timeout_s) if export_source else None
    figures = agent["figures"]
    met = {"tool_call_turn_s": _median(figures["tool_call_turn_s"]) <= TARGETS["tool_call_turn_s_max"],
           "ticket_call_turn_s": _median(figures["ticket_call_turn_s"]) <= TARGETS["ticket_call_turn_s_max"]}
    if exports:
        met["first_export_s"] = exports["first"]["wall_s"] <= TARGETS["first_export_s_max"]
        met["second_export_s"] = exports["second"]["wall_s"] <= TARGETS["second_export_s_max"]
    return {"threads": threads, "repeats": repeats, "loadavg": os.getloadavg()[0],
            "agent": {"model": new, **{k: figures[k] for k in ("tool_call_turn_s", "ticket_call_turn_s",
                                                               "tool_call_turn_no_drafts_s",
                                                               "ticket_call_turn_no_drafts_s")},
                      "tokens_per_pass": agent["tokens_per_pass"], "drafts": agent["drafts"]},
            "files": files, "onnx": onnx_result, "exports": exports, "targets": TARGETS, "met": met}


def _median(spread: dict[str, Any] | None) -> float:
    return spread["median"] if spread else float("inf")


def _fmt(spread: dict[str, Any] | None, unit: str = "", scale: float = 1.0, digits: int = 2) -> str:
    if not spread:
        return "-"
    return f"{spread['median'] * scale:.{digits}f}{unit} ({spread['min'] * scale:.{digits}f}-" \
           f"{spread['max'] * scale:.{digits}f})"


def text_table(result: dict[str, Any]) -> str:
    """The figures as plain text lines: median (min-max) over the repeats."""
    agent = result["agent"]
    lines = [f"agent turns on {agent['model']} ({result['threads']} threads, {result['repeats']} repeats)",
             f"  short call turn   drafts on {_fmt(agent['tool_call_turn_s'], ' s')}  "
             f"off {_fmt(agent['tool_call_turn_no_drafts_s'], ' s')}  target <= "
             f"{TARGETS['tool_call_turn_s_max']} s",
             f"  free-text turn    drafts on {_fmt(agent['ticket_call_turn_s'], ' s')}  "
             f"off {_fmt(agent['ticket_call_turn_no_drafts_s'], ' s')}  target <= "
             f"{TARGETS['ticket_call_turn_s_max']} s",
             f"  tokens per forward pass: drafts on {agent['tokens_per_pass']['drafts']}, "
             f"off {agent['tokens_per_pass']['no_drafts']}; drafted {agent['drafts']['drafted']}, "
             f"accepted {agent['drafts']['accepted']}"]
    for label, f in result["files"].items():
        lines.append(f"{label} default {f['model']} ({f['file_bytes'] / 1e6:.0f} MB): decode "
                     f"{_fmt(f['decode_tps'], ' tok/s', digits=0)}, prefill {_fmt(f['prefill_tps'], ' tok/s', digits=0)}"
                     f", cold TTFT {_fmt(f['cold_ttft_s'], ' ms', 1000, 0)}")
    if result["onnx"]:
        for side, o in result["onnx"].items():
            lines.append(f"ONNX prefill, {'every position' if o['all_logits'] else 'last position'} ({side}): "
                         f"{_fmt(o['prefill_tps'], ' tok/s', digits=0)} on {o['prompt_tokens']} tokens, peak RSS "
                         f"{o['peak_rss_mb']:.0f} MB")
    if result["exports"]:
        for run in ("first", "second"):
            e = result["exports"][run]
            lines.append(f"{run} export ({e['quant']}, {e['probes']} probes, passed {e['passed']}): {e['wall_s']} s"
                         f"  target <= {TARGETS[f'{run}_export_s_max']:.0f} s")
    lines.append("targets met: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in result["met"].items()))
    return "\n".join(lines)


if __name__ == "__main__":
    print(json.dumps({"onnx_prefill": onnx_prefill}[sys.argv[1]](**json.loads(sys.argv[2]))))
