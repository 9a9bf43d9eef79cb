"""GRPO rollouts under the tool grammar (train/rollouts.py) on the tiny Qwen3: TRL's rollout_func contract, the
sampler, and a couple of GRPO steps whose every rollout parses as calls to offered tools with schema-valid arguments,
or as text. A random tiny model writes nonsense; a bias on the `<tool_call>` and end-of-turn logits (rollouts only)
makes it call and stop often enough that every branch of the grammar is exercised."""

from __future__ import annotations

import dataclasses
import json
import math
import types
from pathlib import Path
from typing import Any

import pytest

from edgefc.errors import EdgefcError
from edgefc.protocol.constrain import Constraint
from edgefc.protocol.grammar import tool_grammar
from edgefc.protocol.parse import parse
from edgefc.train.config import load_recipe, parse_recipe

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

from edgefc.train.rollouts import GrammarRollouts, Sampler, _groups, check_config  # noqa: E402

EOS = [151645, 151643]  # the tiny Qwen3's <|im_end|> and <|endoftext|>
BIAS = 12.0  # added to the logits of <tool_call> and the end-of-turn ids while sampling rollouts in these tests

# Tools whose arguments are bounded (enums, a small integer, a bool), so a random model's calls close in a few tokens.
TOOLS = [
    {"type": "function", "function": {"name": "set_light", "description": "Turn a room's light on or off.",
     "parameters": {"type": "object", "required": ["room", "on"], "properties": {
         "room": {"type": "string", "enum": ["kitchen", "bedroom", "office"]}, "on": {"type": "boolean"},
         "level": {"type": "integer", "minimum": 1, "maximum": 5}}}}},
    {"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city.",
     "parameters": {"type": "object", "required": ["city"], "properties": {
         "city": {"type": "string", "enum": ["Hà Nội", "Oslo"]}}}}},
]


def _records() -> list[Any]:
    from edgefc.train.data.record import make_record

    looked_up = [{"role": "user", "content": "What's the weather in Hà Nội?"},
                 {"role": "assistant", "content": "",
                  "tool_calls": [{"type": "function", "function": {"name": "get_weather",
                                                                   "arguments": {"city": "Hà Nội"}}}]}]
    return [
        make_record([{"role": "user", "content": "Turn the kitchen light on."}], TOOLS,
                    [{"name": "set_light", "arguments": {"room": "kitchen", "on": True}}], "synthetic",
                    family="single"),
        make_record([{"role": "user", "content": "Viết một bài thơ về mùa thu."}], TOOLS, [], "synthetic",
                    "unrelated", family="unrelated"),
        make_record([*looked_up, {"role": "tool", "content": '{"temp_c": 31, "sky": "sunny"}'}], TOOLS, [],
                    "synthetic", answer="It is 31°C and sunny in Hà Nội.", facts=[["31"]], family="after_result"),
        make_record([*looked_up, {"role": "tool", "content": '{"error": "the request timed out"}'}], TOOLS, [],
                    "synthetic", answer="Sorry, I couldn't check: the request timed out.",
                    facts=[["sorry", "couldn't", "timed out"]], family="after_error"),
    ]


def _bias(model: Any, tokenizer: Any) -> Any:
    """A forward hook on the output layer that makes the model call and end its turn often (undo with .remove())."""
    ids = torch.tensor([tokenizer.convert_tokens_to_ids("<tool_call>"), *EOS])

    def hook(module: Any, inputs: Any, output: Any) -> Any:
        output[..., ids] += BIAS
        return output

    return model.get_output_embeddings().register_forward_hook(hook)


def _check_rollout(text: str, tools: list[dict[str, Any]]) -> str:
    """The rollout's kind, after asserting it is clean calls to offered tools with schema-valid arguments, or text."""
    from jsonschema import Draft202012Validator

    result = parse(text, tools)
    assert not result.errors and not result.unknown_tools and result.unclosed_calls == 0, text
    assert result.kind in ("calls", "text", "refusal"), text
    if result.calls:
        assert result.content == "" and result.format == "tool_call", text
        schemas = {tool["function"]["name"]: tool["function"]["parameters"] for tool in tools}
        for call in result.calls:
            Draft202012Validator(schemas[call["name"]]).validate(call["arguments"])
    return result.kind


