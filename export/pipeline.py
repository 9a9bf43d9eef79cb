"""`edgefc export`: one model, one format, several quants; nothing unverified under a final name.

Every target is built under a temporary name beside its final one (fsutil's `.NAME.PID.RANDOM.partial`,
which a concurrent run never removes), verified there against the source (transformers, float32) on the
probe set (the source's side read from export/source_cache.py when an earlier run computed it), and renamed
to its final name only when it passes its quant's gate. A failing file is deleted, or kept under a name that
says so (failed_name) with keep_failed. The shared base (GGUF f16/bf16, ONNX fp32) is converted once; a
manifest beside each file says where it came from and how it was checked. Third-party output goes to a log
file beside the outputs.
"""

from __future__ import annotations

import json
import os
import re
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from edgefc.errors import EdgefcError, ModelError
from edgefc.export import gguf as gguf_export
from edgefc.export import onnx as onnx_export
from edgefc.export import probes as probe_set
from edgefc.export import source_cache
from edgefc.export.checkpoint import parameter_count
from edgefc.export.gate import Gate, with_overrides
from edgefc.export.manifest import folder_sha256, manifest_path, source_lineage, write_manifest
from edgefc.export.modelfile import write_modelfile
from edgefc.export.quiet import chatter_to, transformers_quiet
from edgefc.export.verify import ProbeResult, Reference, Verification, aggregate, compare
from edgefc.fsutil import atomic_dir, atomic_file, ensure_free_space, size_bytes
from edgefc.models.catalog import license_of_file
from edgefc.models.hftokenizer import load_tokenizer
from edgefc.models.resolve import resolve
from edgefc.progress import StepProgress, console, report, step_reporter
from edgefc.protocol.render import ChatTemplate
from edgefc.runtimes import DEFAULT_FOR_FORMAT, runtime_class

FAILED = "FAILED"


@dataclass(frozen=True)
class ExportFormat:
    """A target format: its quant registry, its default, its base, how outputs are named and converted."""

    name: str
    quants: Mapping[str, Any]  # name -> entry with .gate (Gate), .bits_per_weight and .method (plain data)
    default_quant: str
    base_quant: str  # the float type the others are made from (for the free-space estimate)
    is_dir: bool
    preflight: Callable[[dict[str, Any]], Any]  # raises EdgefcError for a config this format cannot take
    convert: Callable[[Path, dict[str, Path], Path, StepProgress], dict[str, float]]
    # A file written beside each published output for another tool (GGUF: Ollama's Modelfile), or None; it may
    # raise ModelError when it cannot be made for this model, which is noted, not fatal.
    companion: Callable[[Path, str | None], Path] | None = None  # (output, the source's license)

    @property
    def runtime(self) -> str:
        return DEFAULT_FOR_FORMAT[self.name]

    def target_name(self, model: str, quant: str) -> str:
        return f"{model}-{quant}" + ("-onnx" if self.is_dir else ".gguf")


EXPORT_FORMATS: dict[str, ExportFormat] = {f.name: f for f in [
    ExportFormat("gguf", gguf_export.GGUF_QUANTS, "q4_K_M", "f16", False, gguf_export.architecture,
                 gguf_export.convert, write_modelfile),
    ExportFormat("onnx", onnx_export.ONNX_QUANTS, "int4", "fp32", True, lambda config: None, onnx_export.convert),
]}


@dataclass
class ExportResult:
    """One target: where it went (None when a failing file was deleted) and how it was judged."""

    format: str
    quant: str
    path: Path | None
    size_bytes: int
    seconds: float
    verification: Verification | None = None
    gate: Gate | None = None
    failures: list[str] = field(default_factory=list)  # why it failed its gate; empty when it passed
    manifest: Path | None = None
    companion: Path | None = None  # the format's file for another tool (an Ollama Modelfile), when written
    notes: list[str] = field(default_factory=list)  # what was not made, and why (no Modelfile for this template)

    @property
    def passed(self) -> bool | None:
        """True/False by the gate; None when not verified."""
        return None if self.verification is None else not self.failures

    def row(self) -> dict[str, Any]:
        v = self.verification
        return {"format": self.format, "quant": self.quant, "path": str(self.path) if self.path else None,
                "size_bytes": self.size_bytes, "seconds": round(self.seconds, 2), "passed": self.passed,
                "gate": asdict(self.gate) if self.gate else None, "failures": self.failures,
                "manifest": str(self.manifest) if self.manifest else None,
                "companion": str(self.companion) if self.companion else None, "notes": self.notes,
                "verification": v.to_dict() if v else None}


