"""Hugging Face folder -> GGUF, with gguf-py's writer and tensor-name maps.

Float types and Q8_0/Q4_0 are written directly (gguf.quants is bit-identical to llama.cpp for these);
K-quants are made from an f16 GGUF by llama.cpp's own quantizer (llama_model_quantize), as llama.cpp's
tools do. The tokenizer and the chat template go into the metadata so stock llama.cpp renders tools.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from edgefc.errors import EdgefcError, require
from edgefc.fsutil import atomic_file
from edgefc.progress import StepProgress
from edgefc.models.hftokenizer import load_tokenizer

Progress = Callable[[int, int], None]  # (done, total) within one step


@dataclass(frozen=True)
class GGUFQuant:
    """One GGUF quantization: written directly (tensor_type) or by llama.cpp from f16 (llama_ftype)."""

    name: str
    file_type: int  # gguf.LlamaFileType value recorded in general.file_type
    tensor_type: str | None = None  # gguf.GGMLQuantizationType name for 2-D weights, when written directly
    llama_ftype: int | None = None  # llama_cpp LLAMA_FTYPE_* value, when made by llama.cpp's quantizer


GGUF_QUANTS: dict[str, GGUFQuant] = {q.name: q for q in [
    GGUFQuant("f32", 0, tensor_type="F32"),
    GGUFQuant("f16", 1, tensor_type="F16"),
    GGUFQuant("bf16", 32, tensor_type="BF16"),
    GGUFQuant("q8_0", 7, tensor_type="Q8_0"),
    GGUFQuant("q4_0", 2, tensor_type="Q4_0"),
    GGUFQuant("q4_K_M", 15, llama_ftype=15),
    GGUFQuant("q5_K_M", 17, llama_ftype=17),
    GGUFQuant("q6_K", 18, llama_ftype=18),
]}


@dataclass(frozen=True)
class GGUFArch:
    """How one HF architecture maps to llama.cpp: its gguf MODEL_ARCH name and the pre-tokenizer it expects."""

    arch: str  # gguf.MODEL_ARCH member name
    tokenizer_pre: str


GGUF_ARCHES: dict[str, GGUFArch] = {
    "Qwen3ForCausalLM": GGUFArch("QWEN3", "qwen2"),
    "Qwen2ForCausalLM": GGUFArch("QWEN2", "qwen2"),
}


def gguf_arch(config: dict[str, Any]) -> GGUFArch:
    """The GGUF mapping for a config.json, or a one-sentence error naming what is supported."""
    for name in config.get("architectures") or []:
        if name in GGUF_ARCHES:
            return GGUF_ARCHES[name]
    raise EdgefcError(f"GGUF export supports {', '.join(GGUF_ARCHES)}; this model is "
                      f"{', '.join(config.get('architectures') or ['of unknown architecture'])}")


def _load_tensors(hf_dir: Path) -> Iterator[tuple[str, np.ndarray]]:
    """Every tensor of the checkpoint as float32 numpy, streamed file by file (bf16 goes through torch)."""
    safe = require("safetensors.torch", "export")
    files = sorted(hf_dir.glob("*.safetensors"))
    if not files:
        raise EdgefcError(f"{hf_dir} has no .safetensors weights")
    for file in files:
        for name, tensor in safe.load_file(file).items():
            yield name, tensor.float().numpy()


def _vocab(hf_dir: Path, vocab_size: int) -> tuple[list[str], list[int]]:
    """Token texts and llama.cpp token types for ids 0..vocab_size-1, padding ids the tokenizer lacks."""
    gguf = require("gguf", "export")
    tokenizer = load_tokenizer(hf_dir)
    by_id = {i: t for t, i in tokenizer.get_vocab().items()}
    added = tokenizer.added_tokens_decoder
    T = gguf.TokenType
    tokens, types = [], []
    for i in range(vocab_size):
        token = by_id.get(i)
        if token is None:
            tokens.append(f"[PAD{i}]")
            types.append(T.UNUSED)
        elif i in added:
            tokens.append(token)
            looks_control = added[i].special or (token.startswith("<|") and token.endswith("|>"))
            types.append(T.CONTROL if looks_control else T.USER_DEFINED)
        else:
            tokens.append(token)
            types.append(T.NORMAL)
    return tokens, types


def _add_hparams(writer: Any, config: dict[str, Any], name: str) -> None:
    heads = config["num_attention_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // heads
    writer.add_name(name)
    writer.add_context_length(config.get("max_position_embeddings", 32768))
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(heads)
    writer.add_head_count_kv(config.get("num_key_value_heads", heads))
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_rope_freq_base(float(config.get("rope_theta", 10000.0)))
    writer.add_layer_norm_rms_eps(float(config.get("rms_norm_eps", 1e-6)))


def _tensor_type(data: np.ndarray, quant: GGUFQuant) -> str:
    """1-D tensors (norms, biases) stay F32, as llama.cpp keeps them; 2-D weights take the quant's type."""
    if data.ndim == 1 or quant.tensor_type is None:
        return "F32"
    return quant.tensor_type


