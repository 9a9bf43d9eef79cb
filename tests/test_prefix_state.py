"""The prompt prefix's KV state on disk (llama.cpp): saved once, restored by a new runtime on the same model
file with the same answers as a cold run, rebuilt when corrupt, keyed by model content and prefix text."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from edgefc.agent.prompt import Conversation, tools_prefix
from edgefc.runtimes import Runtime, prefix_state
from edgefc.runtimes.llamacpp import LlamaCppRuntime

TOOLS = json.loads((Path(__file__).parents[1] / "examples" / "tools" / "weather.json").read_text())
SYSTEM = "You answer questions about the weather."
MESSAGE = "What's the weather in Tokyo?"


def _prompt(rt: Runtime, tools: list = TOOLS) -> str:
    conversation = Conversation(rt.template, tools, system=SYSTEM)
    conversation.add({"role": "user", "content": MESSAGE})
    return conversation.prompt()


def _next_logits(rt: LlamaCppRuntime, tokens: list[int]) -> np.ndarray:
    """Logits after `tokens`, evaluating only what the KV cache does not hold yet (as complete does)."""
    cached = rt.cached_prefix(tokens)
    rt.llm.n_tokens = cached
    rt.llm.eval(tokens[cached:])
    row = rt._llama_cpp.llama_get_logits_ith(rt.llm.ctx, -1)
    return np.ctypeslib.as_array(row, shape=(rt.llm.n_vocab(),)).copy()


@pytest.fixture(scope="module")
def first(tiny_gguf: Path) -> LlamaCppRuntime:
    rt = LlamaCppRuntime(tiny_gguf, threads=1)
    yield rt
    rt.close()


def test_saved_then_restored_by_a_new_runtime_answers_as_cold(first: LlamaCppRuntime, tiny_gguf: Path,
                                                                tmp_path: Path) -> None:
    prefix = tools_prefix(first.template, TOOLS, SYSTEM)
    prompt = _prompt(first)
    prefix_ids, prompt_ids = first.tokenize(prefix), first.tokenize(prompt)
    assert prompt_ids[: len(prefix_ids)] == prefix_ids  # the state's tokens start every first prompt

    first.reset_cache()
    cold = first.answer(prompt, TOOLS, max_tokens=12, constrain=False)
    cold_constrained = first.answer(prompt, TOOLS, max_tokens=40, tool_choice="required")
    first.reset_cache()
    cold_logits = _next_logits(first, prompt_ids)
    assert cold.timings.cached_tokens == 0

    first.reset_cache()
    assert first.warm_prefix(prefix, tmp_path) == "saved"
    assert first.warm_prefix(prefix, tmp_path) == "cached"
    files = list(tmp_path.glob("*.state"))
    assert len(files) == 1 and files[0].stat().st_size > 0

    second = LlamaCppRuntime(tiny_gguf, threads=1)
    try:
        assert second.warm_prefix(prefix, tmp_path) == "restored"
        warm = second.answer(prompt, TOOLS, max_tokens=12, constrain=False)
        assert warm.timings.cached_tokens == len(prefix_ids)
        assert warm.tokens == cold.tokens and warm.text == cold.text
        assert second.warm_prefix(prefix, tmp_path) == "cached"  # the answer kept the prefix in the cache
        second.reset_cache()
        assert second.warm_prefix(prefix, tmp_path) == "restored"
        constrained = second.answer(prompt, TOOLS, max_tokens=40, tool_choice="required")
        assert constrained.timings.cached_tokens == len(prefix_ids)
        assert constrained.tokens == cold_constrained.tokens
        assert second.warm_prefix(prefix, tmp_path) == "cached"
        second.reset_cache()
        assert second.warm_prefix(prefix, tmp_path) == "restored"
        warm_logits = _next_logits(second, prompt_ids)
    finally:
        second.close()
    assert np.abs(warm_logits - cold_logits).max() <= 1e-3 * np.abs(cold_logits).max()
    assert warm_logits.argmax() == cold_logits.argmax()


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage", "empty", "other_key", "payload"])
def test_a_bad_state_file_is_rebuilt(first: LlamaCppRuntime, tmp_path: Path, damage: str) -> None:
    prefix = tools_prefix(first.template, TOOLS, SYSTEM)
    first.reset_cache()
    assert first.warm_prefix(prefix, tmp_path) == "saved"
    (state,) = tmp_path.glob("*.state")
    data = bytearray(state.read_bytes())
    if damage == "flip":
        data[-100] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = bytearray(os.urandom(len(data)))
    elif damage == "empty":
        data = bytearray()
    elif damage == "other_key":  # a valid file of another prefix, under this prefix's name
        first.reset_cache()
        first.warm_prefix(prefix + " ", tmp_path / "other")
        (data,) = [bytearray(p.read_bytes()) for p in (tmp_path / "other").glob("*.state")]
    if damage == "payload":  # a well-formed file whose payload llama.cpp cannot read
        length = int.from_bytes(data[len(prefix_state.MAGIC): len(prefix_state.MAGIC) + 8], "little")
        header = json.loads(data[len(prefix_state.MAGIC) + 8: len(prefix_state.MAGIC) + 8 + length])
        prefix_state.write_state(state, header["key"], header["tokens"], os.urandom(header["payload_bytes"]))
    else:
        state.write_bytes(bytes(data))
    first.reset_cache()
    assert first.warm_prefix(prefix, tmp_path) == "saved"
    first.reset_cache()
    assert first.warm_prefix(prefix, tmp_path) == "restored"
    assert first.answer(_prompt(first), TOOLS, max_tokens=2).timings.cached_tokens == len(first.tokenize(prefix))


def test_the_key_is_the_model_content_and_the_prefix_text(first: LlamaCppRuntime, tiny_gguf: Path,
                                                          tmp_path: Path) -> None:
    prefix = tools_prefix(first.template, TOOLS, SYSTEM)
    other_tools = [{**TOOLS[0], "function": {**TOOLS[0]["function"], "description": "Weather, reworded."}}]
    other = tools_prefix(first.template, other_tools, SYSTEM)
    assert other != prefix
    first.reset_cache()
    assert first.warm_prefix(prefix, tmp_path) == "saved"
    assert first.warm_prefix(other, tmp_path) == "saved"
    assert len(list(tmp_path.glob("*.state"))) == 2
    first.reset_cache()
    assert first.warm_prefix(prefix, tmp_path) == "restored"

    copy = tmp_path / "copy" / tiny_gguf.name  # same content elsewhere: the same state serves it
    copy.parent.mkdir()
    shutil.copyfile(tiny_gguf, copy)
    moved = LlamaCppRuntime(copy, threads=1)
    try:
        assert moved.warm_prefix(other, tmp_path) == "restored"
    finally:
        moved.close()


def test_onnxruntime_state_saved_then_restored_answers_as_cold(tiny_onnx: Path, tmp_path: Path) -> None:
    from edgefc.runtimes.ort import OnnxRuntime

    first = OnnxRuntime(tiny_onnx, threads=1)
    prefix = tools_prefix(first.template, TOOLS, SYSTEM)
    prompt = _prompt(first)
    cold = first.answer(prompt, TOOLS, max_tokens=12, constrain=False)
    cold_constrained = first.answer(prompt, TOOLS, max_tokens=40, tool_choice="required")
    first.reset_cache()
    assert first.warm_prefix(prefix, tmp_path) == "saved" and first.warm_prefix(prefix, tmp_path) == "cached"
    second = OnnxRuntime(tiny_onnx, threads=1)
    assert second.warm_prefix(prefix, tmp_path) == "restored"
    warm = second.answer(prompt, TOOLS, max_tokens=12, constrain=False)
    assert warm.timings.cached_tokens == len(first.tokenize(prefix)) and warm.tokens == cold.tokens
    second.reset_cache()
    assert second.warm_prefix(prefix, tmp_path) == "restored"
    assert second.answer(prompt, TOOLS, max_tokens=40, tool_choice="required").tokens == cold_constrained.tokens

    (state,) = tmp_path.glob("*.state")  # a well-formed file whose payload has the wrong size: rebuilt
    data = state.read_bytes()
    length = int.from_bytes(data[len(prefix_state.MAGIC): len(prefix_state.MAGIC) + 8], "little")
    header = json.loads(data[len(prefix_state.MAGIC) + 8: len(prefix_state.MAGIC) + 8 + length])
    prefix_state.write_state(state, header["key"], header["tokens"], b"\0" * 12)
    second.reset_cache()
    assert second.warm_prefix(prefix, tmp_path) == "saved"
    assert second.warm_prefix(prefix, tmp_path) == "cached"
    second.reset_cache()
    assert second.warm_prefix(prefix, tmp_path) == "restored"


def test_file_sha256_is_remembered_and_notices_changes(tmp_path: Path) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(os.urandom(3 * prefix_state.SAMPLE))
    memo = tmp_path / "memo"
    assert prefix_state.file_sha256(model, memo) == hashlib.sha256(model.read_bytes()).hexdigest()
    assert len(list((memo / "hashes").glob("*.json"))) == 1
    record = json.loads(next((memo / "hashes").glob("*.json")).read_text())
    assert record["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()

    data = bytearray(model.read_bytes())
    data[prefix_state.SAMPLE + 5] ^= 1  # a change in the middle, then the old mtime put back: ctime still moves
    stat = model.stat()
    model.write_bytes(bytes(data))
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert prefix_state.file_sha256(model, memo) == hashlib.sha256(bytes(data)).hexdigest()


def test_prune_keeps_the_newest_within_the_budget(tmp_path: Path) -> None:
    for i in range(6):
        path = tmp_path / f"{i}{prefix_state.SUFFIX}"
        path.write_bytes(b"x" * 100)
        os.utime(path, ns=(i * 10**9, i * 10**9))
    removed = prefix_state.prune(tmp_path, budget_bytes=350, max_files=5)
    assert sorted(p.name for p in removed) == ["0.state", "1.state", "2.state"]
    assert prefix_state.prune(tmp_path, budget_bytes=10, max_files=5) == [tmp_path / "4.state", tmp_path / "3.state"]
    assert [p.name for p in tmp_path.glob("*.state")] == ["5.state"]  # the newest stays, even over budget


def test_the_agent_latency_bench_runs_every_phase(tiny_gguf: Path, tmp_path: Path) -> None:
    from edgefc.bench.agent_latency import measure, text_table

    result = measure(str(tiny_gguf), "llamacpp", 1, 1, tmp_path)
    assert result["saved"]["outcome"] == "saved" and result["saved"]["state_bytes"] > 0
    assert result["restored_outcomes"] == ["restored"]  # in a new process, from the file the first one wrote
    prefix_tokens = result["saved"]["prefix_tokens"]
    assert result["tokens"]["cold"][0][1] == 0 and result["tokens"]["restored"][0][1] == prefix_tokens
    assert result["tokens"]["warm"][0][1] > result["tokens"]["cold"][0][0]  # the whole first turn was reused
    assert result["samples"]["restored"]["answer"] == result["samples"]["cold"]["answer"]
    for name in ("cold_ttft_s", "warm_ttft_s", "restored_ttft_s", "restore_s"):
        assert result["figures"][name]["median"] > 0, name
    for turn in ("warm", "ticket"):  # greedy: the same answers with drafts on and off
        on, off = result["samples"][turn], result["samples"][f"{turn}_no_drafts"]
        assert (on["calls"], on["answer"], on["call_tokens"]) == (off["calls"], off["answer"], off["call_tokens"])
    assert set(result["tokens_per_pass"]) == {"drafts", "no_drafts"}
    assert "TTFT restored" in text_table(result) and "drafts off" in text_table(result)
