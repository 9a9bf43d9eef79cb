"""`edgefc train`: one GRPO stage of a recipe, from records to a merged Hugging Face folder.

A stage folder (OUT/stageN) holds: checkpoints/ (TRL's, resumable), warmup/ (stage 1 with a warm-up: the model
after supervised steps on canonical answers), best/ (the adapter or weights of the best held-out score so far),
model/ (the result: an HF folder, LoRA merged, that `edgefc export` and `edgefc bench` take as they are),
log.jsonl (TRL's logs per step, the reward batch metrics, held-out scores), curves.png and summary.json.

Prompts are rendered here with the model's chat template and each record's tools (GRPO does not render a
per-row tools column), through edgefc's renderer, so training sees the prompts the runtimes will send.
"""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgefc.errors import EdgefcError, require
from edgefc.fsutil import atomic_dir, write_json, write_png
from edgefc.protocol.parse import REFUSAL, TAGS, format_tool_calls
from edgefc.protocol.render import ChatTemplate
from edgefc.train.config import Recipe
from edgefc.train.data.record import column_value

LOG, SUMMARY, CURVES = "log.jsonl", "summary.json", "curves.png"


@dataclass(frozen=True)
class StageDirs:
    """Where one stage writes (see the module doc)."""

    root: Path

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def warmup(self) -> Path:
        return self.root / "warmup"

    @property
    def best(self) -> Path:
        return self.root / "best"

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def log(self) -> Path:
        return self.root / LOG


def load_records(recipe: Recipe, data: Path | None) -> list[dict[str, Any]]:
    """Training records as rows: a parquet file or folder of them (`edgefc dataset`), else the recipe's synthetic
    tasks (the task families)."""
    from edgefc.train.data.families.generate import generate
    from edgefc.train.data.record import read_records

    if data is not None:
        files = sorted(data.glob("*.parquet")) if data.is_dir() else [data]
        if not files or not all(f.is_file() for f in files):
            raise EdgefcError(f"{data} holds no parquet file of training records (build one with `edgefc dataset`)")
        return [r.to_row() for f in files for r in read_records(f)]
    if recipe.synthetic <= 0:
        raise EdgefcError(f"recipe {recipe.name!r} generates no data (synthetic: 0): give --data")
    return [r.to_row() for r in generate(recipe.synthetic, seed=recipe.seed)]


def answer_text(record: dict[str, Any]) -> str:
    """The reference answer of a record: its calls in the canonical form, its text answer (after a tool result),
    or the refusal sentence."""
    calls = column_value(record["calls"])
    return format_tool_calls(calls) if calls else record.get("answer") or REFUSAL


def render_rows(records: list[dict[str, Any]], template: ChatTemplate, recipe: Recipe,
                count_tokens: Any) -> tuple[list[dict[str, Any]], int]:
    """Record rows (JSON columns, as Record.to_row writes them) with a rendered `prompt` added (the record's
    messages, the recipe's system line, the record's tools); prompts longer than the recipe allows are dropped
    (their count is returned). The other columns stay for the rewards."""
    rows, dropped = [], 0
    for record in records:
        messages = column_value(record["messages"])
        if recipe.system_prompt:
            messages = [{"role": "system", "content": recipe.system_prompt}, *messages]
        prompt = template.render(messages, column_value(record["tools"]), add_generation_prompt=True,
                                 enable_thinking=recipe.enable_thinking)
        if count_tokens(prompt) > recipe.max_prompt_tokens:
            dropped += 1
            continue
        rows.append({**record, "prompt": prompt})
    return rows, dropped


def split(rows: list[dict[str, Any]], heldout: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, held-out): a fixed-seed sample of `heldout` rows kept out of training."""
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    held = set(order[:heldout])
    return [r for i, r in enumerate(rows) if i not in held], [r for i, r in enumerate(rows) if i in held]


def base_folder(recipe: Recipe, stage: int, model: str | None, out: Path) -> Path:
    """The HF folder the stage starts from: the recipe's (or --model's) base, or stage 1's result."""
    if recipe.stage(stage).init == "stage1" and model is None:
        result = StageDirs(out / "stage1").model
        if not (result / "config.json").is_file():
            raise EdgefcError(f"stage {stage} starts from stage 1's result, and {result} has none: run --stage 1 "
                              "first (same --out), or give --model")
        return result
    ref = model or recipe.model
    if ref is None:
        raise EdgefcError(f"recipe {recipe.name!r} names no model: give --model")
    from edgefc.models import resolve

    return resolve(ref, want="hf").path


