"""bfcl-eval's own prompts for BFCL entries, for tests/test_bfcl_prompts.py; run with a bfcl-eval venv's interpreter.

Reads JSON lines {"category", "id"} on stdin and writes one {"id", "prompt"} per line: the text BFCL's Qwen FC
handler sends for that entry, built as its generation step builds it (load_dataset_entry with the language
hint, _pre_query_processing_prompting, add_first_turn_message_prompting, _format_prompt).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

# bfcl-eval writes under its project root (locks, scores): keep that out of site-packages.
if "BFCL_PROJECT_ROOT" not in os.environ:
    os.environ["BFCL_PROJECT_ROOT"] = tempfile.mkdtemp(prefix="bfcl-root-")

from bfcl_eval.eval_checker.eval_runner import get_handler  # noqa: E402
from bfcl_eval.utils import load_dataset_entry  # noqa: E402

REGISTRY_KEY = "Qwen/Qwen3-1.7B-FC"


def main() -> None:
    handler = get_handler(REGISTRY_KEY)
    entries: dict[str, dict] = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        wanted = json.loads(line)
        if wanted["id"] not in entries:
            entries.update({e["id"]: e for e in load_dataset_entry(wanted["category"])})
        entry = entries[wanted["id"]]
        inference = handler._pre_query_processing_prompting(entry)
        inference = handler.add_first_turn_message_prompting(inference, entry["question"][0])
        prompt = handler._format_prompt(inference["message"], inference["function"])
        sys.stdout.write(json.dumps({"id": wanted["id"], "prompt": prompt}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
