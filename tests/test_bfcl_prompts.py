"""BFCL prompts: real entries rendered with the Qwen3 template carry what bfcl-eval's Qwen FC handler sends.

Read from bfcl-eval's QwenFCHandler._format_prompt and _pre_query_processing_prompting: the raw message list,
no added system prompt, a leading system message merged into the tools block, one tool per line, the
language hint on each description, names unchanged, and a prompt ending in "<|im_start|>assistant\\n".
With bfcl-eval's venv ($EDGEFC_BFCL_PYTHON), the rendering is also diffed against the handler's own
_format_prompt, entry by entry, every remaining difference named and explained.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from edgefc.bfcl.categories import names
from edgefc.bfcl.data import Entry, load_category
from edgefc.bfcl.prompts import PYTHON_HINT, build, prefix_key
from edgefc.errors import EdgefcError
from edgefc.protocol.render import ChatTemplate
from edgefc.protocol.schema import normalize_tools
from tests.bfcl_support import official_python, real_wheel
from tests.tiny import qwen3_template

PROMPT_HELPER = Path(__file__).with_name("bfcl_official_prompt.py")

TOOLS_HEAD = ("<|im_start|>system\n{system}# Tools\n\nYou may call one or more functions to assist with the user "
              "query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n")
TOOLS_TAIL = ('\n</tools>\n\nFor each function call, return a json object with function name and arguments within '
              '<tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": '
              '<args-json-object>}\n</tool_call><|im_end|>\n')


@pytest.fixture(scope="module")
def entries() -> dict[str, Entry]:
    wheel = real_wheel()
    wanted = {"simple_python": "simple_python_118", "live_multiple": "live_multiple_27-7-0",
              "live_irrelevance": "live_irrelevance_120-9-0"}
    return {c: next(e for e in load_category(c, wheel=wheel) if e.id == i) for c, i in wanted.items()}


def _render(entry: Entry, thinking: bool = False) -> str:
    messages, tools = build(entry)
    return ChatTemplate(qwen3_template()).render(messages, tools, enable_thinking=thinking)


def _tool_lines(prompt: str, system: str = "") -> list[dict]:
    head = TOOLS_HEAD.format(system=system)
    assert prompt.startswith(head)
    block = prompt[len(head):prompt.index(TOOLS_TAIL)]
    return [json.loads(line) for line in block.split("\n")]


def test_simple_python_prompt(entries: dict[str, Entry]) -> None:
    entry = entries["simple_python"]
    prompt = _render(entry)
    (tool,) = _tool_lines(prompt)
    doc = entry.functions[0]
    # The handler's line is json.dumps(doc) with the hint; ours is the canonical form of that same doc.
    assert tool["type"] == "function" and tool["function"]["name"] == "stats.t_test"  # dots kept
    assert tool["function"]["description"] == doc["description"] + PYTHON_HINT
    params = tool["function"]["parameters"]
    assert params["type"] == "object" and params["required"] == ["array_1", "array_2", "alpha"]
    assert params["properties"]["alpha"] == {"type": "number", "description": "Significance level for hypothesis "
                                                                             "testing."}
    assert params["properties"]["array_1"]["items"] == {"type": "integer"}
    user = entry.question[0]["content"]
    assert prompt.endswith(f"{TOOLS_TAIL}<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"
                           "<think>\n\n</think>\n\n")
    # With thinking left on, the ending is the handler's own: the generation prompt and nothing after it.
    assert _render(entry, thinking=True).endswith(f"{user}<|im_end|>\n<|im_start|>assistant\n")


def test_system_message_is_merged_into_the_tools_block(entries: dict[str, Entry]) -> None:
    entry = entries["live_multiple"]
    prompt = _render(entry)
    tools = _tool_lines(prompt, system="You are a helpful assistant\n\n")
    assert [t["function"]["name"] for t in tools] == ["multiply", "add"]
    assert prompt.count("<|im_start|>system") == 1
    assert f"{TOOLS_TAIL}<|im_start|>user\nIf I have 100$ and I donated 40." in prompt


def test_no_functions_no_tools_block(entries: dict[str, Entry]) -> None:
    entry = entries["live_irrelevance"]
    messages, tools = build(entry)
    assert tools == [] and messages == entry.question
    prompt = _render(entry)
    assert prompt.startswith("<|im_start|>user\n") and "<tools>" not in prompt


def test_build_leaves_the_entry_alone(entries: dict[str, Entry]) -> None:
    entry = entries["live_multiple"]
    before = json.dumps([entry.question, entry.functions])
    messages, _ = build(entry)
    messages[0]["content"] = "changed"
    assert json.dumps([entry.question, entry.functions]) == before


def test_every_entry_builds() -> None:
    wheel = real_wheel()
    for category in names(multi_turn=False):
        for entry in load_category(category, wheel=wheel):
            messages, tools = build(entry)
            assert len(tools) == len(entry.functions) and len(messages) == len(entry.question)


def test_java_and_javascript_are_not_supported() -> None:
    assert names(runnable=False) == ("simple_java", "simple_javascript")
    entry = Entry("simple_java_0", "simple_java", [{"role": "user", "content": "?"}], [], None)
    with pytest.raises(EdgefcError, match="'simple_java' is java"):
        build(entry)
    with pytest.raises(EdgefcError, match="'simple_javascript' is javascript"):
        load_category("simple_javascript")  # refused before the wheel is read, not after a run


def test_prefix_key_is_what_renders_before_the_question(entries: dict[str, Entry]) -> None:
    entry = entries["live_multiple"]
    key = prefix_key(entry)
    asked_otherwise = Entry(entry.id, entry.category, [*entry.question[:-1], {"role": "user", "content": "Other?"}],
                            entry.functions, entry.answer)
    assert prefix_key(asked_otherwise) == key
    other_tools = Entry(entry.id, entry.category, entry.question, entry.functions[:1], entry.answer)
    assert prefix_key(other_tools) != key
    prompt = _render(entry)
    system = entry.question[0]["content"]
    assert system in key and prompt.index(system) < prompt.index(entry.question[-1]["content"])


def _handler_prompts(python: str, entries: list[Entry], tmp_path: Path) -> dict[str, str]:
    """bfcl-eval's Qwen FC handler's own prompt per entry id, from tests/bfcl_official_prompt.py."""
    lines = "".join(json.dumps({"category": e.category, "id": e.id}) + "\n" for e in entries)
    proc = subprocess.run([python, str(PROMPT_HELPER)], input=lines, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "BFCL_PROJECT_ROOT": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {row["id"]: row["prompt"] for row in map(json.loads, proc.stdout.splitlines())}


def _split_tools(prompt: str) -> tuple[str, list[dict], str]:
    """(text before the tool lines, the tool lines parsed, text after them)."""
    start, end = prompt.index("<tools>\n") + len("<tools>\n"), prompt.index("\n</tools>")
    return prompt[:start], [json.loads(line) for line in prompt[start:end].split("\n")], prompt[end:]


def test_prompt_is_the_handlers_own_but_for_explained_differences(tmp_path: Path) -> None:
    python = official_python()
    wheel = real_wheel()
    sample = [e for c in names(multi_turn=False) for e in load_category(c, limit=15, seed=1, wheel=wheel)]
    non_ascii = [e for e in load_category("live_multiple", wheel=wheel) if not e.question[-1]["content"].isascii()]
    entries = list({e.id: e for e in sample + non_ascii[:5]}.values())
    theirs = _handler_prompts(python, entries, tmp_path)
    assert len(theirs) == len(entries)
    with_system = 0
    for entry in entries:
        ours, handler = _render(entry), theirs[entry.id]
        # 1. edgefc renders with thinking off: the Qwen3 template closes an empty think block after the handler's
        #    generation prompt, which the handler leaves for the model to write.
        assert ours.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
        ours = ours[: -len("<think>\n\n</think>\n\n")]
        if entry.functions:
            # 2. The tool lines: the handler writes json.dumps(BFCL doc) (BFCL types such as "dict", non-ASCII
            #    escaped); edgefc writes the canonical OpenAI tool of the same doc (JSON Schema types, UTF-8).
            ours_head, ours_tools, ours_tail = _split_tools(ours)
            handler_head, handler_tools, handler_tail = _split_tools(handler)
            assert ours_tools == normalize_tools(handler_tools), entry.id
            ours, handler = ours_head + ours_tail, handler_head + handler_tail
        with_system += entry.question[0]["role"] == "system"
        # Nothing else differs: system merge, tools block text, turns and the generation prompt, byte for byte.
        assert ours == handler, entry.id
    assert with_system > 0 and any(not e.functions for e in entries)
