"""llama.cpp LoRA adapters over a catalog GGUF: the layout llama.cpp applies them in, checking a shipped adapter
against its manifest, and merging one into the base's Hugging Face form (what export, training and the transformers
runtime take).

An adapter GGUF (`general.type = adapter`, `adapter.type = lora`, `adapter.lora.alpha`) holds a `NAME.lora_a` and
`NAME.lora_b` pair for tensors NAME of its base GGUF; llama.cpp adds `scale * delta` to each at run time, with
scale = alpha / rank (rank = lora_b's ne[0]; 1 when alpha is 0). In numpy order (rows = ggml's ne[1]):
- a linear weight W (outputs x inputs), output.weight included (llama-graph.cpp build_lora_mm): lora_a is
  (rank, inputs), lora_b (outputs, rank), delta = lora_b @ lora_a;
- token_embd.weight (vocab x n_embd; build_inp_embd takes rows of lora_a): lora_a is (vocab, rank), lora_b
  (n_embd, rank), delta = lora_a @ lora_b.T.
Here both are one form, delta = left @ right (left: rows x rank, right: rank x columns).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgefc.errors import ModelError, require
from edgefc.fsutil import atomic_dir, ensure_free_space, size_bytes
from edgefc.models.catalog import ModelEntry, WheelParts
from edgefc.models.materialize import SOURCE_MARKER
from edgefc.models.store import cache_dir

TOKEN_EMBD = "token_embd.weight"  # the one tensor llama.cpp takes an adapter for in the flipped layout
MANIFEST_SUFFIX = ".manifest.json"  # the manifest beside an adapter, as beside every export


@dataclass(frozen=True)
class LoraPair:
    """One base tensor's low-rank delta as llama.cpp applies it: scale * left @ right."""

    left: np.ndarray  # (rows, rank)
    right: np.ndarray  # (rank, columns)
    scale: float

    @property
    def rank(self) -> int:
        return self.right.shape[0]


def to_lora(name: str, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lora_a, lora_b) in numpy order for the base tensor `name`, from delta = left @ right."""
    return (left, right.T) if name == TOKEN_EMBD else (right, left)


def from_lora(name: str, lora_a: np.ndarray, lora_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) with delta = left @ right, from a tensor's lora_a and lora_b in numpy order."""
    return (lora_a, lora_b.T) if name == TOKEN_EMBD else (lora_b, lora_a)


def _field(fields: dict[str, Any], key: str) -> Any:
    field = fields.get(key)
    if field is None:
        return None
    value = field.parts[field.data[0]]
    return bytes(value).decode("utf-8") if field.types[0].name == "STRING" else value[0].item()


def read_adapter(path: Path) -> tuple[str, dict[str, LoraPair]]:
    """The architecture a llama.cpp LoRA adapter GGUF was made for and its pairs by base tensor name (float32)."""
    gguf = require("gguf", "hf")
    reader = gguf.GGUFReader(path)
    if (_field(reader.fields, "general.type"), _field(reader.fields, "adapter.type")) != ("adapter", "lora"):
        raise ModelError(f"{path.name} is not a llama.cpp LoRA adapter (general.type adapter, adapter.type lora)")
    alpha = float(_field(reader.fields, "adapter.lora.alpha") or 0.0)
    parts: dict[str, dict[str, np.ndarray]] = {}
    for tensor in reader.tensors:
        base, _, part = tensor.name.rpartition(".")
        parts.setdefault(base, {})[part] = np.array(tensor.data, dtype=np.float32)  # a copy: the file closes
    pairs = {}
    for name, found in parts.items():
        if set(found) != {"lora_a", "lora_b"}:
            raise ModelError(f"{path.name}: {name} has {', '.join(sorted(found))}, not one lora_a and one lora_b")
        left, right = from_lora(name, found["lora_a"], found["lora_b"])
        pairs[name] = LoraPair(left, right, alpha / right.shape[0] if alpha else 1.0)
    return _field(reader.fields, "general.architecture"), pairs


