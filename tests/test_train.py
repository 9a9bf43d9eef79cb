"""edgefc train on a tiny Qwen3: recipes, both GRPO stages with all four rewards logged, the warm-up, held-out
selection, resume refusal, and the result through `edgefc export` (q8_0) and `edgefc bench`. A random tiny model
learns nothing: these tests hold the wiring and the logs, not learning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgefc.errors import EdgefcError
from edgefc.train.config import load_recipe, parse_recipe, shipped
from edgefc.train.heldout import score_answer, to_entry
from edgefc.train.run import (CALL_OPENERS, RESULT_TAGS, answer_text, answer_weights, first_answers,
                              protocol_token_ids, seed_call_tags, train_stage, warmup_config)

RECORD = {"id": "t:1", "messages": json.dumps([{"role": "user", "content": "Weather in Oslo in celsius?"}]),
          "tools": json.dumps([{"type": "function", "function": {"name": "get_weather", "description": "Weather.",
                                "parameters": {"type": "object", "properties": {
                                    "city": {"type": "string"}, "unit": {"type": "string"},
                                    "days": {"type": "array", "items": {"type": "integer"}}},
                                    "required": ["city"]}}}]),
          "calls": json.dumps([{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}}]),
          "source": "synthetic", "negative_type": "", "language": "en"}


def test_shipped_recipes_parse() -> None:
    names = shipped()
    assert {"gpu-full", "gpu-lora", "cpu-smoke", "cpu-0.5b-lora"} <= set(names)
    for name in names:
        recipe = load_recipe(name)
        assert recipe.stage(1).rewards and set(recipe.stage(1).rewards) <= {"format", "correctness", "efficiency",
                                                                          "refusal", "answer"}
    full = load_recipe("gpu-full")
    assert full.stage(1).rewards == {"format": 0.2, "correctness": 1.0, "efficiency": 0.2, "refusal": 0.3}
    assert full.stage(2).rewards == {"format": 0.1, "correctness": 0.5, "efficiency": 1.0, "refusal": 0.3}
    assert full.stage(1).grpo["learning_rate"] == 5e-7 and full.stage(2).grpo["learning_rate"] == 2e-7
    assert full.stage(2).init == "stage1" and full.patience > 0


@pytest.mark.parametrize("data, message", [
    ({"stages": {1: {"rewards": {"format": 1}}}, "modle": "x"}, "unknown field"),
    ({"stages": {1: {"rewards": {"format": 1}, "lr": 1e-5}}}, "stage 1: unknown field"),
    ({"stages": {1: {"rewards": {"style": 1}}}}, "unknown: style"),
    ({"stages": {3: {"rewards": {"format": 1}}}}, "stages are 1 and 2"),
    ({"model": "x"}, "needs 'stages'"),
])
def test_bad_recipes_are_one_sentence(data: dict, message: str) -> None:
    with pytest.raises(EdgefcError, match=message):
        parse_recipe(data, "bad")


def test_heldout_scorer_is_the_bench_checker() -> None:
    entry = to_entry(RECORD)
    assert entry.category == "simple_python"
    assert entry.functions[0]["parameters"]["properties"]["days"] == {"type": "array", "items": {"type": "integer"}}
    right = answer_text(RECORD)
    assert right.startswith("<tool_call>\n") and score_answer(RECORD, right) == (True, True)
    fenced = '```json\n{"name": "get_weather", "arguments": {"city": "oslo", "unit": "Celsius"}}\n```'
    assert score_answer(RECORD, fenced) == (False, True)  # BFCL decodes no call from a fence; tolerant reads it
    assert score_answer(RECORD, right.replace("Oslo", "Bergen")) == (False, False)
    negative = {**RECORD, "calls": "[]"}
    assert to_entry(negative).category == "irrelevance"
    assert score_answer(negative, answer_text(negative))[0] and not score_answer(negative, right)[0]
    from edgefc.train.heldout import score

    refusal = answer_text(negative)
    assert score([RECORD, negative], [right, refusal])["decision"] == 1.0
    assert score([RECORD, negative], [right.replace("Oslo", "Bergen"), right])["decision"] == 0.5  # a wrong value
    assert score([RECORD, negative], [refusal, right])["decision"] == 0.0  # is still the right decision


def test_heldout_scores_a_text_answer_by_its_facts() -> None:
    messages = [{"role": "user", "content": "Thời tiết ở Huế thế nào?"},
                {"role": "assistant", "content": "", "tool_calls": [
                    {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Huế"}}}]},
                {"role": "tool", "content": '{"temperature_c": 31, "conditions": "sunny"}'}]
    record = {**RECORD, "messages": json.dumps(messages, ensure_ascii=False), "calls": "[]", "language": "vi",
              "answer": "Ở Huế trời nắng, 31°C.", "facts": json.dumps([["31"], ["sunny", "nắng"]]),
              "family": "after_result"}
    assert answer_text(record) == "Ở Huế trời nắng, 31°C."
    assert score_answer(record, "Huế đang NANG, nhiệt độ 31 độ.") == (True, True)  # diacritics and case folded
    assert score_answer(record, "Ở Huế trời nắng.") == (False, False)  # a fact left out
    call = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Huế"}}\n</tool_call> 31 nắng'
    assert score_answer(record, call) == (False, False)  # calling again where an answer is due


def test_the_warmup_keeps_the_answer_of_a_long_prompt(tiny_qwen3: Path, tmp_path: Path) -> None:
    """The shipped recipe keeps prompts up to 1536 tokens: TRL's default max_length (1024, keep the start) cut the
    answers of the many-tool rows, which then taught nothing."""
    import datasets
    import trl

    from edgefc.models.hftokenizer import load_tokenizer

    recipe = load_recipe("cpu-0.5b-fc")
    tokenizer = load_tokenizer(tiny_qwen3)
    prompt = "<|im_start|>user\n" + "Which tool fits? " * 300 + "<|im_end|>\n<|im_start|>assistant\n"
    answer = answer_text(RECORD) + tokenizer.eos_token
    count = [len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in (prompt, answer)]
    assert 1024 < sum(count) and count[0] <= recipe.max_prompt_tokens
    trainer = trl.SFTTrainer(model=str(tiny_qwen3), args=warmup_config(recipe, tmp_path / "ckpt"),
                             train_dataset=datasets.Dataset.from_list([{"prompt": prompt, "completion": answer}]),
                             processing_class=tokenizer)
    row = trainer.train_dataset[0]
    assert len(row["input_ids"]) == sum(count) and sum(label != -100 for label in row["labels"]) == count[1]


def test_the_decision_token_of_each_answer_is_weighed_apart() -> None:
    import torch

    labels = torch.tensor([[-100, -100, 5, 6, 7, -100], [-100, 8, 9, -100, -100, -100]])
    scored = labels[:, 1:] != -100  # the targets of positions 0..4, as the warm-up's loss reads them
    assert answer_weights(first_answers(scored), 4.0).tolist() == [4.0, 1.0, 1.0, 4.0, 1.0]
    assert answer_weights(first_answers(scored), 1.0).tolist() == [1.0] * 5


def test_untrained_call_tags_start_from_the_models_own_call_opener(tiny_qwen3: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from edgefc.models.hftokenizer import load_tokenizer

    tokenizer = load_tokenizer(tiny_qwen3)
    model = AutoModelForCausalLM.from_pretrained(tiny_qwen3, dtype=torch.float32)
    prompts = ["<|im_start|>user\nWeather in Oslo?<|im_end|>\n<|im_start|>assistant\n"]
    assert seed_call_tags(model, tokenizer, prompts) is None  # trained (here random, distinct) rows stay
    rows, tags = model.get_output_embeddings().weight, protocol_token_ids(tokenizer)
    with torch.no_grad():
        rows[tags[1]] = rows[tags[0]]  # the coder models' state: one untrained row for both tags
    opener = seed_call_tags(model, tokenizer, prompts)
    assert opener in CALL_OPENERS
    ids = tokenizer(prompts[0], return_tensors="pt", add_special_tokens=False)["input_ids"]
    probs = model(input_ids=ids).logits[0, -1].softmax(-1)
    first = tokenizer(opener, add_special_tokens=False)["input_ids"][0]
    assert torch.allclose(probs[tags], probs[first].expand(2))
    others = [tokenizer(t, add_special_tokens=False)["input_ids"][0] for t in CALL_OPENERS if t != opener]
    assert all(probs[first] >= probs[o] for o in others)


@pytest.mark.slow
def test_both_stages_then_export_and_bench(tiny_qwen3: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    from edgefc.models.hftokenizer import load_tokenizer

    recipe = load_recipe("cpu-smoke")
    out = tmp_path / "run"
    one = train_stage(recipe, 1, out, model=str(tiny_qwen3))
    log = [json.loads(line) for line in (out / "stage1" / "log.jsonl").read_text().splitlines()]
    steps = [row for row in log if row.get("phase") == "stage1" and "reward" in row]
    assert len(steps) == recipe.stage(1).grpo["max_steps"]
    for name in ("format_reward", "correctness_reward", "refusal_reward", "efficiency_reward"):
        assert all(f"rewards/{name}/mean" in row for row in steps), name
    assert all("frac_reward_zero_std" in row and "batch/false_call_rate" in row for row in steps)
    warm = [row for row in log if row.get("phase") == "warmup" and "loss" in row]
    assert warm and all(0 <= row["decision_accuracy"] <= 1 and row["decision_loss"] >= 0 for row in warm)
    # the call and result tags' own rows were trained (peft trainable tokens) and merged; LoRA leaves the others alone
    embeddings = [load_file(folder / "model.safetensors")["model.embed_tokens.weight"]
                  for folder in (tiny_qwen3, out / "stage1" / "warmup")]
    changed = (embeddings[0] != embeddings[1]).any(dim=1).nonzero().flatten().tolist()
    tokenizer = load_tokenizer(tiny_qwen3)
    assert changed == sorted(protocol_token_ids(tokenizer) + protocol_token_ids(tokenizer, RESULT_TAGS))
    assert len(changed) == 4
    held = [row for row in log if "heldout" in row]
    assert held and held[0]["best"] and all(0 <= row["heldout"]["accuracy"] <= 1 for row in held)
    # GRPO starts from the warm-up's best: its score is taken over, not computed again
    warm_best = [row for row in held if row["phase"] == "warmup" and row["best"]][-1]
    start = [row for row in held if row["phase"] == "grpo"][0]
    assert start["step"] == 0 and start["from"] == "warmup" and start["heldout"] == warm_best["heldout"]
    assert one["steps"] == 3 and one["best_step"] in [row["step"] for row in held]
    assert (out / "stage1" / "model" / "config.json").is_file() and (out / "stage1" / "curves.png").is_file()
    assert not list((out / "stage1" / "model").glob("adapter_*")), "LoRA must be merged into the result"

    with pytest.raises(EdgefcError, match="already holds this stage's result"):
        train_stage(recipe, 1, out, model=str(tiny_qwen3))

    two = train_stage(recipe, 2, out)  # starts from stage 1's result
    assert two["base"] == str(out / "stage1" / "model") and two["steps"] == 2

    from edgefc.bench.runner import BenchConfig, run
    from edgefc.export.pipeline import run_export

    exported = run_export(str(out / "stage2" / "model"), "gguf", ["q8_0"], tmp_path / "gguf", force=False,
                          verify=True, threads=1, probe_limit=2, gate_overrides={}, keep_failed=True)
    gguf = next(r.path for r in exported if r.path)
    folder, summary = run(BenchConfig(models=[str(gguf)], suite="quick", threads=1, out=tmp_path / "bench",
                                      categories=["simple_python", "irrelevance"], limit=2, max_tokens=16))
    assert [m.model for m in summary.models] == [str(gguf)]
    assert (folder / "results.jsonl").read_text().count("\n") == 4


def test_dataset_and_train_commands(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from edgefc.cli import app

    runner = CliRunner()
    built = runner.invoke(app, ["dataset", str(tmp_path / "d.parquet"), "--synthetic", "12", "--json"])
    assert built.exit_code == 0, built.output
    summary = json.loads(built.output)
    assert summary["records"] == 12 and set(summary["by_language"]) == {"en", "vi"}
    assert (tmp_path / "d.parquet").is_file()
    refused = runner.invoke(app, ["train", "--recipe", "no-such-recipe", "--out", str(tmp_path / "run")])
    assert isinstance(refused.exception, EdgefcError) and "shipped:" in str(refused.exception)
    missing = runner.invoke(app, ["train", "--stage", "2", "--recipe", "cpu-smoke", "--out", str(tmp_path / "run")])
    assert isinstance(missing.exception, EdgefcError) and "run --stage 1 first" in str(missing.exception)


@pytest.mark.slow
def test_a_killed_stage_resumes_from_its_last_checkpoint(tiny_qwen3: Path, tmp_path: Path) -> None:
    """A stage stopped after its step-2 checkpoint (result never written) continues at step 3 with --resume, its
    held-out best carried over; without --resume the checkpoints are not silently reused."""
    import dataclasses
    import shutil

    smoke = load_recipe("cpu-smoke")

    def with_steps(steps: int) -> object:
        stage = dataclasses.replace(smoke.stage(1), grpo={**smoke.stage(1).grpo, "max_steps": steps, "save_steps": 2})
        return dataclasses.replace(smoke, stages={1: stage}, warmup=None, eval_every=0)

    out = tmp_path / "run"
    train_stage(with_steps(2), 1, out, model=str(tiny_qwen3))
    shutil.rmtree(out / "stage1" / "model")  # killed before the end: only checkpoints and the log remain
    with pytest.raises(EdgefcError, match="--resume continues it"):
        train_stage(with_steps(4), 1, out, model=str(tiny_qwen3))
    summary = train_stage(with_steps(4), 1, out, model=str(tiny_qwen3), resume=True)
    steps = [json.loads(line)["step"] for line in (out / "stage1" / "log.jsonl").read_text().splitlines()
             if "reward" in json.loads(line)]
    assert steps == [1, 2, 3, 4] and summary["steps"] == 4
    assert (out / "stage1" / "model" / "config.json").is_file()
