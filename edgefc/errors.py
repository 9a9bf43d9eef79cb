"""Errors a user can cause. The CLI prints them as one sentence and exits non-zero; anything else is our bug."""

from __future__ import annotations

import importlib
from typing import Any


class EdgefcError(Exception):
    """A problem with the user's input or environment, explained in one sentence."""

    exit_code: int = 2


class SchemaError(EdgefcError):
    """A tool definition that cannot be turned into JSON Schema."""


class ModelError(EdgefcError):
    """A model reference that cannot be resolved, fetched, verified or loaded."""


class OfflineError(ModelError):
    """A model that lives on a hub this machine cannot reach."""


class EndpointError(EdgefcError):
    """An OpenAI-compatible endpoint that cannot be reached or fails on its side (auth, 5xx, a cut stream): no
    answer from it can be trusted, so a bench stops (and resumes later) instead of counting entries wrong."""


class MissingDependencyError(EdgefcError):
    """An optional extra (edgefc[hf], edgefc[onnx], ...) is needed but not installed."""


def require(module: str, extra: str | None = None) -> Any:
    """Import a dependency, or explain which install (the core, or an extra such as edgefc[hf]) provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        target = f"'edgefc[{extra}]'" if extra else "edgefc"
        raise MissingDependencyError(
            f"this needs the Python package '{module}', which is not installed: pip install {target}"
        ) from exc
