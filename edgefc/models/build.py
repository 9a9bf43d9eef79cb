"""Catalog models built on first use (catalog.BuiltFrom): another catalog GGUF requantized by llama.cpp's own
quantizer, verified against that GGUF on the probe set with the quant's export gate, and published into the
cache with its manifest only when it passes.

The file is made and verified under a temporary name and renamed into place after its manifest is written, so a
killed build leaves nothing that looks finished; a file whose manifest is missing, failed, or names other base
bytes or another size is not a build and is made again. The base's side of the verification goes through
export/source_cache.py (keyed by the base's SHA-256 and llama.cpp), so a rebuild runs only the new file.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from edgefc.errors import EdgefcError, ModelError
from edgefc.models.catalog import BuiltFrom, ModelEntry, WheelParts, get
from edgefc.progress import console, report

RUNTIME = "llamacpp"


class BuildFailed(ModelError):
    """A build failed its gate against its base (now, or before with the same base and llama.cpp)."""

    def __init__(self, message: str, base: str):
        super().__init__(message)
        self.base = base


def _failure_path(entry: ModelEntry, folder: Path) -> Path:
    return folder / f"{entry.name}.failed.json"


def _quantizer() -> str | None:
    from edgefc.export.manifest import library_versions

    return library_versions(("llama-cpp-python",))["llama-cpp-python"]


def failed_before(entry: ModelEntry, folder: Path, base_sha: str) -> str | None:
    """Why the build failed its gate before, when it was made from the same base bytes by the same llama.cpp
    (a new llama.cpp tries again); None otherwise."""
    try:
        record = json.loads(_failure_path(entry, folder).read_text(encoding="utf-8"))
        if record["base_sha256"] == base_sha and record["llama_cpp_python"] == _quantizer():
            return str(record["message"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def built_path(entry: ModelEntry, folder: Path) -> Path:
    """Where the build of `entry` lives in its cache folder."""
    return folder / f"{entry.name}.gguf"


def is_built(path: Path, base_sha256: str) -> bool:
    """Whether `path` is a finished build of the base with that SHA-256: its manifest passed and matches it."""
    from edgefc.export.manifest import manifest_path

    try:
        manifest = json.loads(manifest_path(path).read_text(encoding="utf-8"))
        return bool(manifest["passed"]) and manifest["source"]["sha256"] == base_sha256 and \
            manifest["size_bytes"] == path.stat().st_size
    except (OSError, ValueError, KeyError, TypeError):
        return False


def base_sha256(spec: BuiltFrom) -> str:
    """The pinned SHA-256 of the GGUF a build is made from."""
    base = get(spec.base)
    if not isinstance(base.source, WheelParts):
        raise ModelError(f"{base.name} has no pinned GGUF to build from")
    return base.source.sha256


def build(entry: ModelEntry, base_path: Path, folder: Path, *, threads: int | None = None,
          gate_overrides: dict[str, float] | None = None) -> Path:
    """Requantize the base GGUF into `folder` as `entry` says, verify it against the base, publish it with its
    manifest. A file that fails its gate is deleted and the failure remembered beside it (BuildFailed, now and on
    later calls with the same base and llama.cpp)."""
    from edgefc.export import probes as probe_set
    from edgefc.export.gate import with_overrides
    from edgefc.export.gguf import GGUF_QUANTS, llama_quantize
    from edgefc.export.manifest import write_manifest
    from edgefc.fsutil import atomic_file, ensure_free_space, size_bytes, write_json

    spec = entry.source
    if not isinstance(spec, BuiltFrom):
        raise ModelError(f"{entry.name} is not built on first use")
    base = get(spec.base)
    base_sha = base_sha256(spec)
    quant = GGUF_QUANTS[spec.quant]
    final = built_path(entry, folder)
    known = failed_before(entry, folder, base_sha)
    if known:
        raise BuildFailed(known, base.name)
    folder.mkdir(parents=True, exist_ok=True)
    ensure_free_space(folder, base_path.stat().st_size, f"building {entry.name}")
    gate = with_overrides(quant.gate, gate_overrides or {})
    with atomic_file(final) as tmp:
        started = time.perf_counter()
        with console.status(f"building {entry.name} from {base_path.name} with llama.cpp (once)"):
            llama_quantize(base_path, tmp, spec.quant, requantize=True)
        seconds = time.perf_counter() - started
        try:
            verification, probes = _verify(entry.name, tmp, base_path, base_sha, spec.probes, threads)
        except EdgefcError as exc:  # e.g. offline without BFCL's wheel: unverified, so not kept; tried again later
            raise BuildFailed(f"the {spec.quant} build of {base.name} could not be verified ({exc})", base.name) \
                from exc
        failures = gate.judge(verification.kl_mean, verification.greedy_agreement,
                              verification.tool_call_agreement, verification.prompt_mismatches)
        if failures:
            message = f"the {spec.quant} build of {base.name} failed its gate against it ({'; '.join(failures)})"
            write_json(_failure_path(entry, folder), {"base_sha256": base_sha, "llama_cpp_python": _quantizer(),
                                                      "message": message, "verification": verification.to_dict()})
            raise BuildFailed(message, base.name)
        record: dict[str, Any] = {
            "source": {"model": base.name, "path": str(base_path), "sha256": base_sha},
            "format": "gguf", "quant": spec.quant, "method": {**quant.method, "requantized": True},
            "path": final.name, "size_bytes": size_bytes(tmp), "seconds": round(seconds, 2),
            "probes": {"count": probes, "seed": probe_set.DEFAULT_SEED, "reference": RUNTIME},
            "gate": asdict(gate), "passed": True, "failures": [], "verification": verification.to_dict()}
        write_manifest(final, record)
    return final


def _verify(name: str, path: Path, base_path: Path, base_sha: str, count: int,
            threads: int | None) -> tuple[Any, int]:
    """The file at `path` against its base on the first `count` probes (the base's side from the source cache);
    the Verification and the number of probes."""
    from edgefc.export import probes as probe_set
    from edgefc.export import source_cache
    from edgefc.export.verify import aggregate, compare
    from edgefc.runtimes import runtime_class

    llama = runtime_class(RUNTIME)
    exported = llama(path, threads=threads)
    try:
        probes = probe_set.draw(count, fits=lambda probe: len(exported.tokenize(
            exported.render(probe.messages, probe.tools))) <= probe_set.TOKEN_CAP)
        refs = source_cache.references(probes, base_sha, lambda: llama(base_path, threads=threads), RUNTIME,
                                       source_cache.default_dir())
        rows = []
        for ref in refs:
            rows.append(compare(exported, ref))
            report(f"verifying {name}", len(rows), len(probes))
    finally:
        exported.close()
    return aggregate(rows), len(probes)
