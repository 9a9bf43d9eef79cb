"""`edgefc bench`: the measurements users run. `edgefc bench MODEL...` runs a suite (its default command, `run`);
`serve-load`, `engines` and `agent-latency` are the harnesses with a shape of their own (edgefc.bench.*)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import click
import typer
from typer.core import TyperGroup

from edgefc.bfcl.stats import DEFAULT_WITHIN
from edgefc.cli.common import (CATEGORIES_HELP, ApiOpt, EndpointModelOpt, EndpointOpt, JsonOpt, RuntimeOpt,
                               ThreadsOpt, err, out, print_json)
from edgefc.errors import EdgefcError
from edgefc.models.catalog import DEFAULT_MODEL
from edgefc.runtimes import LOCAL_RUNTIMES
from edgefc.serve.queue import DEFAULT_SIZE


class _DefaultToRun(TyperGroup):
    """A group whose arguments belong to `run` unless they start with one of its commands (or ask for help), so
    `edgefc bench MODEL --suite bfcl` keeps working beside `edgefc bench serve-load`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = ["run", *args]
        return super().parse_args(ctx, args)


bench_app = typer.Typer(cls=_DefaultToRun, help="Measure models on this CPU: suites of latency, BFCL and agent "
                        "tasks (run, the default), a served model under load, grammar engines, agent latency.")


@bench_app.command("run")
def run(models: Optional[list[str]] = typer.Argument(None, help="Models to compare (files of any format, "
                                                       "catalog names); deltas are against the first."),
          device: str = typer.Option("cpu", "--device", help="Only cpu: edgefc measures edge CPUs."),
          suite: str = typer.Option("quick", "--suite", "-s", help="quick, latency, bfcl, full, or agent (the tasks "
                                    "of --tasks run through edgefc's agent loop: pass rates, EN vs VI)."),
          tasks: Optional[Path] = typer.Option(None, "--tasks", help="The agent suite's task file (YAML or JSONL), "
                                               "e.g. examples/agent/tasks.yaml; checked before any model loads."),
          categories: Optional[str] = typer.Option(None, "--categories", "-c", help=CATEGORIES_HELP),
          limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1,
                                              help="BFCL entries per category, or agent tasks, sampled "
                                              "with --seed."),
          seed: int = typer.Option(0, "--seed"),
          threads: Optional[int] = ThreadsOpt,
          runtime: Optional[str] = typer.Option(None, "--runtime", "-r", help=f"Force one runtime for all models: "
                                                f"{', '.join(LOCAL_RUNTIMES)}."),
          max_tokens: int = typer.Option(256, "--max-tokens", min=1),
          out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder (default "
                                                 "bench-results/<time>)."),
          resume: bool = typer.Option(False, "--resume", help="Continue a killed run (the newest, or --out)."),
          latency_timeout: float = typer.Option(900.0, "--latency-timeout", min=0.1,
                                                help="Seconds one model's latency measurement may take."),
          constrain: Optional[str] = typer.Option(None, "--constrain", help="Decode under the tool grammar (on, "
                                                  "the default), freely (off, the only choice with --endpoint), or "
                                                  "both side by side with paired deltas."),
          endpoint: Optional[str] = EndpointOpt,
          endpoint_model: Optional[str] = EndpointModelOpt,
          api: str = ApiOpt,
          within: float = typer.Option(DEFAULT_WITHIN, "--within", min=0.0, help="Accuracy points: the paired "
                                       "deltas say whether a one-sided 95% bound certifies each model within this "
                                       "many points of its base, and if not how many entries would."),
          as_json: bool = JsonOpt) -> None:
    """Latency, response tokens, memory, BFCL accuracy and agent pass rates on CPU, several models side by side
    (the default: `edgefc bench MODEL...` runs this)."""
    import os

    from edgefc.bench.report import tables
    from edgefc.bench.runner import BenchConfig, default_constrain
    from edgefc.bench.runner import run as run_bench

    if device != "cpu":
        raise EdgefcError(f"device '{device}' is not supported: edgefc benchmarks edge CPUs (--device cpu)")
    cfg = BenchConfig(models=list(models or [DEFAULT_MODEL]), suite=suite,
                      categories=[c.strip() for c in categories.split(",")] if categories else None, limit=limit,
                      seed=seed, threads=threads or os.cpu_count() or 1, out=out_dir, resume=resume,
                      runtime=runtime, max_tokens=max_tokens, latency_timeout_s=latency_timeout,
                      constrain=constrain or default_constrain(endpoint), endpoint=endpoint,
                      served_model=endpoint_model, tasks=tasks, within=within, api=api)
    folder, summary = run_bench(cfg)
    if as_json:
        print_json(summary.to_dict())
        return
    for table in tables(summary):
        out.print(table)
    written = [name for name in ("results.jsonl", "summary.json", "report.md", "plot.png") if (folder / name).is_file()]
    out.print(f"[dim]{', '.join(written)} in {folder}[/]", highlight=False)


