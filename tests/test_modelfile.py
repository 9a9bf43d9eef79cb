"""The Ollama Modelfile written beside a GGUF: its Go template renders a conversation with tools, calls and
results as the model's own Jinja chat template does (Ollama cannot run here: a Go-template subset renders it,
tests/gotemplate.py), and the file names the GGUF, the end-of-turn stops and the license."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from edgefc.errors import ModelError
from edgefc.export.modelfile import QWEN25, family_of, modelfile_text, write_modelfile
from edgefc.protocol.render import ChatTemplate
from edgefc.protocol.schema import normalize_tools
from tests.gotemplate import Renderer

QWEN25_JINJA = (Path(__file__).parent / "fixtures" / "qwen2.5-chat-template.jinja").read_text(encoding="utf-8")
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city, now.",
                                            "parameters": {"type": "object", "properties": {
                                                "city": {"type": "string", "description": "City, e.g. Hà Nội"}},
                                                "required": ["city"]}}}
TIME = {"type": "function", "function": {"name": "get_time", "description": "Local time <24h>.",
                                         "parameters": {"type": "object", "properties": {}}}}


def _call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "arguments": arguments}}


CONVERSATIONS = {
    "tools, parallel calls and their results": (
        [{"role": "user", "content": "Weather in Tokyo and Hà Nội, and the time?"},
         {"role": "assistant", "content": "", "tool_calls": [_call("get_weather", {"city": "Tokyo"}),
                                                             _call("get_weather", {"city": "Hà Nội"})]},
         {"role": "tool", "content": '{"temp_c": 21}'}, {"role": "tool", "content": '{"temp_c": 30}'},
         {"role": "assistant", "content": "Checking the time too.", "tool_calls": [_call("get_time", {})]},
         {"role": "tool", "content": "09:00"},
         {"role": "assistant", "content": "Tokyo 21°C, Hà Nội 30°C, 09:00."},
         {"role": "user", "content": "Thanks!"}], [WEATHER, TIME]),
    "a system message and tools": (
        [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Weather in Oslo?"}],
        [WEATHER]),
    "no tools": ([{"role": "user", "content": "Xin chào!"}], None),
    "a system message, no tools": (
        [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "hi"},
         {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "bye"}], None),
}


class GoJson:
    """A value Go prints as its JSON (Ollama's ToolFunction and ToolCallFunctionArguments have such String
    methods): compact, as encoding/json writes it."""

    def __init__(self, value: Any):
        self.value = value

    def __str__(self) -> str:
        return json.dumps(self.value, ensure_ascii=False, separators=(",", ":"))


def _ollama_values(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> dict[str, Any]:
    """What Ollama hands the template: every system message joined as .System, the messages (consecutive
    same-role ones merged, tool results kept apart), and the tools."""
    collated: list[dict[str, Any]] = []
    for m in messages:
        if collated and collated[-1]["Role"] == m["role"] and m["role"] != "tool":
            collated[-1]["Content"] += "\n\n" + m["content"]
            continue
        calls = [{"Function": {"Name": c["function"]["name"], "Arguments": GoJson(c["function"]["arguments"])}}
                 for c in m.get("tool_calls") or []]
        collated.append({"Role": m["role"], "Content": m["content"], "ToolCalls": calls})
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    return {"System": system, "Messages": collated,
            "Tools": [{"Type": "function", "Function": GoJson(t["function"])} for t in tools or []]}


def _same(ours: str, theirs: str) -> None:
    """Equal line by line, except that a line of JSON (a tool's signature, a call) compares as JSON: Go and
    Jinja space it differently."""
    a, b = ours.split("\n"), theirs.split("\n")
    assert len(a) == len(b), (ours, theirs)
    for x, y in zip(a, b):
        if x.startswith("{") and x != y:
            assert json.loads(x) == json.loads(y), (x, y)
        else:
            assert x == y, (x, y)


@pytest.mark.parametrize("name", list(CONVERSATIONS))
def test_the_go_template_renders_what_the_jinja_template_does(name: str) -> None:
    messages, tools = CONVERSATIONS[name]
    jinja = ChatTemplate(QWEN25_JINJA, {}).render(messages, tools, add_generation_prompt=True)
    go = Renderer(QWEN25.template).render(_ollama_values(messages, normalize_tools(tools) if tools else None))
    _same(go, jinja)  # both given the tools in the one canonical form edgefc sends
    if tools:  # the calls are one <tool_call> block each, as the model writes them
        assert go.count("<tool_call>\n{\"name\": \"") == sum(len(m.get("tool_calls") or []) for m in messages)


def test_a_conversation_that_ends_with_the_assistant_is_left_open() -> None:
    """Ollama continues a last assistant message (a prefill): no end of turn, no new assistant turn."""
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hel"}]
    go = Renderer(QWEN25.template).render(_ollama_values(messages, None))
    assert go.endswith("<|im_start|>assistant\nHel")


def test_the_modelfile_names_the_file_its_stops_and_license() -> None:
    text = modelfile_text("model-q4_0.gguf", QWEN25_JINJA, "apache-2.0")
    assert "FROM ./model-q4_0.gguf\n" in text and 'LICENSE """apache-2.0"""' in text
    assert 'PARAMETER stop "<|im_end|>"' in text and 'PARAMETER stop "<|endoftext|>"' in text
    template = text.split('TEMPLATE """', 1)[1].split('"""', 1)[0]
    assert template == QWEN25.template and ".ToolCalls" in template and ".Tools" in template


def test_families_are_recognised_by_their_template(tiny_qwen3: Path) -> None:
    assert family_of(QWEN25_JINJA) is QWEN25
    qwen3 = ChatTemplate.from_hf_dir(tiny_qwen3).source
    assert family_of(qwen3) is None
    with pytest.raises(ModelError, match="no Ollama template is known"):
        modelfile_text("x.gguf", qwen3, None)


def test_written_beside_a_gguf_from_its_header(tiny_qwen3: Path, tmp_path: Path) -> None:
    """A GGUF whose header carries a Qwen2.5 chat template gets `<file>.Modelfile` from it."""
    from edgefc.export.gguf import write_gguf

    folder = tmp_path / "qwen25-tiny"
    shutil.copytree(tiny_qwen3, folder)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["chat_template"] = QWEN25_JINJA
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    write_gguf(folder, tmp_path / "tiny.gguf", "f32")
    path = write_modelfile(tmp_path / "tiny.gguf")
    assert path.name == "tiny.gguf.Modelfile" and "FROM ./tiny.gguf" in path.read_text()


def test_the_license_comes_from_the_model_card_or_the_catalog(tmp_path: Path) -> None:
    from edgefc.export.pipeline import source_license
    from edgefc.models.catalog import CATALOG, DEFAULT_MODEL

    (tmp_path / "README.md").write_text("---\nlibrary_name: transformers\nlicense: mit\n---\n# A model\nlicense: no\n")
    assert source_license(tmp_path, None) == "mit"
    plain = tmp_path / "plain"
    plain.mkdir()
    assert source_license(plain, None) is None
    default = CATALOG[DEFAULT_MODEL]  # an HF folder materialized from the embedded GGUF names its bytes
    assert source_license(plain, {"sha256": default.source.sha256}) == default.license == "apache-2.0"
    assert source_license(plain, {"sha256": "0" * 64}) is None
