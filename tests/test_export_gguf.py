"""GGUF writing: streamed tensor by tensor with the same bytes as converting in memory, a bf16 base for bf16
sources, one registered class per architecture (Llama's q/k permutation checked against transformers), and
the lineage of a source that was itself materialized from a quantized GGUF."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edgefc.export import gguf as gguf_export
from edgefc.export import pipeline
from edgefc.export.manifest import manifest_path
from edgefc.export.pipeline import run_export
from edgefc.models.ggufheader import read_header


def _file_type(path: Path) -> str:
    import gguf

    return gguf.LlamaFileType(read_header(path).fields["general.file_type"]).name


@pytest.fixture(scope="module")
def tiny_bf16(tiny_qwen3_256: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Qwen3 stored in bfloat16, as hub checkpoints are."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path_factory.mktemp("tiny-bf16")
    AutoModelForCausalLM.from_pretrained(tiny_qwen3_256, dtype=torch.bfloat16).save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_qwen3_256).save_pretrained(out)
    return out


def test_streamed_f16_has_the_bytes_of_an_in_memory_conversion(tiny_qwen3_256: Path, tmp_path: Path) -> None:
    """Every tensor as the previous writer made it: the whole checkpoint as float32, then gguf.quants."""
    import gguf
    from safetensors.torch import load_file

    out = tmp_path / "streamed-f16.gguf"
    gguf_export.write_gguf(tiny_qwen3_256, out, "f16")
    checkpoint = {k: v.float().numpy() for k, v in load_file(tiny_qwen3_256 / "model.safetensors").items()}
    name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH.QWEN3, 2)
    expected = {name_map.get_name(k, try_suffixes=(".weight", ".bias")): v for k, v in checkpoint.items()
                if k != "lm_head.weight"}
    tensors = gguf.GGUFReader(out).tensors
    assert sorted(t.name for t in tensors) == sorted(expected)
    for t in tensors:
        want = expected[t.name]
        ttype = gguf.GGMLQuantizationType.F16 if want.ndim > 1 else gguf.GGMLQuantizationType.F32
        assert t.tensor_type == ttype, t.name
        assert bytes(t.data) == gguf.quants.quantize(want, ttype).tobytes(), t.name
    assert _file_type(out) == "MOSTLY_F16"


def test_bf16_source_quantizes_from_a_bf16_base(tiny_bf16: Path, tiny_qwen3_256: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert gguf_export.base_quant(tiny_bf16) == "bf16" and gguf_export.base_quant(tiny_qwen3_256) == "f16"
    bases: list[str] = []
    real = gguf_export.llama_quantize

    def spy(src: Path, dst: Path, quant: str, **kwargs: Any) -> None:
        bases.append(_file_type(src))
        real(src, dst, quant, **kwargs)

    monkeypatch.setattr(pipeline.gguf_export, "llama_quantize", spy)
    [result] = run_export(tiny_bf16, "gguf", ["q8_0"], tmp_path, verify=False)
    assert bases == ["MOSTLY_BF16"] and _file_type(result.path) == "MOSTLY_Q8_0"


def test_reference_computes_in_float32(tiny_bf16: Path) -> None:
    import torch

    from edgefc.runtimes.hf import TransformersRuntime

    runtime = TransformersRuntime(tiny_bf16, threads=1)
    assert runtime.model.dtype == torch.float32
    assert runtime.logits(runtime.tokenize("hello there"), 1).dtype == np.float32


def test_llama_is_one_class_and_llama_cpp_matches_transformers(qwen_tokenizer_dir: Path, tmp_path: Path) -> None:
    """A tiny Llama (with the Qwen tokenizer): llama.cpp's logits on the exported f32 file equal transformers'."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from edgefc.runtimes.hf import TransformersRuntime
    from edgefc.runtimes.llamacpp import LlamaCppRuntime
    from tests.tiny import FIRST_ADDED_ID, VOCAB_SIZE

    assert gguf_export.ARCHITECTURES["LlamaForCausalLM"] is gguf_export.Llama
    config = LlamaConfig(vocab_size=VOCAB_SIZE, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                         tie_word_embeddings=True, initializer_range=0.2, bos_token_id=FIRST_ADDED_ID,
                         eos_token_id=FIRST_ADDED_ID + 2)
    torch.manual_seed(0)
    hf_dir = tmp_path / "tiny-llama"
    LlamaForCausalLM(config).eval().save_pretrained(hf_dir)
    AutoTokenizer.from_pretrained(qwen_tokenizer_dir).save_pretrained(hf_dir)
    out = tmp_path / "tiny-llama-f32.gguf"
    gguf_export.write_gguf(hf_dir, out, "f32")

    source, exported = TransformersRuntime(hf_dir, threads=1), LlamaCppRuntime(out, threads=1, n_ctx=256)
    try:
        tokens = source.tokenize(source.render("What's the weather in Hanoi?"))
        expected, got = source.logits(tokens, 8), exported.logits(tokens, 8)
    finally:
        exported.close()
    assert np.abs(expected - got).max() < 1e-2 * np.abs(expected).max()
    assert (expected.argmax(-1) == got.argmax(-1)).all()


def test_manifest_records_a_quantized_gguf_source(qwen_tokenizer_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A tiny Qwen2 (transformers reads Qwen2 GGUFs back, as the catalog's are) -> GGUF q8_0 -> HF -> export."""
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    from edgefc.models.materialize import SOURCE_MARKER, materialize_hf
    from tests.tiny import VOCAB_SIZE

    config = Qwen2Config(vocab_size=VOCAB_SIZE, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True)
    torch.manual_seed(0)
    qwen2 = tmp_path / "tiny-qwen2"
    Qwen2ForCausalLM(config).save_pretrained(qwen2)
    AutoTokenizer.from_pretrained(qwen_tokenizer_dir).save_pretrained(qwen2)
    f32, q8 = tmp_path / "tiny-f32.gguf", tmp_path / "tiny-q8_0.gguf"
    gguf_export.write_gguf(qwen2, f32, "f32")
    gguf_export.llama_quantize(f32, q8, "q8_0")
    hf_dir = materialize_hf(q8, tmp_path / "hf")
    marker = json.loads((hf_dir / SOURCE_MARKER).read_text())
    assert marker["file_type"] == "MOSTLY_Q8_0" and len(marker["sha256"]) == 64 and marker["gguf"] == str(q8)

    results = run_export(hf_dir, "gguf", ["f32", "f16"], tmp_path / "out", verify=False)
    for result in results:
        lineage = json.loads(manifest_path(result.path).read_text())["source"]["lineage"]
        assert lineage["file_type"] == "MOSTLY_Q8_0" and lineage["quantized"] is True
    assert capsys.readouterr().err.count("materialized from a MOSTLY_Q8_0 GGUF") == 1
