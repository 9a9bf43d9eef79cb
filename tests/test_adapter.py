"""A trained model shipped as a llama.cpp LoRA adapter of its base GGUF: extraction from two HF folders, llama.cpp
applying it (the same logits and greedy tokens as the trained model under transformers), the merge back to an HF
folder, and a catalog entry that resolves to the base plus the adapter."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

TAGS = [151657, 151658]  # <tool_call>, </tool_call>: the rows the recipe trains whole
PROMPT = [{"role": "user", "content": "Weather in Hanoi? <tool_call> then </tool_call>"}]


def _train(base: Path, out: Path, *, tag_rows: bool, seed: int = 1) -> Path:
    """A "trained" copy of `base`: a random rank-4 delta on every linear layer (as merged LoRA leaves), and with
    `tag_rows` new embedding and output rows for the call tags (peft's trainable tokens, merged)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    with torch.no_grad():
        for module in model.model.layers.modules():
            if isinstance(module, torch.nn.Linear):
                out_f, in_f = module.weight.shape
                module.weight += 0.3 * module.weight.std() * (torch.randn(out_f, 4) @ torch.randn(4, in_f)) / 2
        if tag_rows:
            for weight in {id(w): w for w in (model.model.embed_tokens.weight, model.lm_head.weight)}.values():
                weight[TAGS] = torch.randn(len(TAGS), weight.shape[1]) * weight.std() * 3
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(base).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def untied(tmp_path_factory: pytest.TempPathFactory, tiny_qwen3: Path) -> tuple[Path, Path]:
    """The tiny Qwen3 with its own output matrix (as the catalog's 0.5B GGUF has: output.weight beside
    token_embd.weight), and its f32 GGUF written by edgefc's exporter."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from edgefc.export.gguf import write_gguf

    torch.manual_seed(2)
    out = tmp_path_factory.mktemp("untied") / "tiny-untied"
    model = AutoModelForCausalLM.from_pretrained(tiny_qwen3, tie_word_embeddings=False, dtype=torch.float32)
    with torch.no_grad():
        model.lm_head.weight.copy_(torch.randn_like(model.lm_head.weight) * 0.2)
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_qwen3).save_pretrained(out)
    gguf_file = out.parent / "tiny-untied-f32.gguf"
    write_gguf(out, gguf_file, "f32")
    return out, gguf_file


@pytest.fixture(scope="module")
def untied_trained(tmp_path_factory: pytest.TempPathFactory, untied: tuple[Path, Path]) -> Path:
    return _train(untied[0], tmp_path_factory.mktemp("untied-trained") / "trained", tag_rows=True)


@pytest.fixture(scope="module")
def untied_adapter(tmp_path_factory: pytest.TempPathFactory, untied: tuple[Path, Path], untied_trained: Path) -> Any:
    from edgefc.export.adapter import make_adapter

    out = tmp_path_factory.mktemp("adapter") / "tiny-fc.gguf"
    return make_adapter(untied[0], untied_trained, out, base_gguf=untied[1], dtype="f32",
                        info={"recipe": "cpu-smoke", "command": "pytest"})


def _same_model(source_dir: Path, gguf_file: Path, adapter: Path, tolerance: float) -> None:
    """llama.cpp on `gguf_file` with `adapter` answers as transformers on `source_dir`: teacher-forced logits over
    a prompt with both call tags (max difference within `tolerance` of the largest logit), and greedy tokens."""
    from edgefc.runtimes.base import Sampling
    from edgefc.runtimes.hf import TransformersRuntime
    from edgefc.runtimes.llamacpp import LlamaCppRuntime

    source = TransformersRuntime(source_dir, threads=1)
    ours = LlamaCppRuntime(gguf_file, threads=1, n_ctx=256, adapter=adapter)
    try:
        tokens = source.tokenize(source.render(PROMPT))
        assert set(TAGS) <= set(tokens) and tokens == ours.tokenize(source.render(PROMPT))
        expected, got = source.logits(tokens, 12), ours.logits(tokens, 12)
        greedy = [rt.complete(tokens, max_tokens=12, sampling=Sampling()).tokens for rt in (source, ours)]
    finally:
        ours.close()
    assert np.abs(expected - got).max() < tolerance * np.abs(expected).max()
    assert (expected.argmax(-1) == got.argmax(-1)).all()
    assert greedy[0] == greedy[1] and len(greedy[0]) > 0


def test_llama_cpp_with_the_adapter_is_the_trained_model(untied: tuple[Path, Path], untied_trained: Path,
                                                          untied_adapter: Any) -> None:
    """Untied head: linears by SVD, the tag rows of token_embd (flipped layout) and output exactly."""
    from edgefc.models.adapter import read_adapter
    from edgefc.runtimes.hf import TransformersRuntime

    tensors = untied_adapter.tensors
    assert tensors["token_embd.weight"] == tensors["output.weight"] == {"rows": 2, "rank": 2, "energy": 1.0}
    linears = {k: v for k, v in tensors.items() if k.startswith("blk.")}
    assert len(linears) == 2 * 7 and all(v["rank"] == 4 and v["energy"] > 0.999999 for v in linears.values())
    arch, pairs = read_adapter(untied_adapter.path)
    assert arch == "qwen3" and pairs["token_embd.weight"].left.shape == (151936, 2)

    base = TransformersRuntime(untied[0], threads=1)
    trained = TransformersRuntime(untied_trained, threads=1)
    tokens = base.tokenize(base.render(PROMPT))
    assert np.abs(base.logits(tokens, 4) - trained.logits(tokens, 4)).max() > 1.0  # the training shows
    _same_model(untied_trained, untied[1], untied_adapter.path, 1e-3)  # f32 factors


def test_tied_head_adapter_carries_the_linears(tmp_path: Path, tiny_qwen3: Path, tiny_gguf: Path) -> None:
    """A tied base (no output.weight): the linear deltas apply; a changed embedding is refused, since llama.cpp
    would apply it to the output in the embedding's layout and abort (GGML_ASSERT), killing the process."""
    from edgefc.errors import EdgefcError
    from edgefc.export.adapter import make_adapter

    trained = _train(tiny_qwen3, tmp_path / "linears", tag_rows=False)
    result = make_adapter(tiny_qwen3, trained, tmp_path / "tied.gguf", base_gguf=tiny_gguf)
    assert result.dtype == "f16" and "token_embd.weight" not in result.tensors
    _same_model(trained, tiny_gguf, result.path, 5e-3)  # f16 factors (llama.cpp also rounds x to f16)

    with_tags = _train(tiny_qwen3, tmp_path / "tags", tag_rows=True)
    with pytest.raises(EdgefcError, match="ties to the output"):
        make_adapter(tiny_qwen3, with_tags, tmp_path / "refused.gguf", base_gguf=tiny_gguf)
    assert not (tmp_path / "refused.gguf").exists()


def test_changed_norm_or_identical_weights_are_refused(tmp_path: Path, tiny_qwen3: Path, tiny_gguf: Path) -> None:
    from safetensors.torch import load_file, save_file

    from edgefc.errors import EdgefcError
    from edgefc.export.adapter import make_adapter

    with pytest.raises(EdgefcError, match="same weights"):
        make_adapter(tiny_qwen3, tiny_qwen3, tmp_path / "none.gguf", base_gguf=tiny_gguf)
    normed = tmp_path / "normed"
    shutil.copytree(tiny_qwen3, normed)
    weights = load_file(normed / "model.safetensors")
    weights["model.norm.weight"] += 0.5
    save_file(weights, normed / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(EdgefcError, match="not biases or norms"):
        make_adapter(tiny_qwen3, normed, tmp_path / "normed.gguf", base_gguf=tiny_gguf)


def test_merge_back_gives_the_trained_weights(tmp_path: Path, untied: tuple[Path, Path], untied_trained: Path,
                                              untied_adapter: Any) -> None:
    """adapter GGUF -> HF delta (scale * lora_b @ lora_a, as llama.cpp applies it) + base = trained."""
    from safetensors.torch import load_file

    from edgefc.export.adapter import make_adapter
    from edgefc.models.adapter import merge_adapter

    expected = load_file(untied_trained / "model.safetensors")
    for adapter, tolerance in ((untied_adapter.path, 1e-5),
                               (make_adapter(untied[0], untied_trained, tmp_path / "f16.gguf",
                                             base_gguf=untied[1]).path, 2e-3)):
        merged = merge_adapter(untied[0], adapter, tmp_path / f"merged-{adapter.stem}")
        got = load_file(merged / "model.safetensors")
        assert set(got) == set(expected)
        for name, weight in expected.items():
            assert (got[name] - weight).abs().max() <= tolerance * weight.abs().max(), name
        assert (merged / "tokenizer.json").is_file() and (merged / "config.json").is_file()


def test_size_rank_choice_and_manifest(tmp_path: Path, untied: tuple[Path, Path], untied_trained: Path,
                                       untied_adapter: Any) -> None:
    from edgefc.errors import EdgefcError
    from edgefc.export.adapter import make_adapter
    from edgefc.models.adapter import file_sha256, manifest_of

    r = untied_adapter
    per_rank = (64 + 64) + (32 + 64) + (32 + 64) + (64 + 64) + 3 * (128 + 64)  # q, k, v, o, gate, up, down
    params = 2 * 2 * (151936 + 64) + 2 * 4 * per_rank  # the two tag-row tensors at rank 2, two layers at rank 4
    assert params * 4 < r.size_bytes < params * 4 + 64_000  # f32 factors plus metadata
    manifest = json.loads(manifest_of(r.path).read_text())
    assert manifest_of(r.path) == r.manifest
    assert manifest["sha256"] == file_sha256(r.path) and manifest["size_bytes"] == r.size_bytes
    assert manifest["base"]["sha256"] == file_sha256(untied[1]) and manifest["recipe"] == "cpu-smoke"
    assert {"data", "commit", "figures", "created", "libraries"} <= set(manifest) and manifest["data"] is None
    assert manifest["method"]["dtype"] == "f32" and manifest["energy_min"] > 0.999999

    fixed = make_adapter(untied[0], untied_trained, tmp_path / "r2.gguf", base_gguf=untied[1], rank=2)
    assert {v["rank"] for k, v in fixed.tensors.items() if k.startswith("blk.")} == {2} and fixed.energy_min < 0.99
    budget = fixed.size_bytes - 3_000  # less than rank 2 everywhere: the energy kept goes down until the file fits
    squeezed = make_adapter(untied[0], untied_trained, tmp_path / "fit.gguf", base_gguf=untied[1],
                            max_bytes=budget)
    assert squeezed.size_bytes <= budget and squeezed.energy_min < 0.999
    with pytest.raises(EdgefcError, match="more than"):
        make_adapter(untied[0], untied_trained, tmp_path / "tiny.gguf", base_gguf=untied[1], max_bytes=1000)


def test_catalog_adapter_model_resolves_loads_and_merges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         untied: tuple[Path, Path], untied_trained: Path,
                                                         untied_adapter: Any) -> None:
    """An entry AdapterOf(base, adapter): `load` gives llama.cpp on the base GGUF plus the adapter, both hashes
    checked against the manifest; as HF (export, training) it is the merged folder."""
    from edgefc.errors import ModelError
    from edgefc.export.pipeline import plan_export
    from edgefc.models import catalog, materialize, resolve
    from edgefc.models.adapter import file_sha256, manifest_of
    from edgefc.runtimes import load

    base_file, adapter = untied[1], tmp_path / "shipped" / "tiny-fc.gguf"
    adapter.parent.mkdir()
    shutil.copy(untied_adapter.path, adapter)
    shutil.copy(untied_adapter.manifest, manifest_of(adapter))
    monkeypatch.setenv("EDGEFC_HOME", str(tmp_path / "home"))
    cached = tmp_path / "home" / "models" / "tiny-base" / base_file.name
    cached.parent.mkdir(parents=True)
    shutil.copy(base_file, cached)
    parts = catalog.WheelParts(("tiny-base-part1",), "0", base_file.name, file_sha256(base_file),
                               base_file.stat().st_size)
    monkeypatch.setitem(catalog.CATALOG, "tiny-base", catalog.ModelEntry("tiny-base", "tiny", "gguf", parts))
    monkeypatch.setitem(catalog.CATALOG, "tiny-fc", catalog.ModelEntry(
        "tiny-fc", "tiny + adapter", "gguf", catalog.AdapterOf("tiny-base", str(adapter))))

    local = resolve("tiny-fc")
    assert (local.path, local.format, local.adapter) == (cached, "gguf", adapter)
    rt = load("tiny-fc", threads=1, n_ctx=256)
    try:
        assert rt.adapter == adapter and rt.files == [cached, adapter]
        prompt = rt.tokenize(rt.render(PROMPT))
        with_adapter = rt.logits(prompt, 3)
    finally:
        rt.close()
    from edgefc.bench.latency import _RawLlamaCpp
    from edgefc.runtimes.hf import TransformersRuntime

    assert np.abs(with_adapter - TransformersRuntime(untied_trained, threads=1).logits(prompt, 3)).max() < 1e-2
    raw = _RawLlamaCpp(cached, 1, adapter)  # the latency bench's plain llama-cpp-python baseline runs it too
    try:
        import llama_cpp

        raw.llm.eval(prompt)
        last = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(raw.llm.ctx, -1), shape=(raw.llm.n_vocab(),))
        assert np.abs(last - with_adapter[-1]).max() < 1e-2
    finally:
        raw.llm.close()

    monkeypatch.setattr(materialize, "cached_hf", lambda gguf: untied[0])  # transformers' GGUF reader: another test
    merged = resolve("tiny-fc", want="hf")
    assert merged.format == "hf" and merged.path.name.startswith(f"{untied[0].name}+")
    assert plan_export("tiny-fc", "gguf", ["f32"], tmp_path / "exports", force=False).source == merged.path

    record = json.loads(manifest_of(adapter).read_text())
    manifest_of(adapter).write_text(json.dumps({**record, "base": {"sha256": "0" * 64}}))
    with pytest.raises(ModelError, match="another base"):
        resolve("tiny-fc")
    manifest_of(adapter).write_text(json.dumps({**record, "sha256": "0" * 64}))
    with pytest.raises(ModelError, match="differs from the SHA-256"):
        resolve("tiny-fc")


