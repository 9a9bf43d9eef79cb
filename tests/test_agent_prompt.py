"""tools_prefix: the system + tools block every first prompt starts with, for the prefix state on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgefc.agent.prompt import Conversation, tools_prefix
from edgefc.protocol.render import ChatTemplate
from tests.tiny import qwen3_template

TOOLS = json.loads((Path(__file__).parents[1] / "examples" / "tools" / "weather.json").read_text())
SYSTEM = "You answer questions about the weather."


def _qwen2_5_template() -> str:
    import trl

    return (Path(trl.__file__).parent / "chat_templates" / "qwen2_5.jinja").read_text()


TEMPLATES = {"qwen3": qwen3_template, "qwen2.5": _qwen2_5_template}


def _first_prompt(template: ChatTemplate, tools: list | None, system: str | None, message: str) -> str:
    conversation = Conversation(template, tools, system=system)
    conversation.add({"role": "user", "content": message})
    return conversation.prompt()


@pytest.mark.parametrize("name", TEMPLATES)
def test_prefix_is_the_system_and_tools_block(name: str) -> None:
    template = ChatTemplate(TEMPLATES[name]())
    prefix = tools_prefix(template, TOOLS, SYSTEM)
    assert prefix.startswith("<|im_start|>system\n" + SYSTEM) and prefix.endswith("</tool_call><|im_end|>\n")
    assert '"name": "get_weather"' in prefix and "<|im_start|>user" not in prefix
    for message in ("Where is order 12345?", " a message with a leading space", "Thời tiết ở Hà Nội?"):
        first = _first_prompt(template, TOOLS, SYSTEM, message)
        assert first.startswith(prefix) and first[len(prefix):].startswith("<|im_start|>user\n" + message)


@pytest.mark.parametrize("name", TEMPLATES)
@pytest.mark.parametrize("system", [None, SYSTEM])
@pytest.mark.parametrize("tools", [None, TOOLS])
def test_prefix_starts_every_first_prompt(name: str, system: str | None, tools: list | None) -> None:
    template = ChatTemplate(TEMPLATES[name]())
    prefix = tools_prefix(template, tools, system)
    assert prefix.startswith("<|im_start|>system\n") or (name == "qwen3" and not system and not tools)
    assert (SYSTEM in prefix) == (system is not None) and ("get_weather" in prefix) == (tools is not None)
    for message in ("hello", "What's the weather in Tokyo?"):
        first = _first_prompt(template, tools, system, message)
        assert first.startswith(prefix) and message not in prefix


def test_other_tools_or_system_give_another_prefix() -> None:
    template = ChatTemplate(qwen3_template())
    other = [{**TOOLS[0], "function": {**TOOLS[0]["function"], "description": "Weather, in another wording."}}]
    prefixes = {tools_prefix(template, TOOLS, SYSTEM), tools_prefix(template, other, SYSTEM),
                tools_prefix(template, TOOLS, SYSTEM + "!"), tools_prefix(template, TOOLS, None)}
    assert len(prefixes) == 4