def _device() -> dict[str, Any]:
    """TRL/transformers arguments for this machine: the CPU in float32 unless a GPU is there. A warm-up's recipe
    may still ask for `bf16: true` on a CPU: weights stay float32 and matrix products run in bfloat16 (autocast),
    about 2.7x faster where the CPU has AVX512-BF16 or AMX."""
    import torch

    if torch.cuda.is_available():
        return {}
    return {"use_cpu": True, "bf16": False, "fp16": False, "model_init_kwargs": {"dtype": "float32"}}


# The tags chat templates wrap tool results in (Qwen's): the model reads them, never writes them.
RESULT_TAGS = ("<tool_response>", "</tool_response>")


def protocol_token_ids(tokenizer: Any, tags: tuple[str, ...] = (TAGS["call_open"], TAGS["call_close"])) -> list[int]:
    """Ids of the tags (by default the protocol's call tags, Qwen's `<tool_call>`, `</tool_call>`) that are single
    tokens in this vocabulary; tags that the vocabulary spells in pieces need no row of their own."""
    ids = [tokenizer(tag, add_special_tokens=False)["input_ids"] for tag in tags]
    return [one[0] for one in ids if len(one) == 1]


def _lora(recipe: Recipe, token_rows: dict[str, Any] | list[int] | None = None) -> Any:
    """peft's LoRA config of the recipe; `token_rows` (see `tag_rows`) also trains those token rows whole."""
    if not recipe.lora:
        return None
    peft = require("peft", "train")
    extra = {"trainable_token_indices": token_rows} if token_rows else {}
    return peft.LoraConfig(task_type="CAUSAL_LM", **{**extra, **recipe.lora})


def tag_rows(base: Path, tokenizer: Any) -> dict[str, Any] | list[int] | None:
    """peft's `trainable_token_indices` for the call tags' embedding and output rows. In a model that never learnt
    the protocol those rows are untrained (Qwen2.5-Coder-0.5B's `<tool_call>` and `</tool_call>` output rows are
    identical, cosine 0.93 to `<|im_start|>`'s): LoRA on the layers alone cannot make the model write the tag, and
    its warm-up flattened the first token (entropy 5-8 nats) and fell into refusing everything instead. The result
    tags' embedding rows train too: that model's `<tool_response>` rows equal its `<tool_call>` rows, so in context
    a tool's result reads like a call it opened; they need no output row (the model never writes them)."""
    tags = protocol_token_ids(tokenizer)
    if not tags:
        return None
    read = tags + [i for i in protocol_token_ids(tokenizer, RESULT_TAGS) if i not in tags]
    config = json.loads((base / "config.json").read_text(encoding="utf-8"))
    tied = config.get("tie_word_embeddings", config.get("text_config", {}).get("tie_word_embeddings", True))
    return read if tied else {"embed_tokens": read, "lm_head": tags}


# First tokens the untouched coder models open a call with when they are not given the tags (a fence, bare JSON).
CALL_OPENERS = ("```", "{", '{"', "{\n", "[")
SEED_PROMPTS = 8  # call prompts the opener is chosen on
UNTRAINED_COSINE = 0.999  # tag rows this alike were never trained apart (the 0.5B Q4_K_M's: 1.0000, max diff 4e-4)


