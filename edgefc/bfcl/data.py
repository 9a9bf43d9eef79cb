"""BFCL entries read straight out of the pinned bfcl-eval wheel (a zip), never importing or installing it.

The wheel is fetched once with `pip download --no-deps` into `<edgefc cache>/bfcl/` and checked against its
SHA-256; `EDGEFC_BFCL_WHEEL` (or the `wheel` argument) points at a local wheel instead, unchecked.
Prompts and possible answers are paired by position, as bfcl-eval does (their ids differ in places).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgefc.bfcl.categories import Category, get
from edgefc.bfcl.sample import sample_indices
from edgefc.errors import EdgefcError
from edgefc.fsutil import atomic_file
from edgefc.models import store

BFCL_EVAL_VERSION = "2026.3.23"
WHEEL_NAME = f"bfcl_eval-{BFCL_EVAL_VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "3bb6dfa5f0c68ad403c9ec50b00db2bb3b4cc9b38ab1ff33f48fe30d853d3a0a"
WHEEL_ENV = "EDGEFC_BFCL_WHEEL"

DATA_DIR = "bfcl_eval/data"  # the wheel's data folder


@dataclass(frozen=True)
class Entry:
    """One single-turn BFCL entry: its chat messages, function docs and possible answers (None: irrelevance)."""

    id: str
    category: str
    question: list[dict[str, Any]]
    functions: list[dict[str, Any]]
    answer: list[dict[str, Any]] | None


def load_category(category: str, limit: int | None = None, seed: int = 0,
                  wheel: str | Path | None = None) -> list[Entry]:
    """All entries of a category, or a fixed-seed sample of `limit` of them, in id order."""
    _, prompts, answers = read_category(get(category, multi_turn=False), wheel)
    return [
        Entry(id=prompts[i]["id"], category=category, question=prompts[i]["question"][0],
              functions=prompts[i]["function"], answer=None if answers is None else answers[i]["ground_truth"])
        for i in sample_indices(len(prompts), limit, seed)
    ]


def read_category(category: Category, wheel: str | Path | None = None
                  ) -> tuple[Path, list[dict[str, Any]], list[dict[str, Any]] | None]:
    """The wheel read, and a category's prompt lines and possible-answer lines (None where it has none), checked
    to pair by position."""
    path = wheel_path(wheel)
    prompts = read_jsonl(path, f"{DATA_DIR}/{category.file}")
    answers = read_jsonl(path, f"{DATA_DIR}/possible_answer/{category.file}") if category.has_answers else None
    if answers is not None and len(answers) != len(prompts):
        raise EdgefcError(f"{path.name} has {len(prompts)} {category.name} prompts but {len(answers)} possible "
                          "answers")
    return path, prompts, answers


def wheel_path(wheel: str | Path | None = None) -> Path:
    """The bfcl-eval wheel to read: `wheel`, else $EDGEFC_BFCL_WHEEL, else the cached one (downloaded if absent)."""
    given = wheel or os.environ.get(WHEEL_ENV)
    if given:
        path = Path(given).expanduser()
        if not path.is_file():
            raise EdgefcError(f"the BFCL wheel {path} does not exist")
        return path
    cached = store.cache_dir() / "bfcl" / WHEEL_NAME
    return cached if cached.is_file() else fetch_pinned_wheel(cached)


def fetch_pinned_wheel(dest: Path) -> Path:
    """Fetch the pinned bfcl-eval wheel with pip into `dest`, verified, under its final name only when complete."""
    with tempfile.TemporaryDirectory(prefix="edgefc-bfcl-") as tmp:
        downloaded = store.download_wheel(f"bfcl-eval=={BFCL_EVAL_VERSION}", Path(tmp))
        digest = hashlib.sha256(downloaded.read_bytes()).hexdigest()
        if downloaded.name != WHEEL_NAME or digest != WHEEL_SHA256:
            raise EdgefcError(f"{downloaded.name} failed verification (SHA-256 {digest[:16]}..., "
                              f"expected {WHEEL_SHA256[:16]}...); nothing was kept, try again")
        with atomic_file(dest) as partial:
            shutil.move(downloaded, partial)
    return dest


def read_jsonl(wheel: Path, member: str) -> list[dict[str, Any]]:
    """The JSON-lines file `member` of the wheel, one dict per non-empty line."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            text = archive.read(member).decode("utf-8")
    except KeyError as exc:
        raise EdgefcError(f"{wheel.name} holds no {member}; is it a bfcl-eval {BFCL_EVAL_VERSION} wheel?") from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise EdgefcError(f"{wheel} is not a readable wheel ({exc})") from exc
    try:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError as exc:
        raise EdgefcError(f"{wheel.name}: {member} is not valid JSON lines ({exc})") from exc
