"""GGUF -> Hugging Face folder, the input that export, train and the transformers runtime need.

transformers dequantizes the GGUF tensors (`gguf_file=`), so the weights are the quantized model's, in
float32: runtimes that load the folder compute with exactly the values llama.cpp dequantizes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from edgefc.errors import ModelError, require
from edgefc.fsutil import atomic_dir
from edgefc.models.fetch import cache_dir
from edgefc.progress import console


def hf_dir_for(gguf: Path) -> Path:
    """The cache folder for the HF form of a GGUF file, keyed by its path, size and mtime."""
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    return cache_dir() / "hf" / f"{gguf.stem}-{key}"


def materialize_hf(gguf: Path, out: Path, *, overwrite: bool = False) -> Path:
    """Write the HF form (config, float32 safetensors, tokenizer with its chat template) of `gguf` to `out`."""
    transformers = require("transformers", "hf")
    require("gguf", "hf")
    require("accelerate", "hf")
    import torch

    with atomic_dir(out, overwrite=overwrite) as tmp:
        with console.status(f"dequantizing {gguf.name} into a Hugging Face folder (minutes for 0.5B)"):
            try:
                tokenizer = transformers.AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
                model = transformers.AutoModelForCausalLM.from_pretrained(
                    gguf.parent, gguf_file=gguf.name, torch_dtype=torch.float32
                )
            except (ValueError, KeyError, RuntimeError) as exc:
                raise ModelError(f"transformers cannot read {gguf.name}: {exc}") from exc
            # The weights are now plain float32: drop the GGUF quantizer so save_pretrained writes them as such.
            model.hf_quantizer = None
            if hasattr(model.config, "quantization_config"):
                del model.config.quantization_config
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
    return out
