"""Grammar engines side by side on one GGUF: what each costs per generated token, and whether its output holds.

`edgefc bench engines [MODEL] [--threads N] [--repeats N]` decodes the same request (the weather
question, its answer constrained to the JSON of one get_weather call) through the same llama.cpp
context: llama-cpp-python's own loop free and under llama.cpp's GBNF (`LlamaGrammar.from_json_schema`,
applied by llama.cpp's sampler), and edgefc's loop (edgefc/runtimes/decode.py) free and under llguidance
(edgefc's engine, see edgefc/protocol/constrain.py). Each grammar's overhead is against its own loop
without a grammar. It prints decode ms per token, the overheads, llguidance's mask time, and whether each
answer is a valid JSON call. xgrammar is not measured: its Python package needs torch, which the on-device core does not carry.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any, Callable

import numpy as np

from edgefc.bench.latency import COLD_MESSAGE, TOOLS
from edgefc.runtimes.base import Sampling
from edgefc.runtimes.decode import decode

MAX_TOKENS = 48
CALL_SCHEMA = {"type": "object", "properties": {"name": {"const": "get_weather"},
                                                "arguments": TOOLS[0]["function"]["parameters"]},
               "required": ["name", "arguments"], "additionalProperties": False}


class _JsonConstraint:
    """llguidance on a bare JSON-Schema grammar, shaped like edgefc's Constraint for the decode loop."""

    def __init__(self, vocab: Any):
        from llguidance import LLMatcher

        self.vocab = vocab
        grammar = LLMatcher.grammar_from_json_schema(json.dumps(CALL_SCHEMA),
                                                     defaults={"whitespace_flexible": False})
        self.matcher = LLMatcher(vocab.tokenizer, grammar, log_level=0)
        self.done = False
        from llguidance.numpy import allocate_token_bitmask

        self._bits = allocate_token_bitmask(1, vocab.tokenizer.vocab_size)

    def mask(self, logits: np.ndarray) -> None:
        from llguidance.numpy import fill_next_token_bitmask

        fill_next_token_bitmask(self.matcher, self._bits)
        allowed = np.unpackbits(self._bits.view(np.uint8), count=logits.shape[-1], bitorder="little").view(bool)
        np.copyto(logits, -np.inf, where=~allowed)

    def advance(self, token: int) -> list[int]:
        self.matcher.consume_token(token)
        self.done = self.matcher.is_stopped()
        return []


def _timed(run: Callable[[], tuple[list[int], float]], repeats: int) -> tuple[list[int], float]:
    """The tokens of the last run and the median decode ms per token over the repeats."""
    per_token, tokens = [], []
    for _ in range(repeats):
        tokens, ms = run()
        per_token.append(ms)
    return tokens, statistics.median(per_token)


def measure(model: str, threads: int, repeats: int) -> dict[str, Any]:
    """Decode ms per token free, under GBNF and under llguidance, on the same prompt and context."""
    from llama_cpp import LlamaGrammar

    from edgefc.runtimes import load

    rt = load(model, "llamacpp", threads=threads)
    llm = rt.llm
    prompt = rt.tokenize(rt.render(COLD_MESSAGE, TOOLS))
    gbnf = LlamaGrammar.from_json_schema(json.dumps(CALL_SCHEMA), verbose=False)

    def native(grammar: Any) -> Callable[[], tuple[list[int], float]]:
        def run() -> tuple[list[int], float]:
            llm.reset()
            out, first = [], None
            for token in llm.generate(prompt, temp=0.0, top_k=1, grammar=grammar, repeat_penalty=1.0):
                first = first or time.perf_counter()
                if token in rt.stop_ids or len(out) >= MAX_TOKENS:
                    break
                out.append(token)
            return out, 1000 * (time.perf_counter() - first) / max(len(out), 1)
        return run

    grammar_ms: list[float] = []

    def edgefc_loop(constrained: bool) -> Callable[[], tuple[list[int], float]]:
        def run() -> tuple[list[int], float]:
            llm.reset()
            constraint = _JsonConstraint(rt.grammar_vocab) if constrained else None
            completion = decode(rt.eval_logits, prompt, max_tokens=MAX_TOKENS, sampling=Sampling(), stop_ids=rt.stop_ids,
                                constraint=constraint)  # type: ignore[arg-type]
            t = completion.timings
            if constrained:
                grammar_ms.append(1000 * t.grammar_s / max(t.completion_tokens, 1))
            return completion.tokens, 1000 / t.decode_tps if t.decode_tps else float("nan")
        return run

    engines = {"free": ("free", native(None)), "gbnf": ("free", native(gbnf)),
               "free (edgefc loop)": ("free (edgefc loop)", edgefc_loop(False)),
               "llguidance": ("free (edgefc loop)", edgefc_loop(True))}
    rows = {}
    try:
        for name, (_, run) in engines.items():
            tokens, ms = _timed(run, repeats)
            text = rt.detokenize(tokens)
            rows[name] = {"decode_ms_per_token": ms, "tokens": len(tokens), "valid_json_call": _valid(text),
                          "text": text}
    finally:
        rt.close()
    for name, (baseline, _) in engines.items():  # each engine against the same loop without a grammar
        if baseline != name:
            rows[name]["overhead_ms_per_token"] = (rows[name]["decode_ms_per_token"]
                                                   - rows[baseline]["decode_ms_per_token"])
    rows["llguidance"]["mask_ms_per_token"] = statistics.median(grammar_ms)
    return {"model": str(model), "threads": threads, "repeats": repeats, "engines": rows}


def _valid(text: str) -> bool:
    """Whether the text is one JSON object that is a get_weather call with a city."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return False
    return (isinstance(value, dict) and value.get("name") == "get_weather"
            and isinstance(value.get("arguments", {}).get("city"), str))


if __name__ == "__main__":  # the old entry point, kept: `edgefc bench engines` is the command
    import sys

    from edgefc.cli import main

    sys.argv = ["edgefc", "bench", "engines", *sys.argv[1:]]
    main()