def test_cli_writes_an_adapter_and_lists_adapter_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        untied: tuple[Path, Path], untied_trained: Path) -> None:
    from typer.testing import CliRunner

    from edgefc.cli import app
    from edgefc.models import catalog

    info = tmp_path / "info.json"
    info.write_text(json.dumps({"recipe": "cpu-0.5b-fc", "commit": "abc123"}))
    out = tmp_path / "fc.gguf"
    run = CliRunner().invoke(app, ["adapter", str(untied_trained), "-o", str(out), "--base", str(untied[0]),
                                   "--base-gguf", str(untied[1]), "--rank", "3", "--info", str(info), "--json"])
    assert run.exit_code == 0, run.output
    row = json.loads(run.stdout)
    assert row["path"] == str(out) and row["dtype"] == "f16" and {t["rank"] for t in row["tensors"].values()} == {2, 3}
    assert json.loads(Path(row["manifest"]).read_text())["commit"] == "abc123"

    monkeypatch.setitem(catalog.CATALOG, "tiny-fc", catalog.ModelEntry(
        "tiny-fc", "tiny + adapter", "gguf", catalog.AdapterOf("qwen2.5-coder-0.5b-instruct", str(out))))
    monkeypatch.setenv("EDGEFC_HOME", str(tmp_path / "home"))
    rows = json.loads(CliRunner().invoke(app, ["models", "--json"]).stdout)
    assert [r["source"] for r in rows if r["name"] == "tiny-fc"] == ["qwen2.5-coder-0.5b-instruct + adapter"]