def seed_call_tags(model: Any, tokenizer: Any, prompts: list[str]) -> str | None:
    """Where the call tags' output rows are untrained (the same row), start both from the output row of the opener
    the model already writes calls with (the one of CALL_OPENERS it gives most mass at the first answer position
    of `prompts`), and return it; else change nothing and return None. From its untrained row `<tool_call>` started
    at 1e-10 and the warm-up learnt the refusal's first word faster than the tag (98% "None" on every request after
    100 steps); from the opener's row a call starts about as likely as the model's own call (~20% on the 0.5B), and
    the warm-up has to teach when to call, not to find the tag."""
    import torch

    rows = model.get_output_embeddings().weight
    tags = protocol_token_ids(tokenizer)
    if len(tags) != 2 or torch.nn.functional.cosine_similarity(rows[tags[0]], rows[tags[1]], dim=0) < UNTRAINED_COSINE:
        return None
    openers = {text: tokenizer(text, add_special_tokens=False)["input_ids"][0] for text in CALL_OPENERS}
    mass = dict.fromkeys(openers, 0.0)
    with torch.no_grad():
        for prompt in prompts:
            ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
            probs = model(input_ids=ids).logits[0, -1].float().softmax(-1)
            for text, token in openers.items():
                mass[text] += float(probs[token])
    best = max(mass, key=mass.get)
    with torch.no_grad():
        rows[tags] = rows[openers[best]].clone()
    return best


def _scale_tag_rows(trainer: Any, scale: float) -> None:
    """Give the call tags' trainable rows (peft's trainable tokens) `scale` times the learning rate, in an optimizer
    made now the way the trainer would make it (the shipped fc recipe keeps 1: its rows start seeded, and at 10x they
    swung the first token between calling on everything and on nothing)."""
    if scale == 1.0:
        return
    rows = {id(p) for name, p in trainer.model.named_parameters() if p.requires_grad and "trainable_tokens" in name}
    if not rows:
        return
    optimizer = trainer.create_optimizer()
    groups = []
    for group in optimizer.param_groups:
        settings = {k: v for k, v in group.items() if k != "params"}
        rest = [p for p in group["params"] if id(p) not in rows]
        tags = [p for p in group["params"] if id(p) in rows]
        groups += [{**settings, "params": rest}] if rest else []
        groups += [{**settings, "params": tags, "lr": settings["lr"] * scale}] if tags else []
    optimizer.param_groups = groups


def _merged_copy(model: Any) -> Any:
    """A copy of `model` with any LoRA adapter merged into its weights (the model in training untouched)."""
    import copy

    duplicate = copy.deepcopy(model)
    return duplicate.merge_and_unload() if hasattr(duplicate, "peft_config") else duplicate


def _save_merged(model: Any, tokenizer: Any, dest: Path) -> None:
    """An HF folder of `model` with any LoRA adapter merged into its weights (the model in training untouched)."""
    with atomic_dir(dest, overwrite=True) as tmp:
        (_merged_copy(model) if hasattr(model, "peft_config") else model).save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)


# The warm-up's TRL settings a recipe does not override. No truncation: the rows are already filtered by the
# recipe's max_prompt_tokens, and TRL's default max_length of 1024 kept the start of each sequence, cutting the
# answers of most many-tool rows (59% of `choose`, 45% of `parallel`) so they taught nothing.
WARMUP_DEFAULTS: dict[str, Any] = {"save_strategy": "steps", "save_steps": 10, "save_total_limit": 2,
                                   "max_length": None}


def warmup_config(recipe: Recipe, checkpoints: Path) -> Any:
    """TRL's SFTConfig of the recipe's warm-up, checkpointing into `checkpoints`."""
    trl = require("trl", "train")
    settings = {**WARMUP_DEFAULTS, **(recipe.warmup or {})}
    return trl.SFTConfig(output_dir=str(checkpoints), report_to="none", disable_tqdm=True, seed=recipe.seed,
                         completion_only_loss=True, **{**_device(), **settings})


