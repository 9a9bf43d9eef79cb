"""bfcl-eval's own multi-turn verdicts, for tests/test_bfcl_multiturn_conformance.py; run with the interpreter of
a venv holding bfcl-eval.

Reads JSON lines {"entry": {"id", "initial_config", "involved_classes"}, "ground_truth": [[call, ...], ...],
"model": [[[call, ...], ...], ...]} (the model's call strings per turn, per step) on stdin and writes one
{"valid", "error_type"} per line (or {"exception": "..."}), each through eval_runner's per-entry multi-turn
evaluation, with a stub handler whose decode_execute hands over the step's call strings. Each case runs under its
own model name, since bfcl-eval keeps API instances in globals keyed by model name and entry id.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

# bfcl-eval writes under its project root (locks, scores): keep that out of site-packages.
if "BFCL_PROJECT_ROOT" not in os.environ:
    os.environ["BFCL_PROJECT_ROOT"] = tempfile.mkdtemp(prefix="bfcl-root-")

from bfcl_eval.eval_checker import eval_runner  # noqa: E402


class StubHandler:
    """Hands the runner each step's call strings as decoded."""

    def decode_execute(self, result: object, has_tool_call_tag: bool = False) -> object:
        return result


def verdict(case: dict, number: int) -> dict:
    """bfcl-eval's verdict on one case."""
    entry = dict(case["entry"])
    out = eval_runner._evaluate_single_multi_turn_entry(
        StubHandler(), entry["id"], case["model"], case["ground_truth"], entry, f"edgefc_case_{number}",
        entry["id"].rsplit("_", 1)[0])
    return {"valid": out["valid"], "error_type": out.get("error", {}).get("error_type", "")}


def main() -> None:
    for number, line in enumerate(sys.stdin):
        if not line.strip():
            continue
        try:
            out = verdict(json.loads(line), number)
        except Exception as exc:  # noqa: BLE001 - reported to the test, which decides
            out = {"exception": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