def write_gguf(hf_dir: Path, out: Path, quant: str, *, progress: Progress | None = None) -> None:
    """Write `hf_dir` as a GGUF of a directly-written quant (f32, f16, bf16, q8_0, q4_0) to `out`."""
    gguf = require("gguf", "export")
    q = GGUF_QUANTS[quant]
    if q.tensor_type is None:
        raise ValueError(f"{quant} is made by llama.cpp's quantizer, not written directly")
    config = json.loads((hf_dir / "config.json").read_text())
    arch = gguf_arch(config)
    model_arch = gguf.MODEL_ARCH[arch.arch]
    name_map = gguf.get_tensor_name_map(model_arch, config["num_hidden_layers"])
    writer = gguf.GGUFWriter(str(out), gguf.MODEL_ARCH_NAMES[model_arch])
    _add_hparams(writer, config, hf_dir.name)
    writer.add_file_type(q.file_type)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    tokens, types = _vocab(hf_dir, config["vocab_size"])
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(arch.tokenizer_pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    special = gguf.SpecialVocab(hf_dir, load_merges=True, n_vocab=len(tokens))
    if not special.merges:
        raise EdgefcError(f"{hf_dir} has no BPE merges in tokenizer.json; GGUF needs them")
    if not special.chat_template:
        raise EdgefcError(f"{hf_dir} has no chat template; tool calling needs one in the GGUF")
    special.add_to_gguf(writer)

    tensors = list(_load_tensors(hf_dir))
    for i, (name, data) in enumerate(tensors, 1):
        if config.get("tie_word_embeddings") and name == "lm_head.weight":
            continue  # llama.cpp reuses token_embd when output.weight is absent
        new_name = name_map.get_name(name, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            raise EdgefcError(f"no GGUF name for tensor '{name}' of {arch.arch}")
        ttype = gguf.GGMLQuantizationType[_tensor_type(data, q)]
        if data.shape[-1] % gguf.GGML_QUANT_SIZES[ttype][0]:
            ttype = gguf.GGMLQuantizationType.F16  # rows shorter than a block: llama.cpp falls back the same way
        writer.add_tensor(new_name, gguf.quants.quantize(data, ttype), raw_dtype=ttype)
        if progress:
            progress(i, len(tensors))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def llama_quantize(src: Path, dst: Path, quant: str, *, threads: int = 0) -> None:
    """Make a K-quant (or any llama.cpp ftype) from an f16/f32 GGUF with llama.cpp's own quantizer."""
    llama_cpp = require("llama_cpp")
    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # no per-tensor log lines from llama.cpp
    q = GGUF_QUANTS[quant]
    if q.llama_ftype is None:
        raise ValueError(f"{quant} is written directly, not by llama.cpp's quantizer")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = q.llama_ftype
    params.nthread = threads
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if rc != 0:
        raise EdgefcError(f"llama.cpp could not quantize {src.name} to {quant} (code {rc})")


def convert(source: Path, targets: dict[str, Path], work: Path, on_progress: StepProgress) -> dict[str, float]:
    """Write every GGUF target (quant -> path); seconds per quant. K-quants share one f16 base: the requested
    f16 file when there is one, else a temporary one in `work` (its time is reported as "base-f16")."""
    seconds: dict[str, float] = {}
    k_quants = [q for q in targets if GGUF_QUANTS[q].llama_ftype is not None]
    base = targets.get("f16") or (work / "base-f16.gguf" if k_quants else None)
    if base is not None and "f16" not in targets:
        start = time.perf_counter()
        write_gguf(source, base, "f16", progress=lambda i, n: on_progress("f16 base", i, n))
        seconds["base-f16"] = time.perf_counter() - start
    for quant in sorted(targets, key=lambda q: q != "f16"):  # f16 first: it is the K-quants' base
        start = time.perf_counter()
        with atomic_file(targets[quant]) as tmp:
            if quant in k_quants:
                on_progress(f"{quant} (llama.cpp)", 0, 1)
                llama_quantize(base, tmp, quant)
                on_progress(f"{quant} (llama.cpp)", 1, 1)
            else:
                write_gguf(source, tmp, quant, progress=lambda i, n, q=quant: on_progress(q, i, n))
        seconds[quant] = time.perf_counter() - start
    return seconds
