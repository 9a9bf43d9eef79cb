"""BFCL entry -> (messages, tools) for edgefc's renderer, as bfcl-eval's Qwen FC handler prompts Qwen3.

What the handler (QwenFCHandler, prompting mode) does, and what is kept here:
- The question's messages go in unchanged, a leading system message included: the Qwen3 template merges it
  into the tools system block ("<system>\n\n# Tools...") exactly as the handler's _format_prompt does.
- No system prompt of BFCL's own is added (FC models use the template's tools block).
- Each function doc gets " Note that the provided function is in Python 3 syntax." appended to its
  description (bfcl-eval's language hint); names keep their dots (nothing is renamed, so nothing maps back).

What differs from the handler's text, because edgefc renders tools in the canonical OpenAI form:
- the handler writes each raw BFCL doc as json.dumps(doc) ({"name", "description", "parameters": {"type":
  "dict", ...}}, non-ASCII escaped); the template here writes {"type": "function", "function": {...}} with
  BFCL type names mapped to JSON Schema ("dict" -> "object", "float" -> "number", "tuple" -> "array", "any" ->
  "string"), non-ASCII as is;
- the handler's prompt ends with "<|im_start|>assistant\n"; rendering with enable_thinking=False adds the
  Qwen3 template's empty "<think>\n\n</think>\n\n" after it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from edgefc.bfcl.categories import get
from edgefc.bfcl.data import BFCL_EVAL_VERSION, Entry
from edgefc.protocol.schema import normalize_tools

PYTHON_HINT = " Note that the provided function is in Python 3 syntax."
# What a bench run's prompts are, recorded in its settings: change it whenever `build` changes what a model sees.
PROMPT_FORMAT = f"bfcl-eval {BFCL_EVAL_VERSION} QwenFCHandler messages and tools, the model's own template, no thinking"


def build(entry: Entry) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The chat messages and canonical tools that render into the handler's prompt for this entry."""
    get(entry.category, multi_turn=False)  # a category whose prompts edgefc builds, or a one-line error
    messages = copy.deepcopy(entry.question)
    docs = [{**doc, "description": doc["description"] + PYTHON_HINT} for doc in entry.functions]
    return messages, normalize_tools(docs)


def prefix_key(entry: Entry) -> str:
    """What renders before the first user message (leading system messages and tools), as one sortable string:
    entries with equal keys share their rendered prompt prefix, so run together they evaluate it once."""
    messages, tools = build(entry)
    first_user = next((i for i, m in enumerate(messages) if m["role"] == "user"), len(messages))
    return json.dumps([messages[:first_user], tools], ensure_ascii=False)
