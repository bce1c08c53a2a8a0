"""Per-source request budget: at most ``concurrency`` requests in flight and ``rate_limit`` per second.

Platforms throttle per account (Totalum, Slingr answer 429 quickly); staying under their rate is
cheaper than being told to back off. Both limits apply to every HTTP attempt, logins included.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

__all__ = ["Budget", "RateLimiter"]


class RateLimiter:
    """Token bucket of ``burst`` tokens refilled at ``rate`` per second (GCRA form).

    Each caller reserves the next free slot synchronously (no await between read and write), so
    concurrent callers on one loop get distinct, evenly spaced slots without a lock.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate
        self.burst = burst
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._tat = float("-inf")  # theoretical arrival time of the next request

    async def acquire(self) -> None:
        now = self._clock()
        tat = max(self._tat, now)
        wait = tat - now - (self.burst - 1) * self._interval
        self._tat = tat + self._interval
        if wait > 0:
            await self._sleep(wait)


class Budget:
    """``async with budget:`` around one HTTP attempt (never around back-off sleeps)."""

    def __init__(
        self,
        concurrency: int = 8,
        rate_limit: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self._sem = asyncio.Semaphore(concurrency)
        self.limiter = RateLimiter(rate_limit, clock=clock, sleep=sleep) if rate_limit else None
        self.in_flight = 0
        self.peak = 0  # most requests ever in flight at once (EXPLAIN ANALYZE, tests)

    async def __aenter__(self) -> None:
        await self._sem.acquire()
        try:
            # Slot first, then rate: requests leave evenly spaced instead of bunching after a wait.
            if self.limiter is not None:
                await self.limiter.acquire()
        except BaseException:
            self._sem.release()
            raise
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.in_flight -= 1
        self._sem.release()
