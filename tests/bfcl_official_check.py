"""bfcl-eval's own verdicts, for tests/test_bfcl_conformance.py; run with the interpreter of a venv holding bfcl-eval.

Reads JSON lines {"category", "entry": {"id", "function", "possible_answer"}, and "decoded" or "text"} on stdin and
writes one {"valid", "error_type"} per line (or {"exception": "..."} where bfcl-eval raises), each through
eval_runner's own per-entry evaluation (decode-format checks, irrelevance rule, ast_checker):
- "decoded": calls already decoded, handed over by a stub handler whose decode_ast returns them, or raises
  where "decoded" is null (decoding failed);
- "text": a model's raw completion, read by BFCL's real Qwen FC handler exactly as its generation and
  evaluation read it (_parse_query_response_prompting keeps the answer after </think>, then decode_ast);
  the line also carries "decoded" (decode_ast's value) or "decode_error" (what it raised).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from types import SimpleNamespace

# bfcl-eval writes under its project root (locks, scores): keep that out of site-packages.
if "BFCL_PROJECT_ROOT" not in os.environ:
    os.environ["BFCL_PROJECT_ROOT"] = tempfile.mkdtemp(prefix="bfcl-root-")

from bfcl_eval.constants.enums import Language, ReturnFormat  # noqa: E402
from bfcl_eval.eval_checker import eval_runner  # noqa: E402

# The registry key of BFCL's Qwen3 FC models (QwenFCHandler, underscore_to_dot=False) and the runner's form of it.
REGISTRY_KEY = "Qwen/Qwen3-1.7B-FC"
MODEL_NAME = "Qwen_Qwen3-1.7B-FC"


class StubHandler:
    """Hands the runner the already-decoded calls; None stands for a decoding failure."""

    def __init__(self, decoded: object) -> None:
        self.decoded = decoded

    def decode_ast(self, result: object, language: object = None, has_tool_call_tag: bool = False) -> object:
        if self.decoded is None:
            raise ValueError("decoding failed")
        return self.decoded


def qwen_fc_handler() -> object:
    """BFCL's real handler for its Qwen3 FC models, built as its eval_runner builds it."""
    return eval_runner.get_handler(REGISTRY_KEY)


def model_response(handler: object, text: str) -> str:
    """What BFCL stores as the model's result for a raw completion (its answer after any </think>)."""
    api_response = SimpleNamespace(choices=[SimpleNamespace(text=text)],
                                   usage=SimpleNamespace(prompt_tokens=0, completion_tokens=0))
    return handler._parse_query_response_prompting(api_response)["model_responses"]


def verdict(case: dict, handler: object) -> dict:
    """bfcl-eval's verdict on one case (and, for raw text, its decoding)."""
    category, entry = case["category"], case["entry"]
    out: dict = {}
    if "text" in case:
        result = model_response(handler, case["text"])
        try:
            out["decoded"] = handler.decode_ast(result, ReturnFormat.PYTHON, False)
        except Exception as exc:  # noqa: BLE001 - eval_runner catches every exception here too
            out["decode_error"] = f"{type(exc).__name__}: {exc}"
    else:
        handler, result = StubHandler(case["decoded"]), ""
    prompt = {"id": entry["id"], "function": entry["function"]}
    if "irrelevance" in category:
        verdict = eval_runner._evaluate_single_relevance_entry(handler, entry["id"], result, prompt, MODEL_NAME,
                                                               category)
    else:
        verdict = eval_runner._evaluate_single_ast_entry(
            handler, entry["id"], result, entry["possible_answer"], prompt, MODEL_NAME, category,
            language=Language.PYTHON, return_format=ReturnFormat.PYTHON, has_tool_call_tag=False)
    return {**out, "valid": verdict["valid"], "error_type": verdict.get("error_type", "")}


def main() -> None:
    handler = qwen_fc_handler()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            out = verdict(json.loads(line), handler)
        except Exception as exc:  # noqa: BLE001 - reported to the test, which decides
            out = {"exception": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
