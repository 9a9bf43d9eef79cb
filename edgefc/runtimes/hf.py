"""The transformers runtime: the reference implementation every exported file is compared with."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from edgefc.errors import ModelError, require
from edgefc.models.hftokenizer import load_tokenizer
from edgefc.protocol.constrain import Constraint, GrammarVocab
from edgefc.protocol.render import ChatTemplate
from edgefc.runtimes.base import Clock, Completion, Runtime, Sampling, TokenSink, end_of_turn_ids
from edgefc.runtimes.decode import decode


class _TokenClock:
    """A transformers streamer that only notes when each new token arrives (the first put is the prompt)."""

    def __init__(self, clock: Clock):
        self.clock, self.seen_prompt = clock, False

    def put(self, value: Any) -> None:
        if self.seen_prompt:
            self.clock.token()
        self.seen_prompt = True

    def end(self) -> None:
        pass


class TransformersRuntime(Runtime):
    """A Hugging Face folder run by transformers on the CPU in float32, whatever dtype the checkpoint is stored in:
    it is the reference exports are verified against, so it must not compute in bf16."""

    name = "transformers"
    format = "hf"

    def __init__(self, path: Path, threads: int | None = None):
        transformers = require("transformers", "hf")
        import torch

        if threads:
            torch.set_num_threads(threads)  # process-wide: torch has no per-model setting
        try:
            self.tokenizer = load_tokenizer(path)
            self.model = transformers.AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
        except (OSError, ValueError) as exc:
            raise ModelError(f"transformers cannot load {path}: {exc}") from exc
        super().__init__(path, ChatTemplate.from_hf_dir(path), threads)
        vocab = self.tokenizer.get_vocab()
        self.stop_ids = sorted(end_of_turn_ids(vocab.get, getattr(self.model.generation_config, "eos_token_id", None),
                                               self.tokenizer.eos_token_id))

    def tokenize(self, prompt: str) -> list[int]:
        return self.tokenizer(prompt, add_special_tokens=False)["input_ids"]

    def detokenize(self, tokens: Sequence[int]) -> str:
        return self.tokenizer.decode(list(tokens), skip_special_tokens=False)

    def complete(self, prompt_tokens: list[int], *, max_tokens: int, sampling: Sampling,
                 constraint: Constraint | None = None, on_tokens: TokenSink | None = None) -> Completion:
        if constraint is not None or on_tokens is not None:
            return self._complete_stepwise(prompt_tokens, max_tokens, sampling, constraint, on_tokens)
        import torch

        ids = torch.tensor([prompt_tokens])
        kwargs: dict[str, Any] = {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        if not sampling.greedy:
            torch.manual_seed(sampling.seed)
            kwargs = {"do_sample": True, "temperature": sampling.temperature, "top_p": sampling.top_p, "top_k": 0}
        clock = Clock()
        with torch.inference_mode():
            out = self.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_tokens,
                                      eos_token_id=self.stop_ids, pad_token_id=self.stop_ids[0],
                                      streamer=_TokenClock(clock), **kwargs)
        new = out[0, len(prompt_tokens):].tolist()
        stopped = bool(new) and new[-1] in self.stop_ids
        tokens = new[:-1] if stopped else new
        return Completion(tokens, "stop" if stopped else "length", clock.timings(len(prompt_tokens), len(tokens)))

    def _complete_stepwise(self, prompt_tokens: list[int], max_tokens: int, sampling: Sampling,
                           constraint: Constraint | None, on_tokens: TokenSink | None) -> Completion:
        """edgefc's own loop (decode.py) over the model with its KV cache: `generate` cannot batch forced tokens
        nor hand each token to a caller that may stop it."""
        import torch
        from transformers import DynamicCache

        cache = DynamicCache()

        def step(ids: list[int], rows: int) -> np.ndarray:
            with torch.inference_mode():
                out = self.model(torch.tensor([ids]), past_key_values=cache, use_cache=True, logits_to_keep=rows)
            return out.logits[0, -rows:].float().numpy().copy()

        def rewind(count: int) -> None:
            cache.crop(cache.get_seq_length() - count)

        return decode(step, list(prompt_tokens), max_tokens=max_tokens, sampling=sampling,
                      stop_ids=set(self.stop_ids), constraint=constraint, on_tokens=on_tokens,
                      drafter=self.drafter(prompt_tokens), rewind=rewind)

    def _grammar_vocab(self) -> GrammarVocab:
        return GrammarVocab.from_hf(self.tokenizer, self.stop_ids, n_vocab=self.model.config.vocab_size)

    def logits(self, tokens: list[int], last: int) -> np.ndarray:
        import torch

        with torch.inference_mode():
            out = self.model(torch.tensor([tokens]), logits_to_keep=last).logits
        return out[0, -last:].float().numpy()

    def close(self) -> None:
        self.model = None

