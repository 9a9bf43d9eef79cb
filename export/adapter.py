"""A trained model as a llama.cpp LoRA adapter of its base: two HF folders (base, trained) -> an adapter GGUF that
llama.cpp applies to the base's own GGUF at load, plus a manifest.

Each changed weight's delta (trained - base) is factorised into llama.cpp's lora_a/lora_b layout
(edgefc.models.adapter) by the SVD of the rows it changes: the call tags' embedding and output rows, which the recipe
trains whole, give a rank-2 pair whose vocabulary-side factor is zero on every other row (exact); a linear trained by
LoRA gives at most the recipe's summed LoRA ranks. The rank is fixed, or the smallest that keeps `energy` of each
delta's squared Frobenius norm; with `max_bytes`, the energy kept is lowered, the same for every tensor, until the
file fits. Factors are stored in f16 (half the size; its error is ~1e-3 of a delta that is itself small beside the
weight) or f32.

llama.cpp applies adapters to the matrices of its graph's matmuls (attention, feed-forward, output) and to
token_embd: not to biases or norms, so a changed 1-D tensor is an error. With tied embeddings (no output.weight in
the base GGUF) llama.cpp applies a token_embd adapter to the output projection too, in the other layout, and aborts
(GGML_ASSERT in ggml_mul_mat, checked here on llama-cpp-python 0.3.36): a changed embedding of a tied model is an
error too.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from edgefc.errors import EdgefcError, require
from edgefc.export.checkpoint import source_tensors
from edgefc.export.gguf import architecture
from edgefc.export.manifest import folder_sha256, write_manifest
from edgefc.fsutil import atomic_file
from edgefc.models.adapter import TOKEN_EMBD, file_sha256, to_lora
from edgefc.models.ggufheader import read_header
from edgefc.models.materialize import SOURCE_MARKER

DTYPES = {"f16": np.float16, "f32": np.float32}
DEFAULT_ENERGY = 0.999  # share of each delta's squared norm kept by the default rank choice
DEFAULT_MAX_RANK = 64  # twice the recipe's summed LoRA ranks (warm-up 16 + GRPO 16)
ALPHA = 1.0  # llama.cpp scales each pair by alpha / rank: the factors are stored times rank / ALPHA
INFO_FIELDS = ("recipe", "data", "command", "commit", "figures")  # manifest fields the caller fills
HEADER_BYTES = 4096  # an adapter file's metadata, and per tensor pair (names, shapes, alignment): counted in max_bytes
PAIR_HEADER_BYTES = 256


@dataclass
class Delta:
    """One changed base tensor, factorised: delta ~= left[:, :rank] @ right[:rank] (kept components only)."""

    name: str  # the base GGUF's tensor name
    rows: int  # rows the delta changes (left is zero on every other row)
    left: np.ndarray  # (rows of the tensor, k), float32
    right: np.ndarray  # (k, columns), float32
    energy: np.ndarray  # share of the delta's squared norm kept by the first 1..k components
    rank: int = 0  # chosen

    def rank_for(self, energy: float) -> int:
        """The fewest components keeping `energy` of the delta."""
        return min(int(np.searchsorted(self.energy, energy - 1e-12)) + 1, len(self.energy))

    def params(self, rank: int) -> int:
        return rank * (self.left.shape[0] + self.right.shape[1])

    def summary(self) -> dict[str, Any]:
        return {"rows": self.rows, "rank": self.rank, "energy": round(float(self.energy[self.rank - 1]), 6)}


@dataclass
class AdapterResult:
    """What was written: the adapter, its manifest, its size and how much of each delta it keeps."""

    path: Path
    manifest: Path
    size_bytes: int
    dtype: str
    energy_min: float  # the smallest share of a delta's squared norm kept, over all tensors
    tensors: dict[str, dict[str, Any]]  # GGUF name -> rows changed, rank, energy kept
    seconds: float

    def row(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path), "manifest": str(self.manifest)}


def factorise(name: str, delta: np.ndarray, max_rank: int) -> Delta:
    """`delta` by the SVD of its changed rows (the call tags' two rows of token_embd and output, or all rows of a
    LoRA-trained linear): at most `max_rank` components, none below the float32 noise of the matrix."""
    torch = require("torch", "export")
    rows = np.flatnonzero(np.any(delta != 0, axis=1))
    u, s, vt = (x.numpy() for x in torch.linalg.svd(torch.from_numpy(delta[rows]), full_matrices=False))
    keep = min(max_rank, int((s > s[0] * max(delta.shape) * np.finfo(np.float32).eps).sum()))
    root = np.sqrt(s[:keep])
    left = np.zeros((delta.shape[0], keep), np.float32)
    left[rows] = u[:, :keep] * root
    energy = np.cumsum(np.square(s[:keep], dtype=np.float64)) / np.square(s, dtype=np.float64).sum()
    return Delta(name, len(rows), left, root[:, None] * vt[:keep], energy)


def _pairs(base: Path, trained: Path, skip: Callable[[str], bool]) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(HF name, base tensor, trained tensor) as float32, one pair at a time, but those `skip` names; the two folders
    must hold the same tensors."""
    safetensors = require("safetensors", "export")
    ours, theirs = ({t.name: t for t in source_tensors(d)} for d in (base, trained))
    if set(ours) != set(theirs):
        diff = sorted(set(ours) ^ set(theirs))
        raise EdgefcError(f"{base} and {trained} hold different tensors ({', '.join(diff[:4])}): not one model")
    for name, t in ((n, t) for n, t in ours.items() if not skip(n)):
        if t.shape != theirs[name].shape:
            raise EdgefcError(f"{name} is {t.shape} in {base} but {theirs[name].shape} in {trained}: not one model")
        with safetensors.safe_open(t.file, "pt") as a, safetensors.safe_open(theirs[name].file, "pt") as b:
            yield name, a.get_tensor(name).float().numpy(), b.get_tensor(name).float().numpy()


