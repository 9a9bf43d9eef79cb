"""Files appear under their final name only when complete: write to a temporary sibling, then rename."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from edgefc.errors import EdgefcError

PARTIAL = ".partial"


def _check_writable(final: Path) -> None:
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EdgefcError(f"cannot write to {final.parent}: {exc.strerror or exc}") from exc
    if not os.access(final.parent, os.W_OK):
        raise EdgefcError(f"cannot write to {final.parent}: permission denied")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def clean_partials(final: Path) -> None:
    """Remove temporaries a killed run left beside `final` (they never carry a final name)."""
    if final.parent.is_dir():
        for stale in final.parent.glob(f".{final.name}.*{PARTIAL}"):
            shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)


@contextmanager
def atomic_file(final: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `final`; rename it to `final` only if the block succeeds."""
    final = Path(final)
    _check_writable(final)
    clean_partials(final)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=PARTIAL, dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; a finished file gets the usual mode
        os.replace(tmp_path, final)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextmanager
def atomic_dir(final: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside `final`; move it into place only if the block succeeds."""
    final = Path(final)
    if final.exists() and not overwrite:
        raise EdgefcError(f"{final} already exists (use --force to replace it)")
    _check_writable(final)
    clean_partials(final)
    tmp_path = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=PARTIAL, dir=final.parent))
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o777 & ~_umask())  # mkdtemp makes 0700
        if final.exists():
            shutil.rmtree(final) if final.is_dir() else final.unlink()
        os.replace(tmp_path, final)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def size_bytes(path: Path) -> int:
    """Bytes of a file, or of every file in a folder (an ONNX export with its external data)."""
    return path.stat().st_size if path.is_file() else sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
