"""A GGUF file's header read directly: metadata values and tensor shapes, no tensor data.

gguf's GGUFReader parses every metadata value into numpy views as it opens a file: 27 s for the 151,936-token
vocabulary of a Qwen GGUF, each time. Reading the header and decoding only the arrays asked for takes about a second.
"""

from __future__ import annotations

import struct
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from edgefc.errors import ModelError, require


@dataclass(frozen=True)
class GGUFHeader:
    """Metadata by key (scalars and strings; arrays only where asked for, as lists), tensor shapes in numpy
    order (rows first) and tensor types by ggml's names ("Q4_K", "F32")."""

    fields: dict[str, Any]
    shapes: dict[str, tuple[int, ...]]
    types: dict[str, str]

    def elements(self) -> int:
        """How many numbers the tensors hold."""
        return sum(int(np.prod(shape)) for shape in self.shapes.values())


def read_header(path: Path, arrays: Collection[str] = ()) -> GGUFHeader:
    """The header of the GGUF at `path`; the array values of the keys in `arrays` are decoded, other arrays
    skipped."""
    gguf = require("gguf", "hf")
    scalars = {int(kind): np.dtype(t) for kind, t in gguf.GGUFReader.gguf_scalar_to_np.items()}
    try:
        return _read(path, arrays, gguf.GGUFValueType, scalars, gguf.GGMLQuantizationType)
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise ModelError(f"{path} is not a readable GGUF file ({exc})") from None


def _read(path: Path, arrays: Collection[str], kinds: Any, scalars: dict[int, np.dtype], ggml: Any) -> GGUFHeader:
    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise ModelError(f"{path} is not a GGUF file")
        _, n_tensors, n_kv = _unpack(f, "I"), _unpack(f, "Q"), _unpack(f, "Q")

        def value(kind: int, keep: bool) -> Any:
            if kind == kinds.STRING:
                size = _unpack(f, "Q")
                return f.read(size).decode("utf-8", errors="replace") if keep else f.seek(size, 1)
            if kind == kinds.ARRAY:
                item, count = _unpack(f, "I"), _unpack(f, "Q")
                if item in scalars:
                    data = f.read(count * scalars[item].itemsize)
                    return np.frombuffer(data, dtype=scalars[item]).tolist() if keep else None
                items = [value(item, keep) for _ in range(count)]
                return items if keep else None
            if kind not in scalars:
                raise ModelError(f"{path} has a metadata value of unknown type {kind}")
            return np.frombuffer(f.read(scalars[kind].itemsize), dtype=scalars[kind])[0].item()

        fields = {}
        for _ in range(n_kv):
            key = f.read(_unpack(f, "Q")).decode("utf-8")
            kind = _unpack(f, "I")
            keep = kind != kinds.ARRAY or key in arrays
            found = value(kind, keep)
            if keep:
                fields[key] = found
        shapes, types = {}, {}
        for _ in range(n_tensors):
            name = f.read(_unpack(f, "Q")).decode("utf-8")
            dims = [_unpack(f, "Q") for _ in range(_unpack(f, "I"))]
            shapes[name] = tuple(reversed(dims))
            types[name] = ggml(_unpack(f, "I")).name
            f.seek(8, 1)  # offset
    return GGUFHeader(fields, shapes, types)


def _unpack(f: BinaryIO, fmt: str) -> Any:
    """One little-endian value of struct format `fmt` read from `f`."""
    return struct.unpack(f"<{fmt}", f.read(struct.calcsize(f"<{fmt}")))[0]