def warmup(recipe: Recipe, base: Path, rows: list[dict[str, Any]], dirs: StageDirs, tokenizer: Any,
           score: Any = None, resume: bool = False) -> Path:
    """Supervised steps on the reference answers (prompt -> canonical calls, the text answer, or the refusal), LoRA
    merged: gives a model that never writes the protocol the format, so GRPO's groups have variance. Checkpoints
    as it goes (`--resume` continues), scores the held-out split with `score(model)` every `warmup_eval_every` steps
    and at the end, and keeps the best scoring model. Reused once written."""
    from edgefc.train.callbacks import WARMUP_PHASE, HeldoutSelector, StepReport

    if (dirs.warmup / "config.json").is_file():
        return dirs.warmup
    datasets = require("datasets", "train")
    trl = require("trl", "train")
    eos = tokenizer.eos_token or ""
    data = datasets.Dataset.from_list([{"prompt": r["prompt"], "completion": answer_text(r) + eos} for r in rows])
    checkpoints = dirs.root / "warmup-checkpoints"
    has_checkpoint = checkpoints.is_dir() and any(checkpoints.glob("checkpoint-*"))
    if has_checkpoint and not resume:
        raise EdgefcError(f"{checkpoints} holds the checkpoints of an earlier warm-up: --resume continues it, or use "
                          "another --out")
    config = warmup_config(recipe, checkpoints)
    tags = tag_rows(base, tokenizer) if recipe.warmup_tag_lr_scale > 0 else None
    from trl.trainer.utils import create_model_from_path

    model = create_model_from_path(str(base), **(config.model_init_kwargs or {}))  # as the trainer would load it
    config.model_init_kwargs = None  # used: the trainer gets the model, its rows seeded
    if tags:
        seed_call_tags(model, tokenizer, [r["prompt"] for r in rows if column_value(r["calls"])][:SEED_PROMPTS])
    trainer = _answer_only_sft(trl, recipe.warmup_decision_weight)(
        model=model, args=config, train_dataset=data, processing_class=tokenizer, peft_config=_lora(recipe, tags))
    _scale_tag_rows(trainer, recipe.warmup_tag_lr_scale)
    _quiet(trainer)
    trainer.add_callback(_jsonl(dirs.log, "warmup"))
    best = dirs.root / "warmup-best"
    selector = None
    if score is not None:
        selector = HeldoutSelector(score, lambda m, step: _save_merged(m, tokenizer, best), recipe.warmup_eval_every,
                                   0, dirs.log, phase=WARMUP_PHASE)
        if has_checkpoint and dirs.log.is_file():
            selector.restore(dirs.log)
        trainer.add_callback(selector)
    trainer.add_callback(StepReport("warm-up"))
    trainer.train(resume_from_checkpoint=True if has_checkpoint else None)
    if selector is not None and best.is_dir():
        best.replace(dirs.warmup)  # the best scoring model, put in place by one rename
    else:
        _save_merged(trainer.model, tokenizer, dirs.warmup)
    shutil.rmtree(checkpoints, ignore_errors=True)
    shutil.rmtree(best, ignore_errors=True)
    return dirs.warmup


def answer_weights(first: Any, decision_weight: float) -> Any:
    """Per-position loss weights over a batch's answer positions, flattened in order (`first`: which of them start
    an answer, see `first_answers`): `decision_weight` for each answer's first token, which decides between calling
    and answering, 1 for the rest. The per-token mean otherwise gives that token 1/124 of a parallel answer: the
    warm-up learnt every call's body before its first token (step 30: 1-4.7 nats on the first, 0.05-0.15 on the
    rest)."""
    import torch

    return torch.where(first, decision_weight, 1.0)


def first_answers(scored: Any) -> Any:
    """Of a batch's scored (answer) positions, flattened in order, which start an answer: the call-or-answer
    decision."""
    import torch

    return (scored & ~torch.nn.functional.pad(scored, (1, 0))[:, :-1])[scored]


