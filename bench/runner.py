"""`edgefc bench`: several models side by side, latency and BFCL, streamed to disk so nothing is lost.

A run folder starts with run.json: the settings that decide its results and the planned BFCL entries.
`--resume` continues only a run with the same settings. Every BFCL entry's result is appended to
results.jsonl as soon as it is scored (an entry that cannot run is a failed row with its error);
`--resume` skips the (model, entry) pairs already there. Entries run grouped by their prompt prefix
(system message and tools), so the runtime's prefix cache evaluates each shared prefix once; results are
keyed by id, so the order never changes a score. Latency is measured per variant in a fresh process
(latency.json). The summary, the Markdown report and the plot are rebuilt from those files at the end.

The agent suite (`--suite agent --tasks FILE`) runs each task of a task file through edgefc's Agent on the tools it
names, one row per (variant, task), streamed and resumed the same way (edgefc.bench.agent); run.json records the
task file's hash, so a resumed run reads the same tasks.

BFCL's multi-turn categories (`--categories multi_turn_base,...`, or `multi_turn` for all four) run each entry
through edgefc's agent loop against BFCL's simulated APIs (edgefc.bfcl.multiturn.runner), one row per
entry; the model is loaded for them with a context of MULTI_TURN_CONTEXT tokens, as their conversations grow
past the single-turn prompts' 8K. The suites' default categories stay the ten single-turn ones.

A run compares variants: each model decoded under the tool grammar (constrained, the runtimes' default with
tools), freely, or both (`--constrain`). Results are keyed by the variant's label; a model is loaded once for
all its variants, which run one after the other over the same entries.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from edgefc.bfcl import categories as bfcl_categories
from edgefc.bfcl.stats import DEFAULT_WITHIN
from edgefc.errors import EdgefcError, EndpointError
from edgefc.fsutil import write_json
from edgefc.progress import report

if TYPE_CHECKING:
    from edgefc.bench.summary import BenchSummary

MULTI_TURN_CONTEXT = 32768  # Qwen2.5's and Qwen3's trained context: a long multi-turn conversation needs it
AGENT = "agent"  # the plan's key, and the rows' category, of the agent suite's tasks
RESULTS = "results.jsonl"
LATENCY = "latency.json"
SETTINGS = "run.json"


@dataclass(frozen=True)
class Suite:
    """What a suite measures: latency (with repeats), BFCL (with a per-category sample size) and/or the agent
    tasks of a task file."""

    latency: bool
    bfcl: bool
    limit: int | None
    repeats: int = 3
    agent: bool = False


SUITES: dict[str, Suite] = {
    "quick": Suite(latency=True, bfcl=True, limit=3, repeats=3),
    "latency": Suite(latency=True, bfcl=False, limit=None, repeats=5),
    "bfcl": Suite(latency=False, bfcl=True, limit=None),
    "full": Suite(latency=True, bfcl=True, limit=None, repeats=5),
    "agent": Suite(latency=False, bfcl=False, limit=None, agent=True),
}


# --constrain -> the decodings each model runs, constrained first: it is what users get by default, so it is the
# base of the paired deltas, which then read "what free decoding costs (or buys)".
CONSTRAIN_MODES: dict[str, tuple[bool, ...]] = {"on": (True,), "off": (False,), "both": (True, False)}
DECODING = {True: "constrained", False: "free"}


@dataclass(frozen=True)
class Variant:
    """One column of a run: a model and how it decodes, under the label its rows and summary carry."""

    model: str
    constrain: bool
    label: str


def is_endpoint(model: str) -> bool:
    """Whether a model of the run is a served one, named by its endpoint's URL (it decodes as its server does)."""
    return str(model).startswith(("http://", "https://"))


