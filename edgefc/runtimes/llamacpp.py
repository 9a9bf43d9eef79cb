"""The llama.cpp runtime (llama-cpp-python): the on-device default, GGUF files, prefix cache across requests,
and a prompt prefix's KV state saved to disk so a new process starts warm (`warm_prefix`)."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from edgefc.errors import ModelError, require
from edgefc.protocol.constrain import Constraint, GrammarVocab
from edgefc.protocol.render import ChatTemplate
from edgefc.runtimes import prefix_state
from edgefc.runtimes.base import Clock, Completion, Runtime, Sampling, TokenSink
from edgefc.runtimes.decode import decode

DEFAULT_CONTEXT = 8192  # fits BFCL's longest prompts (~6.6K tokens) without a 32K KV cache


def gguf_chat_template(llm: Any, path: Path) -> ChatTemplate:
    """The chat template a loaded GGUF (`llama_cpp.Llama`, weights or vocabulary only) carries in its metadata,
    with its bos/eos texts as the template sees them under transformers."""
    source = llm.metadata.get("tokenizer.chat_template")
    if not source:
        raise ModelError(f"{path.name} carries no chat template (tokenizer.chat_template) in its metadata")
    specials = {key: llm.detokenize([token_id], special=True).decode("utf-8", errors="replace")
                for key, token_id in (("bos_token", llm.token_bos()), ("eos_token", llm.token_eos()))
                if token_id >= 0}
    return ChatTemplate(source, specials)


class LlamaCppRuntime(Runtime):
    """A GGUF file run by llama.cpp, with an optional LoRA adapter GGUF applied at run time; the chat template is
    the one stored in the file."""

    name = "llamacpp"
    format = "gguf"
    fixed_context = True
    raw_baseline = True  # llama-cpp-python's own generate loop
    keeps_prefix_state = True

    def __init__(self, path: Path, threads: int | None = None, n_ctx: int = DEFAULT_CONTEXT,
                 adapter: Path | None = None):
        llama_cpp = require("llama_cpp")
        threads = threads or os.cpu_count() or 1
        try:
            self.llm = llama_cpp.Llama(str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                                       n_gpu_layers=0, verbose=False)
        except ValueError as exc:
            raise ModelError(f"llama.cpp cannot load {path}: {exc}") from exc
        super().__init__(path, gguf_chat_template(self.llm, path), threads)
        self._llama_cpp = llama_cpp
        self.adapter = adapter
        if adapter is not None:
            self._apply_adapter(adapter)
        self._vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        self.stop_ids = frozenset(i for i in range(self.llm.n_vocab()) if llama_cpp.llama_vocab_is_eog(self._vocab, i))

    def _apply_adapter(self, adapter: Path) -> None:
        """Apply a LoRA adapter GGUF at scale 1 through llama.cpp's own API: Llama(lora_path=...) would turn off
        mmap and read the whole base into memory. llama.cpp frees the adapter with the model."""
        from llama_cpp._utils import suppress_stdout_stderr

        with suppress_stdout_stderr(disable=False):  # a warning per repacked base tensor (CPU_REPACK) at each load
            handle = self._llama_cpp.llama_adapter_lora_init(self.llm.model, str(adapter).encode("utf-8"))
        if handle is None:
            self.llm.close()
            raise ModelError(f"llama.cpp cannot apply the adapter {adapter.name} to {self.path.name} (another "
                             "architecture, or tensors the base does not have)")
        adapters = (self._llama_cpp.llama_adapter_lora_p_ctypes * 1)(handle)
        if self._llama_cpp.llama_set_adapters_lora(self.llm.ctx, adapters, 1, (ctypes.c_float * 1)(1.0)) != 0:
            self.llm.close()
            raise ModelError(f"llama.cpp could not set the adapter {adapter.name} on {self.path.name}")

    def tokenize(self, prompt: str) -> list[int]:
        return self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)

    def detokenize(self, tokens: Sequence[int]) -> str:
        return self.llm.detokenize(list(tokens), special=True).decode("utf-8", errors="replace")

    def cached_prefix(self, prompt_tokens: Sequence[int]) -> int:
        """How many leading prompt tokens are already in the KV cache from the previous request."""
        n = 0
        for a, b in zip(self.llm.input_ids[: self.llm.n_tokens], prompt_tokens):
            if a != b:
                break
            n += 1
        return min(n, len(prompt_tokens) - 1)  # the last prompt token is always evaluated again

    @property
    def context_size(self) -> int:
        return self.llm.n_ctx()

    def complete(self, prompt_tokens: list[int], *, max_tokens: int, sampling: Sampling,
                 constraint: Constraint | None = None, on_tokens: TokenSink | None = None) -> Completion:
        if len(prompt_tokens) + max_tokens > self.llm.n_ctx():
            raise ModelError(f"prompt of {len(prompt_tokens)} tokens + {max_tokens} new tokens exceeds the "
                             f"context of {self.llm.n_ctx()} tokens")
        cached = self.cached_prefix(prompt_tokens)
        if constraint is not None:
            return self._complete_constrained(prompt_tokens, cached, max_tokens, sampling, constraint, on_tokens)
        if sampling.greedy:
            params = {"temp": 0.0, "top_k": 1, "top_p": 1.0, "min_p": 0.0}
        else:
            self.llm.set_seed(sampling.seed)
            params = {"temp": sampling.temperature, "top_p": sampling.top_p, "top_k": 0, "min_p": 0.0}
        clock = Clock()
        tokens: list[int] = []
        finish = "length"
        for token in self.llm.generate(prompt_tokens, repeat_penalty=1.0, **params):
            clock.token()
            if token in self.stop_ids:
                finish = "stop"
                break
            tokens.append(token)
            if on_tokens is not None and not on_tokens([token]):
                finish = "stop"
                break
            if len(tokens) >= max_tokens:
                break
        return Completion(tokens, finish, clock.timings(len(prompt_tokens), len(tokens), cached))

    def _complete_constrained(self, prompt_tokens: list[int], cached: int, max_tokens: int, sampling: Sampling,
                              constraint: Constraint, on_tokens: TokenSink | None) -> Completion:
        """edgefc's own loop (decode.py) over llama.cpp's eval: masked logits, forced tokens in one batch."""
        self.llm.n_tokens = cached  # eval drops the KV cache after this position
        return decode(self.eval_logits, prompt_tokens, max_tokens=max_tokens, sampling=sampling, stop_ids=self.stop_ids,
                      constraint=constraint, cached_tokens=cached, evaluate=prompt_tokens[cached:], on_tokens=on_tokens,
                      drafter=self.drafter(prompt_tokens), rewind=self.rewind)

    def _grammar_vocab(self) -> GrammarVocab:
        return GrammarVocab.from_llama(self._vocab, self.stop_ids, n_vocab=self.llm.n_vocab())

    def eval_logits(self, ids: list[int], rows: int = 1) -> np.ndarray:
        """Evaluate `ids` after what the KV cache holds and return the logits of their last `rows` positions
        (a writable copy, rows x vocab): the step of edgefc's decoding loop (decode.py). llama-cpp-python's
        `eval` computes the last position's logits only; this is that loop with the last `rows` marked."""
        llm = self.llm
        llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)
        head, tail = ids[: len(ids) - rows], ids[len(ids) - rows:]
        for chunk in [*(head[i:i + llm.n_batch] for i in range(0, len(head), llm.n_batch)), tail]:
            llm._batch.set_batch(batch=chunk, n_past=llm.n_tokens, logits_all=chunk is tail)
            llm._ctx.decode(llm._batch)
            llm.input_ids[llm.n_tokens:llm.n_tokens + len(chunk)] = chunk
            llm.n_tokens += len(chunk)
        width = llm.n_vocab()
        return np.stack([np.ctypeslib.as_array(self._llama_cpp.llama_get_logits_ith(llm.ctx, i - rows), shape=(width,))
                         for i in range(rows)])

    def rewind(self, count: int) -> None:
        """Forget the last `count` evaluated positions (the next eval drops their key/values)."""
        self.llm.n_tokens -= count

    def logits(self, tokens: list[int], last: int) -> np.ndarray:
        """Teacher-forced, in one pass: the logits of the last `last` positions of `tokens`."""
        self.llm.reset()
        return self.eval_logits(tokens, rows=last).astype(np.float32)

    def warm_prefix(self, prefix_text: str, cache_dir: Path | None = None) -> str:
        """Make the KV cache hold `prefix_text`'s tokens (an agent's system + tools block): "cached" when it
        already does, "restored" from a state file in `cache_dir` (default: under the edgefc home), else
        "saved" after evaluating the prefix and writing its state there. A bad state file is rebuilt."""
        tokens = self.tokenize(prefix_text)
        if not tokens:
            return "cached"
        if len(tokens) >= self.llm.n_ctx():
            raise ModelError(f"the prompt prefix of {len(tokens)} tokens does not fit the context of "
                             f"{self.llm.n_ctx()} tokens")
        if self.llm.n_tokens >= len(tokens) and list(self.llm.input_ids[: len(tokens)]) == tokens:
            return "cached"
        folder = cache_dir or prefix_state.default_dir()
        key = {"model_sha256": prefix_state.file_sha256(self.path, folder),
               "prefix_sha256": prefix_state.text_sha256(prefix_text),
               "backend": f"llama-cpp-python {self._llama_cpp.__version__}",
               "kv_types": f"{self.llm.context_params.type_k}/{self.llm.context_params.type_v}"}
        if self.adapter is not None:  # the adapter changes every KV entry; keys of plain models stay as they were
            key["adapter_sha256"] = prefix_state.file_sha256(self.adapter, folder)

        def build() -> bytes:
            self.llm.reset()
            self.llm.eval(tokens)
            return self._sequence_state()

        return prefix_state.warm(folder, key, tokens, lambda payload: self._restore(tokens, payload), build)

    def _sequence_state(self) -> bytes:
        """The KV cache of sequence 0 (no logits: the last prompt token is always evaluated again)."""
        size = self._llama_cpp.llama_state_seq_get_size(self.llm.ctx, 0)
        buffer = (ctypes.c_uint8 * size)()
        written = self._llama_cpp.llama_state_seq_get_data(self.llm.ctx, buffer, size, 0)
        if written == 0 or written > size:
            raise RuntimeError(f"llama.cpp copied {written} of {size} bytes of the sequence state")
        return bytes(memoryview(buffer)[:written])

    def _restore(self, tokens: list[int], payload: bytearray) -> bool:
        """Load a sequence state written by `_sequence_state` for `tokens`; False (cache left empty) if
        llama.cpp refuses it."""
        memory = self._llama_cpp.llama_get_memory(self.llm.ctx)
        self.llm.reset()
        self._llama_cpp.llama_memory_clear(memory, True)
        buffer = (ctypes.c_uint8 * len(payload)).from_buffer(payload)
        if self._llama_cpp.llama_state_seq_set_data(self.llm.ctx, buffer, len(payload), 0) == 0:
            self._llama_cpp.llama_memory_clear(memory, True)
            return False
        self.llm.input_ids[: len(tokens)] = tokens
        self.llm.n_tokens = len(tokens)
        return True

    def reset_cache(self) -> None:
        self.llm.reset()

    def close(self) -> None:
        self.llm.close()
