"""Files appear under their final name only when complete: write to a temporary sibling, then rename.

Temporaries carry the writing process's id (`.NAME.PID.RANDOM.partial`), so a run cleans up only what a
dead run left and never a concurrent run's work in progress. Running out of disk is a user error.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from edgefc.errors import EdgefcError

PARTIAL = ".partial"
SPACE_MARGIN = 1.05  # ask for 5% more than the estimate: metadata, rounding, the filesystem's own reserve


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


def _pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (a foreign user's process counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner(stale: Path, final: Path) -> int | None:
    """The pid in `.NAME.PID.RANDOM.partial`, or None for a temporary of an older naming."""
    middle = stale.name[len(final.name) + 2: -len(PARTIAL)]
    pid = middle.split(".", 1)[0]
    return int(pid) if pid.isdigit() else None


def clean_partials(final: Path) -> None:
    """Remove temporaries that dead runs left beside `final`; a live process's temporaries are kept."""
    if not final.parent.is_dir():
        return
    for stale in final.parent.glob(f".{final.name}.*{PARTIAL}"):
        owner = _owner(stale, final)
        if owner is not None and owner != os.getpid() and _pid_alive(owner):
            continue
        shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)


def _no_space(final: Path) -> EdgefcError:
    free = shutil.disk_usage(final.parent).free if final.parent.exists() else 0
    return EdgefcError(f"no space left on the device while writing {final} ({free / 1e9:.1f} GB free); "
                       "nothing was kept, free some space and run again")


def ensure_free_space(folder: Path, need_bytes: int, what: str) -> None:
    """Refuse, before any work, to start writing `what` (about `need_bytes`) into a folder without room for it."""
    probe = Path(folder)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < need_bytes * SPACE_MARGIN:
        raise EdgefcError(f"{what} needs about {need_bytes / 1e9:.1f} GB but {probe} has {free / 1e9:.1f} GB free; "
                          "free some space or choose another folder")


@contextmanager
def _full_disk_said(final: Path) -> Iterator[None]:
    """A full disk while writing `final` becomes one clear error instead of errno 28."""
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise _no_space(final) from exc
        raise


def _temp_prefix(final: Path) -> str:
    return f".{final.name}.{os.getpid()}."


@contextmanager
def atomic_file(final: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `final`; rename it to `final` only if the block succeeds."""
    final = Path(final)
    _check_writable(final)
    clean_partials(final)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(final), suffix=PARTIAL, dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        with _full_disk_said(final):
            yield tmp_path
            os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; a finished file gets the usual mode
            os.replace(tmp_path, final)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_text(final: str | Path, text: str) -> None:
    """Write UTF-8 `text` to `final` atomically: a reader sees the old file or the whole new one."""
    with atomic_file(final) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(final: str | Path, data: Any) -> None:
    """Write `data` to `final` as indented UTF-8 JSON (non-ASCII text as it is), atomically."""
    write_text(final, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def subplots(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """matplotlib's `plt.subplots` on its file-only backend (no display is needed or opened)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def write_png(fig: Any, final: str | Path, dpi: int) -> None:
    """Lay out a matplotlib figure, save it as a PNG at `final`, atomically, and release it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_file(final) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    plt.close(fig)


@contextmanager
def atomic_dir(final: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside `final`; move it into place only if the block succeeds."""
    final = Path(final)
    if final.exists() and not overwrite:
        raise EdgefcError(f"{final} already exists (use --force to replace it)")
    _check_writable(final)
    clean_partials(final)
    tmp_path = Path(tempfile.mkdtemp(prefix=_temp_prefix(final), suffix=PARTIAL, dir=final.parent))
    try:
        with _full_disk_said(final):
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


def prune_lru(folder: Path, pattern: str, *, budget_bytes: int, max_files: int) -> list[Path]:
    """Delete the least recently used (oldest mtime) files matching `pattern` in `folder` beyond `max_files` or
    `budget_bytes`, the newest always kept; the deleted paths. A cache marks a hit with os.utime."""
    found = []
    for path in folder.glob(pattern):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue  # deleted by another process meanwhile
        found.append((stat.st_mtime_ns, stat.st_size, path))
    found.sort(reverse=True)
    kept_bytes, removed = 0, []
    for index, (_, size, path) in enumerate(found):
        kept_bytes += size
        if index > 0 and (index >= max_files or kept_bytes > budget_bytes):
            path.unlink(missing_ok=True)
            removed.append(path)
            kept_bytes -= size
    return removed


def mark_used(path: Path) -> None:
    """A cache hit: move `path`'s mtime to now so prune_lru keeps it longest (a file another process pruned
    meanwhile is fine: what was read from it is still good)."""
    try:
        os.utime(path)
    except OSError:
        pass
