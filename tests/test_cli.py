"""The `edgefc` command: JSON output, tables, and one-line errors with a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
WEATHER = ROOT / "examples" / "tools" / "weather.json"


def edgefc(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """Run the command as a user would, in a fresh process with its own cache."""
    env = {"EDGEFC_HOME": str(home), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "EDGEFC_NO_PROGRESS": "1",
           "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "edgefc.cli", *args], capture_output=True, text=True, env=env,
                          timeout=600)


def test_models_json_lists_the_catalog(tmp_path: Path) -> None:
    proc = edgefc("models", "--json", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    default = [r for r in rows if r["default"]]
    assert [r["name"] for r in default] == ["qwen2.5-coder-0.5b-instruct"]
    assert default[0]["cached"] is None and default[0]["source"] == "PyPI: 6 wheels"
    table = edgefc("models", home=tmp_path)
    assert table.returncode == 0 and "qwen2.5-coder-1.5b-instruct" in table.stdout


def test_chat_json_on_a_gguf_file(tiny_gguf: Path, tmp_path: Path) -> None:
    proc = edgefc("chat", "What's the weather in Tokyo?", "--tools", str(WEATHER), "--model", str(tiny_gguf),
                  "--max-tokens", "5", "--threads", "1", "--json", "--show-prompt", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["runtime"] == "llamacpp" and len(out["tokens"]) == 5 and out["finish_reason"] == "length"
    assert isinstance(out["calls"], list) and out["parsed"]["kind"] in {"calls", "text", "refusal", "empty"}
    assert out["timings"]["prompt_tokens"] > 200 and '"get_weather"' in out["prompt"]
    assert out["constrained"] is True  # tools given: the grammar is on by default


def test_chat_named_tool_choice_and_free(tiny_gguf: Path, tmp_path: Path) -> None:
    common = ("What's the weather in Tokyo?", "--tools", str(WEATHER), "--model", str(tiny_gguf), "--threads", "1")
    proc = edgefc("chat", *common, "--tool-choice", "get_weather", "--no-parallel", "--max-tokens", "200", "--json",
                  home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert [c["name"] for c in out["calls"]] == ["get_weather"] and out["finish_reason"] == "stop"
    assert out["parsed"]["format"] == "tool_call" and out["timings"]["forced_tokens"] > 0
    table = edgefc("chat", *common, "--tool-choice", "get_weather", "--max-tokens", "200", home=tmp_path)
    assert table.returncode == 0 and "get_weather" in table.stdout and "· constrained (grammar" in table.stdout
    free = edgefc("chat", *common, "--free", "--max-tokens", "3", home=tmp_path)
    assert free.returncode == 0 and "llamacpp · free ·" in free.stdout
    bad = edgefc("chat", *common, "--free", "--tool-choice", "required", home=tmp_path)
    assert bad.returncode == 2 and "needs constrained decoding" in bad.stderr and "Traceback" not in bad.stderr


def test_chat_table_output(tiny_gguf: Path, tmp_path: Path) -> None:
    proc = edgefc("chat", "hi", "--model", str(tiny_gguf), "--max-tokens", "3", "--threads", "1", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "llamacpp · free · prompt" in proc.stdout and "decode" in proc.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["chat", "hi", "--tools", "missing.json"], "error: tools file missing.json does not exist"),
    (["chat", "hi", "--model", "no-such-model"], "error: 'no-such-model' is not a catalog model"),
    (["chat", "hi", "--runtime", "vllm"], "error: unknown runtime 'vllm'"),
    (["chat", "hi", "--tools", str(WEATHER), "--tool-choice", "nope"], "error: tool_choice names the function 'nope'"),
    (["pull", "someorg/some-model"], "error: 'someorg/some-model' lives on the Hugging Face Hub"),
    (["pull", "--format", "tflite"], "error: unknown model format 'tflite'"),
    (["tune", "--speed", "size"], "error: unknown --speed 'size'; choose one of decode, prefill"),
    (["tune", "--formats", "tflite"], "error: unknown format 'tflite'"),
    (["tune", "--quants", "q3_K"], "error: no chosen format has quant q3_k"),
    (["tune", "no-such-model"], "error: 'no-such-model' is not a catalog model"),
])
def test_user_errors_are_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    proc = edgefc(*args, home=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith(message)
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_bad_tools_file(tmp_path: Path) -> None:
    bad = tmp_path / "tools.json"
    bad.write_text('[{"name": "f", "parameters": {"type": "object", "properties": {"x": {"type": "wat"}}}}]')
    proc = edgefc("chat", "hi", "--tools", str(bad), home=tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith("error: tool 'f'") and "wat" in proc.stderr
    bad.write_text("{not json")
    proc = edgefc("chat", "hi", "--tools", str(bad), home=tmp_path)
    assert proc.returncode == 2 and "is not valid JSON" in proc.stderr


def test_tools_path_that_is_a_folder_or_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proc = edgefc("chat", "hi", "--tools", str(tmp_path), home=tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: tools file {tmp_path} is a folder")
    assert proc.stderr.count("\n") == 1

    from edgefc.cli import load_tools
    from edgefc.errors import EdgefcError

    locked = tmp_path / "tools.json"
    locked.write_text("[]")

    def denied(self: Path, *args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_text", denied)  # root reads any file, so refuse like a locked one would
    with pytest.raises(EdgefcError, match="cannot be read: Permission denied"):
        load_tools(locked)


def test_agent_once_json_save_and_replay(tiny_gguf: Path, tmp_path: Path) -> None:
    tools = tmp_path / "tools.py"
    tools.write_text("SYSTEM = 'Be brief.'\n\ndef get_weather(city: str) -> str:\n    '''Weather.\n\n    Args:\n"
                     "        city: The city.\n    '''\n    return f'sunny in {city}'\n")
    saved = tmp_path / "t.json"
    proc = edgefc("agent", str(tiny_gguf), "--tools", str(tools), "--once", "Weather in Hanoi?", "--max-steps", "2",
                  "--max-tokens", "40", "--threads", "1", "--json", "--save", str(saved), home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    transcript = json.loads(proc.stdout)
    assert transcript["messages"][0] == {"role": "system", "content": "Be brief."}
    kinds = [e["kind"] for e in transcript["events"]]
    assert kinds[0] == "generation" and kinds[-1] in ("text", "refusal", "limit")
    assert json.loads(saved.read_text()) == transcript
    shown = edgefc("agent", "--replay", str(saved), home=tmp_path)
    assert shown.returncode == 0 and "step 1 · constrained" in shown.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["agent", "--once", "hi"], "error: the agent has no tools"),
    (["agent", "--replay", "missing.json"], "error: transcript missing.json does not exist"),
    (["agent", "--tools", "nope.py", "--once", "hi"], "error: tools file nope.py does not exist"),
])
def test_agent_user_errors_are_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    proc = edgefc(*args, home=tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith(message) and "Traceback" not in proc.stderr


def test_agent_with_an_mcp_server(tiny_gguf: Path, tmp_path: Path) -> None:
    config = ROOT / "examples" / "mcp" / "mcp.json"
    proc = edgefc("agent", str(tiny_gguf), "--mcp", str(config), "--once", "List my notes", "--max-steps", "1",
                  "--max-tokens", "30", "--threads", "1", "--json", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    names = {t["function"]["name"] for t in json.loads(proc.stdout)["tools"]}
    assert {"notes__add_note", "notes__search_notes"} <= names
    bad = edgefc("agent", str(tiny_gguf), "--mcp-command", "no-such-server-xyz", "--once", "hi", home=tmp_path)
    assert bad.returncode == 2 and "no-such-server-xyz" in bad.stderr and "Traceback" not in bad.stderr
