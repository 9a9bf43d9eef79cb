"""A Hugging Face checkpoint known from its safetensors headers alone: every export format reads its source so."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgefc.errors import EdgefcError, require


@dataclass(frozen=True)
class SourceTensor:
    """One checkpoint tensor, known from the safetensors header only."""

    file: Path
    name: str
    shape: tuple[int, ...]
    dtype: str  # safetensors dtype: F32, F16, BF16, ...


def source_tensors(hf_dir: Path) -> list[SourceTensor]:
    """Every tensor of the checkpoint, with shape and dtype, without reading any data."""
    safetensors = require("safetensors", "export")
    files = sorted(hf_dir.glob("*.safetensors"))
    if not files:
        raise EdgefcError(f"{hf_dir} has no .safetensors weights")
    out = []
    for file in files:
        with safetensors.safe_open(file, "pt") as f:
            for name in f.keys():
                part = f.get_slice(name)
                out.append(SourceTensor(file, name, tuple(part.get_shape()), part.get_dtype()))
    return out


def parameter_count(hf_dir: Path) -> int:
    """Parameters in the checkpoint (from the headers)."""
    return sum(int(np.prod(t.shape)) for t in source_tensors(hf_dir))