def variants(models: list[str], mode: str) -> list[Variant]:
    """The run's variants, model by model; with one decoding the label is the model string itself (so runs
    and folders from before `--constrain` read the same), with both it says which decoding. An endpoint is one
    variant, labelled by its URL: its server decides how it decodes."""
    if mode not in CONSTRAIN_MODES:
        raise EdgefcError(f"unknown --constrain '{mode}'; choose one of {', '.join(CONSTRAIN_MODES)}")
    decodings = CONSTRAIN_MODES[mode]
    return [Variant(str(m), False, str(m)) if is_endpoint(m) else
            Variant(str(m), c, str(m) if len(decodings) == 1 else f"{m} [{DECODING[c]}]")
            for m in models for c in ((False,) if is_endpoint(m) else decodings)]


def local_copy(models: list[str]) -> str:
    """The local model whose tokenizer (and, through /v1/completions, template) the run's endpoints borrow: the
    first that is not an endpoint."""
    local = [m for m in models if not is_endpoint(m)]
    if not local:
        raise EdgefcError("an endpoint among the models borrows a local model's tokenizer: give the model it serves "
                          "(a GGUF or folder) first")
    return local[0]


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
    latency_timeout_s: float = 900.0
    constrain: str = "on"  # a CONSTRAIN_MODES key
    endpoint: str | None = None  # an OpenAI-compatible server that runs the model; the model lends its template
    served_model: str | None = None  # the endpoint's name for it (default: the first it lists)
    tasks: Path | None = None  # the agent suite's task file
    api: str = "completions"  # how the endpoint is asked: an edgefc.runtimes.ENDPOINT_APIS key
    within: float = DEFAULT_WITHIN  # accuracy points the paired deltas' one-sided bound is said to certify or not


def settings(cfg: BenchConfig, suite: Suite) -> dict[str, Any]:
    """The settings that decide a run's results; a resumed run must have the same ones."""
    from edgefc import __version__
    from edgefc.bfcl.prompts import PROMPT_FORMAT

    categories = bfcl_categories.expand(cfg.categories or list(bfcl_categories.names(default=True))) \
        if suite.bfcl else None
    values = {"models": [str(m) for m in cfg.models], "suite": cfg.suite, "runtime": cfg.runtime,
              "threads": cfg.threads, "categories": categories,
              "limit": cfg.limit if cfg.limit is not None else suite.limit, "seed": cfg.seed,
              "max_tokens": cfg.max_tokens, "constrain": cfg.constrain, "endpoint": cfg.endpoint,
              "served_model": cfg.served_model, "edgefc_version": __version__,
              "prompt_format": PROMPT_FORMAT if suite.bfcl else None}
    endpoints = cfg.endpoint is not None or any(map(is_endpoint, cfg.models))
    if endpoints and cfg.api != "completions":  # only then, so runs from before resume as they were
        values["api"] = cfg.api
    if any(_multi_turn(c) for c in categories or []):  # only then, so runs from before resume as they were
        from edgefc.bfcl.multiturn.runner import HARNESS

        values.update(multi_turn=HARNESS, multi_turn_context=MULTI_TURN_CONTEXT)
    if suite.agent:  # only then, so runs from before resume as they were
        from edgefc.bench.agent.runner import HARNESS as AGENT_HARNESS
        from edgefc.bench.agent.tasks import fingerprint

        values.update(tasks=fingerprint(cfg.tasks), agent=AGENT_HARNESS)
    return values


def _multi_turn(category: str) -> bool:
    """Whether a planned category is one of BFCL's multi-turn ones (an unknown name: a one-line error)."""
    return category != AGENT and bfcl_categories.get(category).multi_turn


def plan_entries(run_settings: dict[str, Any]) -> dict[str, list[Any]]:
    """The BFCL entries a run scores, per category, in id order, and the agent suite's tasks under AGENT, checked
    (empty for a latency-only run)."""
    from edgefc.bfcl import data
    from edgefc.bfcl.multiturn.data import load_multi_turn

    planned = {c: (load_multi_turn if _multi_turn(c) else data.load_category)(c, limit=run_settings["limit"],
                                                                              seed=run_settings["seed"])
               for c in run_settings["categories"] or []}
    if run_settings.get("tasks"):
        from edgefc.bench.agent.tasks import load_tasks
        from edgefc.bfcl.sample import sample_indices

        tasks = load_tasks(Path(run_settings["tasks"]["path"]))
        planned[AGENT] = [tasks[i] for i in sample_indices(len(tasks), run_settings["limit"], run_settings["seed"])]
    return planned