@bench_app.command("serve-load")
def serve_load(model: str = typer.Argument(DEFAULT_MODEL, help="Catalog name or model file."),
               out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder (default "
                                                      "bench-results/serve-load-<time>)."),
               clients: int = typer.Option(32, "--clients", min=1),
               requests: int = typer.Option(300, "--requests", min=1),
               max_seconds: float = typer.Option(600.0, "--max-seconds", help="Time budget of the load: no request "
                                                 "starts and no refused one is retried after it."),
               max_tokens: int = typer.Option(64, "--max-tokens", min=1, help="max_tokens of each load request."),
               threads: int = typer.Option(2, "--threads", "-t", min=1),
               ctx: int = typer.Option(4096, "--ctx", min=1, help="Context size of the server(s)."),
               queue: int = typer.Option(DEFAULT_SIZE, "--queue", min=0, help="edgefc serve --queue: requests that "
                                         "may wait."),
               port: int = typer.Option(0, "--port", min=0, help="Loopback port (default: a free one)."),
               timeout: float = typer.Option(120.0, "--timeout", help="Seconds of silence on a request before it "
                                             "is lost."),
               seed: int = typer.Option(0, "--seed"),
               compare: Optional[bool] = typer.Option(None, "--compare/--no-compare", help="Also compare tool calls "
                                                      "with llama-cpp-python's server (default: when installed)."),
               entries: int = typer.Option(8, "--entries", min=1, help="BFCL entries per category for the "
                                           "comparison."),
               categories: Optional[str] = typer.Option(None, "--categories", help="BFCL categories of the "
                                                        "comparison (default: a few single-call ones)."),
               compare_max_tokens: int = typer.Option(256, "--compare-max-tokens", min=1),
               llama_chat_format: Optional[list[str]] = typer.Option(None, "--llama-chat-format", help="llama_cpp."
                                                                     "server --chat_format for the comparison, "
                                                                     "repeatable: one run of its server each "
                                                                     "('template', the default: the GGUF's own)."),
               load: bool = typer.Option(True, "--load/--no-load", help="Run the load (--no-load: only the "
                                         "comparison).")) -> None:
    """`edgefc serve` under concurrent clients (chat, tool calls, streams), every request accounted for; then
    its tool calls beside llama-cpp-python's server on the same GGUF. Exits 1 when a check fails."""
    from edgefc.bench import serve_compare
    from edgefc.bench.serve_load import LoadRun, run as run_load, table

    result = run_load(LoadRun(model, out_dir, clients, requests, max_seconds, max_tokens, threads, ctx, queue, port,
                              timeout, seed, compare, entries,
                              categories.split(",") if categories else list(serve_compare.DEFAULT_CATEGORIES),
                              compare_max_tokens, tuple(llama_chat_format or [serve_compare.TEMPLATE]), load,
                              command=sys.argv))
    if "load" in result:
        out.print(table(result))
    comparison = result["compare"]
    if "skipped" in comparison:
        out.print(f"tool-call comparison with llama-cpp-python's server not run: {comparison['skipped']}")
    else:
        out.print(serve_compare.compare_table(comparison))
        for name, server in comparison["servers"].items():
            if "failed" in server:
                out.print(f"{name} did not run: {server['failed']}")
    for note in [*result["notes"], *comparison.get("notes", [])]:
        out.print(f"note: {note}", highlight=False)
    out.print(f"figures and per-request rows: {Path(result['out']) / 'result.json'}")
    for problem in result["problems"]:
        err.print(f"[red]FAIL:[/] {problem}", highlight=False, soft_wrap=True)
    if result["problems"]:
        raise typer.Exit(1)


