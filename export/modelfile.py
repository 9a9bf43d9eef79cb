"""An Ollama Modelfile beside an exported GGUF: `ollama create NAME -f FILE.gguf.Modelfile` then serves the file with
tools, the way its own chat template renders them.

Ollama renders prompts with a Go template, not the GGUF's Jinja one, so each chat-template family needs its
template written in Go's syntax once, here, as data: the system block with the tools (`.Tools`), the turns, the
assistant's calls (`.ToolCalls`), the tool results (consecutive ones in one user turn, as the Jinja template
groups them) and the generation prompt. Go's `json` marshalling writes JSON without spaces where Jinja's `tojson`
puts them, so the tools' and calls' JSON differ in spacing only (tests/test_modelfile.py renders both and
compares). `.System` is every system message joined; the Jinja template puts the first one there (the same for
the usual single system message at the start).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgefc.errors import ModelError
from edgefc.fsutil import atomic_file

SUFFIX = ".Modelfile"
CHAT_TEMPLATE_KEY = "tokenizer.chat_template"


@dataclass(frozen=True)
class Family:
    """A chat-template family Ollama can be given: how to recognise its Jinja template, its Go template, and the
    texts that end a turn."""

    name: str
    markers: tuple[str, ...]  # every one occurs in the family's Jinja template
    template: str
    stops: tuple[str, ...]


QWEN25_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
QWEN25 = Family(
    name="qwen2.5",
    markers=(QWEN25_SYSTEM, "<tools>", "<tool_call>", "<tool_response>", "<|im_start|>"),
    template="""{{- if .Tools }}<|im_start|>system
{{ if .System }}{{ .System }}{{ else }}""" + QWEN25_SYSTEM + """{{ end }}

# Tools

You may call one or more functions to assist with the user query.

You are provided with function signatures within <tools></tools> XML tags:
<tools>
{{- range .Tools }}
{"type": "function", "function": {{ .Function }}}
{{- end }}
</tools>

For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
<tool_call>
{"name": <function-name>, "arguments": <args-json-object>}
</tool_call><|im_end|>
{{ else }}<|im_start|>system
{{ if .System }}{{ .System }}{{ else }}""" + QWEN25_SYSTEM + """{{ end }}<|im_end|>
{{ end }}
{{- $prevTool := false }}
{{- $endsAssistant := false }}
{{- range $i, $m := .Messages }}
{{- $rest := slice $.Messages $i }}
{{- $last := eq (len $rest) 1 }}
{{- if eq .Role "user" }}<|im_start|>user
{{ .Content }}<|im_end|>
{{ else if and (eq .Role "system") (ne $i 0) }}<|im_start|>system
{{ .Content }}<|im_end|>
{{ else if eq .Role "assistant" }}<|im_start|>assistant
{{- if .ToolCalls }}
{{- if .Content }}
{{ .Content }}
{{- end }}
{{- range .ToolCalls }}
<tool_call>
{"name": "{{ .Function.Name }}", "arguments": {{ .Function.Arguments }}}
</tool_call>
{{- end }}
{{- else }}
{{ .Content }}
{{- end }}
{{- if not $last }}<|im_end|>
{{ end }}
{{- else if eq .Role "tool" }}
{{- if not $prevTool }}<|im_start|>user{{ end }}
<tool_response>
{{ .Content }}
</tool_response>
{{- if or $last (ne (index $rest 1).Role "tool") }}<|im_end|>
{{ end }}
{{- end }}
{{- $prevTool = eq .Role "tool" }}
{{- $endsAssistant = eq .Role "assistant" }}
{{- end }}
{{- if not $endsAssistant }}<|im_start|>assistant
{{ end }}""",
    stops=("<|im_end|>", "<|endoftext|>"),
)

FAMILIES: dict[str, Family] = {f.name: f for f in (QWEN25,)}


def family_of(chat_template: str) -> Family | None:
    """The family whose markers all occur in `chat_template`, or None."""
    return next((f for f in FAMILIES.values() if all(m in chat_template for m in f.markers)), None)


def modelfile_text(gguf_name: str, chat_template: str, license_name: str | None) -> str:
    """The Modelfile of the GGUF called `gguf_name` (beside it), from its Jinja chat template and license."""
    family = family_of(chat_template)
    if family is None:
        known = ", ".join(FAMILIES)
        raise ModelError(f"no Ollama template is known for this model's chat template (known families: {known})")
    lines = [f"# Ollama: ollama create NAME -f {gguf_name}{SUFFIX}  (chat template family {family.name})",
             f"FROM ./{gguf_name}", f'TEMPLATE """{family.template}"""',
             *(f'PARAMETER stop "{stop}"' for stop in family.stops)]
    if license_name:
        lines.append(f'LICENSE """{license_name}"""')
    return "\n".join(lines) + "\n"


def write_modelfile(gguf: Path, license_name: str | None = None) -> Path:
    """Write `<gguf>.Modelfile` beside `gguf` (atomically), from the chat template in its header and the license
    it records (else `license_name`: what the export knows of its source)."""
    from edgefc.models.ggufheader import read_header

    fields = read_header(gguf).fields
    template = fields.get(CHAT_TEMPLATE_KEY)
    if not isinstance(template, str):
        raise ModelError(f"{gguf.name} carries no chat template ({CHAT_TEMPLATE_KEY}): Ollama would not know its turns")
    text = modelfile_text(gguf.name, template, fields.get("general.license") or license_name)
    path = gguf.with_name(gguf.name + SUFFIX)
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
