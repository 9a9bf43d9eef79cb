"""Hugging Face folder -> ONNX decoder with past key values (optimum-onnx), then int8 / int4 with onnxruntime.

fp32 is optimum's `text-generation-with-past` export. int8 is weight-only 8-bit MatMulNBits (block 32,
symmetric): the most faithful int8 onnxruntime offers (its Gather quantizer is 4-bit only, so the embedding
table, and a tied lm_head with it, stay float32). int8-dynamic is quantize_dynamic's per-channel QInt8 weights
with int8 activations computed per tensor at run time: half the size, a larger drift. int4 is weight-only
MatMulNBits (block 32, symmetric), with the embedding table as GatherBlockQuantized; a tied embedding is then
stored twice in 4 bits (lookup and lm_head). Both MatMulNBits variants run at accuracy level 4 (activations
quantized to int8 per block of 32 on CPU): onnxruntime's CPU kernel has no packed float path for 8-bit weights,
so at level 0 it dequantizes every weight matrix at every call (the measured cost is in export/gate.md).
Tokenizer, chat template and generation config are copied beside the model so the folder is self-contained.

The export gains one input, `logits_to_keep` (LOGITS_TO_KEEP): how many last positions the lm_head is computed for.
Its default, 0, is every position, as optimum's ORTModelForCausalLM expects; edgefc's runtime asks for 1 while
decoding, so a prefill no longer computes a 152K-wide row for every prompt token.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from edgefc.errors import EdgefcError, require
from edgefc.export.gate import DYNAMIC_INT8, EIGHT_BIT, FOUR_BIT, LOSSLESS, Gate
from edgefc.progress import StepProgress
from edgefc.runtimes.ort import LOGITS_TO_KEEP

MODEL_FILE = "model.onnx"  # weights go to external data beside it: protobuf caps one file at 2 GB


def _weight_only(src: Path, dst: Path, *, bits: int, accuracy_level: int, op_types: list[str],
                 fold: bool) -> None:
    """MatMulNBits (and GatherBlockQuantized when Gather is listed): block 32, symmetric; `fold` quantizes a
    tied lm_head too (see fold_transposed_weights)."""
    onnx = require("onnx", "export")
    require("onnx_ir", "export")  # undeclared need of the n-bit quantizer
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    axes = tuple((op, {"MatMul": 0, "Gather": 1}[op]) for op in op_types)
    config = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True, accuracy_level=accuracy_level,
                                          op_types_to_quantize=tuple(op_types), quant_axes=axes, bits=bits)
    model = onnx.load(str(src))
    quantizer = MatMulNBitsQuantizer(fold_transposed_weights(model) if fold else model, algo_config=config)
    quantizer.process()
    quantizer.model.save_model_to_file(str(dst), use_external_data_format=True)


def _dynamic(src: Path, dst: Path, *, weight_type: str, per_channel: bool, op_types: list[str]) -> None:
    """quantize_dynamic: int8 weights, activations quantized per tensor at run time."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(src, dst, weight_type=QuantType[weight_type], per_channel=per_channel,
                     use_external_data_format=True, op_types_to_quantize=op_types)


QUANTIZERS: dict[str, Callable[..., None]] = {"weight_only": _weight_only, "dynamic": _dynamic}


@dataclass(frozen=True)
class OnnxQuant:
    """One ONNX variant: fp32 is the export itself; the others are made from it by their `method`."""

    name: str
    description: str
    gate: Gate
    bits_per_weight: float  # upper estimate for the free-space check
    # how it is made, as plain data recorded in the manifest: {"quantizer": a QUANTIZERS key, **its settings};
    # empty for the export itself
    method: dict[str, Any] = field(default_factory=dict)
    tune: bool = False  # one of `edgefc tune`'s default candidates

    def make(self, src: Path, dst: Path) -> None:
        """Quantize the fp32 model file `src` into `dst`."""
        settings = dict(self.method)
        QUANTIZERS[settings.pop("quantizer")](src, dst, **settings)