def settings_mismatch(saved: dict[str, Any], wanted: dict[str, Any]) -> str | None:
    """One sentence naming the first setting that differs between a saved run and this invocation, or None."""
    for key, value in wanted.items():
        if saved.get(key) != value:
            return f"the run in this folder has {key} {saved.get(key)!r}, not {value!r}"
    return None


def start_run(out: Path, run_settings: dict[str, Any], planned: dict[str, list[Any]], resume: bool) -> None:
    """Write run.json for a new run, or check a resumed run's against this invocation's settings."""
    path = out / SETTINGS
    earlier = [p.name for p in (path, out / RESULTS, out / LATENCY) if p.exists()]
    if not resume and earlier:
        raise EdgefcError(f"{out / earlier[0]} already exists; use --resume to continue it or --out for a new run")
    if resume and path.is_file():
        saved = json.loads(path.read_text(encoding="utf-8"))["settings"]
        mismatch = settings_mismatch(saved, run_settings)
        if mismatch:
            raise EdgefcError(f"cannot resume {out}: {mismatch}; use the same settings or --out for a new run")
        return
    if earlier:
        raise EdgefcError(f"cannot resume {out}: it has no {SETTINGS}, so its settings are unknown; use --out for "
                          "a new run")
    record = {"settings": run_settings, "plan": {c: [e.id for e in es] for c, es in planned.items()}}
    write_json(path, record)


def output_dir(out: Path | None, resume: bool) -> Path:
    """The run folder: --out, else the newest under ./bench-results when resuming, else a new timestamped one."""
    root = Path("bench-results")
    if out is not None:
        return out
    if resume:
        runs = sorted(p for p in root.glob("*") if (p / SETTINGS).is_file())
        if not runs:
            raise EdgefcError("--resume found no earlier run under ./bench-results; pass --out DIR")
        return runs[-1]
    return root / datetime.now().strftime("%Y%m%d-%H%M%S")


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a JSONL file; a torn line (a killed run) is ignored."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def end_with_newline(path: Path) -> None:
    """Terminate a torn last line (a killed run), so the next appended row starts a line of its own."""
    if path.is_file() and path.stat().st_size:
        with path.open("rb+") as fh:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                fh.write(b"\n")


def by_prefix(entries: list[Any]) -> list[Any]:
    """Entries ordered by their prompt prefix, then id: deterministic, and each shared prefix runs back to back."""
    from edgefc.bfcl.prompts import prefix_key

    return sorted(entries, key=lambda e: (prefix_key(e), e.id))


