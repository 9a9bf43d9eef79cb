"""Prompt-prefix state on disk: a runtime's KV cache for a prefix (an agent's system + tools block), kept across
processes so a restarted agent answers its first message warm.

A state file is named by its key (the model file's content hash, the prefix text's hash, the backend that wrote
it) and holds a JSON header (that key, the prefix's token ids, the payload's size and SHA-256) and the backend's
opaque payload. A file that is missing, truncated, corrupted or written for another key reads as None and is
deleted, so the caller rebuilds it; nothing here raises on a bad file. The folder is capped: the least recently
used files go first once there are more than `max_files` or more than `budget_bytes` (the newest always stays).

The model's hash is computed once per file and remembered beside the states, trusted again only while the
file's identity (device, inode, size, mtime and ctime in nanoseconds) and a hash of its first and last MiB are
unchanged: on POSIX any write to the file moves its ctime, which no user call can set back, and replacing it
changes the inode, so checking a memo costs one stat and 2 MiB of reading instead of hashing the whole file.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path
from typing import Any, Callable, Iterable

from edgefc.fsutil import atomic_file, mark_used, prune_lru, write_json
from edgefc.models.store import cache_dir

MAGIC = b"EDGEFC-PREFIX-STATE\x01"
SUFFIX = ".state"
# Qwen2.5-0.5B, 419 prefix tokens: 5.2 MB with llama.cpp (f16 KV), 10.3 MB with onnxruntime (f32 KV), per
# `python -m edgefc.bench.agent_latency` ("state_bytes"); the budget leaves room for larger models' states.
BUDGET_BYTES = 512 << 20
MAX_FILES = 32
SAMPLE = 1 << 20  # bytes read from each end of a model file to check a remembered hash
CHUNK = 1 << 20


def default_dir() -> Path:
    """Where prefix states live: under the edgefc home ($EDGEFC_HOME, else the user's cache dir)."""
    return cache_dir() / "prefix-state"


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _identity(stat: os.stat_result) -> list[int]:
    return [stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]


def _ends_sha256(path: Path, size: int) -> str:
    """SHA-256 of a file's first and last SAMPLE bytes (the whole file when it is smaller)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        digest.update(fh.read(SAMPLE))
        if size > SAMPLE:
            fh.seek(max(SAMPLE, size - SAMPLE))
            digest.update(fh.read(SAMPLE))
    return digest.hexdigest()


def file_sha256(path: Path, memo_dir: Path) -> str:
    """The SHA-256 of a file's content, hashed once and remembered in `memo_dir` (see the module docstring)."""
    path = path.resolve()
    stat = path.stat()
    memo = memo_dir / "hashes" / f"{text_sha256(str(path))[:32]}.json"
    identity, ends = _identity(stat), _ends_sha256(path, stat.st_size)
    try:
        known = json.loads(memo.read_text(encoding="utf-8"))
        if known["path"] == str(path) and known["identity"] == identity and known["ends_sha256"] == ends:
            return str(known["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no memo yet, or an unreadable one: hash the file
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    record = {"path": str(path), "identity": identity, "ends_sha256": ends, "sha256": digest.hexdigest()}
    write_json(memo, record)
    return record["sha256"]


def files_sha256(paths: Iterable[Path], memo_dir: Path) -> str:
    """One content hash for a model made of several files (an ONNX graph and its external data), by name."""
    parts = sorted((path.name, file_sha256(path, memo_dir)) for path in paths)
    return parts[0][1] if len(parts) == 1 else text_sha256(json.dumps(parts))


def warm(folder: Path, key: dict[str, str], tokens: list[int], restore: Callable[[bytearray], bool],
         build: Callable[[], bytes | bytearray]) -> str:
    """Restore `tokens`' state from its file in `folder` ("restored"), else build and save it ("saved").

    `restore(payload)` loads a payload into the runtime, False when the backend refuses it (the file is then
    rebuilt); `build()` evaluates the tokens and returns the payload to save."""
    path = state_path(folder, key)
    payload = read_state(path, key, tokens)
    if payload is not None:
        if restore(payload):
            return "restored"
        discard(path)  # well-formed, but written by a backend that reads it differently
    write_state(path, key, tokens, build())
    prune(folder)
    return "saved"


def state_path(folder: Path, key: dict[str, str]) -> Path:
    """The file of one key: its name is the hash of the key, so any change of model, prefix or backend misses."""
    return folder / f"{text_sha256(json.dumps(key, sort_keys=True))[:40]}{SUFFIX}"


def write_state(path: Path, key: dict[str, str], tokens: list[int], payload: bytes | bytearray) -> None:
    """Write a state file atomically: magic, header length, JSON header, payload."""
    header = json.dumps({"key": key, "tokens": tokens, "payload_bytes": len(payload),
                         "payload_sha256": hashlib.sha256(payload).hexdigest()}).encode("utf-8")
    with atomic_file(path) as tmp, tmp.open("wb") as out:
        out.write(MAGIC + struct.pack("<Q", len(header)) + header)
        out.write(payload)


def read_state(path: Path, key: dict[str, str], tokens: list[int]) -> bytearray | None:
    """The payload of a valid state file for exactly this key and these tokens; None (and the file deleted when
    it exists) otherwise."""
    if not path.is_file():
        return None
    payload = _read_valid(path, key, tokens)
    if payload is None:
        discard(path)
        return None
    mark_used(path)
    return payload


def _read_valid(path: Path, key: dict[str, str], tokens: list[int]) -> bytearray | None:
    try:
        with path.open("rb") as fh:
            if fh.read(len(MAGIC)) != MAGIC:
                return None
            (length,) = struct.unpack("<Q", fh.read(8))
            header: dict[str, Any] = json.loads(fh.read(length).decode("utf-8"))
            if header.get("key") != key or header.get("tokens") != tokens:
                return None
            size = int(header["payload_bytes"])
            payload = bytearray(size)
            if fh.readinto(payload) != size or fh.read(1):
                return None
    except (OSError, ValueError, KeyError, TypeError, struct.error, MemoryError):
        return None
    return payload if hashlib.sha256(payload).hexdigest() == header["payload_sha256"] else None


def discard(path: Path) -> None:
    """Delete a state file that cannot be used (another process may have done it already)."""
    path.unlink(missing_ok=True)


def prune(folder: Path, *, budget_bytes: int = BUDGET_BYTES, max_files: int = MAX_FILES) -> list[Path]:
    """Delete the least recently used state files beyond `max_files` or `budget_bytes`; the deleted paths."""
    return prune_lru(folder, f"*{SUFFIX}", budget_bytes=budget_bytes, max_files=max_files)