def test_sampler_draws_only_allowed_tokens_with_their_logprobs() -> None:
    logits = torch.tensor([[2.0, 1.0, 0.0, -math.inf, 0.5], [-math.inf, -math.inf, 3.0, -math.inf, -math.inf]])
    generator = torch.Generator().manual_seed(0)
    sampler = Sampler(temperature=0.7, generator=generator)
    seen = set()
    for _ in range(300):
        tokens, logprobs = sampler.sample(logits)
        assert tokens[1] == 2 and logprobs[1] == 0.0  # the one allowed token: forced, log 1
        assert tokens[0] != 3
        expected = torch.log_softmax(logits[0] / 0.7, dim=-1)[tokens[0]]
        assert logprobs[0] == pytest.approx(float(expected), abs=1e-5)
        seen.add(int(tokens[0]))
    assert seen == {0, 1, 2, 4}
    # top-p keeps the likeliest tokens up to and including the one that reaches p; top-k the k likeliest
    nucleus = Sampler(temperature=1.0, top_p=0.7, generator=generator)
    probs = torch.softmax(logits[0], dim=-1)  # 0.61, 0.22, 0.08, 0, 0.14: 0 alone is below 0.7, 0 and 1 reach it
    drawn = {int(nucleus.sample(logits)[0][0]) for _ in range(200)}
    assert drawn == {0, 1} and probs[0] < 0.7 < probs[0] + probs[1]
    [token], [logprob] = Sampler(1.0, top_k=1, generator=generator).sample(logits[:1])
    assert token == 0 and logprob == 0.0
    with pytest.raises(EdgefcError, match="temperature"):
        Sampler(temperature=0.0)


def test_groups_are_runs_of_equal_prompts() -> None:
    assert list(_groups(["a", "a", "b", "b", "b", "a"])) == [("a", 2), ("b", 3), ("a", 1)]
    assert list(_groups([])) == []


def test_recipes_choose_the_rollouts_and_what_grammar_rollouts_refuse() -> None:
    stages = {"stages": {1: {"rewards": {"format": 1}}}}
    assert parse_recipe(stages, "r").rollouts == "free"
    assert parse_recipe({**stages, "rollouts": "grammar"}, "r").rollouts == "grammar"
    with pytest.raises(EdgefcError, match="rollouts is 'free' or 'grammar'"):
        parse_recipe({**stages, "rollouts": "constrained"}, "r")
    check_config({"temperature": 1.0, "use_vllm": False, "repetition_penalty": 1.0, "min_p": 0.0})
    for bad in ({"use_vllm": True}, {"off_policy_mask_threshold": 0.5}, {"repetition_penalty": 1.1}):
        with pytest.raises(EdgefcError, match=next(iter(bad))):
            check_config(bad)


def test_the_fc_recipe_runs_the_seed_stages_under_the_grammar() -> None:
    recipe = load_recipe("cpu-0.5b-fc")
    assert recipe.rollouts == "grammar" and recipe.lora and recipe.warmup and recipe.warmup_tag_lr_scale > 0
    assert recipe.stage(1).rewards == {"format": 0.2, "correctness": 1.0, "efficiency": 0.2, "refusal": 0.3,
                                       "answer": 0.5}
    assert recipe.stage(2).rewards == {"format": 0.1, "correctness": 0.5, "efficiency": 1.0, "refusal": 0.3,
                                       "answer": 0.5}
    assert recipe.stage(2).init == "stage1"
    for stage in (1, 2):
        grpo = recipe.stage(stage).grpo
        check_config(grpo)
        assert grpo["num_generations"] == 4 and grpo["save_steps"] <= 10 and grpo["save_total_limit"] >= 1


def test_the_prompt_to_tools_map_is_strict() -> None:
    rows = [{"prompt": "p", "tools": json.dumps(TOOLS)}, {"prompt": "p", "tools": TOOLS}]
    GrammarRollouts(rows, tokenizer=None)  # the same tools, as JSON or decoded
    with pytest.raises(EdgefcError, match="same prompt with different tools"):
        GrammarRollouts([*rows, {"prompt": "p", "tools": "[]"}], tokenizer=None)
    trainer = types.SimpleNamespace(temperature=1.0, top_p=1.0, top_k=0, max_completion_length=4,
                                    model=torch.nn.Linear(1, 1))
    with pytest.raises(EdgefcError, match="no training row has"):
        GrammarRollouts(rows, tokenizer=None)(["q", "q"], trainer)