def _answer_only_sft(trl: Any, decision_weight: float = 1.0) -> Any:
    """TRL's SFTTrainer with a loss through the model's own output layer, on the answer's positions only. TRL
    computes it through a fused LM head that reads `lm_head.weight` directly, which skips peft's trainable tag rows
    on an untied head (they would never learn) and fails on a tied one; the model's own loss would project every
    prompt position onto the vocabulary (a 600-token prompt, a 30-token answer: 95% of the output layer's work and
    most of the memory, batch x length x 152K logits, spent on positions the loss ignores)."""
    import torch

    class AnswerOnlySFTTrainer(trl.SFTTrainer):
        def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                         num_items_in_batch: Any = None) -> Any:
            causal = model.get_base_model() if hasattr(model, "get_base_model") else model
            hidden = causal.get_decoder()(input_ids=inputs["input_ids"],
                                          attention_mask=inputs.get("attention_mask")).last_hidden_state
            targets = inputs["labels"][:, 1:]
            scored = targets != -100
            logits = causal.get_output_embeddings()(hidden[:, :-1][scored]).float()
            answer, first = targets[scored], first_answers(scored)
            losses = torch.nn.functional.cross_entropy(logits, answer, reduction="none")
            total = (losses * answer_weights(first, decision_weight)).sum()
            count = num_items_in_batch if num_items_in_batch is not None else scored.sum()
            loss = total / count
            if model.training:
                self._log_decision(logits, answer, losses, first)
            return (loss, {"logits": logits}) if return_outputs else loss

        def _log_decision(self, logits: Any, targets: Any, losses: Any, first: Any) -> None:
            """Log the answers' first tokens apart (decision_loss, decision_accuracy): the per-token loss hides
            whether the model yet tells a call request from a refusal or an answer."""
            hits = logits[first].argmax(-1) == targets[first]
            self._metrics["train"]["decision_loss"].append(losses[first].mean().item())
            self._metrics["train"]["decision_accuracy"].append(hits.float().mean().item())

    return AnswerOnlySFTTrainer


def _quiet(trainer: Any) -> None:
    """Drop transformers' printer of log dicts (what it uses with its tqdm bar off): stdout stays clean for
    --json, and the logs go to log.jsonl instead."""
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)


def _jsonl(path: Path, phase: str) -> Any:
    from edgefc.train.callbacks import JsonlLog

    return JsonlLog(path, lambda: {"phase": phase})


