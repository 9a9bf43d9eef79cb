"""The source's side of an export's verification on disk, so the source model runs once per probe, ever.

A probe's reference (the source's prompt tokens, greedy answer and float32 logits on the compared positions,
export/verify.py) depends only on the source's content, the probe, the verification settings and the code and
libraries that computed it. Its file is named by the hash of exactly those, so a changed source, probe, setting,
library version or reference code misses and is recomputed; every later export, quant and `edgefc tune` of the
same source reads it back instead of running the source. The logits are kept exact (float32, about 9.7 MB a
probe with Qwen's 152K vocabulary): the gates compare KL figures down to 1e-7. A file that is missing, truncated,
corrupted or written for another key reads as None and is deleted; the folder is capped by least recent use.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import zipfile
from contextlib import ExitStack
from functools import cache
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from edgefc.export.manifest import library_versions
from edgefc.export.probes import Probe
from edgefc.export.verify import MAX_TOKENS, POSITIONS, Reference, reference
from edgefc.fsutil import atomic_file, mark_used, prune_lru
from edgefc.models.store import cache_dir
from edgefc.runtimes.base import Runtime

SUFFIX = ".npz"
BUDGET_BYTES = 3 << 30  # about 2.5 full probe sets of a 152K-vocabulary model
MAX_FILES = 4096
# The code a reference depends on (protocol, decoding, the runtimes, verification): a change misses.
CODE = ("edgefc.protocol", "edgefc.runtimes.base", "edgefc.runtimes.decode", "edgefc.runtimes.drafts",
        "edgefc.runtimes.hf", "edgefc.runtimes.llamacpp", "edgefc.export.verify")
LIBRARIES = ("torch", "transformers", "tokenizers", "llguidance", "llama-cpp-python", "numpy")


def default_dir() -> Path:
    """Where references live: under the edgefc home ($EDGEFC_HOME, else the user's cache dir)."""
    return cache_dir() / "verify"


@cache
def code_sha256() -> str:
    """One hash over the source files of the modules that compute a reference (CODE), wherever they are
    installed (a checkout, an editable install or a wheel)."""
    digest = hashlib.sha256()
    for name in CODE:
        module = importlib.import_module(name)
        origin = Path(module.__file__ or "")
        files = sorted(origin.parent.rglob("*.py")) if origin.name == "__init__.py" else [origin]
        for f in files:
            digest.update(f"{name}:{f.relative_to(origin.parent)}".encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()


@cache
def _libraries() -> dict[str, str | None]:
    """The versions of LIBRARIES, read once a process (probe_key runs once a probe)."""
    return library_versions(LIBRARIES)


def probe_key(source_sha256: str, probe: Probe, *, runtime: str = "transformers", max_tokens: int = MAX_TOKENS,
              positions: int = POSITIONS) -> dict[str, Any]:
    """Everything one reference depends on, as plain data: the source's content and the runtime that ran it."""
    return {"source_sha256": source_sha256, "runtime": runtime, "messages": probe.messages, "tools": probe.tools,
            "max_tokens": max_tokens, "positions": positions, "code_sha256": code_sha256(),
            "libraries": _libraries()}


def path_for(folder: Path, key: dict[str, Any]) -> Path:
    """The file of one key: named by the key's hash."""
    text = json.dumps(key, sort_keys=True, ensure_ascii=False)
    return folder / f"{hashlib.sha256(text.encode('utf-8')).hexdigest()[:40]}{SUFFIX}"


def store(folder: Path, key: dict[str, Any], ref: Reference) -> Path:
    """Write one reference atomically (a reader sees no file or the whole one), then prune the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    path = path_for(folder, key)
    with atomic_file(path) as tmp, tmp.open("wb") as out:
        np.savez(out, key=np.array(json.dumps(key, sort_keys=True, ensure_ascii=False)),
                 prompt_tokens=np.asarray(ref.prompt_tokens, dtype=np.int64),
                 tokens=np.asarray(ref.tokens, dtype=np.int64), text=np.array(ref.text),
                 logits=np.asarray(ref.logits, dtype=np.float32))
    prune_lru(folder, f"*{SUFFIX}", budget_bytes=BUDGET_BYTES, max_files=MAX_FILES)
    return path


def load(folder: Path, key: dict[str, Any], probe: Probe) -> Reference | None:
    """The reference stored for exactly this key; None (and a bad file deleted) otherwise."""
    path = path_for(folder, key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if json.loads(str(data["key"])) != json.loads(json.dumps(key, sort_keys=True, ensure_ascii=False)):
                raise ValueError("written for another key")
            ref = Reference(probe, data["prompt_tokens"].tolist(), data["tokens"].tolist(), str(data["text"]),
                            data["logits"].astype(np.float32))
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        path.unlink(missing_ok=True)
        return None
    if ref.logits.ndim != 2 or not 1 <= ref.logits.shape[0] <= min(key["positions"], len(ref.tokens) + 1):
        path.unlink(missing_ok=True)
        return None
    mark_used(path)
    return ref


def references(probes: list[Probe], source_sha256: str, open_source: Callable[[], Runtime], runtime: str,
               folder: Path | None) -> Iterator[Reference]:
    """The source's side of every probe: read from `folder` where an earlier run computed it, else computed with
    the source model (opened on the first miss only, closed at the end) and stored; `folder` None: always
    computed, nothing stored."""
    with ExitStack() as stack:
        source: Runtime | None = None
        for probe in probes:
            key = probe_key(source_sha256, probe, runtime=runtime)
            ref = load(folder, key, probe) if folder is not None else None
            if ref is None:
                if source is None:
                    source = open_source()
                    stack.callback(source.close)
                ref = reference(source, probe)
                if folder is not None:
                    store(folder, key, ref)
            yield ref
