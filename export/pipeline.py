"""`edgefc export`: one model, one format, several quants; the shared base is converted once.

GGUF: f16 is written once (or taken from the requested f16 file), K-quants are made from it by llama.cpp;
direct types (f32, bf16, q8_0, q4_0) are written straight from the checkpoint. ONNX: fp32 is exported once,
int8/int4 are made from it. Every target is written under a temporary name and renamed when complete,
verified against the source on the probe set, and described by a manifest beside it.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from edgefc.errors import EdgefcError
from edgefc.export import gguf as gguf_export
from edgefc.export import onnx as onnx_export
from edgefc.export.manifest import folder_sha256, manifest_path, write_manifest
from edgefc.export.verify import Verification, compare, load_probes, references, summarize
from edgefc.fsutil import clean_partials, size_bytes
from edgefc.models.resolve import resolve
from edgefc.protocol.render import ChatTemplate
from edgefc.progress import StepProgress, step_progress


@dataclass(frozen=True)
class ExportFormat:
    """A target format: its quants, its default, the runtime that loads it, and how outputs are named."""

    name: str
    quants: tuple[str, ...]
    default_quant: str
    runtime: str
    is_dir: bool
    convert: Callable[[Path, dict[str, Path], Path, StepProgress], dict[str, float]]

    def target_name(self, model: str, quant: str) -> str:
        return f"{model}-{quant}" + ("-onnx" if self.is_dir else ".gguf")


FORMATS: dict[str, ExportFormat] = {f.name: f for f in [
    ExportFormat("gguf", tuple(gguf_export.GGUF_QUANTS), "q4_K_M", "llamacpp", False, gguf_export.convert),
    ExportFormat("onnx", tuple(onnx_export.ONNX_QUANTS), "int4", "onnxruntime", True, onnx_export.convert),
]}


@dataclass
class ExportResult:
    """One finished target."""

    format: str
    quant: str
    path: Path
    size_bytes: int
    seconds: float
    verification: Verification | None = None
    manifest: Path | None = None

    def row(self) -> dict[str, Any]:
        v = self.verification
        return {"format": self.format, "quant": self.quant, "path": str(self.path), "size_bytes": self.size_bytes,
                "seconds": round(self.seconds, 2), "manifest": str(self.manifest) if self.manifest else None,
                "verification": v.to_dict() if v else None}


@dataclass
class ExportPlan:
    """What will be written where, checked before any work starts."""

    source: Path
    format: ExportFormat
    targets: dict[str, Path] = field(default_factory=dict)


def _preflight(hf_dir: Path, spec: ExportFormat) -> None:
    """Refuse, before any work, a source that cannot give a tool-calling export."""
    config_file = hf_dir / "config.json"
    try:
        config = json.loads(config_file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise EdgefcError(f"{config_file} is missing or not JSON: {exc}") from exc
    if spec.name == "gguf":
        gguf_export.gguf_arch(config)
    if not (hf_dir / "tokenizer.json").is_file():
        raise EdgefcError(f"{hf_dir} has no tokenizer.json; the export would not be usable on its own")
    ChatTemplate.from_hf_dir(hf_dir)  # raises: no template means no tool calling


def plan(model: str | Path, fmt: str, quants: list[str], out: Path | None, *, force: bool) -> ExportPlan:
    """Resolve the source and name every output; refuse bad quants and existing outputs up front."""
    if fmt not in FORMATS:
        raise EdgefcError(f"unknown export format '{fmt}'; choose one of {', '.join(FORMATS)}")
    spec = FORMATS[fmt]
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
    return ExportPlan(local.path, spec, targets)


def _verify(p: ExportPlan, threads: int | None, probe_limit: int | None) -> dict[str, Verification]:
    from edgefc.runtimes import runtime_class

    probes = load_probes()[:probe_limit]
    source = runtime_class("transformers")(p.source, threads=threads)
    out: dict[str, Verification] = {}
    try:
        with step_progress() as bar:
            task = bar.add_task("source answers", total=len(probes))
            refs = references(source, probes, on_step=lambda: bar.advance(task))
            for quant, path in p.targets.items():
                task = bar.add_task(f"verifying {quant}", total=len(refs))
                exported = runtime_class(p.format.runtime)(path, threads=threads)
                try:
                    rows = []
                    for ref in refs:
                        rows.append(compare(source, exported, ref))
                        bar.advance(task)
                finally:
                    exported.close()
                out[quant] = summarize(rows, quant)
    finally:
        source.close()
    return out


def run_export(model: str | Path, fmt: str, quants: list[str], out: Path | None = None, *, force: bool = False,
               verify: bool = True, threads: int | None = None, probe_limit: int | None = None) -> list[ExportResult]:
    """Export `model` to `fmt` in each of `quants`, verify each against the source, write manifests."""
    p = plan(model, fmt, quants, out, force=force)
    workdir = next(iter(p.targets.values())).parent
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EdgefcError(f"cannot write to {workdir}: {exc.strerror or exc}") from exc
    with step_progress() as bar, tempfile.TemporaryDirectory(prefix=".edgefc-export-", dir=workdir) as work:
        tasks: dict[str, Any] = {}

        def on_progress(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(f"{fmt} {label}", total=total)
            bar.update(tasks[label], completed=done, total=total)

        if force:
            for path in p.targets.values():
                clean_partials(path)
        seconds = p.format.convert(p.source, p.targets, Path(work), on_progress)
    verifications = _verify(p, threads, probe_limit) if verify else {}
    source_hash = folder_sha256(p.source)
    results = []
    for quant, path in p.targets.items():
        result = ExportResult(fmt, quant, path, size_bytes(path), seconds[quant], verifications.get(quant))
        result.manifest = manifest_path(path)
        write_manifest(path, {
            "source": {"model": str(model), "path": str(p.source), "sha256": source_hash},
            "format": fmt, "quant": quant, "path": path.name, "size_bytes": result.size_bytes,
            "seconds": round(result.seconds, 2),
            "base_seconds": round(seconds.get(f"base-{'f16' if fmt == 'gguf' else 'fp32'}", 0.0), 2),
            "verification": result.verification.to_dict() if result.verification else None,
        })
        results.append(result)
    return results
