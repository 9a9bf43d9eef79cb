"""What the commands share: the consoles, the options several commands take, JSON output."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console

from edgefc.bfcl import categories as bfcl_categories
from edgefc.models.catalog import DEFAULT_MODEL
from edgefc.runtimes import LOCAL_RUNTIMES

out = Console()
err = Console(stderr=True)

ModelOpt = typer.Option(DEFAULT_MODEL, "--model", "-m",
                        help="Catalog name, GGUF file, ONNX folder, HF folder or hub ID.")
JsonOpt = typer.Option(False, "--json", help="Print machine-readable JSON instead of tables.")
ThreadsOpt = typer.Option(None, "--threads", "-t", help="CPU threads (default: all cores).")
RuntimeOpt = typer.Option(None, "--runtime", "-r", help=f"{', '.join(LOCAL_RUNTIMES)} (default: by the model's "
                          "format).")
EndpointOpt = typer.Option(None, "--endpoint", help="Run the model on this OpenAI-compatible server (base URL, e.g. "
                           "http://127.0.0.1:8000/v1), asked as --api says; a key comes from $OPENAI_API_KEY.")
ApiOpt = typer.Option("completions", "--api", help="How the --endpoint is asked: completions (prompts rendered "
                      "with the local model's template, sent to its /v1/completions, decoded freely) or chat (the "
                      "messages and tools sent to its /v1/chat/completions; its tool_calls are the answer, scored "
                      "as returned).")
EndpointModelOpt = typer.Option(None, "--endpoint-model", help="The endpoint's name for the model (default: the "
                                "first in its /v1/models).")


def print_json(data: Any) -> None:
    """JSON to stdout, unescaped so Vietnamese and other scripts stay readable."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


CATEGORIES_HELP = (f"Comma-separated BFCL categories (default: {', '.join(bfcl_categories.names(default=True))}); "
                   f"{', '.join(bfcl_categories.names(multi_turn=True))} (or {bfcl_categories.MULTI_TURN_ALIAS}: all "
                   "of them) run the agent loop against BFCL's simulated APIs.")
