"""What a model sees in a BFCL multi-turn entry, turn by turn, as bfcl-eval's Qwen FC handler builds it.

- Turn 0 offers the entry's functions, each description with bfcl-eval's Python hint appended; a miss_func
  entry's withheld docs come back at their turn, appended after the others and without the hint (bfcl-eval adds
  the hint to `function` after moving them out to `missed_function`).
- A turn's user messages follow the conversation so far; the empty turn that brings functions back gets
  ADDITIONAL_FUNCTION_PROMPT instead. No system prompt is added; each call's result text follows as a tool message.
- A turn ends when the model answers without a call; past MAX_STEPS_PER_TURN model answers with calls, bfcl-eval
  force-quits the entry (its later turns are missing, and the entry fails as force_terminated).
"""

from __future__ import annotations

import copy
from typing import Any

from edgefc.bfcl.multiturn.data import MultiTurnEntry
from edgefc.bfcl.prompts import PYTHON_HINT
from edgefc.protocol.schema import normalize_tools

# bfcl-eval's DEFAULT_USER_PROMPT_FOR_ADDITIONAL_FUNCTION_FC and MAXIMUM_STEP_LIMIT.
ADDITIONAL_FUNCTION_PROMPT = "I have updated some more functions you can choose from. What about now?"
MAX_STEPS_PER_TURN = 20


def tools_at(entry: MultiTurnEntry, turn: int) -> list[dict[str, Any]]:
    """The canonical tools offered at `turn`."""
    hinted = [{**doc, "description": doc["description"] + PYTHON_HINT} for doc in entry.functions]
    returned = [doc for at, docs in sorted(entry.missed_function.items()) if at <= turn for doc in docs]
    return normalize_tools(copy.deepcopy(hinted + returned))


def turn_messages(entry: MultiTurnEntry, turn: int) -> list[dict[str, Any]]:
    """The messages that open `turn`: its user messages, or the prompt that announces the returned functions."""
    if turn in entry.missed_function:
        return [{"role": "user", "content": ADDITIONAL_FUNCTION_PROMPT}]
    return copy.deepcopy(entry.turns[turn])
