"""BFCL's own decoding of a Qwen FC answer, so edgefc's scores are the leaderboard's scores.

bfcl-eval's Qwen FC handler keeps the text after the last `</think>`, reads only blocks written exactly as
`<tool_call>\\n{json}\\n</tool_call>`, silently skips blocks that are not JSON, and fails the decode when a
call is not `{"name": ..., "arguments": {...}}`. edgefc's tolerant parser (fences, bare JSON, string
arguments) is scored beside it, as what the model meant rather than what BFCL reads.
"""

from __future__ import annotations

import json
import re
from typing import Any

_TOOL_CALL = re.compile(r"<tool_call>\n(.*?)\n</tool_call>", re.DOTALL)


def official_decode(text: str) -> list[dict[str, dict[str, Any]]] | None:
    """BFCL's decoded form of `text` ([] when no block), or None where BFCL's decoder raises."""
    answer = text.split("</think>")[-1].lstrip("\n") if "</think>" in text else text
    calls = []
    for body in _TOOL_CALL.findall(answer):
        try:
            calls.append(json.loads(body))
        except (ValueError, RecursionError):
            continue
    try:
        return [{call["name"]: dict(call["arguments"].items())} for call in calls]
    except (TypeError, KeyError, AttributeError):
        return None
