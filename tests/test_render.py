"""Rendering parity: edgefc's renderer must give transformers' apply_chat_template output byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgefc.protocol.render import ChatTemplate, TemplateError
from edgefc.protocol.schema import normalize_tools

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the weather.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
BFCL_DOC = {"name": "math.factorial", "description": "Factorial of a number.",
            "parameters": {"type": "dict", "properties": {"n": {"type": "integer"}}, "required": ["n"]}}

CONVERSATIONS = {
    "plain": [{"role": "user", "content": "Hello"}],
    "system": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"}],
    "vietnamese": [{"role": "user", "content": "Thời tiết ở Hà Nội hôm nay thế nào?"}],
    "tool_round_trip": [
        {"role": "user", "content": "Weather in Tokyo and Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Tokyo"}}},
            {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "content": '{"temp": 21}'},
        {"role": "tool", "content": '{"temp": 12}'},
        {"role": "assistant", "content": "Tokyo 21, Paris 12."},
        {"role": "user", "content": "Thanks"},
    ],
}


def _templates() -> dict[str, str]:
    import trl

    root = Path(trl.__file__).parent / "chat_templates"
    return {name: (root / f"{name}.jinja").read_text() for name in ("qwen3", "qwen2_5")}


@pytest.fixture(scope="module")
def tokenizer(qwen_tokenizer_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(qwen_tokenizer_dir)


@pytest.mark.parametrize("template_name", ["qwen3", "qwen2_5"])
@pytest.mark.parametrize("conversation", list(CONVERSATIONS))
@pytest.mark.parametrize("tools", [None, [WEATHER], [WEATHER, BFCL_DOC]], ids=["no-tools", "one", "bfcl-doc"])
@pytest.mark.parametrize("thinking", [False, True])
def test_render_matches_transformers(tokenizer, template_name: str, conversation: str, tools: list | None,
                                     thinking: bool) -> None:
    source = _templates()[template_name]
    messages = CONVERSATIONS[conversation]
    expected = tokenizer.apply_chat_template(
        messages, tools=normalize_tools(tools) if tools else None, chat_template=source, tokenize=False,
        add_generation_prompt=True, **({"enable_thinking": thinking} if "enable_thinking" in source else {}))
    ours = ChatTemplate(source, tokenizer.special_tokens_map).render(messages, tools, enable_thinking=thinking)
    assert ours == expected


def test_from_hf_dir_reads_the_saved_template(qwen_tokenizer_dir: Path) -> None:
    template = ChatTemplate.from_hf_dir(qwen_tokenizer_dir)
    assert template.source == _templates()["qwen3"]
    assert template.special_tokens["eos_token"] == "<|im_end|>"
    assert template.knows_thinking
    prompt = template.render("hi", [WEATHER])
    assert prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")  # thinking off by default
    assert '"name": "get_weather"' in prompt


def test_bare_string_and_callable_tools_render() -> None:
    def get_time(city: str) -> str:
        """Current time in a city.

        Args:
            city: The city name.
        """
        return city

    prompt = ChatTemplate(_templates()["qwen2_5"]).render("time in Hanoi?", [get_time])
    assert '"name": "get_time"' in prompt and '"description": "The city name."' in prompt


def test_template_errors_are_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="does not compile"):
        ChatTemplate("{% for x in %}").render("hi")
    with pytest.raises(TemplateError, match="refused this conversation: no system"):
        ChatTemplate("{{ raise_exception('no system') }}").render("hi")
    with pytest.raises(TemplateError, match="no chat template"):
        ChatTemplate.from_hf_dir(tmp_path)
    with pytest.raises(TemplateError, match="has no 'role'"):
        ChatTemplate("{{ messages }}").render([{"content": "x"}])
