"""Turn whatever the user typed (catalog name, GGUF file, ONNX folder, HF folder, hub ID) into a local model."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from edgefc.errors import ModelError
from edgefc.models import catalog
from edgefc.models.store import cache_dir, fetch, fetch_hub
from edgefc.progress import console

FORMATS = ("gguf", "onnx", "hf")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_FILE_SUFFIXES = (".gguf", ".onnx", ".safetensors", ".bin", ".json", ".pt")


@dataclass(frozen=True)
class LocalModel:
    """A model on disk: its path, its format, the name to show for it, and a llama.cpp LoRA adapter applied to it
    at load (a catalog adapter model: the path is its base's GGUF)."""

    path: Path
    format: str
    name: str
    adapter: Path | None = None


def detect_format(path: Path) -> str | None:
    """The format of a local file or folder, from what it contains; None if it is none of ours."""
    if path.is_file():
        return "gguf" if path.suffix.lower() == ".gguf" else None
    if path.is_dir():
        if any(path.glob("*.onnx")):
            return "onnx"
        if (path / "config.json").is_file():
            return "hf"
        if len(list(path.glob("*.gguf"))) == 1:
            return "gguf"
    return None


def _local(path: Path) -> LocalModel:
    fmt = detect_format(path)
    if fmt is None:
        raise ModelError(f"{path} is not a model: expected a .gguf file, an ONNX folder or a Hugging Face folder")
    if fmt == "gguf" and path.is_dir():
        path = next(path.glob("*.gguf"))
    return LocalModel(path, fmt, path.name)


def resolve(ref: str | Path, *, want: str | None = None) -> LocalModel:
    """Find (and fetch if needed) the model `ref`; with `want`, convert it to that format or explain why not."""
    if want is not None and want not in FORMATS:
        raise ModelError(f"unknown model format '{want}'; choose one of {', '.join(FORMATS)}")
    ref_str = str(ref)
    entry = catalog.lookup(ref_str)
    path = Path(ref_str).expanduser()
    if entry is not None:
        model = _catalog_model(entry)
    elif path.exists():
        model = _local(path)
    elif _looks_local(ref_str, path):
        raise ModelError(f"{ref_str} does not exist (no such file or folder{_nearest(path)})")
    elif _HUB_ID.match(ref_str):
        model = LocalModel(fetch_hub(catalog.HubRepo(ref_str), cache_dir() / "hub" / ref_str.replace("/", "--")),
                           "hf", ref_str)
    else:
        raise ModelError(
            f"'{ref_str}' is not a catalog model (see `edgefc models`), an existing file or folder, or a hub ID"
        )
    return model if want in (None, model.format) else _convert(model, want)


def _catalog_model(entry: catalog.ModelEntry) -> LocalModel:
    """A catalog entry on disk; a build that fails its gate on this machine gives its base, with a warning."""
    from edgefc.models.build import BuildFailed

    adapter = _checked_adapter(entry)
    try:
        return LocalModel(fetch(entry), entry.format, entry.name, adapter)
    except BuildFailed as exc:
        base = catalog.get(exc.base)
        console.print(f"[yellow]warning:[/] {exc}; running {base.name} instead", highlight=False)
        return LocalModel(fetch(base), base.format, base.name)


def _checked_adapter(entry: catalog.ModelEntry) -> Path | None:
    """The adapter file of an adapter entry, checked against its manifest before the base is fetched; else None."""
    if not isinstance(entry.source, catalog.AdapterOf):
        return None
    from edgefc.models.adapter import check_adapter

    check_adapter(entry.source.path, catalog.get(entry.source.base))
    return entry.source.path


def _looks_local(ref: str, path: Path) -> bool:
    """Whether a reference that exists nowhere was meant as a local path rather than a hub ID: it starts like a
    path, names a model file, or its first folder exists here (`exports/m-q4_K_M.gguf`)."""
    if ref.startswith((".", "/", "~")) or "\\" in ref or ref.lower().endswith(_FILE_SUFFIXES):
        return True
    return bool(_HUB_ID.match(ref)) and Path(path.parts[0]).is_dir()


def _nearest(path: Path) -> str:
    """A hint naming the deepest folder of `path` that does exist, when it is not the current one."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return f"; {parent}/ exists" if str(parent) not in (".", "") else ""


def _convert(model: LocalModel, want: str) -> LocalModel:
    if model.format == "gguf" and want == "hf":
        from edgefc.models.adapter import cached_merged
        from edgefc.models.materialize import cached_hf

        base = cached_hf(model.path)
        return LocalModel(base if model.adapter is None else cached_merged(base, model.adapter), "hf", model.name)
    raise ModelError(
        f"{model.name} is a {model.format} model and cannot be used as {want} here; "
        f"convert it with `edgefc export {model.name} --format {want}`"
    )
