"""One model, one generation at a time: requests wait their turn, then run on one worker thread.

The event loop never generates: it hands each job to the worker and awaits it. Admission is fair: a request
that arrives while the model is busy waits in arrival order (refusing it while a place is about to free lets
clients that resubmit at once take every freed place from those that honour Retry-After: measured with 32
clients, 23 got one answer in 5 minutes). It is refused (429) only at a bound: `size` requests already waiting,
or `wait_s` seconds without starting; its Retry-After is how long the requests then ahead of it take, by the
recent durations. With several API keys each key's requests take turns (round robin), and no key may hold more
than its share of the waiting places, so one client cannot fill the queue.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import threading
import time
from collections import OrderedDict, deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")
RECENT = 16  # requests whose durations estimate Retry-After
RECENT_WAITS = 256  # requests whose waits /health summarizes
DEFAULT_SIZE = 64  # waiting places: more than the clients a device serves, so a burst waits rather than retries
DEFAULT_WAIT_S = 120.0


class QueueFull(Exception):
    """No place for the request (`why`); `retry_after` seconds is when one is likely free."""

    def __init__(self, retry_after: int, why: str = "the server is busy"):
        super().__init__(f"{why}; retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass
class _Job(Generic[T]):
    run: Callable[[], T]
    key: str
    queued: float = field(default_factory=time.perf_counter)
    started: Future[None] = field(default_factory=Future)  # set when the worker takes it (or fails: refused)
    result: Future[T] = field(default_factory=Future)


class GenerationQueue:
    """Runs jobs one at a time: at most `size` wait behind the running one, each at most `wait_s` seconds; by key,
    in turns (see the module doc). `keys` is how many API keys share it (1: one queue in arrival order)."""

    def __init__(self, size: int, wait_s: float = DEFAULT_WAIT_S, keys: int = 1):
        self.size, self.wait_s, self.keys = size, wait_s, max(1, keys)
        self._pending: OrderedDict[str, deque[_Job[Any]]] = OrderedDict()  # key -> its waiting jobs; order = turns
        self._running = False
        self._lock = threading.Condition()
        self._closed = False
        self._durations: deque[float] = deque(maxlen=RECENT)
        self._waits: deque[float] = deque(maxlen=RECENT_WAITS)
        self._worker = threading.Thread(target=self._work, name="edgefc-generate", daemon=True)
        self._worker.start()

    @property
    def waiting(self) -> int:
        return sum(len(jobs) for jobs in self._pending.values())

    @property
    def admitted(self) -> int:
        """Running + waiting (what /health has always reported)."""
        return self.waiting + int(self._running)

    def share(self) -> int:
        """The waiting places one key may hold: all of them with one key, else its even share (at least one)."""
        return self.size if self.keys == 1 else max(1, math.ceil(self.size / self.keys))

    async def submit(self, job: Callable[[], T], key: str = "") -> T:
        """Wait for a turn, run `job` on the worker thread and return its result; QueueFull at a bound."""
        return await (await self.start(job, key))

    async def start(self, job: Callable[[], T], key: str = "") -> asyncio.Future[T]:
        """Wait until `job` starts on the worker thread (QueueFull when a bound is reached first); returns the
        future of its result. A caller cancelled while waiting leaves the queue."""
        queued = self._enqueue(job, key)
        started = _mirror(queued.started, asyncio.get_running_loop())
        try:
            await asyncio.wait_for(asyncio.shield(started), timeout=self.wait_s)
        except asyncio.TimeoutError:
            if self._withdraw(queued):
                raise QueueFull(self.retry_after(), f"no turn within {self.wait_s:g} s") from None
            await started  # it started at the deadline: go on
        except asyncio.CancelledError:
            if not self._withdraw(queued):
                queued.result.cancel()  # taken already: the worker skips it if it has not begun
            raise
        return asyncio.wrap_future(queued.result)

    def _enqueue(self, job: Callable[[], T], key: str) -> _Job[T]:
        with self._lock:
            if self._closed:
                raise QueueFull(self.retry_after(), "the server is shutting down")
            mine = self._pending.get(key, ())
            if self.waiting >= self.size and (self._running or self.waiting):
                raise QueueFull(self.retry_after(), f"{self.waiting} requests are waiting already")
            if len(mine) >= self.share():
                raise QueueFull(self.retry_after(), f"this key holds its share of the queue ({self.share()})")
            queued: _Job[T] = _Job(job, key)
            self._pending.setdefault(key, deque()).append(queued)
            self._lock.notify()
            return queued

    def _withdraw(self, queued: _Job[Any]) -> bool:
        """Take a job that has not started out of the queue; False when it already started."""
        with self._lock:
            jobs = self._pending.get(queued.key)
            if jobs is None or queued not in jobs:
                return False
            jobs.remove(queued)
            if not jobs:
                del self._pending[queued.key]
            return True

    def retry_after(self) -> int:
        """Seconds until the requests now waiting (and the running one) are likely done, by the recent durations:
        a client that comes back then finds a place (at least 1)."""
        mean = sum(self._durations) / len(self._durations) if self._durations else 0.0
        return max(1, math.ceil(mean * (self.waiting + int(self._running))))

    def waits(self) -> dict[str, Any]:
        """How long recent requests waited for their turn: count, median, 95th percentile, longest (seconds)."""
        recent = sorted(self._waits)
        if not recent:
            return {"count": 0, "p50_s": None, "p95_s": None, "max_s": None}
        p95 = recent[min(len(recent) - 1, math.ceil(0.95 * len(recent)) - 1)]
        return {"count": len(recent), "p50_s": round(statistics.median(recent), 4), "p95_s": round(p95, 4),
                "max_s": round(recent[-1], 4)}

    def close(self) -> None:
        """Refuse the waiting jobs and wait for the running one (its caller has been told to stop it)."""
        with self._lock:
            self._closed = True
            dropped = [job for jobs in self._pending.values() for job in jobs]
            self._pending.clear()
            self._lock.notify_all()
        for job in dropped:
            job.started.set_exception(QueueFull(1, "the server is shutting down"))
        self._worker.join()

    def _next(self) -> _Job[Any] | None:
        """The next job: the first of the key whose turn it is (that key then goes last); None once closed."""
        with self._lock:
            while not self._pending and not self._closed:
                self._lock.wait()
            if self._closed:
                return None
            key, jobs = next(iter(self._pending.items()))
            job = jobs.popleft()
            del self._pending[key]
            if jobs:
                self._pending[key] = jobs  # back of the turn order
            self._running = True
            return job

    def _work(self) -> None:
        while (job := self._next()) is not None:
            self._waits.append(time.perf_counter() - job.queued)
            job.started.set_result(None)
            if not job.result.set_running_or_notify_cancel():  # its caller gave up as it was taken
                with self._lock:
                    self._running = False
                continue
            started = time.perf_counter()
            try:
                job.result.set_result(job.run())
            except BaseException as exc:  # the caller gets the job's failure, the worker goes on
                job.result.set_exception(exc)
            finally:
                self._durations.append(time.perf_counter() - started)
                with self._lock:
                    self._running = False


def _mirror(source: Future[Any], loop: asyncio.AbstractEventLoop) -> asyncio.Future[Any]:
    """An asyncio future that settles as `source` does; cancelling it leaves `source` alone (unlike
    asyncio.wrap_future), so a caller that stops waiting cannot cancel the worker's bookkeeping."""
    target: asyncio.Future[Any] = loop.create_future()

    def settle(done: Future[Any]) -> None:
        if target.done():
            return
        if done.exception() is not None:
            target.set_exception(done.exception())  # type: ignore[arg-type]
        else:
            target.set_result(done.result())

    source.add_done_callback(lambda done: loop.call_soon_threadsafe(settle, done))
    return target
