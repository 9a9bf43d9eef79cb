"""The files `edgefc tune` weighs: which (format, quant) pairs, where their exports live, and which are reusable.

The candidates are data: every quant entry of an export format (export.gguf.GGUF_QUANTS,
export.onnx.ONNX_QUANTS) flagged `tune` is a default candidate, and its format's default runtime runs it. An
export already on disk is reused when its manifest says it was made the current way from these very source weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgefc.errors import EdgefcError
from edgefc.export.manifest import manifest_path
from edgefc.export.pipeline import EXPORT_FORMATS, failed_name
from edgefc.fsutil import size_bytes


@dataclass(frozen=True)
class Candidate:
    """One file to weigh: a format and quant, and where its export goes."""

    format: str
    quant: str
    path: Path  # the final name; a file that failed its gate lives at failed_name(path)

    @property
    def key(self) -> str:
        return f"{self.format}:{self.quant}"


def plan_candidates(formats: list[str], quants: list[str] | None, name: str, folder: Path) -> list[Candidate]:
    """The candidates for `formats`: the quants named (each in the formats that have it), or each format's
    `tune` quants; one-sentence errors for an unknown format or a quant no chosen format has."""
    unknown = [f for f in formats if f not in EXPORT_FORMATS]
    if unknown or not formats:
        raise EdgefcError(f"unknown format '{', '.join(unknown)}'; choose from {', '.join(EXPORT_FORMATS)}")
    specs = [EXPORT_FORMATS[f] for f in dict.fromkeys(formats)]
    if quants:
        lower = [q.lower() for q in dict.fromkeys(quants)]
        missing = [q for q in lower if not any(q in {k.lower() for k in s.quants} for s in specs)]
        if missing:
            offered = ", ".join(f"{s.name}: {', '.join(s.quants)}" for s in specs)
            raise EdgefcError(f"no chosen format has quant {', '.join(missing)} ({offered})")
        chosen = [(s, k) for s in specs for k in s.quants if k.lower() in lower]
    else:
        chosen = [(s, k) for s in specs for k, q in s.quants.items() if q.tune]
    return [Candidate(s.name, k, folder / s.target_name(name, k)) for s, k in chosen]


def existing_export(candidate: Candidate, source_sha256: str) -> Path | None:
    """The candidate's file already on disk (under its final or its FAILED name) when its manifest says it is
    this format and quant, made by the current method from these source weights, and of the recorded size;
    else None."""
    for path in (candidate.path, failed_name(candidate.path)):
        manifest = manifest_path(path)
        if not (path.exists() and manifest.is_file()):
            continue
        try:
            record: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if (record.get("format"), record.get("quant")) != (candidate.format, candidate.quant):
            continue
        if record.get("method") != EXPORT_FORMATS[candidate.format].quants[candidate.quant].method:
            continue  # made another way (an older recipe for this quant name)
        if (record.get("source") or {}).get("sha256") != source_sha256:
            continue
        if record.get("size_bytes") != size_bytes(path) - (manifest.stat().st_size if path.is_dir() else 0):
            continue
        return path
    return None