def test_a_saved_prefix_state_is_keyed_on_the_adapter(tmp_path: Path, untied: tuple[Path, Path],
                                                      untied_adapter: Any) -> None:
    """The adapter changes every KV entry: a state saved with it is never restored into the bare base."""
    from edgefc.runtimes.llamacpp import LlamaCppRuntime

    prefix = "<|im_start|>system\nYou call tools.<|im_end|>\n"
    for adapter, expected in ((untied_adapter.path, "saved"), (None, "saved"), (untied_adapter.path, "restored")):
        rt = LlamaCppRuntime(untied[1], threads=1, n_ctx=256, adapter=adapter)
        try:
            assert rt.warm_prefix(prefix, tmp_path) == expected
        finally:
            rt.close()


def test_a_peft_checkpoint_becomes_an_adapter(tmp_path: Path, untied: tuple[Path, Path]) -> None:
    """`edgefc adapter CHECKPOINT`: a training checkpoint (LoRA on every linear plus the call tags' rows, as the
    fc recipe trains) is merged into its base first; merged back, the adapter gives what peft's merge gives."""
    import torch
    from peft import LoraConfig, get_peft_model
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM
    from typer.testing import CliRunner

    from edgefc.cli import app
    from edgefc.models.adapter import merge_adapter

    torch.manual_seed(5)
    model = AutoModelForCausalLM.from_pretrained(untied[0], dtype=torch.float32)
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear",
                                                  trainable_token_indices=TAGS))
    with torch.no_grad():  # as if trained: LoRA's B leaves zero, the tag rows move
        for name, param in peft_model.named_parameters():
            if param.requires_grad:
                param.add_(torch.randn_like(param) * 0.05)
    checkpoint = tmp_path / "checkpoint-10"
    peft_model.save_pretrained(checkpoint)
    expected = {k: v.clone() for k, v in peft_model.merge_and_unload().state_dict().items()}

    out = tmp_path / "fc.gguf"
    result = CliRunner().invoke(app, ["adapter", str(checkpoint), "--base", str(untied[0]), "--base-gguf",
                                      str(untied[1]), "-o", str(out), "--dtype", "f32", "--json"])
    assert result.exit_code == 0, result.output
    manifest = json.loads(out.with_name(out.name + ".manifest.json").read_text())
    assert manifest["checkpoint"] == str(checkpoint)
    got = load_file(merge_adapter(untied[0], out, tmp_path / "back") / "model.safetensors")
    for name, weight in got.items():
        want = expected[name]
        assert (weight - want).abs().max() <= 1e-4 * want.abs().max(), name


def test_the_shipped_adapter_matches_its_manifest_and_base() -> None:
    """The package's edgefc-fc-0.5b adapter: its bytes and its base's SHA-256 are what the manifest pins, it fits
    the 25 MB the package allows, and the manifest says how it was made."""
    from edgefc.models import catalog
    from edgefc.models.adapter import check_adapter, manifest_of

    entry = catalog.get("edgefc-fc-0.5b")
    check_adapter(entry.source.path, catalog.get(entry.source.base))
    manifest = json.loads(manifest_of(entry.source.path).read_text())
    assert manifest["size_bytes"] == entry.source.path.stat().st_size <= 25_000_000
    assert manifest["recipe"] == "cpu-0.5b-fc" and manifest["command"] and manifest["commit"]
    assert manifest["data"]["sha256"] and manifest["figures"]["step"] > 0
