"""BFCL data straight out of the bfcl-eval wheel: a tiny fake wheel offline, the real one for its counts."""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from edgefc.bfcl import data
from edgefc.bfcl.categories import CATEGORIES, names
from edgefc.bfcl.data import Entry, load_category, read_jsonl
from edgefc.errors import EdgefcError
from tests.bfcl_support import real_wheel

DOC = {"name": "math.factorial", "description": "Factorial.",
       "parameters": {"type": "dict", "properties": {"number": {"type": "integer"}}, "required": ["number"]}}


def _fake_wheel(path: Path, n: int = 12) -> Path:
    """A zip laid out like the bfcl-eval wheel: n simple_python entries with answers, 3 irrelevance entries."""
    prompts = [{"id": f"simple_python_{i}", "question": [[{"role": "system", "content": "Be brief."},
                                                          {"role": "user", "content": f"{i}!"}]],
                "function": [DOC]} for i in range(n)]
    answers = [{"id": f"simple_python_{i}", "ground_truth": [{"math.factorial": {"number": [i]}}]} for i in range(n)]
    irrelevant = [{"id": f"irrelevance_{i}", "question": [[{"role": "user", "content": "Hi"}]], "function": [DOC]}
                  for i in range(3)]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("bfcl_eval/data/BFCL_v4_simple_python.json", "\n".join(map(json.dumps, prompts)) + "\n")
        archive.writestr("bfcl_eval/data/possible_answer/BFCL_v4_simple_python.json",
                         "\n".join(map(json.dumps, answers)))
        archive.writestr("bfcl_eval/data/BFCL_v4_irrelevance.json", "\n".join(map(json.dumps, irrelevant)))
    return path


@pytest.fixture
def fake_wheel(tmp_path: Path) -> Path:
    return _fake_wheel(tmp_path / "fake.whl")


def test_loads_every_entry_with_its_answer(fake_wheel: Path) -> None:
    entries = load_category("simple_python", wheel=fake_wheel)
    assert [e.id for e in entries] == [f"simple_python_{i}" for i in range(12)]
    assert entries[3] == Entry(id="simple_python_3", category="simple_python",
                               question=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "3!"}],
                               functions=[DOC], answer=[{"math.factorial": {"number": [3]}}])


def test_irrelevance_has_no_answer(fake_wheel: Path) -> None:
    entries = load_category("irrelevance", wheel=fake_wheel)
    assert len(entries) == 3 and all(e.answer is None for e in entries)


def test_sample_is_fixed_by_seed_and_in_id_order(fake_wheel: Path) -> None:
    first = [e.id for e in load_category("simple_python", limit=5, seed=0, wheel=fake_wheel)]
    assert first == [e.id for e in load_category("simple_python", limit=5, seed=0, wheel=fake_wheel)]
    assert len(first) == 5 and first == sorted(first, key=lambda i: int(i.rsplit("_", 1)[1]))
    others = {tuple(e.id for e in load_category("simple_python", limit=5, seed=s, wheel=fake_wheel))
              for s in range(1, 6)}
    assert others - {tuple(first)}
    assert len(load_category("simple_python", limit=100, wheel=fake_wheel)) == 12


def test_wheel_from_environment(fake_wheel: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(data.WHEEL_ENV, str(fake_wheel))
    assert len(load_category("irrelevance")) == 3


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"category": "exec_simple"}, "unknown BFCL category 'exec_simple'; valid: simple_python, multiple"),
    ({"category": "multi_turn_base"}, "'multi_turn_base' is a multi-turn one; valid here: simple_python, "),
    ({"category": "multiple"}, "holds no bfcl_eval/data/BFCL_v4_multiple.json"),
    ({"category": "simple_python", "limit": 0}, r"sample size \(--limit\) must be at least 1"),
])
def test_user_errors(fake_wheel: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(EdgefcError, match=message):
        load_category(wheel=fake_wheel, **kwargs)


def test_unreadable_or_missing_wheel(tmp_path: Path) -> None:
    (tmp_path / "bad.whl").write_text("not a zip")
    with pytest.raises(EdgefcError, match="is not a readable wheel"):
        load_category("simple_python", wheel=tmp_path / "bad.whl")
    with pytest.raises(EdgefcError, match="does not exist"):
        load_category("simple_python", wheel=tmp_path / "absent.whl")


def _fake_pip(returncode: int, stderr: str = "", write: bytes | None = None):
    def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        if write is not None:
            (Path(cmd[cmd.index("-d") + 1]) / data.WHEEL_NAME).write_bytes(write)
        return subprocess.CompletedProcess(cmd, returncode, "", stderr)
    return run


def test_failed_download_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(data.WHEEL_ENV, raising=False)
    monkeypatch.setenv("EDGEFC_HOME", str(tmp_path))
    monkeypatch.setattr(subprocess, "run", _fake_pip(1, "WARNING: x\nERROR: No matching distribution found\n"))
    with pytest.raises(EdgefcError) as info:
        load_category("simple_python")
    assert str(info.value) == ("could not download bfcl-eval==2026.3.23 from the package index: "
                               "ERROR: No matching distribution found")


def test_unverified_download_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(data.WHEEL_ENV, raising=False)
    monkeypatch.setenv("EDGEFC_HOME", str(tmp_path))
    monkeypatch.setattr(subprocess, "run", _fake_pip(0, write=_fake_wheel(tmp_path / "w.whl").read_bytes()))
    with pytest.raises(EdgefcError, match="failed verification"):
        load_category("simple_python")
    assert not (tmp_path / "bfcl").exists() or not any((tmp_path / "bfcl").iterdir())


def test_real_wheel_counts() -> None:
    wheel = real_wheel()
    assert wheel.name == data.WHEEL_NAME
    for category in CATEGORIES.values():  # the table's counts are the wheel's, every category's
        assert len(read_jsonl(wheel, f"{data.DATA_DIR}/{category.file}")) == category.entries, category.name
    for category in names(multi_turn=False):
        entries = load_category(category, wheel=wheel)
        assert all(e.question and all("role" in m for m in e.question) for e in entries)
        assert all((e.answer is None) == (CATEGORIES[category].rule == "irrelevance") for e in entries)
    assert {c.name: c.entries for c in CATEGORIES.values()} == {
        "simple_python": 400, "multiple": 200, "parallel": 200, "parallel_multiple": 200, "irrelevance": 240,
        "live_simple": 258, "live_multiple": 1053, "live_parallel": 16, "live_parallel_multiple": 24,
        "live_irrelevance": 884, "simple_java": 100, "simple_javascript": 50, "multi_turn_base": 200,
        "multi_turn_miss_func": 200, "multi_turn_miss_param": 200, "multi_turn_long_context": 200}


def test_verified_download_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel = _fake_wheel(tmp_path / "w.whl").read_bytes()
    monkeypatch.delenv(data.WHEEL_ENV, raising=False)
    monkeypatch.setenv("EDGEFC_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(data, "WHEEL_SHA256", hashlib.sha256(wheel).hexdigest())
    monkeypatch.setattr(subprocess, "run", _fake_pip(0, write=wheel))
    assert len(load_category("simple_python")) == 12
    cached = tmp_path / "home" / "bfcl" / data.WHEEL_NAME
    assert cached.read_bytes() == wheel and [p.name for p in cached.parent.iterdir()] == [data.WHEEL_NAME]
    monkeypatch.setattr(subprocess, "run", _fake_pip(1, "ERROR: offline"))
    assert len(load_category("irrelevance")) == 3  # served from the cache, pip not called
