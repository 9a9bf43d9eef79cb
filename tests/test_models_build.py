"""A catalog model built on first use (catalog.BuiltFrom): requantized from its base by llama.cpp, verified against
it with its gate, published atomically with a manifest, reused afterwards, and made again when its manifest or its
base's bytes do not match; one that fails its gate is not kept, its base runs instead, and the failure is
remembered."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from edgefc.errors import EdgefcError
from edgefc.export import gguf as gguf_export
from edgefc.export.manifest import manifest_path
from edgefc.models import build, catalog, store
from edgefc.models.ggufheader import read_header
from edgefc.models.resolve import resolve
from tests.bfcl_support import real_wheel

BASE, BUILT = "tiny-base", "tiny-base-q8_0"
OPEN = {"kl_mean_max": 100.0, "greedy_min": 0.0, "tool_calls_min": 0.0}


@pytest.fixture
def catalog_with_tiny(tiny_gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> catalog.ModelEntry:
    """A catalog whose base is the tiny f32 GGUF (already 'fetched' into a private model folder) and whose
    BUILT entry is that base as q8_0, built on first use from two probes."""
    real_wheel()  # the probes draw from BFCL
    monkeypatch.setattr(store, "model_dir", lambda entry: tmp_path / "models" / entry.name)
    data = tiny_gguf.read_bytes()
    base = catalog.ModelEntry(BASE, "tiny", "gguf", catalog.WheelParts(("none",), "0", "tiny.gguf",
                                                                       hashlib.sha256(data).hexdigest(), len(data)))
    (tmp_path / "models" / BASE).mkdir(parents=True)
    shutil.copyfile(tiny_gguf, tmp_path / "models" / BASE / "tiny.gguf")
    built = catalog.ModelEntry(BUILT, "tiny as q8_0", "gguf", catalog.BuiltFrom(BASE, "q8_0", probes=2))
    monkeypatch.setitem(catalog.CATALOG, BASE, base)
    monkeypatch.setitem(catalog.CATALOG, BUILT, built)
    return built


def _open_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random tiny weights fail the q8_0 gate: these tests are about the build's life, not its quality."""
    real = build.build
    monkeypatch.setattr(build, "build", lambda *a, **k: real(*a, **{**k, "gate_overrides": OPEN}))


def _quantizations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    made: list[str] = []
    real = gguf_export.llama_quantize

    def counting(src: Path, dst: Path, quant: str, **kwargs: Any) -> None:
        made.append(quant)
        real(src, dst, quant, **kwargs)

    monkeypatch.setattr(gguf_export, "llama_quantize", counting)
    return made


def test_built_on_first_use_then_reused(catalog_with_tiny: catalog.ModelEntry, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _open_gate(monkeypatch)
    made = _quantizations(monkeypatch)
    assert store.cached_path(catalog_with_tiny) is None
    model = resolve(BUILT)
    assert made == ["q8_0"] and model.format == "gguf" and model.path == tmp_path / "models" / BUILT / f"{BUILT}.gguf"
    assert read_header(model.path).types["blk.0.attn_q.weight"] == "Q8_0"
    manifest = json.loads(manifest_path(model.path).read_text())
    assert manifest["passed"] and manifest["source"]["model"] == BASE and manifest["method"]["requantized"]
    assert manifest["verification"]["probes"] and len(manifest["verification"]["probes"]) == 2
    assert sorted(p.name for p in model.path.parent.iterdir()) == sorted([model.path.name,
                                                                         manifest_path(model.path).name])
    assert resolve(BUILT).path == model.path and made == ["q8_0"]  # reused: not made again
    manifest_path(model.path).unlink()  # as if killed between the manifest and the rename
    assert store.cached_path(catalog_with_tiny) is None
    assert resolve(BUILT).path == model.path and made == ["q8_0", "q8_0"]
    assert store.cached_path(catalog_with_tiny) == model.path


@pytest.mark.parametrize("damage", ["no file", "failed", "other size", "other base", "not JSON"])
def test_only_a_file_matching_its_passing_manifest_is_a_build(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF" + bytes(60))
    record = {"passed": True, "source": {"sha256": "a" * 64}, "size_bytes": 64}
    manifest_path(path).write_text(json.dumps(record))
    assert build.is_built(path, "a" * 64)
    if damage == "no file":
        path.unlink()
    elif damage == "failed":
        manifest_path(path).write_text(json.dumps({**record, "passed": False}))
    elif damage == "other size":
        path.write_bytes(bytes(63))
    elif damage == "other base":
        manifest_path(path).write_text(json.dumps({**record, "source": {"sha256": "b" * 64}}))
    else:
        manifest_path(path).write_text("{")
    assert not build.is_built(path, "a" * 64)


def test_a_build_that_fails_its_gate_is_not_kept_and_its_base_runs(catalog_with_tiny: catalog.ModelEntry,
                                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    made = _quantizations(monkeypatch)
    model = resolve(BUILT)  # random tiny weights fail the q8_0 gate
    assert (model.name, model.path) == (BASE, tmp_path / "models" / BASE / "tiny.gguf")
    assert f"q8_0 build of {BASE} failed its gate" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "models" / BUILT).iterdir()] == [f"{BUILT}.failed.json"]
    assert resolve(BUILT).name == BASE and made == ["q8_0"]  # remembered: not built and verified again
    with pytest.raises(build.BuildFailed, match="failed its gate"):
        store.fetch(catalog_with_tiny)


def test_a_build_that_cannot_be_verified_is_not_kept_nor_remembered(catalog_with_tiny: catalog.ModelEntry,
                                                                     tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*args: Any, **kwargs: Any) -> Any:
        raise EdgefcError("the BFCL wheel is not cached and PyPI is unreachable")

    monkeypatch.setattr("edgefc.export.probes.draw", offline)
    assert resolve(BUILT).name == BASE
    assert list((tmp_path / "models" / BUILT).iterdir()) == []  # nothing kept, no failure remembered


def test_an_interrupted_build_leaves_nothing(catalog_with_tiny: catalog.ModelEntry, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("edgefc.export.verify.compare", interrupted)
    with pytest.raises(KeyboardInterrupt):
        resolve(BUILT)
    assert list((tmp_path / "models" / BUILT).iterdir()) == []
