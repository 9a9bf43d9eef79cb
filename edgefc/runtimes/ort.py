"""The onnxruntime runtime: an optimum-exported decoder with past key values, run by onnxruntime alone.

No torch, no transformers: the `tokenizers` library reads tokenizer.json, and the decoding loop below
feeds the KV cache back by the input names the exporter wrote (past_key_values.N.key/value). The key/values
of the previous request are kept, so a prompt that extends it (an agent's next turn) evaluates only what is new.
Graphs exported by edgefc take LOGITS_TO_KEEP, so a prefill computes the lm_head for its last position only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from edgefc.errors import ModelError, require
from edgefc.protocol.constrain import Constraint, GrammarVocab
from edgefc.protocol.render import ChatTemplate
from edgefc.runtimes import prefix_state
from edgefc.runtimes.base import Completion, Runtime, Sampling, TokenSink, end_of_turn_ids
from edgefc.runtimes.decode import decode

_ORT_DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}
LOGITS_TO_KEEP = "logits_to_keep"  # input of edgefc's ONNX graphs: logits for the last k positions, 0 = all


class OnnxRuntime(Runtime):
    """An ONNX folder (model.onnx + tokenizer files) run on the CPU execution provider."""

    name = "onnxruntime"
    format = "onnx"
    keeps_prefix_state = True
    # A setting: logits at every evaluated position, as graphs without LOGITS_TO_KEEP compute them (what
    # `edgefc bench speed` measures against).
    all_logits: bool = False

    def __init__(self, path: Path, threads: int | None = None):
        ort = require("onnxruntime", "onnx")
        tokenizers = require("tokenizers", "onnx")
        model_file = _model_file(path)
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # errors only: at load onnxruntime warns that LOGITS_TO_KEEP, an input with a default, is not folded
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
            self.tokenizer = tokenizers.Tokenizer.from_file(str(path / "tokenizer.json"))
        except Exception as exc:  # onnxruntime raises its own exception types, not importable by a stable name
            raise ModelError(f"onnxruntime cannot load {path}: {exc}") from exc
        super().__init__(path, ChatTemplate.from_hf_dir(path), threads)
        self._ort_version = ort.__version__
        self.model_files = sorted(path.glob(f"{model_file.name}*"))  # the graph and its external data
        inputs = {i.name: i for i in self.session.get_inputs()}
        self.past_inputs = sorted((n for n in inputs if n.startswith("past_key_values.")), key=_layer_order)
        self.input_names = set(inputs) | {i.name for i in self.session.get_overridable_initializers()}
        self.outputs = ["logits", *(n.replace("past_key_values", "present") for n in self.past_inputs)]
        if "input_ids" not in inputs or not self.past_inputs:
            raise ModelError(f"{model_file.name} is not a decoder with past key values (export it with "
                             "`edgefc export ... --format onnx`)")
        first = inputs[self.past_inputs[0]]
        self.kv_heads, self.head_dim = first.shape[1], first.shape[3]
        self.kv_dtype = _ORT_DTYPES.get(first.type, np.float32)
        config = path / "generation_config.json"
        eos = json.loads(config.read_text()).get("eos_token_id") if config.is_file() else None
        self.stop_ids = end_of_turn_ids(self.tokenizer.token_to_id, eos)
        # the token ids evaluated by the previous request and their key/values (one array per past input)
        self._cache: tuple[list[int], list[np.ndarray]] = [], self._empty_past()

    def tokenize(self, prompt: str) -> list[int]:
        return self.tokenizer.encode(prompt, add_special_tokens=False).ids

    def detokenize(self, tokens: Sequence[int]) -> str:
        return self.tokenizer.decode(list(tokens), skip_special_tokens=False)

    def _feed(self, ids: list[int], start: int, past: list[np.ndarray], keep: int = 1) -> dict[str, np.ndarray]:
        """The inputs that evaluate `ids` after `start` cached positions; logits for the last `keep` of them
        where the graph can leave out the others."""
        n = len(ids)
        feed: dict[str, np.ndarray] = {"input_ids": np.array([ids], dtype=np.int64)}
        if LOGITS_TO_KEEP in self.input_names:
            feed[LOGITS_TO_KEEP] = np.array([0 if self.all_logits else keep], dtype=np.int64)
        if "attention_mask" in self.input_names:
            feed["attention_mask"] = np.ones((1, start + n), dtype=np.int64)
        if "position_ids" in self.input_names:
            feed["position_ids"] = np.arange(start, start + n, dtype=np.int64)[None, :]
        feed.update(zip(self.past_inputs, past))
        return feed

    def complete(self, prompt_tokens: list[int], *, max_tokens: int, sampling: Sampling,
                 constraint: Constraint | None = None, on_tokens: TokenSink | None = None) -> Completion:
        """Decode after the longest prefix shared with the previous request's evaluated tokens, whose key/values
        are kept (cut along the sequence axis); the last prompt token is always evaluated again."""
        # One copy of the key/values at a time: the cut views below hold the old arrays only until the first
        # step's outputs replace them; the cache is stored back whatever happens, consistent after each step.
        ids, past = self._cache
        self._cache = [], self._empty_past()
        cached = max(0, min(_common_prefix(ids, prompt_tokens), len(prompt_tokens) - 1))
        state = {"ids": ids[:cached], "past": [p[:, :, :cached] for p in past]}
        del past

        def step(new: list[int], rows: int) -> np.ndarray:
            feed = self._feed(new, len(state["ids"]), state["past"], keep=rows)
            logits, *present = self.session.run(self.outputs, feed)
            state["past"] = present
            state["ids"].extend(new)
            return logits[0, -rows:].astype(np.float32)

        def rewind(count: int) -> None:
            keep = len(state["ids"]) - count
            state["ids"], state["past"] = state["ids"][:keep], [p[:, :, :keep] for p in state["past"]]

        try:
            return decode(step, list(prompt_tokens), max_tokens=max_tokens, sampling=sampling,
                          stop_ids=self.stop_ids, constraint=constraint, cached_tokens=cached,
                          evaluate=list(prompt_tokens[cached:]), on_tokens=on_tokens,
                          drafter=self.drafter(prompt_tokens), rewind=rewind)
        finally:
            self._cache = state["ids"], state["past"]

    def reset_cache(self) -> None:
        self._cache = [], self._empty_past()

    def warm_prefix(self, prefix_text: str, cache_dir: Path | None = None) -> str:
        """Make the kept key/values hold `prefix_text`'s tokens: "cached", "restored" or "saved", as
        LlamaCppRuntime.warm_prefix (the payload is the key/values of every layer, in the past inputs' order)."""
        tokens = self.tokenize(prefix_text)
        if self._cache[0][: len(tokens)] == tokens:
            return "cached"
        folder = cache_dir or prefix_state.default_dir()
        key = {"model_sha256": prefix_state.files_sha256(self.model_files, folder),
               "prefix_sha256": prefix_state.text_sha256(prefix_text), "backend": f"onnxruntime {self._ort_version}",
               "kv": f"{len(self.past_inputs)}x{self.kv_heads}x{self.head_dim} {np.dtype(self.kv_dtype).name}"}
        shape = (len(self.past_inputs), 1, self.kv_heads, len(tokens), self.head_dim)

        def restore(payload: bytearray) -> bool:
            values = np.frombuffer(payload, dtype=self.kv_dtype)
            if values.size != np.prod(shape):
                return False
            self._cache = list(tokens), list(values.reshape(shape))
            return True

        def build() -> bytes:
            self.reset_cache()
            _, *present = self.session.run(self.outputs, self._feed(tokens, 0, self._empty_past()))
            self._cache = list(tokens), present
            return b"".join(p.tobytes() for p in present)

        return prefix_state.warm(folder, key, tokens, restore, build)

    def _empty_past(self) -> list[np.ndarray]:
        return [np.zeros((1, self.kv_heads, 0, self.head_dim), dtype=self.kv_dtype)] * len(self.past_inputs)

    def _grammar_vocab(self) -> GrammarVocab:
        width = self.session.get_outputs()[0].shape[-1]
        return GrammarVocab.from_hf(self.tokenizer, self.stop_ids, n_vocab=width if isinstance(width, int) else None)

    def logits(self, tokens: list[int], last: int) -> np.ndarray:
        out = self.session.run(["logits"], self._feed(list(tokens), 0, self._empty_past(), keep=last))[0]
        return out[0, -last:].astype(np.float32)


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _model_file(path: Path) -> Path:
    for name in ("model.onnx", "decoder_model_merged.onnx", "decoder_with_past_model.onnx"):
        if (path / name).is_file():
            return path / name
    found = sorted(path.glob("*.onnx"))
    if not found:
        raise ModelError(f"{path} holds no .onnx file")
    return found[0]


def _layer_order(name: str) -> tuple[int, int]:
    _, layer, kind = name.split(".")
    return int(layer), 0 if kind == "key" else 1