def file_sha256(path: Path) -> str:
    """SHA-256 of one file's bytes (what `sha256sum` prints)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_of(adapter: Path) -> Path:
    """The manifest beside an adapter file: `a.gguf` -> `a.gguf.manifest.json`."""
    return adapter.with_name(adapter.name + MANIFEST_SUFFIX)


def check_adapter(adapter: Path, base: ModelEntry) -> None:
    """Refuse an adapter whose bytes or base differ from what its manifest pins (a stale file, or one made for
    another model), before anything loads it."""
    if not isinstance(base.source, WheelParts):
        raise ModelError(f"an adapter's base must be a GGUF pinned by SHA-256; {base.name} is not")
    try:
        manifest = json.loads(manifest_of(adapter).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"the adapter {adapter.name} has no readable manifest beside it: {exc}") from exc
    if not adapter.is_file() or file_sha256(adapter) != manifest.get("sha256"):
        raise ModelError(f"the adapter {adapter} is missing or differs from the SHA-256 its manifest pins")
    if manifest.get("base", {}).get("sha256") != base.source.sha256:
        raise ModelError(f"the adapter {adapter.name} was made for another base than {base.name} (SHA-256 differs)")


def merge_adapter(base_hf: Path, adapter: Path, out: Path) -> Path:
    """Write `base_hf` with `adapter`'s deltas added to its weights to `out`: the model llama.cpp runs when it
    applies the adapter to the base's GGUF, as a Hugging Face folder."""
    gguf = require("gguf", "hf")
    torch = require("torch", "hf")
    safetensors_torch = require("safetensors.torch", "hf")
    from transformers.modeling_gguf_pytorch_utils import TENSOR_PROCESSORS, TensorProcessor

    arch, pairs = read_adapter(adapter)
    config = json.loads((base_hf / "config.json").read_text(encoding="utf-8"))
    names = gguf.get_tensor_name_map({v: k for k, v in gguf.MODEL_ARCH_NAMES.items()}[arch],
                                     config["num_hidden_layers"])
    layout = TENSOR_PROCESSORS.get(arch, TensorProcessor)(config=config)  # GGUF rows -> HF rows (llama's q/k)
    ensure_free_space(out.parent, size_bytes(base_hf), f"merging {adapter.name} into {base_hf.name}")
    with atomic_dir(out, overwrite=True) as tmp:
        for f in base_hf.iterdir():
            if f.is_file() and f.suffix != ".safetensors":
                shutil.copy2(f, tmp / f.name)
        for shard in sorted(base_hf.glob("*.safetensors")):
            tensors = safetensors_torch.load_file(shard)
            for name, weight in tensors.items():
                gguf_name = names.get_name(name, try_suffixes=(".weight", ".bias"))
                pair = pairs.pop(gguf_name, None) if gguf_name else None
                if pair is None:
                    continue
                left = np.ascontiguousarray(layout.process(pair.left, gguf_name).weights)
                right = np.ascontiguousarray(pair.right)
                merged = weight.float().addmm_(torch.from_numpy(left), torch.from_numpy(right), alpha=pair.scale)
                tensors[name] = merged.to(weight.dtype)
            safetensors_torch.save_file(tensors, tmp / shard.name, metadata={"format": "pt"})
            del tensors
        if pairs:
            raise ModelError(f"{adapter.name} changes {', '.join(sorted(pairs))}, which {base_hf.name} does not have")
        marker = tmp / SOURCE_MARKER
        if marker.is_file():  # the lineage says the weights are the GGUF's plus this adapter
            lineage = json.loads(marker.read_text(encoding="utf-8"))
            lineage["adapter"] = {"file": adapter.name, "sha256": file_sha256(adapter)}
            marker.write_text(json.dumps(lineage, indent=2) + "\n", encoding="utf-8")
    return out


def cached_merged(base_hf: Path, adapter: Path) -> Path:
    """The merged HF folder of `base_hf` plus `adapter` from the cache, written there first if it is not yet."""
    out = cache_dir() / "hf" / f"{base_hf.name}+{file_sha256(adapter)[:12]}"
    if not (out / "config.json").is_file():
        merge_adapter(base_hf, adapter, out)
    return out
