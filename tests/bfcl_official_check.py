"""bfcl-eval's own verdicts, for tests/test_bfcl_conformance.py; run with the interpreter of a venv holding bfcl-eval.

Reads JSON lines {"category", "entry": {"id", "function", "possible_answer"}, "decoded"} on stdin and writes one
{"valid", "error_type"} per line (or {"exception": "..."} where bfcl-eval raises). The decoded calls go through
eval_runner's own per-entry evaluation (decode-format checks, irrelevance rule, ast_checker) with a stub handler
whose decode_ast returns them, or raises where "decoded" is null (decoding failed).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

# bfcl-eval writes under its project root (locks, scores): keep that out of site-packages.
if "BFCL_PROJECT_ROOT" not in os.environ:
    os.environ["BFCL_PROJECT_ROOT"] = tempfile.mkdtemp(prefix="bfcl-root-")

from bfcl_eval.constants.enums import Language, ReturnFormat  # noqa: E402
from bfcl_eval.eval_checker import eval_runner  # noqa: E402

# The runner's form of the registry key "Qwen/Qwen3-1.7B-FC" (QwenFCHandler, underscore_to_dot=False).
MODEL_NAME = "Qwen_Qwen3-1.7B-FC"


class StubHandler:
    """Hands the runner the already-decoded calls; None stands for a decoding failure."""

    def __init__(self, decoded: object) -> None:
        self.decoded = decoded

    def decode_ast(self, result: object, language: object = None, has_tool_call_tag: bool = False) -> object:
        if self.decoded is None:
            raise ValueError("decoding failed")
        return self.decoded


def verdict(case: dict) -> dict:
    """bfcl-eval's verdict on one case."""
    category, entry, decoded = case["category"], case["entry"], case["decoded"]
    handler = StubHandler(decoded)
    prompt = {"id": entry["id"], "function": entry["function"]}
    if "irrelevance" in category:
        result = eval_runner._evaluate_single_relevance_entry(handler, entry["id"], "", prompt, MODEL_NAME, category)
    else:
        result = eval_runner._evaluate_single_ast_entry(
            handler, entry["id"], "", entry["possible_answer"], prompt, MODEL_NAME, category,
            language=Language.PYTHON, return_format=ReturnFormat.PYTHON, has_tool_call_tag=False)
    return {"valid": result["valid"], "error_type": result.get("error_type", "")}


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            out = verdict(json.loads(line))
        except Exception as exc:  # noqa: BLE001 - reported to the test, which decides
            out = {"exception": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
