"""The shared I/O loop and the request budget."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import AsyncIterator

import pytest

from lowcode_sql.fetch import Budget, RateLimiter, loop


def test_run_and_submit_use_one_background_thread() -> None:
    async def where() -> str:
        return threading.current_thread().name

    assert loop.run(where()) == "lowcode-sql-io"
    fut = loop.submit(where())
    assert isinstance(fut, concurrent.futures.Future)
    assert fut.result(1) == "lowcode-sql-io"
    assert loop.get_loop() is loop.get_loop()


def test_run_propagates_exceptions_and_times_out() -> None:
    async def boom() -> None:
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        loop.run(boom())

    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError):
        loop.run(forever(), timeout=0.02)
    assert cancelled.wait(1)  # the timed-out coroutine does not keep running


def test_run_from_the_loop_thread_refuses_instead_of_deadlocking() -> None:
    async def nested() -> None:
        async def inner() -> int:
            return 1

        loop.run(inner())

    with pytest.raises(RuntimeError, match="await instead"):
        loop.run(nested())


def test_iterate_is_lazy_and_close_runs_cleanup() -> None:
    events: list[str] = []

    async def gen() -> AsyncIterator[int]:
        events.append("start")
        try:
            for i in range(100):
                yield i
        finally:
            events.append("closed")

    it = loop.iterate(gen())
    assert events == []
    assert [next(it), next(it)] == [0, 1]
    it.close()
    assert events == ["start", "closed"]


def test_off_loop_runs_in_the_decoding_threads_and_carries_results_and_errors() -> None:
    gate = threading.Event()

    def where(x: int) -> tuple[str, int]:
        return threading.current_thread().name, x * 2

    def fails() -> None:
        raise ValueError("bad page")

    def blocks() -> str:
        gate.wait(5)
        return "late"

    async def main() -> list[object]:
        name, doubled = await loop.off_loop(where, 21)
        with pytest.raises(ValueError, match="bad page"):
            await loop.off_loop(fails)
        # a job whose awaiting task is cancelled: the worker goes on with the next jobs
        waiting = [asyncio.ensure_future(loop.off_loop(blocks)) for _ in range(2)]  # both threads busy
        queued = asyncio.ensure_future(loop.off_loop(where, 1))  # behind them, then cancelled
        await asyncio.sleep(0.05)
        queued.cancel()
        gate.set()
        late = await asyncio.gather(*waiting)
        return [name, doubled, late, queued.cancelled(), await loop.off_loop(where, 2)]

    name, doubled, late, cancelled, after = loop.run(main())
    assert str(name).startswith("lowcode-sql-decode") and name != "lowcode-sql-io"
    assert doubled == 42 and late == ["late", "late"] and cancelled
    assert isinstance(after, tuple) and after[1] == 4


def test_rate_limiter_spacing_with_fake_time() -> None:
    now = [0.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(4.0, clock=lambda: now[0], sleep=sleep)

    async def burst() -> None:
        for _ in range(5):
            await limiter.acquire()

    loop.run(burst())
    assert waits == [0.25, 0.25, 0.25, 0.25]  # the first goes at once, then one per 1/4 s

    now[0] += 10  # idle time does not bank more than ``burst`` tokens
    waits.clear()
    loop.run(burst())
    assert waits == [0.25] * 4


def test_rate_limiter_burst_and_concurrent_callers() -> None:
    now = [0.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    limiter = RateLimiter(10.0, burst=3, clock=lambda: now[0], sleep=sleep)

    async def together() -> None:
        await asyncio.gather(*(limiter.acquire() for _ in range(5)))

    loop.run(together())
    # Three go at once; the others get distinct later slots, not the same one.
    assert sorted(round(w, 6) for w in waits) == [0.1, 0.2]


def test_budget_bounds_concurrency() -> None:
    budget = Budget(concurrency=3)
    active = [0]
    peak = [0]

    async def job() -> None:
        async with budget:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            await asyncio.sleep(0.002)
            active[0] -= 1

    async def many() -> None:
        await asyncio.gather(*(job() for _ in range(12)))

    loop.run(many())
    assert peak[0] == 3 == budget.peak and budget.in_flight == 0


def test_budget_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Budget(concurrency=0)
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_clients_of_every_source_share_one_tls_context() -> None:
    # httpx builds (and loads the CA bundle into) a TLS context per client unless given one:
    # ~50-90 ms of CPU per source per connection (issue 15, item 3)
    from fetch_fakes import API_KEY, FakeDialect

    from dialect import Secret
    from lowcode_sql.fetch import SourceRuntime

    creds = {"api_key": Secret(API_KEY)}
    runtimes = [SourceRuntime(f"s{i}", f"https://h{i}.example/api", FakeDialect(), creds) for i in range(2)]
    try:
        async def contexts() -> list[object]:
            return [rt._get_client()._transport._pool._ssl_context for rt in runtimes]  # type: ignore[attr-defined]

        a, b = loop.run(contexts())
        assert a is not None and a is b
    finally:
        for rt in runtimes:
            rt.close()
