"""`edgefc export` on a tiny Qwen3 (hidden 256, so K-quant blocks are real): every format and quant is
written, loaded back in its runtime, verified against the source within bounds, and described by a manifest.

Random tiny weights are harsh on low-bit types (no outlier structure to exploit) and fail the default gates,
so the shared export passes an open gate; the gate tests (test_export_gate.py) use strict ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from edgefc.errors import EdgefcError
from edgefc.export import pipeline
from edgefc.export.gguf import GGUF_QUANTS
from edgefc.export.manifest import manifest_path
from edgefc.export.onnx import ONNX_QUANTS
from edgefc.export.pipeline import run_export
from edgefc.export.probes import own_probes
from edgefc.models.ggufheader import read_header
from edgefc.progress import reporting
from tests.bfcl_support import real_wheel

OPEN_GATE = {"kl_mean_max": 100.0, "greedy_min": 0.0, "tool_calls_min": 0.0}
PROBES = 4
# Bounds on the verification figures, per quant: (max KL, min greedy agreement); lossless ones are tight.
BOUNDS = {
    "f32": (1e-5, 1.0), "f16": (1e-4, 0.98), "bf16": (5e-3, 0.9), "q8_0": (0.1, 0.8), "q4_0": (1.0, 0.2),
    "q4_K_M": (0.8, 0.3), "q5_K_M": (0.3, 0.5), "q6_K": (0.15, 0.6),
    "fp32": (1e-8, 1.0), "int8": (0.02, 0.85), "int8-dynamic": (0.1, 0.6), "int4": (1.5, 0.2),
}
# GGUF tensor types that prove the quant is real (the attention/FFN weights of each block).
EXPECTED_GGUF_TYPES = {"f32": "F32", "f16": "F16", "bf16": "BF16", "q8_0": "Q8_0", "q4_0": "Q4_0",
                       "q4_K_M": "Q4_K", "q5_K_M": "Q5_K", "q6_K": "Q6_K"}


@pytest.fixture(scope="module")
def exports(tiny_qwen3_256: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, pipeline.ExportResult]:
    real_wheel()  # the probe set draws from BFCL
    out = tmp_path_factory.mktemp("exports")
    with reporting(lambda label, done, total, **_: HEARD.__setitem__(label, (done, total))):
        results = run_export(tiny_qwen3_256, "gguf", list(GGUF_QUANTS), out, threads=1, probe_limit=PROBES,
                             gate_overrides=OPEN_GATE)
        results += run_export(tiny_qwen3_256, "onnx", list(ONNX_QUANTS), out, threads=1, probe_limit=PROBES,
                              gate_overrides=OPEN_GATE)
    return {r.quant: r for r in results}


HEARD: dict[str, tuple[int, int]] = {}  # the exports' progress reports, last (done, total) per label


def test_the_export_reports_its_steps_to_their_end(exports: dict[str, pipeline.ExportResult]) -> None:
    assert {f"verifying {q}" for q in exports} <= set(HEARD)
    assert any(label.startswith("gguf ") for label in HEARD) and any(label.startswith("onnx ") for label in HEARD)
    assert all(done == total for done, total in HEARD.values()), HEARD


def test_every_quant_is_written_and_verified(exports: dict[str, pipeline.ExportResult]) -> None:
    assert set(exports) == set(GGUF_QUANTS) | set(ONNX_QUANTS)
    figures = {q: (r.verification.kl_mean, r.verification.greedy_agreement) for q, r in exports.items()}
    outside = {q: f for q, f in figures.items() if f[0] > BOUNDS[q][0] or f[1] < BOUNDS[q][1]}
    assert not outside, figures
    for quant, result in exports.items():
        v = result.verification
        assert len(v.probes) == PROBES and v.prompt_mismatches == 0, quant
        assert {p.category for p in v.probes} >= {"simple_python", "multiple"}  # BFCL and own probes mixed
        assert result.passed is True and result.path is not None and result.path.exists()


def test_agreement_figures_carry_wilson_intervals(exports: dict[str, pipeline.ExportResult]) -> None:
    from edgefc.bfcl.stats import wilson

    for result in exports.values():
        v = result.verification
        calls = sum(p.calls_agree for p in v.probes)
        assert v.tool_call_interval == wilson(calls, len(v.probes))
        low, high = v.greedy_interval
        assert 0.0 <= low <= v.greedy_agreement <= high <= 1.0 and high - low > 0


def test_int8_weight_only_is_more_faithful_than_dynamic(exports: dict[str, pipeline.ExportResult]) -> None:
    weight_only, dynamic = exports["int8"].verification, exports["int8-dynamic"].verification
    assert weight_only.kl_mean < dynamic.kl_mean / 3, (weight_only.kl_mean, dynamic.kl_mean)
    assert weight_only.greedy_agreement >= dynamic.greedy_agreement


def test_quantized_files_are_smaller_and_really_quantized(exports: dict[str, pipeline.ExportResult]) -> None:
    sizes = {q: r.size_bytes for q, r in exports.items()}
    assert sizes["q4_K_M"] < sizes["q8_0"] < sizes["f16"] < sizes["f32"]
    # Not int4 < int8-dynamic here: a tiny model is mostly its tied embedding, which int4 keeps twice.
    assert max(sizes["int4"], sizes["int8-dynamic"]) < sizes["fp32"] / 2
    for quant, expected in EXPECTED_GGUF_TYPES.items():
        header = read_header(exports[quant].path)
        types = {kind for name, kind in header.types.items() if name.startswith("blk.0.attn_q.")}
        assert types == {expected}, (quant, types)
        assert header.fields["tokenizer.chat_template"]


def test_q4_0_is_llama_cpps_own(exports: dict[str, pipeline.ExportResult]) -> None:
    """llama.cpp keeps a tied token_embd (it is also the output layer) at Q6_K in a q4_0 file; numpy's q4_0
    quantized it to Q4_0 like every other weight."""
    types = read_header(exports["q4_0"].path).types
    assert "output.weight" not in types and types["token_embd.weight"] == "Q6_K"
    assert types["blk.0.ffn_down.weight"] == "Q4_0" and types["blk.0.attn_norm.weight"] == "F32"


def test_manifests_describe_each_export(exports: dict[str, pipeline.ExportResult],
                                        tiny_qwen3_256: Path) -> None:
    for quant, result in exports.items():
        manifest = json.loads(manifest_path(result.path).read_text())
        assert manifest["quant"] == quant and manifest["size_bytes"] == result.size_bytes
        assert manifest["source"]["path"] == str(tiny_qwen3_256) and len(manifest["source"]["sha256"]) == 64
        assert manifest["source"]["lineage"] is None  # a checkpoint, not a folder materialized from a GGUF
        assert manifest["libraries"]["transformers"] and manifest["seconds"] >= 0
        assert manifest["passed"] is True and manifest["gate"]["kl_mean_max"] == OPEN_GATE["kl_mean_max"]
        assert manifest["verification"]["greedy_agreement"] == result.verification.greedy_agreement
        assert manifest["probes"]["count"] == PROBES
        assert manifest["method"] == pipeline.EXPORT_FORMATS[result.format].quants[quant].method


def test_weight_only_onnx_runs_the_int8_activation_kernel(exports: dict[str, pipeline.ExportResult]) -> None:
    """At accuracy level 0 onnxruntime's CPU MatMulNBits has no packed 8-bit kernel and dequantizes every
    weight at every call: the embedded model's int8 decoded at 4 tokens/s against int4's 122."""
    import onnx

    for quant in ("int8", "int4"):
        model = onnx.load(str(exports[quant].path / "model.onnx"), load_external_data=False)
        nodes = [n for n in model.graph.node if n.op_type == "MatMulNBits"]
        levels = {next(a.i for a in n.attribute if a.name == "accuracy_level") for n in nodes}
        bits = {next(a.i for a in n.attribute if a.name == "bits") for n in nodes}
        assert nodes and levels == {4} and bits == {ONNX_QUANTS[quant].method["bits"]}, (quant, levels, bits)


def test_onnx_folders_load_in_optimum(exports: dict[str, pipeline.ExportResult]) -> None:
    from optimum.onnxruntime import ORTModelForCausalLM
    from transformers import AutoTokenizer

    for quant in ONNX_QUANTS:
        folder = exports[quant].path
        model = ORTModelForCausalLM.from_pretrained(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        assert tokenizer.chat_template and (folder / "generation_config.json").is_file()
        ids = tokenizer("hello", return_tensors="pt")
        assert model.generate(**ids, max_new_tokens=2, do_sample=False).shape[1] == ids["input_ids"].shape[1] + 2


def test_onnx_prefill_computes_the_last_rows_only_and_they_equal_the_full_graphs(
        exports: dict[str, pipeline.ExportResult]) -> None:
    import numpy as np

    from edgefc.runtimes.ort import LOGITS_TO_KEEP, OnnxRuntime

    for quant in ("fp32", "int4"):
        runtime = OnnxRuntime(exports[quant].path, threads=1)
        assert LOGITS_TO_KEEP in runtime.input_names, quant
        ids = runtime.tokenize("Book a table for 4 people at 7pm in Hanoi, please")
        full = runtime.session.run(["logits"], runtime._feed(ids, 0, runtime._empty_past(), keep=0))[0][0]
        for keep in (1, 3):
            rows = runtime.session.run(["logits"], runtime._feed(ids, 0, runtime._empty_past(), keep=keep))[0][0]
            assert rows.shape == (keep, full.shape[-1]) and full.shape[0] == len(ids), (quant, rows.shape)
            np.testing.assert_allclose(rows, full[-keep:], rtol=0, atol=1e-4 * np.abs(full).max(), err_msg=quant)
        np.testing.assert_allclose(runtime.logits(ids, 2), full[-2:], rtol=0, atol=1e-4 * np.abs(full).max())


def test_gguf_renders_tools_with_plain_llama_cpp(exports: dict[str, pipeline.ExportResult]) -> None:
    """Stock llama-cpp-python, not edgefc: the template in the file renders the tools."""
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    llm = Llama(str(exports["q4_K_M"].path), n_ctx=1024, verbose=False)
    formatter = Jinja2ChatFormatter(llm.metadata["tokenizer.chat_template"], eos_token="<|im_end|>",
                                    bos_token="<|endoftext|>")
    prompt = formatter(messages=[{"role": "user", "content": "Weather in Hanoi?"}],
                       tools=[own_probes()[0].tools[0]]).prompt
    assert "<tools>" in prompt and '"get_weather"' in prompt
    out = llm.create_chat_completion(messages=[{"role": "user", "content": "hi"}], max_tokens=2)
    assert out["choices"][0]["message"]["role"] == "assistant"
    llm.close()


def test_third_party_output_goes_to_the_log(exports: dict[str, pipeline.ExportResult], tiny_qwen3_256: Path,
                                            capfd: pytest.CaptureFixture[str]) -> None:
    """llama.cpp's per-tensor quantize lines (C, fd 2) and optimum's messages land in the export log, not on
    the terminal."""
    folder = exports["q4_K_M"].path.parent
    gguf_log = (folder / f"{tiny_qwen3_256.name}-gguf.export.log").read_text()
    assert "blk.0.attn_q.weight" in gguf_log and "q4_K" in gguf_log
    onnx_log = folder / f"{tiny_qwen3_256.name}-onnx.export.log"
    # optimum's warnings print once per process, so an earlier export may have taken them: an empty log is removed
    assert not onnx_log.exists() or onnx_log.stat().st_size > 0
    run_export(tiny_qwen3_256, "gguf", ["q4_0"], folder / "again", verify=False)
    captured = capfd.readouterr()
    assert "blk.0" not in captured.err + captured.out


def test_existing_output_needs_force(exports: dict[str, pipeline.ExportResult], tiny_qwen3_256: Path) -> None:
    target = exports["q8_0"].path
    with pytest.raises(EdgefcError, match="already exists"):
        run_export(tiny_qwen3_256, "gguf", ["q8_0"], target.parent, verify=False)


def test_bad_inputs_are_one_sentence(tiny_qwen3_256: Path, tmp_path: Path) -> None:
    with pytest.raises(EdgefcError, match="has no quant q3_K"):
        run_export(tiny_qwen3_256, "gguf", ["q3_K"], tmp_path)
    with pytest.raises(EdgefcError, match="unknown export format 'tflite'"):
        run_export(tiny_qwen3_256, "tflite", [], tmp_path)
    odd = tmp_path / "gpt2"
    shutil.copytree(tiny_qwen3_256, odd)
    config = json.loads((odd / "config.json").read_text())
    (odd / "config.json").write_text(json.dumps({**config, "architectures": ["GPT2LMHeadModel"]}))
    with pytest.raises(EdgefcError, match="GGUF export supports .*this model is GPT2LMHeadModel"):
        run_export(odd, "gguf", ["f16"], tmp_path / "out")
    (odd / "config.json").write_text(json.dumps(config))
    (odd / "chat_template.jinja").unlink()
    tok_config = json.loads((odd / "tokenizer_config.json").read_text())
    tok_config.pop("chat_template", None)
    (odd / "tokenizer_config.json").write_text(json.dumps(tok_config))
    with pytest.raises(EdgefcError, match="has no chat template"):
        run_export(odd, "onnx", ["fp32"], tmp_path / "out")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(EdgefcError, match="cannot write to"):
        run_export(tiny_qwen3_256, "gguf", ["f16"], blocker / "sub", verify=False)


def test_interrupted_export_leaves_nothing(tiny_qwen3_256: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline.gguf_export, "llama_quantize", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_export(tiny_qwen3_256, "gguf", ["f16", "q4_K_M"], tmp_path, verify=False)
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".export.log")] == []
