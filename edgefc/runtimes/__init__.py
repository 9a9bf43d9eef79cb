"""Inference backends behind one interface, chosen by name or by the model's format."""

from __future__ import annotations

import importlib
from pathlib import Path

from edgefc.errors import EdgefcError
from edgefc.models.resolve import resolve
from edgefc.runtimes.base import Completion, Generation, Runtime, Sampling, Timings

REMOTE = "remote"
REMOTE_CHAT = "remote-chat"
# name -> (module, class, model format it loads); modules import lazily so the core never pulls torch. The remote
# runtimes run the model behind an OpenAI-compatible endpoint (`--endpoint`): through its /v1/completions with
# the local copy's template, or through its /v1/chat/completions with tools (`--api chat`).
RUNTIMES: dict[str, tuple[str, str, str]] = {
    "llamacpp": ("edgefc.runtimes.llamacpp", "LlamaCppRuntime", "gguf"),
    "onnxruntime": ("edgefc.runtimes.ort", "OnnxRuntime", "onnx"),
    "transformers": ("edgefc.runtimes.hf", "TransformersRuntime", "hf"),
    REMOTE: ("edgefc.runtimes.remote", "RemoteRuntime", "endpoint"),
    REMOTE_CHAT: ("edgefc.runtimes.chat_endpoint", "ChatEndpointRuntime", "endpoint"),
}
ENDPOINT_APIS = {"completions": REMOTE, "chat": REMOTE_CHAT}  # --api: the runtime that speaks each
DEFAULT_FOR_FORMAT = {fmt: name for name, (_, _, fmt) in RUNTIMES.items() if name != REMOTE_CHAT}
LOCAL_RUNTIMES = tuple(name for name in RUNTIMES if name not in ENDPOINT_APIS.values())  # what --runtime picks among


def runtime_class(name: str) -> type[Runtime]:
    """The runtime class registered as `name`."""
    if name not in RUNTIMES:
        raise EdgefcError(f"unknown runtime '{name}'; choose one of {', '.join(RUNTIMES)}")
    module, cls, _ = RUNTIMES[name]
    return getattr(importlib.import_module(module), cls)


def load(model: str | Path, runtime: str | None = None, *, threads: int | None = None,
         n_ctx: int | None = None, endpoint: str | None = None, served_model: str | None = None,
         api: str = "completions") -> Runtime:
    """Resolve `model` (catalog name, file, folder, hub ID) and load it in `runtime` (default: by its format);
    `n_ctx` sizes llama.cpp's context (the other runtimes have no fixed one). With `endpoint`, the model is the
    one served there (`served_model`, default the first it lists), asked through `api` (an ENDPOINT_APIS key);
    the local `model` lends its template and tokenizer, and `threads` are the server's business."""
    if endpoint is not None:
        if runtime or n_ctx is not None:
            raise EdgefcError("an endpoint runs the model on its own side: --runtime and --ctx do not apply")
        if api not in ENDPOINT_APIS:
            raise EdgefcError(f"unknown --api '{api}'; choose one of {', '.join(ENDPOINT_APIS)}")
        return runtime_class(ENDPOINT_APIS[api])(resolve(model).path, endpoint, served_model=served_model)
    if runtime in ENDPOINT_APIS.values():
        raise EdgefcError("the remote runtime is the model behind --endpoint: give the endpoint instead")
    cls = runtime_class(runtime) if runtime else None
    local = resolve(model, want=cls.format if cls else None)
    cls = cls or runtime_class(DEFAULT_FOR_FORMAT[local.format])
    extra = {"adapter": local.adapter} if local.adapter is not None else {}  # only GGUF models carry one
    if n_ctx is None:
        return cls(local.path, threads=threads, **extra)
    if not cls.fixed_context:
        raise EdgefcError(f"a context size applies to runtimes with a fixed context, not to {cls.name}")
    return cls(local.path, threads=threads, n_ctx=n_ctx, **extra)


__all__ = ["ENDPOINT_APIS", "LOCAL_RUNTIMES", "RUNTIMES", "Completion", "Generation", "Runtime", "Sampling", "Timings",
           "load", "runtime_class"]
