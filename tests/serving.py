"""A uvicorn server for an edgefc app on a free loopback port, in a thread: for tests of the API and its clients."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any, Iterator

import uvicorn

from edgefc.runtimes import Runtime
from edgefc.serve.app import create_app


@contextlib.contextmanager
def serving(runtime: Runtime, **options: Any) -> Iterator[str]:
    """A uvicorn server on a free loopback port in a thread; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(create_app(runtime, model="tiny", **options), host="127.0.0.1", port=0,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive()
