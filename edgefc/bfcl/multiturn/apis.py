"""bfcl-eval's simulated APIs (func_source_code/*.py) as a private package in the edgefc cache, never installing
bfcl-eval: the modules are copied out of the wheel once per wheel digest, their imports of
`bfcl_eval...func_source_code` renamed to that package. They need the standard library, and mpmath for MathAPI."""

from __future__ import annotations

import functools
import hashlib
import zipfile
from pathlib import Path

from edgefc.bfcl.data import wheel_path
from edgefc.bfcl.multiturn.data import API_CLASSES
from edgefc.errors import EdgefcError
from edgefc.fsutil import atomic_dir
from edgefc.models import store

PACKAGE = "edgefc_bfcl_apis"
SOURCE = "bfcl_eval/eval_checker/multi_turn_eval/func_source_code"
_SOURCE_MODULE = SOURCE.replace("/", ".")
# The modules of the multi-turn classes and the data they import.
MODULES = ("__init__", "long_context", *sorted({module for module, _ in API_CLASSES.values()}))


def api_root(wheel: str | Path | None = None) -> Path:
    """The folder to put on sys.path to import PACKAGE: extracted into the edgefc cache on first use."""
    path = wheel_path(wheel)
    root = store.cache_dir() / "bfcl" / f"multiturn-apis-{_digest(path.resolve(), path.stat().st_mtime_ns)[:16]}"
    if not (root / PACKAGE / "__init__.py").is_file():
        with atomic_dir(root, overwrite=True) as partial:
            _extract(path, partial / PACKAGE)
    return root


def _extract(wheel: Path, dest: Path) -> None:
    """Copy MODULES out of the wheel into dest, their own-package imports renamed to PACKAGE."""
    dest.mkdir(parents=True)
    try:
        with zipfile.ZipFile(wheel) as archive:
            for module in MODULES:
                text = archive.read(f"{SOURCE}/{module}.py").decode("utf-8")
                (dest / f"{module}.py").write_text(text.replace(_SOURCE_MODULE, PACKAGE), encoding="utf-8")
    except KeyError as exc:
        raise EdgefcError(f"{wheel.name} lacks a BFCL multi-turn API module ({exc}); is it the pinned bfcl-eval?") \
            from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise EdgefcError(f"{wheel} is not a readable wheel ({exc})") from exc


@functools.lru_cache(maxsize=4)
def _digest(wheel: Path, mtime_ns: int) -> str:
    """The wheel's SHA-256 (cached per file and modification time)."""
    return hashlib.sha256(wheel.read_bytes()).hexdigest()