@bench_app.command("engines")
def engines(model: str = typer.Argument(DEFAULT_MODEL, help="Catalog name or GGUF file."),
            threads: int = typer.Option(2, "--threads", "-t", min=1),
            repeats: int = typer.Option(3, "--repeats", min=1),
            as_json: bool = JsonOpt) -> None:
    """Grammar engines side by side on one GGUF (llama.cpp's GBNF, llguidance): decode ms per token, each one's
    overhead against its own free loop, and whether each answer is a valid call."""
    from edgefc.bench.engines import measure

    result = measure(model, threads, repeats)
    if as_json:
        print_json(result)
        return
    for name, row in result["engines"].items():
        extra = f" · overhead {row['overhead_ms_per_token']:+.2f} ms" if "overhead_ms_per_token" in row else ""
        out.print(f"{name:>18}: {row['decode_ms_per_token']:.2f} ms/token{extra} · {row['tokens']} tokens · "
                  f"valid call {row['valid_json_call']}", highlight=False)


@bench_app.command("agent-latency")
def agent_latency(model: str = typer.Argument(DEFAULT_MODEL, help="Catalog name or model file."),
                  runtime: Optional[str] = RuntimeOpt,
                  threads: int = typer.Option(2, "--threads", "-t", min=1),
                  repeats: int = typer.Option(3, "--repeats", min=1),
                  cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Where the prefix state goes "
                                                           "(default: a temporary folder, removed after)."),
                  as_json: bool = JsonOpt) -> None:
    """Agent time to first token cold, warm and restored from the prefix state on disk, and a warm tool-call turn,
    against their targets (figures only: it asserts nothing)."""
    import tempfile

    from edgefc.bench.agent_latency import measure, text_table

    with tempfile.TemporaryDirectory(prefix="edgefc-prefix-state-") as scratch:
        result = measure(model, runtime, threads, repeats, cache_dir or Path(scratch))
    if as_json:
        print_json(result)
        return
    out.print(text_table(result), highlight=False)


@bench_app.command("speed")
def speed(old: str = typer.Option(DEFAULT_MODEL, "--old", help="The file the default was before."),
          new: str = typer.Option(DEFAULT_MODEL, "--new", help="The default now (its agent turns are timed)."),
          onnx: Optional[Path] = typer.Option(None, "--onnx", help="An ONNX folder exported by edgefc: its "
                                              "prefill with logits at the last position vs every position."),
          export_source: Optional[str] = typer.Option(None, "--export-source", help="Time a first export of this "
                                                      "model (q4_K_M, in a new cache) and a second (q4_0)."),
          probes: Optional[int] = typer.Option(None, "--probes", min=1, help="The exports' probes (default all)."),
          threads: int = typer.Option(2, "--threads", "-t", min=1),
          repeats: int = typer.Option(3, "--repeats", min=1),
          as_json: bool = JsonOpt) -> None:
    """The speed figures side by side in one run: agent turns with drafts on and off, old and new default files,
    ONNX prefill before and after logits_to_keep, first and second export (figures only: it asserts nothing)."""
    from edgefc.bench.speed import measure, text_table

    result = measure(old, new, str(onnx) if onnx else None, export_source, threads, repeats, probes)
    if as_json:
        print_json(result)
        return
    out.print(text_table(result), highlight=False)
