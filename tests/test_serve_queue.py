"""The generation queue's admission: one job at a time in arrival order, waiting instead of refused while a place
frees, 429 only at its bounds (places, deadline) with a Retry-After from the work ahead, API keys taking turns
with a share each, cancellation and shutdown."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable

import pytest

from edgefc.serve.queue import GenerationQueue, QueueFull


def _job(log: list[str], name: str, seconds: float = 0.05) -> Callable[[], str]:
    active = threading.Lock()

    def run() -> str:
        assert active.acquire(blocking=False)
        log.append(name)
        time.sleep(seconds)
        active.release()
        return name
    return run


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_jobs_run_one_at_a_time_in_arrival_order() -> None:
    queue, log = GenerationQueue(8), []
    running = threading.Semaphore(1)

    def job(name: str) -> Callable[[], str]:
        def run() -> str:
            assert running.acquire(blocking=False), "two jobs at once"
            log.append(name)
            time.sleep(0.02)
            running.release()
            return name
        return run

    async def main() -> list[str]:
        return await asyncio.gather(*(queue.submit(job(f"j{i}")) for i in range(6)))

    try:
        assert _run(main()) == [f"j{i}" for i in range(6)] and log == [f"j{i}" for i in range(6)]
    finally:
        queue.close()


def test_a_request_waits_for_a_freed_place_instead_of_a_429() -> None:
    """One running, one waiting place: the waiting request is answered when the running one ends; a third
    request, beyond the bound, is refused at once with a Retry-After covering the work ahead of it."""
    queue, log = GenerationQueue(1), []

    async def main() -> tuple[list[Any], QueueFull]:
        first = asyncio.ensure_future(queue.submit(_job(log, "a", 0.3)))
        await asyncio.sleep(0.05)
        second = asyncio.ensure_future(queue.submit(_job(log, "b", 0.05)))
        await asyncio.sleep(0.05)
        with pytest.raises(QueueFull) as refused:
            await queue.submit(_job(log, "c"))
        return await asyncio.gather(first, second), refused.value

    try:
        done, refused = _run(main())
    finally:
        queue.close()
    assert done == ["a", "b"] and log == ["a", "b"]
    assert refused.retry_after >= 1 and "waiting already" in str(refused)
    assert queue.waits()["count"] == 2 and queue.waits()["max_s"] >= 0.2  # b waited for a


def test_the_deadline_refuses_with_the_time_the_work_ahead_takes() -> None:
    queue, log = GenerationQueue(4, wait_s=0.2), []

    async def main() -> QueueFull:
        await queue.submit(_job(log, "warm", 0.4))  # a recent duration for the estimate
        first = asyncio.ensure_future(queue.submit(_job(log, "a", 0.6)))
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        with pytest.raises(QueueFull) as refused:
            await queue.submit(_job(log, "late"))
        assert 0.15 < time.perf_counter() - started < 0.5
        await first
        return refused.value

    try:
        refused = _run(main())
    finally:
        queue.close()
    assert "late" not in log and "no turn within 0.2 s" in str(refused)
    assert refused.retry_after >= 1  # the running job's ~0.4 s, rounded up


def test_keys_take_turns_and_hold_a_share_each() -> None:
    """Two keys, eight places: key A sends six at once, key B two just after. B's are answered second and fourth,
    not after all of A's; A's fifth waiting request is refused (its share is four), B is never refused."""
    queue, log = GenerationQueue(8, keys=2), []

    async def main() -> list[Any]:
        a = [asyncio.ensure_future(queue.submit(_job(log, "a0", 0.05), "A"))]
        await asyncio.sleep(0.01)  # a0 runs
        a += [asyncio.ensure_future(queue.submit(_job(log, f"a{i}", 0.05), "A")) for i in range(1, 6)]
        await asyncio.sleep(0.01)
        b = [asyncio.ensure_future(queue.submit(_job(log, f"b{i}", 0.05), "B")) for i in range(2)]
        return await asyncio.gather(*a, *b, return_exceptions=True)

    try:
        results = _run(main())
    finally:
        queue.close()
    refused = [r for r in results if isinstance(r, QueueFull)]
    assert len(refused) == 1 and "share" in str(refused[0]) and results[5] is refused[0]
    assert log == ["a0", "a1", "b0", "a2", "b1", "a3", "a4"]


def test_a_cancelled_waiter_leaves_and_close_refuses_the_rest() -> None:
    queue, log = GenerationQueue(4), []

    async def main() -> None:
        first = asyncio.ensure_future(queue.submit(_job(log, "a", 0.3)))
        await asyncio.sleep(0.05)
        gone = asyncio.ensure_future(queue.submit(_job(log, "gone")))
        await asyncio.sleep(0.05)
        assert queue.waiting == 1
        gone.cancel()
        await asyncio.sleep(0.01)
        assert queue.waiting == 0
        await first

    try:
        _run(main())
    finally:
        queue.close()
    assert log == ["a"]

    closing, log = GenerationQueue(4), []

    async def shut() -> Any:
        first = asyncio.ensure_future(closing.submit(_job(log, "a", 0.3)))
        await asyncio.sleep(0.05)
        waiting = asyncio.ensure_future(closing.submit(_job(log, "b")))
        await asyncio.sleep(0.05)
        await asyncio.to_thread(closing.close)
        return await asyncio.gather(first, waiting, return_exceptions=True)

    done = _run(shut())
    assert done[0] == "a" and isinstance(done[1], QueueFull) and log == ["a"]


def test_the_server_takes_several_keys_and_reports_waits() -> None:
    import httpx

    from tests.serving import serving
    from tests.test_agent import Scripted

    with serving(Scripted(["hi"] * 4), api_key=["sk-one", "sk-two"], queue_size=3, wait_s=7.0) as url:
        for key, status in (("sk-one", 200), ("sk-two", 200), ("sk-three", 401)):
            answer = httpx.post(f"{url}/v1/completions", json={"prompt": "x", "max_tokens": 2},
                                headers={"Authorization": f"Bearer {key}"})
            assert answer.status_code == status, key
        queue = httpx.get(f"{url}/health").json()["queue"]
    assert (queue["size"], queue["wait_s"], queue["keys"], queue["waiting"]) == (3, 7.0, 2, 0)
    assert queue["waits"]["count"] == 2 and queue["waits"]["p95_s"] >= 0