def score_entry(rt: Any, entry: Any, max_tokens: int, constrain: bool) -> dict[str, Any]:
    """Answer one BFCL entry, under the tool grammar or freely, and score it twice: BFCL's own decoding
    (`valid`, the leaderboard's rule) and edgefc's tolerant parser (`valid_edgefc`). One JSON-able row; an
    entry the runtime cannot answer (prompt longer than the context, a failed decode) is a failed row with its
    error, counted wrong as BFCL does."""
    from edgefc.bfcl import checker, prompts
    from edgefc.bfcl.decode import official_decode
    from edgefc.protocol.parse import parse, to_bfcl

    messages, tools = prompts.build(entry)
    try:
        gen = rt.generate(messages, tools, max_tokens=max_tokens, constrain=constrain)
    except EndpointError:
        raise  # the server, not the entry, failed: stop here and let --resume redo it
    except (EdgefcError, RuntimeError) as exc:
        return {"category": entry.category, "id": entry.id, "valid": False, "valid_edgefc": False,
                "error_type": "edgefc:generation_failed", "error": f"{type(exc).__name__}: {exc}"}
    returned = gen.calls_in_content is not None  # a chat API's answer: its tool_calls are the calls, as returned
    official = ((None if gen.parsed.errors else to_bfcl(gen.parsed.calls)) if returned
                else official_decode(gen.text))
    tolerant = None if gen.parsed.errors and not gen.parsed.calls else to_bfcl(gen.parsed.calls)
    if returned and not gen.parsed.calls:  # what a client that also reads content would get
        tolerant = to_bfcl(parse(gen.parsed.content, tools).calls)
    verdict, tolerant_verdict = checker.check(entry, official), checker.check(entry, tolerant)
    t = gen.timings
    return {"category": entry.category, "id": entry.id, "valid": verdict.valid, "error_type": verdict.error_type,
            "valid_edgefc": tolerant_verdict.valid, "decoded": official, "decoded_edgefc": tolerant,
            "format": gen.parsed.format, "kind": gen.parsed.kind, "unclosed_calls": gen.parsed.unclosed_calls,
            "think": bool(gen.parsed.think) or "<think>" in gen.text,
            "prompt_tokens": t.prompt_tokens, "cached_tokens": t.cached_tokens,
            "completion_tokens": t.completion_tokens, "ttft_s": t.ttft_s, "decode_tps": t.decode_tps,
            "total_s": t.total_s, "grammar_s": t.grammar_s, "forced_tokens": t.forced_tokens,
            "drafted_tokens": t.drafted_tokens, "accepted_tokens": t.accepted_tokens,
            "forward_passes": t.forward_passes,
            "finish_reason": gen.finish_reason, "call_share": gen.call_share, "text": gen.text,
            **({"calls_in_content": gen.calls_in_content} if returned else {})}


def load_variant_model(cfg: BenchConfig, model: str) -> Any:
    """A model of the run, loaded locally or reached at the run's endpoint (or its own, for a URL among the
    models: it borrows the first local model's tokenizer)."""
    from edgefc.runtimes import load

    if is_endpoint(model):
        return load(local_copy(cfg.models), endpoint=model, api=cfg.api)
    return load(model, cfg.runtime, threads=cfg.threads, endpoint=cfg.endpoint, served_model=cfg.served_model,
                api=cfg.api)


def by_tools(entries: list[Any]) -> list[Any]:
    """Multi-turn entries ordered by the tools of their first turn, then id: entries of the same APIs run back to
    back, so the prefix cache keeps their tools block."""
    from edgefc.bfcl.multiturn.prompts import tools_at

    return sorted(entries, key=lambda e: (json.dumps(tools_at(e, 0)), e.id))


def score_multi_turn(rt: Any, entry: Any, max_tokens: int, constrain: bool) -> dict[str, Any]:
    """Run one multi-turn entry through the agent loop and score it (see edgefc.bfcl.multiturn.runner)."""
    from edgefc.bfcl.multiturn.runner import run_entry

    return run_entry(rt, entry, max_tokens=max_tokens, constrain=constrain)


def load_multi_turn_model(cfg: BenchConfig, model: str) -> Any:
    """A model of the run for multi-turn entries: llama.cpp's context sized to MULTI_TURN_CONTEXT (the other
    runtimes and an endpoint have no fixed context to size)."""
    from edgefc.runtimes import DEFAULT_FOR_FORMAT, load, resolve, runtime_class

    if cfg.endpoint is None and not is_endpoint(model) and runtime_class(
            cfg.runtime or DEFAULT_FOR_FORMAT[resolve(model).format]).fixed_context:
        return load(model, cfg.runtime, threads=cfg.threads, n_ctx=MULTI_TURN_CONTEXT)
    return load_variant_model(cfg, model)


