"""The manifest written beside every export: where it came from, what it is, how it was checked."""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from edgefc.fsutil import write_json
from edgefc.models.materialize import SOURCE_MARKER
from edgefc.models.store import cache_dir

LIBRARIES = ("edgefc", "torch", "transformers", "gguf", "llama-cpp-python", "optimum", "optimum-onnx", "onnx",
             "onnxruntime", "tokenizers")
MANIFEST_SUFFIX = ".manifest.json"


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str | None]:
    """Installed versions of the libraries an export depends on, or of `names` (None when absent)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def folder_sha256(path: Path) -> str:
    """SHA-256 over a file, or over a folder's weight and config files in name order (name + bytes)."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(
        f for f in path.iterdir() if f.is_file() and f.suffix in {".safetensors", ".json", ".bin", ".gguf"})
    for f in files:
        digest.update(f.name.encode())
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


FLOAT_FILE_TYPES = {"ALL_F32", "MOSTLY_F16", "MOSTLY_BF16"}


def source_lineage(hf_dir: Path) -> dict[str, Any] | None:
    """Where an HF source came from when edgefc materialized it from a GGUF (its marker), else None.

    `quantized` is True when that GGUF was quantized: every figure of the export is then relative to the
    dequantized weights, not to the original model.
    """
    marker = hf_dir / SOURCE_MARKER
    if marker.is_file():
        lineage = json.loads(marker.read_text(encoding="utf-8"))
        return {**lineage, "quantized": lineage.get("file_type") not in FLOAT_FILE_TYPES}
    if hf_dir.resolve().parent == (cache_dir() / "hf").resolve():  # materialized before markers existed
        return {"gguf": None, "file_type": None, "quantized": None,
                "note": f"materialized by edgefc from a GGUF ({hf_dir.name}) before lineage was recorded"}
    return None


def manifest_path(export_path: Path) -> Path:
    """`model-q4_K_M.gguf` -> `model-q4_K_M.gguf.manifest.json`; an ONNX folder keeps it inside."""
    return export_path / "manifest.json" if export_path.is_dir() else export_path.with_name(
        export_path.name + MANIFEST_SUFFIX)


def write_manifest(export_path: Path, record: dict[str, Any]) -> Path:
    """Write the manifest of `export_path` atomically; adds the machine, versions and a timestamp."""
    record = {**record, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": {"platform": platform.platform(), "python": platform.python_version()},
              "libraries": library_versions()}
    path = manifest_path(export_path)
    write_json(path, record)
    return path
