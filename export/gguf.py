"""Hugging Face folder -> GGUF, with gguf-py's writer and tensor-name maps.

Float types (f32, f16, bf16) are written directly and streamed: tensor shapes come from the safetensors
headers, then each tensor is read, converted, written and freed in turn, so memory holds one tensor at a
time. Every quantized type is made from a float base by llama.cpp's own quantizer (llama_model_quantize),
as llama.cpp's tools do, so a `q4_0` here is the same file llama.cpp would make. The base is f16, or bf16
when the source is bf16 (f16 would overflow where bf16 weights exceed 65504). The tokenizer and the chat
template go into the metadata so stock llama.cpp renders tools.

A model architecture is one registered class (hyperparameters, tensor renames and transforms), as in
llama.cpp's convert_hf_to_gguf.py.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator

import numpy as np

from edgefc.errors import EdgefcError, require
from edgefc.export.checkpoint import SourceTensor, source_tensors
from edgefc.export.gate import EIGHT_BIT, FOUR_BIT, HALF, LOSSLESS, SIX_BIT, Gate
from edgefc.models.hftokenizer import load_tokenizer
from edgefc.progress import StepProgress

Progress = Callable[[int, int], None]  # (done, total) within one step


@dataclass(frozen=True)
class GGUFQuant:
    """One GGUF file type: how it is made, the gate it must pass, and its size for the free-space check."""

    name: str
    ftype: str  # member of gguf.LlamaFileType; llama_cpp names it LLAMA_FTYPE_<ftype>
    gate: Gate
    bits_per_weight: float  # upper estimate on small models (tied embeddings stay at 6-8 bits)
    tensor_type: str | None = None  # gguf.GGMLQuantizationType of 2-D weights when written directly
    tune: bool = False  # one of `edgefc tune`'s default candidates

    @property
    def method(self) -> dict[str, Any]:
        """How it is made, as plain data recorded in the manifest (a changed method is a different file)."""
        return {"ftype": self.ftype, "tensor_type": self.tensor_type}

    @property
    def by_llama_cpp(self) -> bool:
        """Made by llama.cpp's quantizer from a float base (every quantized type)."""
        return self.tensor_type is None


GGUF_QUANTS: dict[str, GGUFQuant] = {q.name: q for q in [
    GGUFQuant("f32", "ALL_F32", LOSSLESS, 32, tensor_type="F32"),
    GGUFQuant("f16", "MOSTLY_F16", HALF, 16, tensor_type="F16", tune=True),
    GGUFQuant("bf16", "MOSTLY_BF16", HALF, 16, tensor_type="BF16"),
    GGUFQuant("q8_0", "MOSTLY_Q8_0", EIGHT_BIT, 8.5, tune=True),
    GGUFQuant("q6_K", "MOSTLY_Q6_K", SIX_BIT, 7),
    GGUFQuant("q5_K_M", "MOSTLY_Q5_K_M", SIX_BIT, 6.5, tune=True),
    GGUFQuant("q4_K_M", "MOSTLY_Q4_K_M", FOUR_BIT, 6, tune=True),
    GGUFQuant("q4_0", "MOSTLY_Q4_0", FOUR_BIT, 5.5, tune=True),
]}


