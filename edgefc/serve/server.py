"""Serve a loaded model with uvicorn until Ctrl-C; then stop what is generating and free the model."""

from __future__ import annotations

import ipaddress
from typing import Any, Sequence

from edgefc.errors import require
from edgefc.runtimes import Runtime

GRACE_S = 3  # on Ctrl-C, answers in flight get this long before their generations are stopped


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(runtime: Runtime, *, model: str, host: str, port: int, api_key: str | Sequence[str] | None,
          queue_size: int, wait_s: float, toolbox: Any = None, system: str | None = None, limits: Any = None,
          ui: bool = True) -> None:
    """Serve until interrupted (uvicorn handles SIGINT/SIGTERM), then close the model. With `toolbox` the agent
    endpoint runs its tools; with `ui` the chat page is at /."""
    uvicorn = require("uvicorn", "serve")
    from edgefc.serve.app import create_app

    app = create_app(runtime, model=model, queue_size=queue_size, api_key=api_key, wait_s=wait_s, toolbox=toolbox,
                     system=system, limits=limits, ui=ui)
    config = uvicorn.Config(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=GRACE_S)
    try:
        uvicorn.Server(config).run()
    finally:
        runtime.close()
