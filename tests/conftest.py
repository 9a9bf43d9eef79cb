"""Shared fixtures: one thread for torch (2 threads under load made a GRPO step 15x slower), tiny models."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest

os.environ.setdefault("EDGEFC_NO_PROGRESS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> None:
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


@pytest.fixture(scope="session", autouse=True)
def _source_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Exports keep their source references in a folder of this session's, never in the user's cache."""
    from edgefc.export import source_cache

    folder = tmp_path_factory.mktemp("source-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(source_cache, "default_dir", lambda: folder)
        yield folder


@pytest.fixture(scope="session")
def qwen_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real Qwen tokenizer with the Qwen3 chat template, built once per session."""
    from tests.tiny import build_qwen_tokenizer

    return build_qwen_tokenizer(tmp_path_factory.mktemp("qwen-tokenizer"))


@pytest.fixture(scope="session")
def tiny_qwen3(tmp_path_factory: pytest.TempPathFactory, qwen_tokenizer_dir: Path) -> Path:
    """A random 2-layer Qwen3, hidden 64, saved as a Hugging Face folder."""
    from tests.tiny import build_tiny_qwen3

    return build_tiny_qwen3(tmp_path_factory.mktemp("tiny-qwen3"), qwen_tokenizer_dir)


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory, tiny_qwen3: Path) -> Path:
    """The tiny Qwen3 as an f32 GGUF (tokenizer and chat template in its metadata)."""
    from edgefc.export.gguf import write_gguf

    out = tmp_path_factory.mktemp("tiny-gguf") / "tiny-qwen3-f32.gguf"
    write_gguf(tiny_qwen3, out, "f32")
    return out


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory, tiny_qwen3: Path) -> Path:
    """The tiny Qwen3 as an fp32 ONNX decoder with past key values (optimum's exporter, as `edgefc export` runs
    it: with the logits_to_keep input)."""
    from edgefc.export.onnx import export_fp32

    out = tmp_path_factory.mktemp("tiny-onnx")
    export_fp32(tiny_qwen3, out)
    return out


@pytest.fixture(scope="session")
def tiny_qwen3_256(tmp_path_factory: pytest.TempPathFactory, qwen_tokenizer_dir: Path) -> Path:
    """A random 2-layer Qwen3 with hidden 256 and head_dim 64: rows long enough for real K-quant blocks."""
    from tests.tiny import build_tiny_qwen3

    return build_tiny_qwen3(tmp_path_factory.mktemp("tiny-qwen3-256"), qwen_tokenizer_dir, hidden=256)


def _hypothesis_profile() -> None:
    """Under CI, property tests draw the same examples every run: a red CI is a bug found, never a dice roll.
    Locally they stay random, so new examples keep being tried."""
    try:
        from hypothesis import settings
    except ImportError:
        return
    settings.register_profile("ci", derandomize=True)
    if os.environ.get("CI"):
        settings.load_profile("ci")


_hypothesis_profile()


@pytest.fixture(scope="module")
def served(tiny_gguf: Path) -> Iterator[Any]:
    """The tiny GGUF loaded in llama.cpp, for a server to serve (one per test module)."""
    from edgefc.runtimes import load

    rt = load(tiny_gguf, threads=1, n_ctx=2048)
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def base(served: Any) -> Iterator[str]:
    """edgefc serve on loopback over `served`: its /v1 base URL."""
    from tests.serving import serving

    with serving(served) as url:
        yield f"{url}/v1"