def _base_gguf(base: Path, given: Path | None) -> Path:
    """The base's GGUF: `given`, else the one the base folder was materialized from (its marker)."""
    if given is not None:
        return given
    marker = base / SOURCE_MARKER
    path = Path(json.loads(marker.read_text(encoding="utf-8"))["gguf"]) if marker.is_file() else None
    if path is None or not path.is_file():
        raise EdgefcError(f"{base} names no GGUF it came from: pass the base GGUF the adapter is for")
    return path


def deltas(base: Path, trained: Path, base_gguf: Path, max_rank: int = DEFAULT_MAX_RANK) -> list[Delta]:
    """Every changed weight of `trained` against `base`, factorised, named and laid out as in `base_gguf`."""
    gguf = require("gguf", "export")
    config = json.loads((base / "config.json").read_text(encoding="utf-8"))
    if json.loads((trained / "config.json").read_text(encoding="utf-8")).get("architectures") != \
            config.get("architectures"):
        raise EdgefcError(f"{trained} is not the architecture of {base}")
    arch = architecture(config)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH[arch.gguf_arch], config["num_hidden_layers"])
    shapes = read_header(base_gguf).shapes
    out, vectors = [], []
    for name, before, after in _pairs(base, trained, skip=arch.skip):
        delta = arch.transform(name, after - before)  # the layout the GGUF stores (llama's q/k rows permuted)
        if not np.any(delta):
            continue
        if delta.ndim != 2:
            vectors.append(name)
            continue
        gguf_name = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if shapes.get(gguf_name) != delta.shape:
            raise EdgefcError(f"{base_gguf.name} has no {delta.shape} tensor {gguf_name} for {name}: not this base's "
                              "GGUF")
        if gguf_name == TOKEN_EMBD and "output.weight" not in shapes:
            raise EdgefcError(f"{trained} changes the token embeddings, which {base_gguf.name} ties to the output: "
                              "llama.cpp would apply that adapter to the output in the embedding's layout and abort")
        out.append(factorise(gguf_name, delta, max_rank))
    if vectors:
        raise EdgefcError(f"{trained} changes {', '.join(vectors[:4])}{' ...' if len(vectors) > 4 else ''}: llama.cpp "
                          "adapters carry matrices only, not biases or norms")
    return out


def choose_ranks(found: list[Delta], *, rank: int | None, energy: float, max_bytes: int | None,
                 itemsize: int) -> float:
    """Set each delta's rank: `rank` components (fewer where the delta has fewer), else the fewest keeping
    `energy`, lowered the same for all until the file fits `max_bytes`; the smallest energy kept."""
    header = HEADER_BYTES + PAIR_HEADER_BYTES * len(found)

    def ranks(e: float) -> list[int]:
        return [d.rank_for(e) if rank is None else min(rank, len(d.energy)) for d in found]

    def fits(e: float) -> bool:
        return max_bytes is None or header + itemsize * sum(d.params(r) for d, r in zip(found, ranks(e))) <= max_bytes

    if not fits(energy):
        if rank is not None or not fits(0.0):
            raise EdgefcError(f"the adapter needs more than {max_bytes:,} bytes even at the lowest rank that applies")
        low, high = 0.0, energy
        for _ in range(40):
            low, high = ((low + high) / 2, high) if fits((low + high) / 2) else (low, (low + high) / 2)
        energy = low
    for d, r in zip(found, ranks(energy)):
        d.rank = r
    return min((float(d.energy[d.rank - 1]) for d in found), default=1.0)


