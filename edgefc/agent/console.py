"""How `edgefc agent` shows an agent's events in a terminal (rich): calls, results, answers, timings."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape

from edgefc.agent.loop import Event

_RESULT_PREVIEW = 300  # characters of a tool result shown; the model reads all of it (up to the cap)


def print_event(console: Console, event: Event) -> None:
    """One line (or a few) per event, in the order they happen."""
    data = event.data
    if event.kind == "generation":
        t = data["timings"]
        decoding = "constrained" if data["constrained"] else "free"
        console.print(f"[dim]step {event.step} · {decoding} · prompt {t['prompt_tokens']} tok "
                      f"({t['cached_tokens']} cached) · TTFT {t['ttft_s']:.2f} s · {t['completion_tokens']} tokens · "
                      f"{t['total_s']:.2f} s[/]", highlight=False)
    elif event.kind == "call":
        console.print(f"[bold cyan]→ {escape(data['name'])}[/] {escape(_compact(data['arguments']))}", highlight=False)
    elif event.kind == "result":
        style = "red" if data["error"] else "green"
        output = data["output"]
        shown = output if len(output) <= _RESULT_PREVIEW else output[:_RESULT_PREVIEW] + " …"
        name = data["name"] or "error"
        console.print(f"[{style}]← {escape(name)}[/] {escape(shown)} [dim]({data['seconds']:.2f} s)[/]",
                      highlight=False)
    elif event.kind == "text":
        console.print(f"[bold]{escape(data['content'])}[/]", highlight=False)
    elif event.kind == "refusal":
        console.print(f"[yellow]{escape(data['content'])}[/]", highlight=False)
    elif event.kind == "limit":
        console.print(f"[yellow]stopped after {data['max_steps']} steps without an answer (--max-steps)[/]")


def ask(console: Console, call: dict[str, Any]) -> bool:
    """Ask the user whether a tool marked for confirmation may run now."""
    answer = console.input(f"[bold yellow]Run {escape(call['name'])} {escape(_compact(call['arguments']))}? "
                           "[y/N][/] ")
    return answer.strip().lower() in ("y", "yes")


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