def by_toolset(tasks: list[Any]) -> list[Any]:
    """Agent tasks grouped by the tools they run with, in file order within a group: the prefix cache keeps a
    toolset's system + tools block from one task to the next."""
    return sorted(tasks, key=lambda t: (t.kind, str(t.path)))


def score_task(rt: Any, task: Any, max_tokens: int, constrain: bool) -> dict[str, Any]:
    """Run one agent task through the Agent and judge it (see edgefc.bench.agent.runner)."""
    from edgefc.bench.agent.runner import run_task

    return run_task(rt, task, max_tokens=max_tokens, constrain=constrain)


def check_tasks(cfg: BenchConfig, suite: Suite) -> None:
    """The agent suite needs a task file, and a task file needs the agent suite."""
    if suite.agent and cfg.tasks is None:
        raise EdgefcError("--suite agent needs --tasks FILE (a YAML or JSONL task file, e.g. "
                          "examples/agent/tasks.yaml)")
    if cfg.tasks is not None and not suite.agent:
        raise EdgefcError(f"--tasks is for --suite agent, not --suite {cfg.suite}")


def default_constrain(endpoint: str | None) -> str:
    """"on" where the grammar can steer the decoding, "off" behind an endpoint that takes none."""
    from edgefc.runtimes import REMOTE, runtime_class

    return "on" if endpoint is None or runtime_class(REMOTE).takes_grammar else "off"


def check_endpoint(cfg: BenchConfig) -> None:
    """An endpoint run measures one served model, asked through --api: decoded by the server as it decodes (its
    /v1/completions carries no tool grammar; its chat completions decode as the server does)."""
    from edgefc.runtimes import ENDPOINT_APIS, runtime_class

    urls = [m for m in cfg.models if is_endpoint(m)]
    if cfg.api not in ENDPOINT_APIS:
        raise EdgefcError(f"unknown --api '{cfg.api}'; choose one of {', '.join(ENDPOINT_APIS)}")
    if urls:
        if cfg.endpoint is not None:
            raise EdgefcError("name served models either as URLs among the models or by one --endpoint, not both")
        local_copy(cfg.models)
        return
    if cfg.endpoint is None:
        if cfg.api != "completions":
            raise EdgefcError("--api says how an --endpoint is asked: give the --endpoint (or URLs among the models)")
        return
    if len(cfg.models) != 1:
        raise EdgefcError("--endpoint serves one model: give the one local copy that lends its template and "
                          "tokenizer")
    if cfg.constrain != "off" and not runtime_class(ENDPOINT_APIS[cfg.api]).takes_grammar:
        how = ("/v1/completions, which carries no tool grammar" if cfg.api == "completions" else
               "/v1/chat/completions, which decodes as the server does")
        raise EdgefcError(f"--endpoint generates through the server's {how}: use --constrain off")
    if cfg.runtime:
        raise EdgefcError("--endpoint runs the model on the server: --runtime does not apply")


def run_bfcl(cfg: BenchConfig, out: Path, entries: list[Any], order: Any = by_prefix, score: Any = score_entry,
             load_model: Any = load_variant_model, title: str = "BFCL") -> None:
    """Score every (variant, entry) not yet in results.jsonl with `score`, in `order`, appending each row as it
    finishes; each model is loaded once (by `load_model`) and runs its variants one after the other (each over
    all entries, so each sees the prefix cache the same way). Progress is reported per variant under `title`
    (BFCL entries, or the agent suite's tasks), counting the rows already there."""
    results = out / RESULTS
    done = {(r["model"], r["id"]) for r in read_jsonl(results)}
    end_with_newline(results)
    ordered = order(entries)
    todo = [(v, [e for e in ordered if (v.label, e.id) not in done]) for v in variants(cfg.models, cfg.constrain)]
    from edgefc.bench.report import display_names

    shown = display_names(v.label for v, _ in todo)  # two files of one name are told apart by their folders
    with results.open("a", encoding="utf-8") as sink:
        counts = {v.label: len(entries) - len(left) for v, left in todo}

        def advance(label: str, by: int = 0) -> None:
            counts[label] += by
            report(f"{title} {shown[label]}", counts[label], len(entries))

        for v, _ in todo:
            advance(v.label)
        for model in dict.fromkeys(v.model for v, left in todo if left):
            rt = load_model(cfg, model)
            try:
                for v, left in todo:
                    for entry in left if v.model == model else []:
                        row = {"model": v.label, "constrain": v.constrain,
                               **score(rt, entry, cfg.max_tokens, v.constrain)}
                        sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                        sink.flush()
                        advance(v.label, 1)
            finally:
                rt.close()