@dataclass
class ExportPlan:
    """What will be written where, checked before any work starts."""

    source: Path
    format: ExportFormat
    name: str
    targets: dict[str, Path] = field(default_factory=dict)


def _preflight(hf_dir: Path, spec: ExportFormat) -> None:
    """Refuse, before any work, a source that cannot give a tool-calling export."""
    config_file = hf_dir / "config.json"
    try:
        config = json.loads(config_file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise EdgefcError(f"{config_file} is missing or not JSON: {exc}") from exc
    spec.preflight(config)
    if not (hf_dir / "tokenizer.json").is_file():
        raise EdgefcError(f"{hf_dir} has no tokenizer.json; the export would not be usable on its own")
    ChatTemplate.from_hf_dir(hf_dir)  # raises: no template means no tool calling


def plan_export(model: str | Path, fmt: str, quants: list[str], out: Path | None, *, force: bool) -> ExportPlan:
    """Resolve the source and name every output; refuse bad quants and existing outputs up front."""
    if fmt not in EXPORT_FORMATS:
        raise EdgefcError(f"unknown export format '{fmt}'; choose one of {', '.join(EXPORT_FORMATS)}")
    spec = EXPORT_FORMATS[fmt]
    quants = list(dict.fromkeys(quants or [spec.default_quant]))
    by_lower = {q.lower(): q for q in spec.quants}
    unknown = [q for q in quants if q.lower() not in by_lower]
    if unknown:
        raise EdgefcError(f"{fmt} has no quant {', '.join(unknown)}; choose from {', '.join(spec.quants)}")
    quants = [by_lower[q.lower()] for q in quants]
    local = resolve(model, want="hf")
    _preflight(local.path, spec)
    name = local.name.removesuffix(".gguf")
    out = Path(out) if out is not None else Path("exports")
    if not spec.is_dir and out.suffix == ".gguf":
        if len(quants) > 1:
            raise EdgefcError("-o names one .gguf file but several quants were asked for; give a folder instead")
        targets = {quants[0]: out}
    else:
        targets = {q: out / spec.target_name(name, q) for q in quants}
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing and not force:
        raise EdgefcError(f"{existing[0]} already exists (use --force to replace it)")
    return ExportPlan(local.path, spec, name, targets)


def needed_bytes(p: ExportPlan) -> int:
    """About how many bytes the export writes: every target plus the shared base when it is not one."""
    params = parameter_count(p.source)  # the HF source's, whichever format is made from it
    quants = list(p.targets) + ([] if p.format.base_quant in p.targets else [p.format.base_quant])
    return int(sum(params * p.format.quants[q].bits_per_weight / 8 for q in quants))


class _Discarded(Exception):
    """Thrown into an fsutil temporary to drop it instead of renaming it into place."""


class _Staged:
    """An fsutil temporary held open until it is published (renamed to its final name) or discarded."""

    def __init__(self, final: Path, is_dir: bool):
        self.final, self.is_dir = final, is_dir
        self._cm = atomic_dir(final, overwrite=True) if is_dir else atomic_file(final)
        self.path: Path = self._cm.__enter__()
        self._open = True

    def publish(self) -> Path:
        self._close(None, None, None)
        return self.final

    def discard(self) -> None:
        exc = _Discarded()
        self._close(type(exc), exc, None)

    def move_to(self, final: Path) -> Path:
        """Publish under another name (a failed file kept with keep_failed)."""
        with (atomic_dir(final, overwrite=True) if self.is_dir else atomic_file(final)) as tmp:
            os.replace(self.path, tmp)
        self.discard()
        return final

    def unwind(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        """ExitStack callback: an error drops the temporary (ENOSPC becomes fsutil's one sentence)."""
        if not self._open:
            return False
        if exc_type is None:
            self.discard()
            return False
        return bool(self._close(exc_type, exc, tb))

    def _close(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        self._open = False
        return self._cm.__exit__(exc_type, exc, tb)


def _prompt_length(hf_dir: Path) -> Callable[[probe_set.Probe], int]:
    """A probe's prompt length in the source's tokens, from its tokenizer and template alone (as
    TransformersRuntime renders and tokenizes it), so drawing the probes loads no weights."""
    tokenizer, template = load_tokenizer(hf_dir), ChatTemplate.from_hf_dir(hf_dir)
    return lambda probe: len(tokenizer(template.render(probe.messages, probe.tools, add_generation_prompt=True),
                                       add_special_tokens=False)["input_ids"])


def _verify(p: ExportPlan, staged: dict[str, Path], refs: Iterator[Reference], count: int,
            threads: int | None) -> dict[str, Verification]:
    """Every staged file against the source's references, probe by probe (all files open at once)."""
    rows: dict[str, list[ProbeResult]] = {quant: [] for quant in staged}
    with ExitStack() as stack:
        exported = {}
        for quant, path in staged.items():
            exported[quant] = runtime_class(p.format.runtime)(path, threads=threads)
            stack.callback(exported[quant].close)
        for ref in refs:
            for quant, runtime in exported.items():
                rows[quant].append(compare(runtime, ref))
                report(f"verifying {quant}", len(rows[quant]), count)
    return {quant: aggregate(found) for quant, found in rows.items()}


def _warn_lineage(lineage: dict[str, Any] | None, source: Path) -> None:
    if lineage and lineage.get("quantized") is not False:
        kind = lineage.get("file_type") or "quantized"
        console.print(f"[yellow]warning:[/] {source.name} was materialized from a {kind} GGUF: every figure is "
                      "relative to those dequantized weights, not to the original model", highlight=False)


def run_export(model: str | Path, fmt: str, quants: list[str], out: Path | None = None, *, force: bool = False,
               verify: bool = True, threads: int | None = None, probe_limit: int | None = None,
               probe_seed: int = probe_set.DEFAULT_SEED, gate_overrides: dict[str, float] | None = None,
               keep_failed: bool = False, reuse_source: bool = True, companion: bool = True) -> list[ExportResult]:
    """Export `model` to `fmt` in each of `quants`, verify each against the source in its temporary place, and
    publish (with a manifest, and the format's companion file unless `companion` is False) only what passes its
    gate; see ExportResult.passed for the verdicts. The source's side of the verification comes from
    export/source_cache.py unless `reuse_source` is False."""
    p = plan_export(model, fmt, quants, out, force=force)
    folder = next(iter(p.targets.values())).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EdgefcError(f"cannot write to {folder}: {exc.strerror or exc}") from exc
    ensure_free_space(folder, needed_bytes(p), f"exporting {p.name} to {fmt} {', '.join(p.targets)}")
    lineage = source_lineage(p.source)
    _warn_lineage(lineage, p.source)
    gates = {q: with_overrides(p.format.quants[q].gate, gate_overrides or {}) for q in p.targets}
    source_sha = folder_sha256(p.source)
    log = folder / f"{p.name}-{fmt}.export.log"
    log.write_text("", encoding="utf-8")
    verifications: dict[str, Verification] = {}
    probes: list[probe_set.Probe] = []
    with chatter_to(log), transformers_quiet(), ExitStack() as stack:
        def stage(final: Path) -> _Staged:
            staged = _Staged(final, p.format.is_dir)
            stack.push(staged.unwind)
            return staged

        staged = {q: stage(path) for q, path in p.targets.items()}
        base = stage(folder / p.format.target_name(p.name, "base"))
        seconds = p.format.convert(p.source, {q: s.path for q, s in staged.items()}, base.path, step_reporter(fmt))
        if verify:
            length = _prompt_length(p.source)
            probes = probe_set.draw(probe_limit, seed=probe_seed,
                                    fits=lambda probe: length(probe) <= probe_set.TOKEN_CAP)
            refs = source_cache.references(probes, source_sha,
                                           lambda: runtime_class("transformers")(p.source, threads=threads),
                                           "transformers", source_cache.default_dir() if reuse_source else None)
            verifications = _verify(p, {q: s.path for q, s in staged.items()}, refs, len(probes), threads)
        base_seconds = sum(v for k, v in seconds.items() if k.startswith("base-"))
        record = {"source": {"model": str(model), "path": str(p.source), "sha256": source_sha,
                             "lineage": lineage},
                  "format": fmt,
                  "probes": {"count": len(probes), "seed": probe_seed, "token_cap": probe_set.TOKEN_CAP,
                             "bfcl_per_category": probe_set.BFCL_PER_CATEGORY} if verify else None,
                  "base_seconds": round(base_seconds, 2)}
        license_name = source_license(p.source, lineage) if companion else None
        results = [_publish(p, quant, s, record, seconds[quant], verifications.get(quant), gates[quant],
                            keep_failed, companion, license_name) for quant, s in staged.items()]
    if log.stat().st_size == 0:
        log.unlink()
    return results


def source_license(source: Path, lineage: dict[str, Any] | None) -> str | None:
    """The source's license: its model card's `license:` front matter, else the catalog's for the GGUF it was
    materialized from; None when neither says."""
    card = source / "README.md"
    if card.is_file():
        head = card.read_text(encoding="utf-8", errors="replace").split("\n---", 1)[0]
        found = re.search(r"^license:\s*([\w.+-]+)\s*$", head, re.MULTILINE)
        if found:
            return found.group(1)
    return license_of_file(lineage["sha256"]) or None if lineage and lineage.get("sha256") else None


def failed_name(final: Path) -> Path:
    """Where keep_failed puts a file that failed its gate: `m-q4_0.gguf` -> `m-q4_0-FAILED.gguf`, folders
    `m-int4-onnx` -> `m-int4-onnx-FAILED`."""
    return final.with_name(f"{final.name}-{FAILED}" if final.suffix != ".gguf" else
                           f"{final.stem}-{FAILED}{final.suffix}")


def _publish(p: ExportPlan, quant: str, staged: _Staged, record: dict[str, Any], seconds: float,
             verification: Verification | None, gate: Gate, keep_failed: bool, companion: bool,
             license_name: str | None = None) -> ExportResult:
    """Rename a verified file into place with its manifest (and companion), or drop (keep_failed: rename) a
    failing one."""
    failures = gate.judge(verification.kl_mean, verification.greedy_agreement, verification.tool_call_agreement,
                          verification.prompt_mismatches) if verification else []
    result = ExportResult(p.format.name, quant, None, size_bytes(staged.path), seconds, verification,
                          gate if verification else None, failures)
    if failures and not keep_failed:
        staged.discard()
        return result
    final = staged.final if not failures else failed_name(staged.final)
    manifest = {**record, "quant": quant, "method": p.format.quants[quant].method, "path": final.name,
                "size_bytes": result.size_bytes, "seconds": round(seconds, 2),
                "gate": asdict(gate) if verification else None, "passed": result.passed, "failures": failures,
                "verification": verification.to_dict() if verification else None}
    if p.format.is_dir:  # the manifest travels inside the folder
        write_manifest(staged.path, manifest)
    result.path = staged.move_to(final) if failures else staged.publish()
    if not p.format.is_dir:
        write_manifest(result.path, manifest)
    result.manifest = manifest_path(result.path)
    if companion and p.format.companion is not None and not failures:
        try:
            result.companion = p.format.companion(result.path, license_name)
        except ModelError as exc:
            result.notes.append(str(exc))
    return result
