"""GRPO rollouts sampled under the tool grammar: every rollout is well-formed calls or plain text.

TRL's GRPOTrainer samples rollouts with `generate`, freely: the embedded model then fences its calls or writes bare
JSON, and the rewards spend their signal on form. `GrammarRollouts` is a `rollout_func` (TRL's hook for sampling
another way) that samples from the model in training with edgefc's tool grammar masking every step: the grammar of
`edgefc.protocol.grammar` for the row's tools (tool_choice "auto", parallel calls allowed), applied by
`edgefc.protocol.constrain.Constraint` with the runtimes' rules (the first step's steering of disguised call openers
onto `<tool_call>`, end of turn only where the grammar accepts). So every rollout that ends is canonical
`<tool_call>` blocks or text (the refusal sentence among them), and the rewards measure decisions and values. A
rollout can still be cut by `max_completion_length` (counted in TRL's `completions/clipped_ratio`).

The tools: TRL hands a rollout_func only the prompts. Each prompt was rendered with its row's tools (run.render_rows
puts them in the prompt text), so the text determines the tools: the rollouts hold a map from each training row's
prompt to its tools, built from the rows the train dataset is made of; a prompt the map lacks is a loud error, never
an unconstrained rollout.

TRL 1.16's contract, read from its source:
- `prompts` are this process's batch as TRL's RepeatSampler lays it out, each prompt `num_generations` times in a
  row; one completion is returned per entry, in order. A prompt's consecutive copies (its group) are sampled as one
  batch: one prefill, its KV cache repeated, then one forward per token for the whole group, each row with its own
  grammar state (no jump-forward: forced tokens are taken one step at a time, which keeps the rows in step).
- `logprobs`: each sampled token's log-probability under the distribution it was drawn from (masked, steered,
  tempered, top-k/top-p). TRL reads them only for vLLM's importance-sampling correction and for the off-policy mask
  (`off_policy_mask_threshold`); the loss's ratio uses the trainer's own log-probabilities of the unmasked model at
  the same temperature. The masked distribution is always above the model's on the tokens it allows, so the
  off-policy mask would drop every constrained rollout with a negative advantage: it and vLLM are refused here.
- `env_mask` (TRL's mask for tokens the model did not choose, taken out of the loss): 0 for tokens the grammar forced
  (a single allowed token: the rest of a tool name, `", "arguments": `, closing tags, an end of turn after an answer
  that can take nothing more), 1 for the rest. A forced token carries no decision; trained with a negative advantage it
  would teach the model to avoid closing its calls. `completions/mean_length` then counts chosen tokens only.
- `beta` > 0 (a reference model) and every `loss_type` work unchanged: they read the completion ids, not how they
  were sampled. The KL estimate is then taken on grammar-shaped samples, a regulariser rather than the true KL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from typing import Any

import numpy as np

from edgefc.errors import EdgefcError
from edgefc.protocol.constrain import Constraint, GrammarVocab
from edgefc.protocol.grammar import tool_grammar
from edgefc.runtimes.base import end_of_turn_ids
from edgefc.train.data.record import column_value

# GRPOConfig arguments, with their neutral values, that grammar rollouts would ignore or misread (see the module
# doc): vLLM and TRL's own generation settings are not used, and the off-policy mask misreads the masked logprobs.
UNSUPPORTED = {"use_vllm": False, "off_policy_mask_threshold": None, "min_p": None, "repetition_penalty": 1.0,
               "generation_kwargs": None}


def check_config(grpo: dict[str, Any]) -> None:
    """Refuse GRPOConfig arguments grammar rollouts would silently ignore or misread (one sentence)."""
    bad = sorted(key for key, neutral in UNSUPPORTED.items() if grpo.get(key, neutral) not in (neutral, None, False, {}))
    if bad:
        raise EdgefcError(f"rollouts: grammar samples with the model in training and its own sampler, so "
                          f"{', '.join(bad)} cannot apply: remove them or use rollouts: free")


class GrammarRollouts:
    """TRL's `rollout_func` sampling under edgefc's tool grammar (see the module doc)."""

    def __init__(self, rows: Sequence[dict[str, Any]], tokenizer: Any, *, thinking: bool = False, seed: int = 0):
        self.tokenizer = tokenizer
        self.thinking = thinking
        self.seed = seed
        self.tools: dict[str, Any] = {}
        for row in rows:
            tools = column_value(row["tools"])
            if self.tools.setdefault(row["prompt"], tools) != tools:
                raise EdgefcError("two training rows render to the same prompt with different tools: the chat "
                                  "template does not show the tools, which grammar rollouts need")
        self.vocab: GrammarVocab | None = None
        self.end_of_turn: set[int] = set()
        self.eos = -1
        self.generator: Any = None

    def __call__(self, prompts: list[Any], trainer: Any) -> dict[str, list[Any]]:
        import torch

        started = time.perf_counter()
        if self.generator is None:
            self.generator = torch.Generator().manual_seed(self.seed)
        out: dict[str, list[Any]] = {"prompt_ids": [], "completion_ids": [], "logprobs": [], "env_mask": []}
        sampling = Sampler(trainer.temperature, trainer.top_p, trainer.top_k or 0, self.generator)
        with _unwrapped(trainer) as model, torch.no_grad():
            for prompt, count in _groups(prompts):
                if not isinstance(prompt, str):
                    raise EdgefcError("rollouts: grammar takes rendered text prompts (edgefc train renders them)")
                if prompt not in self.tools:
                    raise EdgefcError("a prompt reached the grammar rollouts that no training row has: its tools are "
                                      "unknown")
                prompt_ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
                for ids, logprobs, chosen in self.group(model, prompt_ids, self.tools[prompt], count, sampling,
                                                        trainer.max_completion_length, trainer):
                    out["prompt_ids"].append(list(prompt_ids))
                    out["completion_ids"].append(ids)
                    out["logprobs"].append(logprobs)
                    out["env_mask"].append(chosen)
        _log(trainer, out["env_mask"], time.perf_counter() - started)
        return out

    def group(self, model: Any, prompt_ids: list[int], tools: Any, count: int, sampling: Sampler, max_tokens: int,
              trainer: Any = None) -> list[tuple[list[int], list[float], list[int]]]:
        """`count` completions of one prompt, sampled together: (completion ids, their logprobs, env_mask) each.
        A completion ends with an end-of-turn id where the grammar accepted, or is cut at `max_tokens`."""
        import torch
        from transformers import DynamicCache

        device = next(model.parameters()).device
        cache = DynamicCache()
        first = model(input_ids=torch.tensor([prompt_ids], device=device), past_key_values=cache, use_cache=True,
                      logits_to_keep=1)
        self._vocab(first.logits.shape[-1], trainer)
        assert self.vocab is not None
        grammar = tool_grammar(tools, "auto", True, thinking=self.thinking)
        constraints = [Constraint(self.vocab, grammar, jump_forward=False) for _ in range(count)]
        if count > 1:
            cache.batch_repeat_interleave(count)
        logits = first.logits[:, -1].float().repeat(count, 1)
        ids: list[list[int]] = [[] for _ in range(count)]
        logprobs: list[list[float]] = [[] for _ in range(count)]
        chosen: list[list[int]] = [[] for _ in range(count)]
        active = list(range(count))
        while active:
            rows = logits.cpu().numpy().copy()
            for row, index in zip(rows, active):
                constraints[index].mask(row)
            forced = np.isfinite(rows).sum(axis=1) == 1
            tokens, token_logprobs = sampling.sample(torch.from_numpy(rows))
            still = []
            for position, index in enumerate(active):
                token = int(tokens[position])
                ids[index].append(token)
                logprobs[index].append(float(token_logprobs[position]))
                chosen[index].append(0 if forced[position] else 1)
                if token in self.end_of_turn:
                    continue
                constraints[index].advance(token)
                if len(ids[index]) >= max_tokens:
                    continue
                if constraints[index].done:  # nothing but the end of turn can follow: it is forced
                    ids[index].append(self.eos)
                    logprobs[index].append(0.0)
                    chosen[index].append(0)
                    continue
                still.append(position)
            if not still:
                break
            if len(still) < len(active):
                cache.batch_select_indices(torch.tensor(still, device=device))
            active = [active[position] for position in still]
            step = model(input_ids=torch.tensor([[ids[index][-1]] for index in active], device=device),
                         past_key_values=cache, use_cache=True, logits_to_keep=1)
            logits = step.logits[:, -1].float()
        return list(zip(ids, logprobs, chosen))

    def _vocab(self, n_vocab: int, trainer: Any) -> None:
        """The grammar's view of the vocabulary, built once (about a second on Qwen's 152K tokens)."""
        if self.vocab is not None:
            return
        configured = list(getattr(trainer, "eos_token_ids", None) or [])
        self.end_of_turn = end_of_turn_ids(self.tokenizer.get_vocab().get, configured, self.tokenizer.eos_token_id)
        self.eos = self.tokenizer.eos_token_id if self.tokenizer.eos_token_id in self.end_of_turn \
            else min(self.end_of_turn)
        self.vocab = GrammarVocab.from_hf(self.tokenizer, self.end_of_turn, n_vocab=n_vocab)


class Sampler:
    """Temperature, then top-k and top-p (decode.pick_token's rule: the likeliest tokens up to and including the one
    that reaches top_p), over a batch of masked logits; returns the tokens and their log-probabilities under the
    distribution they were drawn from."""

    def __init__(self, temperature: float, top_p: float = 1.0, top_k: int = 0, generator: Any = None):
        if not temperature or temperature <= 0:
            raise EdgefcError("rollouts: grammar samples, so the GRPO temperature must be above 0")
        self.temperature, self.top_p, self.top_k, self.generator = temperature, top_p, top_k, generator

    def sample(self, logits: Any) -> tuple[Any, Any]:
        import torch

        z = logits.float() / self.temperature
        if self.top_k and self.top_k < z.shape[-1]:
            kth = torch.topk(z, self.top_k, dim=-1).values[:, -1:]
            z = z.masked_fill(z < kth, float("-inf"))
        if self.top_p < 1.0:
            ordered, order = torch.sort(z, dim=-1, descending=True)
            probs = torch.softmax(ordered, dim=-1)
            beyond = (torch.cumsum(probs, dim=-1) - probs) >= self.top_p
            z = z.scatter(-1, order, ordered.masked_fill(beyond, float("-inf")))
        logp = torch.log_softmax(z, dim=-1)
        # inverse CDF (torch.multinomial over Qwen's 152K ids costs ~15 ms a call on a CPU): the first id whose
        # cumulative probability passes a uniform draw, so an id of probability 0 is never drawn
        cdf = torch.cumsum(logp.double().exp(), dim=-1)
        draw = torch.rand((z.shape[0], 1), generator=self.generator, dtype=torch.float64) * cdf[:, -1:]
        tokens = torch.searchsorted(cdf, draw, right=True).clamp_(max=z.shape[-1] - 1)
        return tokens[:, 0], logp.gather(-1, tokens)[:, 0]


def _groups(prompts: Sequence[Any]) -> Iterator[tuple[Any, int]]:
    """Runs of equal consecutive prompts, as (prompt, count): the groups TRL's sampler lays out."""
    run: list[Any] = []
    for prompt in prompts:
        if run and prompt != run[0]:
            yield run[0], len(run)
            run = []
        run.append(prompt)
    if run:
        yield run[0], len(run)


def _unwrapped(trainer: Any) -> Any:
    """The model in training, unwrapped as TRL unwraps it for its own generation (DeepSpeed, DDP, gradient
    checkpointing off meanwhile); a bare model (tests) as it is."""
    if not hasattr(trainer, "accelerator"):
        return nullcontext(trainer.model)
    from trl.models.utils import unwrap_model_for_generation

    return unwrap_model_for_generation(trainer.model_wrapped, trainer.accelerator,
                                       gather_deepspeed3_params=trainer.args.ds3_gather_for_generation,
                                       gradient_checkpointing_kwargs=trainer.args.gradient_checkpointing_kwargs)


def _log(trainer: Any, env_mask: list[list[int]], seconds: float) -> None:
    """The share of forced tokens and the sampling time, into TRL's metrics of this step (logged with the rest)."""
    metrics = getattr(trainer, "_metrics", None)
    if metrics is None:
        return
    mode = "train" if trainer.model.training else "eval"
    total = sum(len(mask) for mask in env_mask)
    metrics[mode]["rollouts/forced_share"].append(1 - sum(map(sum, env_mask)) / total if total else 0.0)
    metrics[mode]["rollouts/seconds"].append(seconds)