class Architecture:
    """How one HF architecture maps to llama.cpp: its GGUF name, hyperparameters and tensors."""

    hf_names: ClassVar[tuple[str, ...]]
    gguf_arch: ClassVar[str]  # gguf.MODEL_ARCH member name
    tokenizer_pre: ClassVar[str]  # llama.cpp's pre-tokenizer name for this family's tokenizer

    def __init__(self, config: dict[str, Any]):
        self.config = config
        self.heads = config["num_attention_heads"]
        self.kv_heads = config.get("num_key_value_heads", self.heads)
        self.head_dim = config.get("head_dim") or config["hidden_size"] // self.heads

    def add_hparams(self, writer: Any, name: str) -> None:
        c = self.config
        writer.add_name(name)
        writer.add_context_length(c.get("max_position_embeddings", 32768))
        writer.add_embedding_length(c["hidden_size"])
        writer.add_block_count(c["num_hidden_layers"])
        writer.add_feed_forward_length(c["intermediate_size"])
        writer.add_head_count(self.heads)
        writer.add_head_count_kv(self.kv_heads)
        writer.add_key_length(self.head_dim)
        writer.add_value_length(self.head_dim)
        writer.add_rope_freq_base(float(c.get("rope_theta", 10000.0)))
        writer.add_layer_norm_rms_eps(float(c.get("rms_norm_eps", 1e-6)))

    def skip(self, name: str) -> bool:
        """Tensors llama.cpp does without: a tied lm_head (it reuses token_embd when output.weight is absent)."""
        return bool(self.config.get("tie_word_embeddings")) and name == "lm_head.weight"

    def transform(self, name: str, data: np.ndarray) -> np.ndarray:
        """The tensor as llama.cpp expects it (most architectures: unchanged)."""
        return data


ARCHITECTURES: dict[str, type[Architecture]] = {}


def register(cls: type[Architecture]) -> type[Architecture]:
    """Class decorator: make an architecture available under each of its HF names."""
    for name in cls.hf_names:
        ARCHITECTURES[name] = cls
    return cls


@register
class Qwen2(Architecture):
    hf_names = ("Qwen2ForCausalLM",)
    gguf_arch = "QWEN2"
    tokenizer_pre = "qwen2"


@register
class Qwen3(Architecture):
    hf_names = ("Qwen3ForCausalLM",)
    gguf_arch = "QWEN3"
    tokenizer_pre = "qwen2"


@register
class Llama(Architecture):
    """llama.cpp's llama rotates interleaved pairs where HF rotates halves: q and k rows are permuted."""

    hf_names = ("LlamaForCausalLM",)
    gguf_arch = "LLAMA"
    tokenizer_pre = "llama-bpe"

    def add_hparams(self, writer: Any, name: str) -> None:
        super().add_hparams(writer, name)
        writer.add_vocab_size(self.config["vocab_size"])
        writer.add_rope_dimension_count(self.head_dim)

    def transform(self, name: str, data: np.ndarray) -> np.ndarray:
        if name.endswith("q_proj.weight"):
            return _permute(data, self.heads)
        if name.endswith("k_proj.weight"):
            return _permute(data, self.kv_heads)
        return data


def _permute(weights: np.ndarray, n_head: int) -> np.ndarray:
    """convert_hf_to_gguf.py's LlamaModel.permute: halves -> interleaved pairs, per head."""
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def architecture(config: dict[str, Any]) -> Architecture:
    """The GGUF mapping for a config.json, or a one-sentence error naming what is supported."""
    for name in config.get("architectures") or []:
        if name in ARCHITECTURES:
            return ARCHITECTURES[name](config)
    raise EdgefcError(f"GGUF export supports {', '.join(ARCHITECTURES)}; this model is "
                      f"{', '.join(config.get('architectures') or ['of unknown architecture'])}")


def base_quant(hf_dir: Path) -> str:
    """The float type quantized files are made from: bf16 for a bf16 source (f16 could overflow), else f16."""
    return "bf16" if any(t.dtype == "BF16" for t in source_tensors(hf_dir)) else "f16"


def _read(tensors: list[SourceTensor]) -> Iterator[tuple[SourceTensor, np.ndarray]]:
    """Each tensor as float32 numpy, one at a time (bf16 goes through torch), files opened once each. Read with
    pread, not mmap: mapped pages of a multi-GB checkpoint would count as resident memory until the end."""
    safetensors = require("safetensors", "export")
    for file in dict.fromkeys(t.file for t in tensors):
        with safetensors.safe_open(file, "pt", backend="pread") as f:
            for t in (t for t in tensors if t.file == file):
                yield t, f.get_tensor(t.name).float().numpy()


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


def _add_tokenizer(writer: Any, hf_dir: Path, arch: Architecture, vocab_size: int) -> None:
    gguf = require("gguf", "export")
    tokens, types = _vocab(hf_dir, vocab_size)
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