ONNX_QUANTS: dict[str, OnnxQuant] = {q.name: q for q in [
    OnnxQuant("fp32", "float32 weights, as exported", LOSSLESS, 32),
    # Gather stays out of int8: onnxruntime's Gather quantizer is 4-bit only, so a tied embedding stays float32
    # and the lm_head that shares it stays float32 too (not folded): one copy of the table.
    OnnxQuant("int8", "weight-only 8-bit MatMulNBits, block 32, symmetric, accuracy level 4; embedding table "
                      "(and a tied lm_head) float32", EIGHT_BIT, 16,
              {"quantizer": "weight_only", "bits": 8, "accuracy_level": 4, "op_types": ["MatMul"], "fold": False},
              tune=True),
    OnnxQuant("int8-dynamic", "per-channel int8 weights (QInt8), int8 activations quantized at run time",
              DYNAMIC_INT8, 9,
              {"quantizer": "dynamic", "weight_type": "QInt8", "per_channel": True, "op_types": ["MatMul", "Gather"]}),
    # Gather too: the embedding table is a large share of a small model's bytes (GatherBlockQuantized).
    OnnxQuant("int4", "weight-only 4-bit MatMulNBits, block 32, symmetric, accuracy level 4", FOUR_BIT, 10,
              {"quantizer": "weight_only", "bits": 4, "accuracy_level": 4, "op_types": ["MatMul", "Gather"],
               "fold": True}, tune=True),
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
    select_logit_positions(out / MODEL_FILE)


def select_logit_positions(model_file: Path) -> None:
    """Give the graph at `model_file` the LOGITS_TO_KEEP input: the hidden states are cut to their last k
    positions before the lm_head (k = 0, the default, keeps all). The weights, kept as external data, are not
    read: only the graph is rewritten."""
    onnx = require("onnx", "export")
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(model_file), load_external_data=False)
    graph = model.graph
    heads = [i for i, node in enumerate(graph.node) if "logits" in node.output]
    if len(heads) != 1 or graph.node[heads[0]].op_type != "MatMul":
        raise EdgefcError(f"{model_file.name} has no single MatMul lm_head computing `logits`")
    head = graph.node[heads[0]]
    kept, start = f"{head.input[0]}/last_{LOGITS_TO_KEEP}", f"/{LOGITS_TO_KEEP}/start"
    graph.input.append(helper.make_tensor_value_info(LOGITS_TO_KEEP, TensorProto.INT64, [1]))
    graph.initializer.extend([
        numpy_helper.from_array(np.zeros(1, dtype=np.int64), LOGITS_TO_KEEP),  # a default a feed overrides
        numpy_helper.from_array(np.array([np.iinfo(np.int64).max]), f"/{LOGITS_TO_KEEP}/end"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), f"/{LOGITS_TO_KEEP}/axis")])
    graph.node.insert(heads[0], helper.make_node("Slice", [head.input[0], start, f"/{LOGITS_TO_KEEP}/end",
                                                           f"/{LOGITS_TO_KEEP}/axis"], [kept],
                                                 name=f"/{LOGITS_TO_KEEP}/Slice"))
    graph.node.insert(heads[0], helper.make_node("Neg", [LOGITS_TO_KEEP], [start], name=f"/{LOGITS_TO_KEEP}/Neg"))
    head.input[0] = kept
    onnx.save(model, str(model_file))


def fold_transposed_weights(model: Any) -> Any:
    """Replace Transpose(initializer) by a transposed initializer, in place.

    Tied embeddings export as MatMul(x, Transpose(embed)); the n-bit quantizer skips a MatMul whose weight is
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
        if f.is_file() and not f.name.startswith(MODEL_FILE) and f.name != "manifest.json":
            shutil.copy2(f, dst / f.name)


def quantize(fp32_dir: Path, out: Path, quant: str) -> None:
    """Make the `quant` variant of an fp32 export folder into `out` (tokenizer files copied)."""
    entry = ONNX_QUANTS[quant]
    if not entry.method:
        raise ValueError(f"{quant} is the export itself, not a quantization")
    out.mkdir(parents=True, exist_ok=True)
    entry.make(fp32_dir / MODEL_FILE, out / MODEL_FILE)
    _copy_side_files(fp32_dir, out)


def convert(source: Path, targets: dict[str, Path], base: Path, on_progress: StepProgress) -> dict[str, float]:
    """Write every ONNX target (quant -> folder); seconds per quant. One fp32 export is the base of the others:
    the requested fp32 folder when there is one, else `base` ("base-fp32")."""
    seconds: dict[str, float] = {}
    fp32 = targets.get("fp32", base)
    start = time.perf_counter()
    on_progress("fp32 (optimum)", 0, 1)
    export_fp32(source, fp32)
    on_progress("fp32 (optimum)", 1, 1)
    seconds["fp32" if "fp32" in targets else "base-fp32"] = time.perf_counter() - start
    for quant in [q for q in targets if q != "fp32"]:
        start = time.perf_counter()
        on_progress(quant, 0, 1)
        quantize(fp32, targets[quant], quant)
        on_progress(quant, 1, 1)
        seconds[quant] = time.perf_counter() - start
    return seconds