def run_latency(cfg: BenchConfig, out: Path, repeats: int) -> None:
    """Measure each variant not yet in latency.json, each in its own process; rewrite the file after each.
    Progress counts the variants measured, those already there included."""
    from edgefc.bench.latency import measure_in_subprocess

    path = out / LATENCY
    measured: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    planned = variants(cfg.models, cfg.constrain)
    report("latency", sum(v.label in measured for v in planned), len(planned))
    for v in [v for v in planned if v.label not in measured]:
        served = {"endpoint": v.model} if is_endpoint(v.model) else {"endpoint": cfg.endpoint,
                                                                      "served_model": cfg.served_model}
        model = local_copy(cfg.models) if is_endpoint(v.model) else v.model
        measured[v.label] = measure_in_subprocess(model, None if is_endpoint(v.model) else cfg.runtime, cfg.threads,
                                                  repeats, constrain=v.constrain, timeout_s=cfg.latency_timeout_s,
                                                  api=cfg.api, **served).to_dict()
        write_json(path, measured)
        report("latency", sum(v.label in measured for v in planned), len(planned))


def work_units(cfg: BenchConfig) -> int:
    """How many units of work `run` reports in all: a latency measurement per variant, a row per (variant,
    entry)."""
    suite = SUITES[cfg.suite]
    entries = sum(len(es) for es in plan_entries(settings(cfg, suite)).values())
    return len(variants(cfg.models, cfg.constrain)) * (int(suite.latency) + entries)


def run(cfg: BenchConfig) -> tuple[Path, BenchSummary]:
    """Run the configured suite; returns the run folder and its summary. Progress is reported (see
    edgefc.progress) per variant and suite part, work_units in all."""
    from edgefc.bench.report import build_summary, write_reports

    if cfg.suite not in SUITES:
        raise EdgefcError(f"unknown suite '{cfg.suite}'; choose one of {', '.join(SUITES)}")
    suite = SUITES[cfg.suite]
    variants(cfg.models, cfg.constrain)  # an unknown --constrain is refused before anything is written
    check_endpoint(cfg)
    check_tasks(cfg, suite)
    out = output_dir(cfg.out, cfg.resume)
    run_settings = settings(cfg, suite)
    planned = plan_entries(run_settings)  # a bad task file is refused here, before a folder is made or a model loads
    out.mkdir(parents=True, exist_ok=True)
    start_run(out, run_settings, planned, cfg.resume)
    started = time.time()
    meta = {**run_settings, "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                                        "loadavg": os.getloadavg()}}
    if suite.latency:
        run_latency(cfg, out, suite.repeats)
    if suite.bfcl:
        single = [e for c, es in planned.items() if c != AGENT and not _multi_turn(c) for e in es]
        multi = [e for c, es in planned.items() if _multi_turn(c) for e in es]
        if single:
            run_bfcl(cfg, out, single)
        if multi:
            run_bfcl(cfg, out, multi, order=by_tools, score=score_multi_turn, load_model=load_multi_turn_model,
                     title="BFCL multi-turn")
    if suite.agent:
        run_bfcl(cfg, out, planned[AGENT], order=by_toolset, score=score_task, title="agent")
    meta["wall_s"] = time.time() - started
    summary = build_summary(out, meta, {e.id for es in planned.values() for e in es}, within=cfg.within)
    write_reports(out, summary)
    return out, summary
