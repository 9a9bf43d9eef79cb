"""The `edgefc` command. A thin layer: parse arguments, call library functions, print tables or JSON.

Heavy imports (torch, transformers, onnxruntime) happen inside the subcommands that need them.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.markup import escape
from rich.table import Table

from edgefc.cli.bench import bench_app
from edgefc.cli.common import (ApiOpt, CATEGORIES_HELP, EndpointModelOpt, EndpointOpt, JsonOpt, ModelOpt, RuntimeOpt,
                               ThreadsOpt, err, out, print_json)
from edgefc.cli.progress import bars
from edgefc.errors import EdgefcError
from edgefc.models.catalog import DEFAULT_MODEL
from edgefc.serve.queue import DEFAULT_SIZE, DEFAULT_WAIT_S

app = typer.Typer(help="Train, shrink, verify and run small function-calling models on CPU devices.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.add_typer(bench_app, name="bench")
def load_tools(path: Path | None) -> list[dict[str, Any]] | None:
    """Read a tools file (JSON: a list, one tool, or {"tools": [...]}, in any form schema.py accepts)."""
    if path is None:
        return None
    from edgefc.protocol.schema import normalize_tools

    if path.is_dir():
        raise EdgefcError(f"tools file {path} is a folder; give the path of a JSON file")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EdgefcError(f"tools file {path} does not exist") from None
    except OSError as exc:
        raise EdgefcError(f"tools file {path} cannot be read: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EdgefcError(f"tools file {path} is not valid JSON: {exc}") from None
    return normalize_tools(raw)


@app.command()
def models(as_json: bool = JsonOpt) -> None:
    """List the model catalog and what is already in the local cache."""
    from edgefc.models import CATALOG, cached_path

    rows = []
    for entry in CATALOG.values():
        path = cached_path(entry)
        rows.append({"name": entry.name, "params": entry.params, "format": entry.format, "quant": entry.quant,
                     "source": entry.source.describe(), "default": entry.name == DEFAULT_MODEL,
                     "cached": str(path) if path else None,
                     "description": entry.description})
    if as_json:
        print_json(rows)
        return
    table = Table(title="edgefc models")
    for col in ("name", "params", "format", "quant", "source", "cached"):
        table.add_column(col)
    for r in rows:
        name = f"{r['name']} [dim](default)[/]" if r["default"] else r["name"]
        table.add_row(name, r["params"], r["format"], r["quant"], r["source"], r["cached"] or "[dim]-[/]")
    out.print(table)


@app.command()
def pull(name: str = typer.Argument(DEFAULT_MODEL, help="Catalog name or hub ID."),
         fmt: Optional[str] = typer.Option(None, "--format", "-f", help="gguf (as published) or hf (a "
                                           "Hugging Face folder, dequantized, for export and training)."),
         no_weights: bool = typer.Option(False, "--no-weights", help="With --format hf: only the config and "
                                         "tokenizer (seconds), for tools that render prompts for a served model."),
         as_json: bool = JsonOpt) -> None:
    """Fetch a model into the cache (verified), optionally materialized as a Hugging Face folder."""
    from edgefc.models import resolve
    from edgefc.models.resolve import LocalModel

    if no_weights and fmt != "hf":
        raise EdgefcError("--no-weights applies to --format hf")
    local = resolve(name, want=None if no_weights else fmt)
    if no_weights:
        from edgefc.models.materialize import cached_hf

        if local.format != "gguf":
            raise EdgefcError(f"--no-weights writes a GGUF's config and tokenizer; {local.name} is {local.format}")
        local = LocalModel(cached_hf(local.path, weights=False), "hf", local.name)
    if as_json:
        print_json({"name": local.name, "format": local.format, "path": str(local.path)})
    else:
        out.print(f"[green]{local.name}[/] ({local.format}) is at {local.path}")


@app.command()
def chat(message: str = typer.Argument(..., help="The user message."),
         tools: Optional[Path] = typer.Option(None, "--tools", help="JSON file of tool definitions."),
         model: str = ModelOpt,
         runtime: Optional[str] = RuntimeOpt,
         system: Optional[str] = typer.Option(None, "--system", help="A system message."),
         max_tokens: int = typer.Option(256, "--max-tokens", min=1),
         temperature: float = typer.Option(0.0, "--temperature", min=0.0, help="0 is greedy."),
         seed: int = typer.Option(0, "--seed"),
         think: bool = typer.Option(False, "--think/--no-think", help="Let templates that can think do so."),
         free: bool = typer.Option(False, "--free", help="Decode without the tool grammar (the model may write "
                                   "calls in any form, or malformed ones)."),
         tool_choice: str = typer.Option("auto", "--tool-choice", help="auto, none, required, or a tool name "
                                         "that must be called."),
         parallel: bool = typer.Option(True, "--parallel/--no-parallel", help="Allow several calls in one answer."),
         threads: Optional[int] = ThreadsOpt,
         endpoint: Optional[str] = EndpointOpt,
         endpoint_model: Optional[str] = EndpointModelOpt,
         api: str = ApiOpt,
         show_prompt: bool = typer.Option(False, "--show-prompt", help="Print the rendered prompt too."),
         as_json: bool = JsonOpt) -> None:
    """Answer one message with tools: the parsed calls, the text, and timings. With tools, the answer is
    constrained to well-formed calls or plain text unless --free (always free with --endpoint)."""
    from edgefc.protocol.grammar import MODES
    from edgefc.runtimes import Sampling, load

    tool_list = load_tools(tools)
    choice: Any = tool_choice if tool_choice in MODES else {"type": "function", "function": {"name": tool_choice}}
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": message}]
    if api != "completions" and endpoint is None:
        raise EdgefcError("--api says how an --endpoint is asked: give the --endpoint")
    rt = load(model, runtime, threads=threads, endpoint=endpoint, served_model=endpoint_model, api=api)
    try:
        gen = rt.generate(messages, tool_list, max_tokens=max_tokens,
                          sampling=Sampling(temperature=temperature, seed=seed), enable_thinking=think,
                          constrain=False if free or endpoint else None, tool_choice=choice,
                          parallel_tool_calls=parallel)
    finally:
        rt.close()
    if as_json:
        print_json({"model": str(model), **gen.to_dict(), **({"prompt": gen.prompt} if show_prompt else {})})
        return
    if show_prompt:
        out.print(gen.prompt, markup=False, highlight=False)
    _print_generation(gen)


@app.command()
def agent(model: str = typer.Argument(DEFAULT_MODEL, help="Catalog name, GGUF file, ONNX folder or HF folder."),
          tools: Optional[list[Path]] = typer.Option(None, "--tools", help="Python file (its public functions, or "
                                                     "its TOOLS list) or JSON schemas with handlers; repeatable."),
          mcp: Optional[Path] = typer.Option(None, "--mcp", help="MCP config file ({\"mcpServers\": {...}}): "
                                             "stdio servers whose tools join as SERVER__TOOL."),
          mcp_command: Optional[list[str]] = typer.Option(None, "--mcp-command", help="Start one stdio MCP "
                                                          "server from this command line; repeatable."),
          once: Optional[str] = typer.Option(None, "--once", help="Answer this one message and exit (scripts)."),
          system: Optional[str] = typer.Option(None, "--system", help="A system message (default: the tools "
                                               "files' own SYSTEM, if any)."),
          max_steps: int = typer.Option(8, "--max-steps", min=1, help="Model answers per user message."),
          timeout: float = typer.Option(30.0, "--timeout", min=0.01, help="Seconds each tool call may take."),
          yes: bool = typer.Option(False, "--yes", help="Run tools marked for confirmation without asking."),
          max_tokens: int = typer.Option(512, "--max-tokens", min=1),
          temperature: float = typer.Option(0.0, "--temperature", min=0.0, help="0 is greedy."),
          seed: int = typer.Option(0, "--seed"),
          think: bool = typer.Option(False, "--think/--no-think", help="Let templates that can think do so."),
          runtime: Optional[str] = RuntimeOpt,
          threads: Optional[int] = ThreadsOpt,
          save: Optional[Path] = typer.Option(None, "--save", help="Write the transcript (JSON) here at the end."),
          replay_file: Optional[Path] = typer.Option(None, "--replay", help="Show a saved transcript; no model."),
          as_json: bool = typer.Option(False, "--json", help="Print the transcript as JSON instead of the events.")
          ) -> None:
    """Run a tool-calling agent: each call, its arguments, the result and timings, until the model answers."""
    from edgefc.agent import Agent, Limits, Toolbox, load_tool_file, replay
    from edgefc.agent.console import ask, print_event
    from edgefc.runtimes import Sampling, load

    if replay_file is not None:
        transcript = _read_transcript(replay_file)
        if as_json:
            print_json(transcript)
        for event in [] if as_json else replay(transcript):
            print_event(out, event)
        return
    files = [load_tool_file(path) for path in tools or []]
    system = system or "\n\n".join(file.system for file in files if file.system) or None
    confirm = (lambda call: True) if yes else (lambda call: ask(out, call)) if sys.stdin.isatty() else None
    with contextlib.ExitStack() as stack:
        servers = _open_mcp(stack, mcp, mcp_command or [], timeout)  # before the model: a bad server fails fast
        toolbox = Toolbox([*(tool for file in files for tool in file.tools), *(servers.tools if servers else [])])
        if not len(toolbox):
            raise EdgefcError("the agent has no tools: give a tools file with --tools, or MCP servers with --mcp")
        rt = load(model, runtime, threads=threads)
        stack.callback(rt.close)
        bot = Agent(rt, toolbox, system=system, limits=Limits(max_steps=max_steps, timeout_s=timeout,
                                                                max_tokens=max_tokens),
                    sampling=Sampling(temperature=temperature, seed=seed), confirm=confirm, thinking=think)
        stack.callback(bot.close)
        try:
            warmed = bot.warm()
        except EdgefcError as exc:  # an unwritable cache folder costs speed, not the answer
            err.print(f"[yellow]warning:[/] prompt prefix not kept on disk: {exc}", highlight=False)
            warmed = None
        if warmed and not as_json:
            out.print(f"[dim]system + tools prefix: {warmed}[/]")
        if save is not None:
            stack.callback(_save_transcript, save, bot)  # also after Ctrl-C or an error: never lose the work
        for message in [once] if once is not None else _prompts():
            for event in bot.send(message):
                if not as_json:
                    print_event(out, event)
    if as_json:
        print_json(bot.transcript())


def _open_mcp(stack: contextlib.ExitStack, config: Path | None, commands: list[str], timeout: float) -> Any:
    """Start the MCP servers of a config file and command lines (closed with the stack), or None."""
    from edgefc.agent.mcp import open_servers, server_from_command, servers_from_config

    specs = [*(servers_from_config(config) if config else []), *(server_from_command(c) for c in commands)]
    if not specs:
        return None
    servers = stack.enter_context(open_servers(specs, call_timeout_s=timeout))
    for warning in servers.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    return servers


def _save_transcript(path: Path, bot: Any) -> None:
    from edgefc.fsutil import write_json

    write_json(path, bot.transcript())


def _prompts() -> Any:
    """User messages typed at the REPL until exit, end of input or Ctrl-C."""
    out.print("[dim]edgefc agent · type a message, 'exit' or Ctrl-D to leave[/]")
    while True:
        try:
            message = out.input("[bold]> [/]").strip()
        except (EOFError, KeyboardInterrupt):
            return
        if message in ("exit", "quit"):
            return
        if message:
            yield message


def _read_transcript(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EdgefcError(f"transcript {path} does not exist") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EdgefcError(f"transcript {path} cannot be read: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise EdgefcError(f"{path} is not an edgefc agent transcript (no 'events' list)")
    return data


@app.command()
def serve(model: str = typer.Argument(DEFAULT_MODEL, help="Catalog name, GGUF file, ONNX folder or HF folder."),
          host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback by default)."),
          port: int = typer.Option(8000, "--port", min=0, max=65535),
          api_key: Optional[str] = typer.Option(None, "--api-key", envvar="EDGEFC_API_KEY",
                                                help="Require 'Authorization: Bearer KEY' on /v1/*."),
          threads: Optional[int] = ThreadsOpt,
          ctx: Optional[int] = typer.Option(None, "--ctx", min=16, help="Context size in tokens, prompt and "
                                            "answer together (GGUF; default 8192)."),
          api_keys: Optional[Path] = typer.Option(None, "--api-keys", help="A file of API keys, one a line: "
                                                  "each is a client, and their requests take turns in the queue."),
          queue: int = typer.Option(DEFAULT_SIZE, "--queue", min=0, help="Requests that may wait (in arrival "
                                    "order, by key in turns) behind the one being answered; more get 429."),
          wait: float = typer.Option(DEFAULT_WAIT_S, "--wait", min=0.0, help="Seconds a request may wait for its turn "
                                     "before it gets 429 with a Retry-After."),
          tools: Optional[list[Path]] = typer.Option(None, "--tools", help="Python file or JSON schemas with "
                                                     "handlers (as for edgefc agent): the agent endpoint and the "
                                                     "chat page run them on this server; repeatable."),
          mcp: Optional[Path] = typer.Option(None, "--mcp", help="MCP config file whose stdio servers' tools join "
                                             "the agent's as SERVER__TOOL."),
          timeout: float = typer.Option(30.0, "--timeout", min=0.01, help="Seconds each tool call may take."),
          ui: bool = typer.Option(True, "--ui/--no-ui", help="Serve the chat page at / (the agent's tools need "
                                  "--tools or --mcp)."),
          runtime: Optional[str] = RuntimeOpt) -> None:
    """Serve the OpenAI API (chat and text completions, constrained tool calls, streaming) on this device, and
    with tools the agent endpoint (POST /v1/agent) and a chat page at /."""
    from edgefc.agent import Limits, Toolbox, load_tool_file
    from edgefc.runtimes import load
    from edgefc.serve.server import is_loopback, serve as run_server

    keys = [api_key] if api_key else []
    if api_keys is not None:
        try:
            keys += [line.strip() for line in api_keys.read_text(encoding="utf-8").splitlines() if line.strip()]
        except OSError as exc:
            raise EdgefcError(f"--api-keys {api_keys} cannot be read: {exc.strerror or exc}") from None
        if not keys:
            raise EdgefcError(f"--api-keys {api_keys} holds no key")
    if not is_loopback(host) and not keys:
        err.print(f"[yellow]warning:[/] serving on {host} without --api-key: anyone who can reach this address "
                  "can use the model")
    files = [load_tool_file(path) for path in tools or []]
    system = "\n\n".join(file.system for file in files if file.system) or None
    with contextlib.ExitStack() as stack:
        servers = _open_mcp(stack, mcp, [], timeout)  # before the model: a bad server fails fast
        toolbox = Toolbox([*(tool for file in files for tool in file.tools), *(servers.tools if servers else [])])
        rt = load(model, runtime, threads=threads, n_ctx=ctx)
        name = Path(model).name if Path(model).exists() else model
        run_server(rt, model=name, host=host, port=port, api_key=keys or None, queue_size=queue, wait_s=wait,
                   toolbox=toolbox if len(toolbox) else None, system=system, limits=Limits(timeout_s=timeout), ui=ui)


@app.command()
def dataset(out_file: Path = typer.Argument(..., help="Parquet file to write (a summary JSON goes beside it)."),
            xlam: Optional[list[Path]] = typer.Option(None, "--xlam", help="xLAM function-calling-60k files "
                                                      "(.json or .jsonl); repeatable."),
            toolace: Optional[list[Path]] = typer.Option(None, "--toolace", help="ToolACE files; repeatable."),
            toucan: Optional[list[Path]] = typer.Option(None, "--toucan", help="Toucan-1.5M parquet files; "
                                                        "repeatable."),
            negatives: int = typer.Option(0, "--negatives", min=0, help="Up to N synthetic negatives of each of "
                                          "the seed's types, derived from the loaded positives."),
            synthetic: int = typer.Option(0, "--synthetic", min=0, help="N bilingual (en/vi) synthetic tasks."),
            seed: int = typer.Option(0, "--seed"),
            decontaminate: bool = typer.Option(True, "--decontaminate/--no-decontaminate", help="Drop records "
                                               "whose question is a BFCL question (exact or a shared 13-word run)."),
            as_json: bool = JsonOpt) -> None:
    """Training records from local copies of xLAM, ToolACE and Toucan plus generated negatives and tasks, in one
    unified form, deduplicated and decontaminated against BFCL, as parquet with counts by source and type."""
    from edgefc.train.data.build import build

    sources = {name: paths for name, paths in (("xlam", xlam), ("toolace", toolace), ("toucan", toucan)) if paths}
    if not sources and not synthetic:
        raise EdgefcError("nothing to build: give source files (--xlam, --toolace, --toucan) or --synthetic N")
    summary = build(sources, out_file, negatives_per_type=negatives, synthetic_count=synthetic, seed=seed,
                    decontaminate_bfcl=decontaminate)
    if as_json:
        print_json(summary)
        return
    table = Table(title=f"edgefc dataset · {summary['records']} records")
    table.add_column("by")
    table.add_column("value")
    table.add_column("records", justify="right")
    for group in ("by_source", "by_negative_type", "by_language"):
        for value, count in summary[group].items():
            table.add_row(group.removeprefix("by_"), value, str(count))
    out.print(table)
    out.print(f"[dim]dropped: {summary['duplicates_dropped']} duplicates, {summary['bfcl_contaminated_dropped']} "
              f"BFCL questions; skipped rows: {summary['skipped'] or 'none'} · records in {out_file}[/]",
              highlight=False)


@app.command()
def train(stage: int = typer.Option(1, "--stage", min=1, max=2, help="1, or 2 (starts from stage 1's result)."),
          recipe: str = typer.Option("cpu-0.5b-lora", "--recipe", help="A shipped recipe (train/recipes) or a "
                                     "YAML file."),
          model: Optional[str] = typer.Option(None, "--model", "-m", help="Base model (default: the recipe's; "
                                              "stage 2: stage 1's result)."),
          data: Optional[Path] = typer.Option(None, "--data", help="Parquet of training records (edgefc dataset); "
                                              "default: the recipe's synthetic tasks."),
          out_dir: Path = typer.Option(Path("train-runs/run"), "--out", "-o", help="Run folder (stageN inside)."),
          resume: bool = typer.Option(False, "--resume", help="Continue from the stage's last checkpoint."),
          as_json: bool = JsonOpt) -> None:
    """One GRPO stage of a recipe (TRL): rewards per step to log.jsonl, held-out scoring keeps the best
    checkpoint, and the result is an HF folder (LoRA merged) for edgefc export and bench."""
    from edgefc.train.config import load_recipe
    from edgefc.train.run import train_stage

    summary = train_stage(load_recipe(recipe), stage, out_dir, model=model, data=data, resume=resume)
    if as_json:
        print_json(summary)
        return
    table = Table(title=f"edgefc train · recipe {summary['recipe']} · stage {stage}")
    table.add_column("figure")
    table.add_column("start", justify="right")
    table.add_column("end", justify="right")
    for key, start in summary["start"].items():
        end = summary["end"].get(key)
        table.add_row(key, "-" if start is None else f"{start:.3f}", "-" if end is None else f"{end:.3f}")
    out.print(table)
    held = summary["heldout"][-1] if summary["heldout"] else None
    out.print(f"[dim]{summary['steps']} steps · {summary['seconds_per_step'] or 0:.1f} s/step · "
              f"wall {summary['wall_s']:.0f} s · frac_reward_zero_std {summary['frac_reward_zero_std_mean']} · "
              + (f"held-out {held['accuracy']:.0%} (tolerant {held['accuracy_tolerant']:.0%}), best step "
                 f"{summary['best_step']} · " if held else "")
              + f"model: {summary['model']}[/]", highlight=False)


@app.command()
def export(model: str = typer.Argument(DEFAULT_MODEL, help="Catalog name, HF folder or GGUF (materialized "
                                       "as HF first)."),
           fmt: str = typer.Option("gguf", "--format", "-f", help="gguf or onnx."),
           quant: Optional[list[str]] = typer.Option(None, "--quant", "-q", help="Repeat or comma-separate: "
                                                     "f32,f16,bf16,q8_0,q6_K,q5_K_M,q4_K_M,q4_0 (gguf; default "
                                                     "q4_K_M) or fp32,int8,int8-dynamic,int4 (onnx; default "
                                                     "int4)."),
           output: Optional[Path] = typer.Option(None, "-o", "--output", help="Output folder (default ./exports),"
                                                 " or a .gguf file for one GGUF quant."),
           force: bool = typer.Option(False, "--force", help="Replace existing outputs."),
           verify: bool = typer.Option(True, "--verify/--no-verify", help="Check each file against the source."),
           probes: Optional[int] = typer.Option(None, "--probes", min=1, help="Verify on the first N probes "
                                                 "only (default: all, 100+ from BFCL and edgefc's own)."),
           gate: Optional[str] = typer.Option(None, "--gate", help="Override the quants' gates, e.g. "
                                              "kl=0.05,greedy=0.9,calls=0.8 (any subset)."),
           keep_failed: bool = typer.Option(False, "--keep-failed", help="Keep a file that fails its gate, "
                                            "named NAME-FAILED."),
           reuse_source: bool = typer.Option(True, "--reuse-source/--fresh-source", help="Read the source's "
                                             "answers to the probes from earlier runs (cached by content hash), "
                                             "or compute them again."),
           modelfile: bool = typer.Option(True, "--modelfile/--no-modelfile", help="Write FILE.gguf.Modelfile "
                                          "beside each GGUF (for `ollama create`; chat templates of a known "
                                          "family)."),
           threads: Optional[int] = ThreadsOpt,
           as_json: bool = JsonOpt) -> None:
    """Export to GGUF or ONNX, quantize, verify against the source, and publish (with a manifest, and for GGUF an
    Ollama Modelfile) only the files that pass their gate; exits 1 when any fails."""
    from edgefc.export.gate import parse_gate
    from edgefc.export.pipeline import run_export

    quants = [q.strip() for item in quant or [] for q in item.split(",") if q.strip()]
    results = run_export(model, fmt, quants, output, force=force, verify=verify, threads=threads,
                         probe_limit=probes, gate_overrides=parse_gate(gate), keep_failed=keep_failed,
                         reuse_source=reuse_source, companion=modelfile)
    if as_json:
        print_json([r.row() for r in results])
    else:
        _print_exports(results)
    failed = [r.quant for r in results if r.passed is False]
    if failed:
        err.print(f"[red]error:[/] failed the quality gate: {', '.join(failed)} "
                  f"({'kept under a FAILED name' if keep_failed else 'not published'})", soft_wrap=True)
        raise typer.Exit(1)


@app.command()
def adapter(trained: Path = typer.Argument(..., help="The trained model's HF folder (e.g. RUN/stage1/model), or a "
                                          "PEFT training checkpoint (merged into --base first)."),
            output: Path = typer.Option(..., "-o", "--output", help="The adapter GGUF to write; its manifest goes "
                                        "beside it."),
            base: str = typer.Option(DEFAULT_MODEL, "--base", "-b", help="The model it was trained from: a catalog "
                                     "name or GGUF (its HF form), or an HF folder (then give --base-gguf)."),
            base_gguf: Optional[Path] = typer.Option(None, "--base-gguf", help="The GGUF the adapter applies to "
                                                     "(default: the one the base's HF form was made from)."),
            rank: Optional[int] = typer.Option(None, "--rank", min=1, help="One rank for every weight (default: "
                                               "the fewest components keeping --energy)."),
            energy: float = typer.Option(0.999, "--energy", min=0.0, max=1.0, help="Share of each weight's delta "
                                         "(squared norm) to keep."),
            max_mb: Optional[float] = typer.Option(None, "--max-mb", min=0.01, help="Keep less energy, the same "
                                                   "for every weight, until the factors fit this many MB."),
            dtype: str = typer.Option("f16", "--dtype", help="f16 or f32 factors."),
            info: Optional[Path] = typer.Option(None, "--info", help="A JSON file of manifest fields: recipe, "
                                                "data, command, commit, figures."),
            as_json: bool = JsonOpt) -> None:
    """Write a trained model as a llama.cpp LoRA adapter of its base's GGUF, applied at load (a catalog entry
    AdapterOf ships it); `edgefc export` merges it back."""
    import tempfile

    from edgefc.export.adapter import is_peft_checkpoint, make_adapter, merge_checkpoint
    from edgefc.models import resolve
    from edgefc.progress import console

    try:
        fields = json.loads(info.read_text(encoding="utf-8")) if info else None
    except (OSError, json.JSONDecodeError) as exc:
        raise EdgefcError(f"--info {info} is not a readable JSON file: {exc}") from None
    base_dir = resolve(base, want="hf").path
    with contextlib.ExitStack() as stack:
        if is_peft_checkpoint(trained):  # a training checkpoint: the whole model is the base with it merged
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="edgefc-merged-")))
            with console.status(f"merging the checkpoint {trained.name} into {base}"):
                trained_dir = merge_checkpoint(base_dir, trained, scratch / "merged")
            fields = {**(fields or {}), "checkpoint": str(trained)}
        else:
            trained_dir = resolve(trained, want="hf").path
        with console.status(f"factorising {trained.name}'s difference from {base} (a minute for 0.5B)"):
            result = make_adapter(base_dir, trained_dir, output, base_gguf=base_gguf, rank=rank, energy=energy,
                                  dtype=dtype, info=fields, max_bytes=int(max_mb * 1e6) if max_mb else None)
    if as_json:
        print_json(result.row())
        return
    ranks = [t["rank"] for t in result.tensors.values()]
    out.print(f"[green]{result.path}[/] {result.size_bytes / 1e6:.1f} MB ({result.dtype}), {len(ranks)} weights, "
              f"rank {min(ranks)}-{max(ranks)}, energy kept >= {result.energy_min:.4%}, {result.seconds:.0f} s; "
              f"manifest {result.manifest.name}", highlight=False)


@app.command()
def tune(model: str = typer.Argument(DEFAULT_MODEL, help="Catalog name, HF folder or GGUF (materialized as HF "
                                     "first): the source every file is weighed against."),
         formats: str = typer.Option("gguf,onnx", "--formats", help="Comma-separated export formats."),
         quants: Optional[str] = typer.Option(None, "--quants", help="Comma-separated quants, each in the formats "
                                              "that have it (default: those the registries mark as tune "
                                              "candidates: gguf f16,q8_0,q5_K_M,q4_K_M,q4_0; onnx int8,int4)."),
         budget: float = typer.Option(1.0, "--budget", help="BFCL accuracy points (overall, or the mean of the "
                                      "categories run) a file may lose against the source (point estimate; the "
                                      "paired interval is reported)."),
         speed: str = typer.Option("decode", "--speed", help="What 'fastest' means: decode or prefill tok/s."),
         categories: Optional[str] = typer.Option(None, "--categories", "-c", help=CATEGORIES_HELP),
         limit: int = typer.Option(25, "--limit", "-n", min=1, help="BFCL entries per category, or agent tasks, sampled "
                                              "with --seed."),
         seed: int = typer.Option(0, "--seed"),
         threads: Optional[int] = ThreadsOpt,
         out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="Tune folder (default "
                                                "tune-results/NAME); --pick copies the chosen file here."),
         exports: Optional[Path] = typer.Option(None, "--exports", help="Where candidates are exported, and "
                                                "reused from when their manifest names the same source (default "
                                                "OUT/exports)."),
         resume: bool = typer.Option(False, "--resume", help="Continue a killed tune in --out."),
         probes: int = typer.Option(16, "--probes", min=1, help="Export verification probes per file (the gate's "
                                    "verdict is reported; BFCL decides)."),
         max_tokens: int = typer.Option(256, "--max-tokens", min=1),
         pick: bool = typer.Option(False, "--pick", help="Copy the recommended file and its manifest to --out."),
         certify: bool = typer.Option(False, "--certify", help="Recommend only a file whose one-sided 95% bound on "
                                      "the loss (entries pooled) is within --budget, not its point estimate."),
         as_json: bool = JsonOpt) -> None:
    """Export every candidate file, bench each beside the source on the same BFCL entries, and recommend the
    fastest whose accuracy loss stays within --budget (with --certify: whose 95% bound on it does)."""
    import os

    from edgefc.export.tune.report import table
    from edgefc.export.tune.run import TuneConfig, run_tune

    cfg = TuneConfig(model=model, formats=[f.strip() for f in formats.split(",") if f.strip()],
                     quants=[q.strip() for q in quants.split(",") if q.strip()] if quants else None, budget=budget,
                     speed=speed, categories=[c.strip() for c in categories.split(",")] if categories else None,
                     limit=limit, seed=seed, threads=threads or os.cpu_count() or 1, out=out_dir, exports=exports,
                     resume=resume, probes=probes, max_tokens=max_tokens, pick=pick, certify=certify)
    folder, result = run_tune(cfg)
    if as_json:
        print_json(result)
        return
    out.print(table(result))
    out.print(f"[dim]tune.json, tune.md and tune.png in {folder}; the bench run in {result['bench']}[/]",
              highlight=False)


def _print_exports(results: list[Any]) -> None:
    fmt = results[0].format if results else ""
    table = Table(title=f"edgefc export {fmt}: agreement with the source [95% interval]")
    for col in ("quant", "size", "time", "max|Δlogit|", "KL", "greedy", "calls", "gate"):
        table.add_column(col, justify="left" if col in ("quant", "gate") else "right")
    for r in results:
        v = r.verification
        interval = lambda value, low_high: f"{value:.0%} [{low_high[0]:.0%},{low_high[1]:.0%}]"  # noqa: E731
        gate = "-" if r.passed is None else "pass" if r.passed else f"[red]FAIL[/] {'; '.join(r.failures)}"
        cells = ([f"{v.max_abs_diff:.2g}", f"{v.kl_mean:.1e}", interval(v.greedy_agreement, v.greedy_interval),
                  interval(v.tool_call_agreement, v.tool_call_interval)] if v else ["-"] * 4)
        table.add_row(r.quant, f"{r.size_bytes / 1e6:.0f} MB", f"{r.seconds:.0f} s", *cells, gate)
    out.print(table)
    for r in results:
        where = r.path if r.path else "not published (failed its gate)"
        out.print(f"[dim]{r.quant}:[/] {where}", highlight=False)
        if r.companion:
            out.print(f"[dim]{r.quant}:[/] {r.companion} (ollama create NAME -f {r.companion.name})", highlight=False)
        for note in r.notes:
            out.print(f"[dim]{r.quant}: {escape(note)}[/]", highlight=False)


def _print_generation(gen: Any) -> None:
    parsed = gen.parsed
    if parsed.calls:
        table = Table(title=f"{len(parsed.calls)} tool call(s) [dim]({parsed.format})[/]")
        table.add_column("name", style="bold cyan")
        table.add_column("arguments")
        for call in parsed.calls:
            table.add_row(call["name"], json.dumps(call["arguments"], ensure_ascii=False))
        out.print(table)
        if parsed.unknown_tools:
            out.print(f"[red]not among the offered tools:[/] {', '.join(parsed.unknown_tools)}", highlight=False)
    elif parsed.refusal:
        out.print("[yellow]refusal:[/] no provided tool fits")
    if parsed.content:
        out.print(f"[dim]text:[/] {parsed.content}", markup=True, highlight=False)
    for error in parsed.errors:
        out.print(f"[red]unparsed call:[/] {error.reason}: {error.source}", highlight=False)
    for warning in gen.grammar_warnings:
        out.print(f"[yellow]not enforced by the grammar:[/] {warning}", highlight=False)
    t = gen.timings
    drafts = (f", {t.accepted_tokens}/{t.drafted_tokens} drafted accepted, "
              f"{t.completion_tokens / t.forward_passes:.2f} tok/pass") if t.forward_passes else ""
    decoding = (f"constrained (grammar {1000 * t.grammar_s / max(t.completion_tokens, 1):.2f} ms/token, "
                f"{t.forced_tokens} forced{drafts})" if gen.constrained else "free")
    out.print(f"[dim]{gen.runtime} · {decoding} · prompt {t.prompt_tokens} tok ({t.cached_tokens} cached) · "
              f"TTFT {t.ttft_s:.2f} s · prefill {t.prefill_tps:.0f} tok/s · decode {t.decode_tps:.1f} tok/s · "
              f"{t.completion_tokens} tokens · {gen.finish_reason} · {t.total_s:.2f} s[/]")


def main() -> None:
    """Entry point: user errors become one red line and a non-zero exit, never a traceback."""
    try:
        with bars():
            app()  # typer handles usage errors, --help and Ctrl-C itself
    except EdgefcError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