def write_gguf(hf_dir: Path, out: Path, quant: str, *, progress: Progress | None = None) -> None:
    """Write `hf_dir` as a float GGUF (f32, f16, bf16) to `out`, streaming one tensor at a time."""
    gguf = require("gguf", "export")
    q = GGUF_QUANTS[quant]
    if q.by_llama_cpp:
        raise ValueError(f"{quant} is made by llama.cpp's quantizer, not written directly")
    config = json.loads((hf_dir / "config.json").read_text())
    arch = architecture(config)
    model_arch = gguf.MODEL_ARCH[arch.gguf_arch]
    name_map = gguf.get_tensor_name_map(model_arch, config["num_hidden_layers"])
    writer = gguf.GGUFWriter(str(out), gguf.MODEL_ARCH_NAMES[model_arch])
    arch.add_hparams(writer, hf_dir.name)
    writer.add_file_type(gguf.LlamaFileType[q.ftype])
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    _add_tokenizer(writer, hf_dir, arch, config["vocab_size"])

    tensors = [t for t in source_tensors(hf_dir) if not arch.skip(t.name)]
    types = {}
    for t in tensors:
        new_name = name_map.get_name(t.name, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            raise EdgefcError(f"no GGUF name for tensor '{t.name}' of {arch.gguf_arch}")
        # 1-D tensors (norms, biases) stay F32, as llama.cpp keeps them; 2-D weights take the file's type.
        ttype = gguf.GGMLQuantizationType[q.tensor_type if len(t.shape) > 1 else "F32"]
        block, size = gguf.GGML_QUANT_SIZES[ttype]
        writer.add_tensor_info(new_name, t.shape, np.float32, int(np.prod(t.shape)) // block * size,
                               raw_dtype=ttype)
        types[t.name] = ttype
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for i, (t, data) in enumerate(_read(tensors), 1):
        writer.write_tensor_data(gguf.quants.quantize(arch.transform(t.name, data), types[t.name]))
        del data
        if progress:
            progress(i, len(tensors))
    writer.close()


def llama_quantize(src: Path, dst: Path, quant: str, *, threads: int = 0, requantize: bool = False) -> None:
    """Make a quantized GGUF from a float one with llama.cpp's own quantizer (`requantize`: from a quantized one,
    as llama-quantize --allow-requantize does)."""
    llama_cpp = require("llama_cpp")
    q = GGUF_QUANTS[quant]
    if not q.by_llama_cpp:
        raise ValueError(f"{quant} is written directly, not by llama.cpp's quantizer")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_{q.ftype}")
    params.nthread = threads
    params.allow_requantize = requantize
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if rc != 0:
        raise EdgefcError(f"llama.cpp could not quantize {src.name} to {quant} (code {rc}; is the disk full?)")


def convert(source: Path, targets: dict[str, Path], base: Path, on_progress: StepProgress) -> dict[str, float]:
    """Write every GGUF target (quant -> path); seconds per quant. Quantized types share one float base (see
    base_quant): the requested file of that type when there is one, else `base` ("base-f16"/"base-bf16")."""
    seconds: dict[str, float] = {}
    base_type = base_quant(source)
    quantized = [q for q in targets if GGUF_QUANTS[q].by_llama_cpp]
    base = targets.get(base_type, base)
    if quantized and base_type not in targets:
        start = time.perf_counter()
        write_gguf(source, base, base_type, progress=lambda i, n: on_progress(f"{base_type} base", i, n))
        seconds[f"base-{base_type}"] = time.perf_counter() - start
    for quant in sorted(targets, key=lambda q: q != base_type):  # the base first
        start = time.perf_counter()
        if quant in quantized:
            on_progress(f"{quant} (llama.cpp)", 0, 1)
            llama_quantize(base, targets[quant], quant)
            on_progress(f"{quant} (llama.cpp)", 1, 1)
        else:
            write_gguf(source, targets[quant], quant, progress=lambda i, n, q=quant: on_progress(q, i, n))
        seconds[quant] = time.perf_counter() - start
    return seconds
