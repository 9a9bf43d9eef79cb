"""An asyncio event loop on a thread of its own, for code that is synchronous on the outside (the agent loop,
the CLI) but runs coroutines that must share one loop across calls (parallel tool calls, MCP sessions)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Coroutine


class LoopThread:
    """Start a loop on a daemon thread; `run` a coroutine on it from any other thread; `close` it."""

    def __init__(self, name: str):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine on the loop and wait for its result (its exception is raised here)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the loop, wait for the thread, and close the loop once it has stopped."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=timeout_s)
        if not self.thread.is_alive():
            self.loop.close()
