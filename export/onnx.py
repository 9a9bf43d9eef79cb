"""Hugging Face folder -> ONNX decoder with past key values (optimum-onnx), then int8 / int4 with onnxruntime.

fp32 is optimum's `text-generation-with-past` export; int8 is dynamic per-channel QInt8 on MatMul/Gather;
int4 is weight-only MatMulNBits (block 32, symmetric, accuracy level 4: int8 activations on CPU),
with the embedding table as GatherBlockQuantized. A tied embedding is then stored twice in 4 bits (lookup and
lm_head), which costs more than int8's one shared copy on tiny models but far less than float32 on real ones.
Tokenizer, chat template and generation config are copied beside the model so the folder is self-contained.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgefc.errors import EdgefcError, require
from edgefc.fsutil import atomic_dir
from edgefc.progress import StepProgress

MODEL_FILE = "model.onnx"  # weights go to external data beside it: protobuf caps one file at 2 GB


@dataclass(frozen=True)
class OnnxQuant:
    """One ONNX variant: fp32 is the export itself; the others are made from it."""

    name: str
    description: str


ONNX_QUANTS: dict[str, OnnxQuant] = {q.name: q for q in [
    OnnxQuant("fp32", "float32 weights, as exported"),
    OnnxQuant("int8", "dynamic per-channel int8 weights (QInt8), int8 activations"),
    OnnxQuant("int4", "weight-only 4-bit MatMulNBits, block 32, symmetric, accuracy level 4"),
]}


def export_fp32(hf_dir: Path, out: Path) -> None:
    """Export `hf_dir` to `out` as an fp32 decoder with past key values (optimum-onnx)."""
    require("optimum.exporters.onnx", "export")
    from optimum.exporters.onnx import main_export

    try:
        main_export(str(hf_dir), output=out, task="text-generation-with-past", device="cpu",
                    do_validation=False, local_files_only=True)
    except (ValueError, KeyError, NotImplementedError) as exc:
        raise EdgefcError(f"optimum cannot export {hf_dir.name} to ONNX: {str(exc).splitlines()[0]}") from exc
    if not (out / MODEL_FILE).is_file():
        raise EdgefcError(f"optimum wrote no {MODEL_FILE} for {hf_dir.name}")


def fold_transposed_weights(model: Any) -> Any:
    """Replace Transpose(initializer) by a transposed initializer, in place.

    Tied embeddings export as MatMul(x, Transpose(embed)); the int4 quantizer skips a MatMul whose weight is
    not a constant, which would leave the whole lm_head (a quarter of a 0.5B model) in float32.
    """
    numpy_helper = require("onnx.numpy_helper", "export")
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    for node in [n for n in graph.node if n.op_type == "Transpose" and n.input[0] in inits]:
        perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
        array = numpy_helper.to_array(inits[node.input[0]]).transpose(perm)
        graph.initializer.append(numpy_helper.from_array(array.copy(), node.output[0]))
        graph.node.remove(node)
    return model


def _copy_side_files(src: Path, dst: Path) -> None:
    for f in src.iterdir():
        if f.is_file() and not f.name.startswith(MODEL_FILE):
            shutil.copy2(f, dst / f.name)


def quantize(fp32_dir: Path, out: Path, quant: str) -> None:
    """Make the `quant` variant of an fp32 export folder into `out` (tokenizer files copied)."""
    if quant not in ONNX_QUANTS or quant == "fp32":
        raise ValueError(f"no ONNX quantizer for {quant}")
    onnx = require("onnx", "export")
    out.mkdir(parents=True, exist_ok=True)
    src, dst = fp32_dir / MODEL_FILE, out / MODEL_FILE
    if quant == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(src, dst, weight_type=QuantType.QInt8, per_channel=True, use_external_data_format=True,
                         op_types_to_quantize=["MatMul", "Gather"])
    else:
        require("onnx_ir", "export")  # undeclared need of the int4 quantizer
        from onnxruntime.quantization.matmul_nbits_quantizer import (DefaultWeightOnlyQuantConfig,
                                                                     MatMulNBitsQuantizer)

        # Gather too: the embedding table is a large share of a small model's bytes (GatherBlockQuantized).
        config = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True, accuracy_level=4,
                                              op_types_to_quantize=("MatMul", "Gather"),
                                              quant_axes=(("MatMul", 0), ("Gather", 1)))
        quantizer = MatMulNBitsQuantizer(fold_transposed_weights(onnx.load(str(src))), algo_config=config)
        quantizer.process()
        quantizer.model.save_model_to_file(str(dst), use_external_data_format=True)
    _copy_side_files(fp32_dir, out)


def convert(source: Path, targets: dict[str, Path], work: Path, on_progress: StepProgress) -> dict[str, float]:
    """Write every ONNX target (quant -> folder); seconds per quant. One fp32 export is the base of the others:
    the requested fp32 folder when there is one, else a temporary one in `work` ("base-fp32")."""
    seconds: dict[str, float] = {}
    fp32 = targets.get("fp32") or work / "fp32"
    start = time.perf_counter()
    on_progress("fp32 (optimum)", 0, 1)
    if "fp32" in targets:
        with atomic_dir(fp32, overwrite=True) as tmp:
            export_fp32(source, tmp)
    else:
        export_fp32(source, fp32)
    on_progress("fp32 (optimum)", 1, 1)
    seconds["fp32" if "fp32" in targets else "base-fp32"] = time.perf_counter() - start
    for quant in [q for q in targets if q != "fp32"]:
        start = time.perf_counter()
        on_progress(quant, 0, 1)
        with atomic_dir(targets[quant], overwrite=True) as tmp:
            quantize(fp32, tmp, quant)
        on_progress(quant, 1, 1)
        seconds[quant] = time.perf_counter() - start
    return seconds