def test_grammar_rollouts_follow_trls_contract_on_the_tiny_qwen3(tiny_qwen3: Path) -> None:
    """Family prompts (free-text arguments, so calls can be cut at the length limit): one completion per prompt entry,
    each a token sequence the grammar accepts step by step, ended by an end-of-turn id only where the grammar
    accepts; logprobs are those of the masked distribution (0 where the grammar forced the token, env_mask 0)."""
    from transformers import AutoModelForCausalLM

    from edgefc.models.hftokenizer import load_tokenizer
    from edgefc.protocol.render import ChatTemplate
    from edgefc.train.data.families.generate import generate

    tokenizer = load_tokenizer(tiny_qwen3)
    template = ChatTemplate.from_hf_dir(tiny_qwen3)
    rows = []
    for record in generate(6, seed=3):
        row = record.to_row()
        row["prompt"] = template.render(json.loads(row["messages"]), json.loads(row["tools"]),
                                        add_generation_prompt=True, enable_thinking=False)
        rows.append(row)
    model = AutoModelForCausalLM.from_pretrained(tiny_qwen3, dtype=torch.float32)
    trainer = types.SimpleNamespace(model=model, temperature=1.0, top_p=1.0, top_k=0, max_completion_length=24,
                                    eos_token_ids=EOS)
    rollouts = GrammarRollouts(rows, tokenizer, seed=1)
    prompts = [row["prompt"] for row in rows[:3] for _ in range(4)]
    hook = _bias(model, tokenizer)
    try:
        out = rollouts(prompts, trainer)
    finally:
        hook.remove()
    assert {key: len(value) for key, value in out.items()} == dict.fromkeys(
        ("prompt_ids", "completion_ids", "logprobs", "env_mask"), len(prompts))
    kinds = []
    for prompt, prompt_ids, ids, logprobs, chosen in zip(prompts, *out.values()):
        assert prompt_ids == tokenizer(prompt, add_special_tokens=False)["input_ids"]
        assert len(ids) == len(logprobs) == len(chosen) and 0 < len(ids) <= trainer.max_completion_length
        assert all(lp <= 1e-6 for lp in logprobs)
        assert all(lp == 0.0 for lp, c in zip(logprobs, chosen) if not c)
        tools = rollouts.tools[prompt]
        constraint = Constraint(rollouts.vocab, tool_grammar(tools, "auto", True))
        ended = ids[-1] in EOS
        for token in ids[:-1] if ended else ids:
            assert constraint.matcher.consume_token(token), tokenizer.decode(ids)
        assert constraint.accepting or not ended
        text = tokenizer.decode(ids, skip_special_tokens=True)
        kinds.append(_check_rollout(text, tools) if ended else parse(text, tools).kind)
    assert "calls" in kinds and "text" in kinds


def test_grpo_steps_with_grammar_rollouts(tiny_qwen3: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two GRPO steps of edgefc train with `rollouts: grammar` on tools with bounded arguments: every rollout ends
    (end of turn) as calls to offered tools with schema-valid arguments, or as text; the step logs carry
    frac_reward_zero_std, the answer reward and the rollouts' forced share."""
    from edgefc.models.hftokenizer import load_tokenizer
    from edgefc.train import rollouts as module
    from edgefc.train.data.record import write_records
    from edgefc.train.run import train_stage

    data = tmp_path / "records.parquet"
    write_records(_records(), data)
    tokenizer = load_tokenizer(tiny_qwen3)
    seen: list[tuple[str, list[int]]] = []
    group, call = module.GrammarRollouts.group, module.GrammarRollouts.__call__

    def biased_group(self: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
        hook = _bias(model, tokenizer)
        try:
            return group(self, model, *args, **kwargs)
        finally:
            hook.remove()

    def recorded_call(self: Any, prompts: list[Any], trainer: Any) -> Any:
        out = call(self, prompts, trainer)
        seen.extend(zip(prompts, out["completion_ids"]))
        return out

    monkeypatch.setattr(module.GrammarRollouts, "group", biased_group)
    monkeypatch.setattr(module.GrammarRollouts, "__call__", recorded_call)
    smoke = load_recipe("cpu-smoke")
    stage = dataclasses.replace(smoke.stage(1), rewards={**smoke.stage(1).rewards, "answer": 0.5},
                                grpo={**smoke.stage(1).grpo, "max_steps": 2, "num_generations": 2,
                                      "per_device_train_batch_size": 2, "gradient_accumulation_steps": 2,
                                      "max_completion_length": 40, "temperature": 1.0, "save_steps": 100})
    recipe = dataclasses.replace(smoke, stages={1: stage}, warmup=None, heldout=0, eval_every=0, rollouts="grammar")
    summary = train_stage(recipe, 1, tmp_path / "run", model=str(tiny_qwen3), data=data)

    # two steps, each of two prompts x two generations sampled at once, trained two sequences at a time
    assert summary["steps"] == 2 and len(seen) == 8
    tools = json.loads(_records()[0].to_row()["tools"])
    kinds = []
    for prompt, ids in seen:
        assert ids[-1] in EOS, tokenizer.decode(ids)
        kinds.append(_check_rollout(tokenizer.decode(ids, skip_special_tokens=True), tools))
    assert "calls" in kinds and {"text", "refusal"} & set(kinds)
    log = [json.loads(line) for line in (tmp_path / "run" / "stage1" / "log.jsonl").read_text().splitlines()]
    steps = [row for row in log if row.get("phase") == "stage1" and "reward" in row]
    assert len(steps) == 2
    for row in steps:
        assert "frac_reward_zero_std" in row and "rewards/answer_reward/mean" in row, row
        assert 0.0 <= row["rollouts/forced_share"] < 1.0 and row["completions/clipped_ratio"] == 0.0
    assert any(row["rewards/answer_reward/mean"] is not None for row in steps)
