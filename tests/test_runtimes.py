"""Each runtime on the tiny Qwen3: same prompt, same prompt tokens, same greedy tokens, honest timings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgefc.errors import EdgefcError
from edgefc.runtimes import LOCAL_RUNTIMES, RUNTIMES, Runtime, Sampling, load, runtime_class
from edgefc.runtimes.decode import pick_token

TOOLS = json.loads((Path(__file__).parents[1] / "examples" / "tools" / "weather.json").read_text())
QUESTION = "What's the weather in Tokyo?"


@pytest.fixture(scope="module")
def runtimes(tiny_qwen3: Path, tiny_gguf: Path, tiny_onnx: Path) -> dict[str, Runtime]:
    loaded = {"transformers": load(tiny_qwen3, threads=1), "llamacpp": load(tiny_gguf, threads=1),
              "onnxruntime": load(tiny_onnx, threads=1)}
    yield loaded
    for rt in loaded.values():
        rt.close()


def test_registry_and_default_by_format(runtimes: dict[str, Runtime]) -> None:
    assert set(LOCAL_RUNTIMES) == set(runtimes) and set(RUNTIMES) == {*runtimes, "remote", "remote-chat"}
    for name, rt in runtimes.items():
        assert rt.name == name
    for name in ("remote", "remote-chat"):  # registered like the others, reached through --endpoint and --api
        assert runtime_class(name).name == name
    assert [name for name in RUNTIMES if runtime_class(name).fixed_context] == ["llamacpp"]
    assert [name for name in RUNTIMES if not runtime_class(name).takes_grammar] == ["remote", "remote-chat"]
    assert [name for name in RUNTIMES if runtime_class(name).takes_messages] == ["remote-chat"]
    for name in RUNTIMES:  # the capability says what the class does: it saves a prefix exactly where it overrides
        cls = runtime_class(name)
        assert cls.keeps_prefix_state == (cls.warm_prefix is not Runtime.warm_prefix), name
    for name in ("remote", "remote-chat"):
        with pytest.raises(EdgefcError, match="behind --endpoint"):
            load("anything", name)


def test_same_prompt_and_tokens_everywhere(runtimes: dict[str, Runtime]) -> None:
    prompts = {name: rt.render(QUESTION, TOOLS) for name, rt in runtimes.items()}
    assert len(set(prompts.values())) == 1
    prompt = prompts["transformers"]
    assert '"name": "get_weather"' in prompt and prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    ids = {name: rt.tokenize(prompt) for name, rt in runtimes.items()}
    assert ids["llamacpp"] == ids["transformers"] == ids["onnxruntime"]
    assert 151657 in ids["transformers"]  # <tool_call> stays one token (it is in the template's instructions)


def test_greedy_generation_agrees_across_runtimes(runtimes: dict[str, Runtime]) -> None:
    gens = {name: rt.generate(QUESTION, TOOLS, max_tokens=10, constrain=False) for name, rt in runtimes.items()}
    reference = gens["transformers"]
    assert len(reference.tokens) == 10 and reference.finish_reason == "length"
    for name, gen in gens.items():
        assert gen.tokens == reference.tokens, name
        assert gen.text == reference.text, name
        t = gen.timings
        assert t.prompt_tokens == len(runtimes[name].tokenize(gen.prompt))
        assert t.completion_tokens == 10
        assert 0 < t.ttft_s <= t.total_s and t.decode_tps > 0 and t.prefill_tps > 0
        assert json.loads(json.dumps(gen.to_dict()))["runtime"] == name


def test_llamacpp_reuses_the_cached_prefix(runtimes: dict[str, Runtime]) -> None:
    rt = runtimes["llamacpp"]
    first = rt.generate(QUESTION, TOOLS, max_tokens=2)
    second = rt.generate("And in Hanoi?", TOOLS, max_tokens=2)
    assert second.timings.cached_tokens > 0.8 * first.timings.prompt_tokens - 20  # the tools block is shared
    assert second.timings.cached_tokens < second.timings.prompt_tokens


def test_sampling_is_seeded(runtimes: dict[str, Runtime]) -> None:
    hot = Sampling(temperature=1.5, top_p=0.95, seed=7)
    for rt in runtimes.values():
        a = rt.generate(QUESTION, None, max_tokens=6, sampling=hot).tokens
        b = rt.generate(QUESTION, None, max_tokens=6, sampling=hot).tokens
        assert a == b, rt.name


def test_pick_token() -> None:
    logits = np.array([0.0, 5.0, 1.0])
    assert pick_token(logits, Sampling(), np.random.default_rng(0)) == 1
    rng = np.random.default_rng(0)
    picks = {pick_token(logits, Sampling(temperature=1.0, top_p=0.5), rng) for _ in range(50)}
    assert picks == {1}  # top-p 0.5 keeps only the dominant token


def test_unknown_runtime_and_wrong_format(tiny_gguf: Path) -> None:
    with pytest.raises(EdgefcError, match="unknown runtime 'vllm'"):
        load(tiny_gguf, "vllm")
    with pytest.raises(EdgefcError, match="cannot be used as onnx"):
        load(tiny_gguf, "onnxruntime")


def test_logits_agree_across_runtimes(runtimes: dict[str, Runtime]) -> None:
    rt = runtimes["transformers"]
    tokens = rt.tokenize(rt.render(QUESTION, TOOLS)) + [1, 2, 3]
    reference = rt.logits(tokens, 4)
    assert reference.shape == (4, 151936) and reference.dtype == np.float32
    for name, other in runtimes.items():
        got = other.logits(tokens, 4)
        assert got.shape == reference.shape, name
        assert np.abs(got - reference).max() < 1e-2 * np.abs(reference).max(), name
        assert (got.argmax(-1) == reference.argmax(-1)).all(), name


# --- constrained decoding (the tool grammar) in every runtime ----------------------------------------------


@pytest.mark.parametrize("choice", ["required", "auto", "none", {"type": "function", "function": {"name": "get_weather"}}])
def test_constrained_answers_are_well_formed_and_agree(runtimes: dict[str, Runtime], choice: object) -> None:
    from edgefc.protocol.parse import format_tool_calls

    gens = {name: rt.generate(QUESTION, TOOLS, max_tokens=80, tool_choice=choice) for name, rt in runtimes.items()}
    reference = gens["transformers"]
    for name, gen in gens.items():
        assert gen.constrained and gen.tokens == reference.tokens, name
        if gen.finish_reason == "length":
            continue  # a random model may ramble in text or inside an argument string until the budget ends
        if choice == "none" or (choice == "auto" and not gen.parsed.calls):
            assert gen.parsed.calls == [] and gen.parsed.errors == [] and gen.text.strip(), name
        else:
            assert gen.parsed.calls and gen.text.rstrip("\n") == format_tool_calls(gen.parsed.calls), name
            assert not gen.parsed.unknown_tools, name


def test_required_call_is_closed_before_end_of_turn_in_every_runtime(runtimes: dict[str, Runtime]) -> None:
    for name, rt in runtimes.items():
        gen = rt.generate(QUESTION, TOOLS, max_tokens=200, tool_choice="required", parallel_tool_calls=False)
        assert gen.finish_reason == "stop", (name, gen.text)
        assert len(gen.parsed.calls) == 1 and gen.text.rstrip("\n").endswith("</tool_call>"), name
        assert gen.timings.forced_tokens > 0 and gen.timings.grammar_s > 0, name  # jump-forward ran


def test_sampling_under_the_grammar_is_seeded_and_well_formed(runtimes: dict[str, Runtime]) -> None:
    hot = Sampling(temperature=1.2, top_p=0.95, seed=3)
    for rt in runtimes.values():
        a = rt.generate(QUESTION, TOOLS, max_tokens=60, sampling=hot, tool_choice="required")
        b = rt.generate(QUESTION, TOOLS, max_tokens=60, sampling=hot, tool_choice="required")
        assert a.tokens == b.tokens and a.constrained, rt.name
        assert a.finish_reason == "length" or a.parsed.calls, rt.name


def test_free_decoding_and_its_limits(runtimes: dict[str, Runtime]) -> None:
    rt = runtimes["llamacpp"]
    assert not rt.generate(QUESTION, TOOLS, max_tokens=2, constrain=False).constrained
    assert not rt.generate(QUESTION, None, max_tokens=2).constrained  # no tools: free by default
    with pytest.raises(EdgefcError, match="needs constrained decoding"):
        rt.generate(QUESTION, TOOLS, max_tokens=2, constrain=False, tool_choice="required")
    with pytest.raises(EdgefcError, match="not among the offered tools"):
        rt.generate(QUESTION, TOOLS, max_tokens=2, tool_choice={"type": "function", "function": {"name": "nope"}})


# --- onnxruntime: the previous request's key/values reused for the common prefix -----------------------------


def _recorded_logits(monkeypatch: pytest.MonkeyPatch, rt: Runtime, prompt: str, **options: object) -> tuple:
    """Generate, and also return every row of logits the decoding loop saw (before any grammar mask)."""
    import edgefc.runtimes.ort as ort_module

    rows: list[np.ndarray] = []
    original = ort_module.decode

    def recording(step, *args, **kwargs):  # type: ignore[no-untyped-def]
        def record(ids: list[int], count: int) -> np.ndarray:
            rows.append(step(ids, count).copy())
            return rows[-1].copy()

        return original(record, *args, **kwargs)

    monkeypatch.setattr(ort_module, "decode", recording)
    return rt.answer(prompt, TOOLS, **options), np.concatenate(rows)


def test_onnxruntime_reuses_the_cached_prefix(runtimes: dict[str, Runtime], monkeypatch: pytest.MonkeyPatch) -> None:
    rt = runtimes["onnxruntime"]
    rt.reset_cache()
    first = rt.generate(QUESTION, TOOLS, max_tokens=6, constrain=False)
    assert first.timings.cached_tokens == 0
    # the agent's next turn: the previous prompt and answer, then a tool result and the generation prompt
    follow = (first.prompt + first.text + "<|im_end|>\n<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n"
              "</tool_response><|im_end|>\n<|im_start|>assistant\n")
    shared = len(rt.tokenize(first.prompt)) + len(first.tokens)
    for options in ({"max_tokens": 12, "constrain": False}, {"max_tokens": 40, "tool_choice": "required"}):
        rt.reset_cache()
        rt.answer(first.prompt, TOOLS, max_tokens=6, constrain=False)
        warm, warm_rows = _recorded_logits(monkeypatch, rt, follow, **options)
        assert warm.timings.cached_tokens == shared - 1  # the last generated token was never evaluated
        rt.reset_cache()
        cold, cold_rows = _recorded_logits(monkeypatch, rt, follow, **options)
        assert cold.timings.cached_tokens == 0
        assert warm.tokens == cold.tokens and warm.text == cold.text
        assert warm_rows.shape == cold_rows.shape
        assert np.abs(warm_rows - cold_rows).max() <= 1e-4 * np.abs(cold_rows).max()
        assert (warm_rows.argmax(-1) == cold_rows.argmax(-1)).all()
    again = rt.answer(follow, TOOLS, max_tokens=3, constrain=False)  # the same prompt again: all but its last token
    assert again.timings.cached_tokens == len(rt.tokenize(follow)) - 1
    other = rt.generate("And in Hanoi?", TOOLS, max_tokens=2, constrain=False)  # only the tools block is shared
    assert 0 < other.timings.cached_tokens < len(rt.tokenize(first.prompt)) - 5