def write_adapter(found: list[Delta], arch_name: str, out: Path, dtype: str) -> None:
    """The adapter GGUF llama.cpp loads: metadata plus a lora_a/lora_b pair per delta, at each delta's rank."""
    gguf = require("gguf", "export")
    with atomic_file(out) as tmp:
        writer = gguf.GGUFWriter(str(tmp), arch_name)
        writer.add_type(gguf.GGUFType.ADAPTER)
        writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
        writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, ALPHA)
        for d in found:
            left, right = d.left[:, :d.rank], d.right[:d.rank] * (d.rank / ALPHA)
            for part, data in zip(("lora_a", "lora_b"), to_lora(d.name, left, right)):
                writer.add_tensor(f"{d.name}.{part}", np.ascontiguousarray(data, dtype=DTYPES[dtype]))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()


def make_adapter(base: Path, trained: Path, out: Path, *, base_gguf: Path | None = None, rank: int | None = None,
                 energy: float = DEFAULT_ENERGY, max_rank: int = DEFAULT_MAX_RANK, max_bytes: int | None = None,
                 dtype: str = "f16", info: Mapping[str, Any] | None = None) -> AdapterResult:
    """Write `trained`'s difference from `base` (HF folders of one model) as a llama.cpp LoRA adapter GGUF for
    `base_gguf` (default: the GGUF `base` was materialized from) at `out`, with a manifest beside it carrying
    `info` (recipe, data, command, commit, figures: whatever the caller knows)."""
    gguf = require("gguf", "export")
    if dtype not in DTYPES:
        raise EdgefcError(f"adapter dtype must be one of {', '.join(DTYPES)}, not {dtype}")
    if rank is not None and not 1 <= rank <= max_rank:
        raise EdgefcError(f"rank must be between 1 and max_rank ({max_rank})")
    start = time.perf_counter()
    base_gguf = _base_gguf(base, base_gguf)
    found = deltas(base, trained, base_gguf, max_rank)
    if not found:
        raise EdgefcError(f"{trained} has the same weights as {base}: there is nothing to adapt")
    energy_min = choose_ranks(found, rank=rank, energy=energy, max_bytes=max_bytes,
                              itemsize=np.dtype(DTYPES[dtype]).itemsize)
    arch = architecture(json.loads((base / "config.json").read_text(encoding="utf-8")))
    out.parent.mkdir(parents=True, exist_ok=True)
    write_adapter(found, gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH[arch.gguf_arch]], out, dtype)
    tensors = {d.name: d.summary() for d in found}
    ranks = [d.rank for d in found]
    record = {**dict.fromkeys(INFO_FIELDS), **(info or {}),
              "kind": "llama.cpp LoRA adapter", "path": out.name, "sha256": file_sha256(out),
              "size_bytes": out.stat().st_size,
              "base": {"gguf": base_gguf.name, "sha256": file_sha256(base_gguf), "hf": str(base)},
              "trained": {"path": str(trained), "sha256": folder_sha256(trained)},
              "method": {"dtype": dtype, "alpha": ALPHA, "rank": rank, "energy": energy, "max_rank": max_rank,
                         "max_bytes": max_bytes},
              "energy_min": round(energy_min, 6),
              "rank_range": {"min": min(ranks), "max": max(ranks), "mean": round(float(np.mean(ranks)), 2)},
              "tensors": tensors}
    manifest = write_manifest(out, record)
    return AdapterResult(out, manifest, record["size_bytes"], dtype, energy_min, tensors,
                         time.perf_counter() - start)


PEFT_CONFIG = "adapter_config.json"  # what marks a folder as a PEFT checkpoint (a LoRA, not a whole model)


def is_peft_checkpoint(folder: Path) -> bool:
    """Whether `folder` holds a PEFT adapter (a training checkpoint) rather than a whole model."""
    return (folder / PEFT_CONFIG).is_file()


def merge_checkpoint(base: Path, checkpoint: Path, out: Path) -> Path:
    """Write `base` (an HF folder) with the PEFT adapter of `checkpoint` merged into its weights to `out`, in
    float32, with the checkpoint's tokenizer: a training checkpoint as the whole model `make_adapter` compares."""
    torch = require("torch", "hf")
    peft = require("peft", "train")
    transformers = require("transformers", "hf")
    model = transformers.AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    try:
        merged = peft.PeftModel.from_pretrained(model, checkpoint).merge_and_unload()
    except (ValueError, KeyError, RuntimeError) as exc:
        raise EdgefcError(f"{checkpoint} is not a PEFT adapter of {base.name}: {exc}") from None
    merged.save_pretrained(out)
    tokenizer_from = checkpoint if (checkpoint / "tokenizer_config.json").is_file() else base
    transformers.AutoTokenizer.from_pretrained(tokenizer_from).save_pretrained(out)
    return out
