"""GGUF -> Hugging Face folder, the input that export, train and the transformers runtime need.

transformers dequantizes the GGUF tensors (`gguf_file=`), so the weights are the quantized model's, in
float32: runtimes that load the folder compute with exactly the values llama.cpp dequantizes. A marker file
(SOURCE_MARKER) records which GGUF the folder came from, so exports can say what their figures are relative to.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from edgefc.errors import ModelError, require
from edgefc.fsutil import atomic_dir, ensure_free_space
from edgefc.models.ggufheader import read_header
from edgefc.models.hftokenizer import load_tokenizer
from edgefc.models.store import cache_dir
from edgefc.progress import console

SOURCE_MARKER = "edgefc-source.json"  # {gguf, sha256, size_bytes, file_type}: the GGUF this folder came from


def hf_dir_for(gguf: Path, *, weights: bool = True) -> Path:
    """The cache folder for the HF form of a GGUF file, keyed by its path, size and mtime (a config-and-tokenizer
    folder, without weights, has its own)."""
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    return cache_dir() / "hf" / f"{gguf.stem}-{key}{'' if weights else '-noweights'}"


def cached_hf(gguf: Path, *, weights: bool = True) -> Path:
    """The HF form of `gguf` from the cache, written there first if it is not yet."""
    out = hf_dir_for(gguf, weights=weights)
    if not (out / "config.json").is_file():
        materialize_hf(gguf, out, weights=weights)
    return out


def materialize_hf(gguf: Path, out: Path, *, overwrite: bool = False, weights: bool = True) -> Path:
    """Write the HF form (config, float32 safetensors, tokenizer with its chat template) of `gguf` to `out`;
    without `weights`, only the config and tokenizer: all that tools which render prompts and count tokens need
    (BFCL's harness against a served model), in seconds instead of minutes."""
    transformers = require("transformers", "hf")
    require("gguf", "hf")
    if weights:
        require("accelerate", "hf")
        ensure_free_space(out.parent, float32_bytes(gguf), f"dequantizing {gguf.name} to float32")
    what = "dequantizing {} into a Hugging Face folder (minutes for 0.5B)" if weights else \
        "writing the config and tokenizer of {} as a Hugging Face folder"
    with atomic_dir(out, overwrite=overwrite) as tmp:
        with console.status(what.format(gguf.name)):
            try:
                tokenizer = load_tokenizer(gguf.parent, gguf_file=gguf.name)
                model = _dequantized(transformers, gguf) if weights else \
                    transformers.AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name)
            except (ValueError, KeyError, RuntimeError) as exc:
                raise ModelError(f"transformers cannot read {gguf.name}: {exc}") from exc
            _restore_added_tokens(tokenizer, gguf)
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            (tmp / SOURCE_MARKER).write_text(json.dumps(_gguf_lineage(gguf), indent=2) + "\n", encoding="utf-8")
    return out


def _dequantized(transformers: Any, gguf: Path) -> Any:
    """The GGUF's model in float32, its quantizer dropped so save_pretrained writes plain weights."""
    import torch

    model = transformers.AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return model


def _gguf_lineage(path: Path) -> dict[str, Any]:
    """What the marker says about a GGUF: path, SHA-256, size and llama.cpp file type (e.g. MOSTLY_Q4_K_M)."""
    gguf = require("gguf", "hf")
    file_type = read_header(path).fields.get("general.file_type")
    names = {t.value: t.name for t in gguf.LlamaFileType}
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"gguf": str(path.resolve()), "sha256": digest.hexdigest(), "size_bytes": path.stat().st_size,
            "file_type": names.get(file_type, file_type)}


def float32_bytes(gguf_path: Path) -> int:
    """Bytes the float32 weights of a GGUF model take: 4 per parameter (read from the tensor shapes, no data)."""
    return 4 * read_header(gguf_path).elements()


def _gguf_vocab(path: Path) -> tuple[list[str], list[int], dict[str, int]]:
    """Token texts, token types and special-token ids stored in a GGUF's metadata."""
    fields = read_header(path, arrays=("tokenizer.ggml.tokens", "tokenizer.ggml.token_type")).fields
    ids = {key.split(".")[-1]: int(value) for key, value in fields.items()
           if key.startswith("tokenizer.ggml.") and key.endswith("_token_id")}
    return fields["tokenizer.ggml.tokens"], fields["tokenizer.ggml.token_type"], ids


def _restore_added_tokens(tokenizer: Any, gguf_path: Path) -> None:
    """Give the HF tokenizer the control and user-defined tokens transformers' GGUF reader drops.

    Without them `<tool_call>` is split into `<`, `tool`, `_call`, `>` and the model sees another prompt.
    """
    from tokenizers import AddedToken

    gguf = require("gguf", "hf")
    texts, kinds, ids = _gguf_vocab(gguf_path)
    control, user = gguf.TokenType.CONTROL, gguf.TokenType.USER_DEFINED
    for kind, special in ((control, True), (user, False)):
        wanted = [AddedToken(t, special=special, normalized=False) for t, k in zip(texts, kinds) if k == kind]
        tokenizer.add_tokens(wanted, special_tokens=special)
    for i, (text, kind) in enumerate(zip(texts, kinds)):
        if kind in (control, user) and tokenizer.convert_tokens_to_ids(text) != i:
            raise ModelError(f"the GGUF token {text!r} (id {i}) got another id in the HF tokenizer")
    for role in ("eos", "pad"):
        if f"{role}_token_id" in ids:
            setattr(tokenizer, f"{role}_token", texts[ids[f"{role}_token_id"]])