def train_stage(recipe: Recipe, stage: int, out: Path, *, model: str | None = None, data: Path | None = None,
                resume: bool = False) -> dict[str, Any]:
    """Run one stage of `recipe` into OUT/stageN and return its summary (see the module doc)."""
    trl = require("trl", "train")
    datasets = require("datasets", "train")
    from edgefc.models.hftokenizer import load_tokenizer
    from edgefc.train.callbacks import WARMUP_PHASE, HeldoutSelector, JsonlLog, StepReport
    from edgefc.train.rewards import REWARDS, batch_metrics

    spec = recipe.stage(stage)
    dirs = StageDirs(out / f"stage{stage}")
    has_checkpoint = dirs.checkpoints.is_dir() and any(dirs.checkpoints.glob("checkpoint-*"))
    if (dirs.model / "config.json").is_file() and not resume:
        raise EdgefcError(f"{dirs.model} already holds this stage's result; use another --out")
    if has_checkpoint and not resume:
        raise EdgefcError(f"{dirs.checkpoints} holds checkpoints of an earlier run: --resume continues it, or use "
                          "another --out")
    dirs.root.mkdir(parents=True, exist_ok=True)
    datasets.disable_progress_bars()  # TRL's dataset preparation bars would interleave with the stage's own bar
    base = base_folder(recipe, stage, model, out)
    tokenizer = load_tokenizer(base)
    template = ChatTemplate.from_hf_dir(base)
    rows, dropped = render_rows(load_records(recipe, data), template, recipe,
                                lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"]))
    train_rows, held = split(rows, recipe.heldout, recipe.seed)
    if not train_rows:
        raise EdgefcError("no training rows are left after the held-out split and the prompt-length filter")
    started = time.time()
    # One scorer for the warm-up and GRPO, so their held-out scores compare; a recipe whose warm-up runs bfloat16
    # products on the CPU scores with them too.
    score = heldout_scorer(held, tokenizer, recipe.eval_max_tokens, bf16=bool((recipe.warmup or {}).get("bf16")))
    if stage == 1 and recipe.warmup and spec.init == "model":
        base = warmup(recipe, base, train_rows, dirs, tokenizer, score if held else None, resume)

    metrics: dict[str, Any] = {}
    funcs = [_tapped(REWARDS[name], metrics, batch_metrics) if i == 0 else REWARDS[name]
             for i, name in enumerate(spec.rewards)]
    device = _device()
    rollout_func = None
    if recipe.rollouts == "grammar":  # sampled under the tool grammar; the rows' prompts map to their tools
        from edgefc.train.rollouts import GrammarRollouts, check_config

        check_config(spec.grpo)
        rollout_func = GrammarRollouts(train_rows, tokenizer, thinking=recipe.enable_thinking, seed=recipe.seed)
    config = trl.GRPOConfig(output_dir=str(dirs.checkpoints), report_to="none", disable_tqdm=True,
                            seed=recipe.seed, reward_weights=list(spec.rewards.values()),
                            **{**spec.grpo, **device})
    with warnings.catch_warnings():  # TRL calls rollout_func experimental, once per trainer
        warnings.filterwarnings("ignore", message="You are using 'rollout_func'")
        trainer = trl.GRPOTrainer(model=str(base), reward_funcs=funcs, args=config, processing_class=tokenizer,
                                  train_dataset=datasets.Dataset.from_list(train_rows), peft_config=_lora(recipe),
                                  rollout_func=rollout_func)

    selector = HeldoutSelector(score, lambda m, step: _save_merged(m, tokenizer, dirs.best), recipe.eval_every,
                               recipe.patience, dirs.log)
    if resume and dirs.log.is_file():
        selector.restore(dirs.log)
    _quiet(trainer)
    for callback in (JsonlLog(dirs.log, lambda: {"phase": f"stage{stage}", **metrics}), selector,
                     StepReport(f"stage {stage}")):
        trainer.add_callback(callback)
    # The starting point (after any warm-up) is scored first: GRPO must beat it to replace it. A warm-up's best was
    # scored already; a resumed run that scored it keeps that.
    started_scored = selector.best is not None and dirs.best.is_dir()
    if held and not (resume and has_checkpoint) and not started_scored:
        if not (stage == 1 and recipe.warmup and selector.adopt(dirs.log, WARMUP_PHASE, trainer.model)):
            selector.evaluate(trainer.model, 0)
    trainer.train(resume_from_checkpoint=True if resume and has_checkpoint else None)
    if held:
        if dirs.model.exists():
            shutil.rmtree(dirs.model)
        shutil.copytree(dirs.best, dirs.model)
    else:
        _save_merged(trainer.model, tokenizer, dirs.model)
    summary = summarize(dirs.log, stage=stage, recipe=recipe.name, base=str(base), rows=len(rows),
                        dropped=dropped, heldout=len(held), wall_s=time.time() - started,
                        best_step=selector.best_step, model=str(dirs.model))
    write_json(dirs.root / SUMMARY, summary)
    plot_curves(dirs.log, dirs.root / CURVES)
    return summary


def heldout_scorer(held: list[dict[str, Any]], tokenizer: Any, max_tokens: int, *, batch: int = 8,
                   bf16: bool = False) -> Any:
    """`score(model)`: the model's greedy answers to the held-out rows, judged by `heldout.score`. They come from a
    copy of the model with any LoRA merged (in bfloat16 when `bf16`; the model in training is untouched), rows of
    similar length `batch` at a time, left-padded: scoring 60 rows through the unmerged adapter under autocast, which
    casts every frozen weight again at each token, took 30 minutes, as long as 80 warm-up steps."""
    import torch

    from edgefc.train import heldout

    order = sorted(range(len(held)), key=lambda i: len(held[i]["prompt"]))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    def answers(model: Any) -> list[str]:
        texts = [""] * len(held)
        side, tokenizer.padding_side = tokenizer.padding_side, "left"
        try:
            for start in range(0, len(order), batch):
                chunk = order[start:start + batch]
                inputs = tokenizer([held[i]["prompt"] for i in chunk], return_tensors="pt", padding=True,
                                   add_special_tokens=False).to(model.device)
                with torch.no_grad():
                    output = model.generate(**inputs, max_new_tokens=max_tokens, do_sample=False, pad_token_id=pad)
                for i, row in zip(chunk, output[:, inputs["input_ids"].shape[1]:]):
                    texts[i] = tokenizer.decode(row, skip_special_tokens=True)
        finally:
            tokenizer.padding_side = side
        return texts

    def score(model: Any) -> dict[str, Any]:
        frozen = _merged_copy(model)
        frozen = frozen.to(torch.bfloat16) if bf16 else frozen
        return heldout.score(held, answers(frozen.eval()))

    return score


def _tapped(reward: Any, sink: dict[str, Any], measure: Any) -> Any:
    """`reward` as TRL calls it, also recording the batch's metrics (false calls, false refusals, calls where a text
    answer was due, tag rate) in `sink` for the step log: the completions are only seen inside reward functions."""
    def tapped(completions: list[Any], **kwargs: Any) -> list[float | None]:
        sink.clear()
        sink.update({f"batch/{k}": v for k, v in measure(completions, kwargs.get("calls"), kwargs.get("tools"),
                                                         kwargs.get("answer"), kwargs.get("facts")).items()})
        return reward(completions, **kwargs)

    tapped.__name__ = getattr(reward, "__name__", "reward")
    return tapped


def summarize(log: Path, **facts: Any) -> dict[str, Any]:
    """A stage's figures from its log: steps, time per step, each logged reward at the start and the end, the mean
    frac_reward_zero_std, and the held-out scores."""
    from edgefc.train.callbacks import phase_of

    rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    stage_rows = [r for r in rows if r.get("phase", "").startswith("stage") and "reward" in r]
    heldout = [r for r in rows if "heldout" in r]
    keys = sorted({k for r in stage_rows for k in r if k.startswith(("rewards/", "batch/")) or k == "reward"})
    first, last = (stage_rows[0], stage_rows[-1]) if stage_rows else ({}, {})
    zero_std = [r["frac_reward_zero_std"] for r in stage_rows if r.get("frac_reward_zero_std") is not None]
    steps = last.get("step", 0)
    return {**facts, "steps": steps, "seconds_per_step": (last.get("time_s", 0) / steps) if steps else None,
            "start": {k: first.get(k) for k in keys}, "end": {k: last.get(k) for k in keys},
            "frac_reward_zero_std_mean": sum(zero_std) / len(zero_std) if zero_std else None,
            "heldout": [{"step": r["step"], "phase": phase_of(r), **r["heldout"]} for r in heldout]}


def plot_curves(log: Path, dest: Path) -> None:
    """Reward components and held-out accuracy against steps, as a PNG (skipped without matplotlib)."""
    from edgefc.fsutil import subplots
    from edgefc.train.callbacks import GRPO_PHASE, WARMUP_PHASE, phase_of

    if importlib.util.find_spec("matplotlib") is None:
        return
    rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    stage_rows = [r for r in rows if "reward" in r and r.get("phase", "").startswith("stage")]
    keys = sorted({k for r in stage_rows for k in r if k.startswith("rewards/") and k.endswith("/mean")})
    fig, (top, bottom) = subplots(2, 1, figsize=(8, 7), sharex=True)
    for key in ["reward", *keys]:
        points = [(r["step"], r[key]) for r in stage_rows if r.get(key) is not None]
        if points:
            top.plot(*zip(*points), label=key.removeprefix("rewards/").removesuffix("/mean"))
    top.set_ylabel("reward (mean)")
    top.legend(fontsize=8)
    held = [r for r in rows if "heldout" in r]
    for phase in (WARMUP_PHASE, GRPO_PHASE):
        for key in ("accuracy", "accuracy_tolerant"):
            points = [(r["step"], r["heldout"][key]) for r in held if phase_of(r) == phase]
            if points:
                bottom.plot(*zip(*points), marker="o", label=f"{phase} held-out {key}")
    bottom.set_xlabel("step")
    bottom.set_ylabel("accuracy")
    bottom.legend(fontsize=8)
    write_png(fig, dest, dpi=100)
