"""One model, one generation at a time: requests run in arrival order on one worker thread, behind a bounded queue.

The event loop never generates: it hands each job to the worker and awaits it. A request that finds the
queue full is refused at once (429) with a Retry-After from how long recent requests took.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, TypeVar

T = TypeVar("T")
RECENT = 16  # requests whose durations estimate Retry-After


class QueueFull(Exception):
    """The queue holds as many requests as it may; `retry_after` seconds is a guess at when one leaves."""

    def __init__(self, retry_after: int):
        super().__init__(f"the server is busy; retry in {retry_after} s")
        self.retry_after = retry_after


class GenerationQueue:
    """Runs jobs one at a time in arrival order; at most `size` wait behind the one running."""

    def __init__(self, size: int):
        self.size = size
        self.admitted = 0  # running + waiting
        self._durations: deque[float] = deque(maxlen=RECENT)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edgefc-generate")

    def submit(self, job: Callable[[], T]) -> asyncio.Future[T]:
        """Queue `job` for the worker thread, or raise QueueFull. Call from the event loop."""
        if self.admitted > self.size:
            raise QueueFull(self.retry_after())
        loop = asyncio.get_running_loop()
        self.admitted += 1
        future: Future[T] = self._executor.submit(self._timed, job)
        future.add_done_callback(lambda _: loop.call_soon_threadsafe(self._release))
        return asyncio.wrap_future(future)

    def retry_after(self) -> int:
        """Seconds until a place is likely free: one recent request's mean duration (the running one ends, a place
        opens). Not the time the whole queue takes to drain: measured with 32 clients, that told refused clients
        to sleep ~10 s while clients just answered took every freed place within milliseconds, so 23 of 32 got
        one answer in 5 minutes (bench/serve_load.py reports answers per client)."""
        mean = sum(self._durations) / len(self._durations) if self._durations else 0.0
        return max(1, math.ceil(mean))

    def close(self) -> None:
        """Drop waiting jobs and wait for the running one (its caller has been told to stop it)."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _timed(self, job: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return job()
        finally:
            self._durations.append(time.perf_counter() - started)

    def _release(self) -> None:
        self.admitted -= 1
