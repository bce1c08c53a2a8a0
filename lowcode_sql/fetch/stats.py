"""Counters of one scan (or one query): what EXPLAIN ANALYZE and the CLI progress line show."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from lowcode_sql.errors import RequestLimitExceeded

__all__ = ["RequestCap", "ScanStats"]


class RequestCap:
    """At most ``limit`` HTTP requests for one query, shared by its scans (``ScanStats.cap``):
    taken before each attempt, so the request that would pass the limit is never sent."""

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError("max_requests must be at least 0")
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def take(self, n: int = 1) -> None:
        with self._lock:
            if self.used + n > self.limit:
                raise RequestLimitExceeded(
                    f"the query needs more than {self.limit} request{'s' if self.limit != 1 else ''} "
                    f"(max_requests={self.limit}); "
                    "nothing was answered: raise the limit or narrow the query")
            self.used += n


@dataclass
class ScanStats:
    """Requests, retries, pages, rows and bytes of a scan, plus its wall time.

    Incremented from the I/O loop and read from the consumer's thread, hence ``add`` under a lock.
    ``requests`` counts every HTTP attempt (logins and retries included); ``throttled`` the 429s.
    """

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    logins: int = 0
    pages: int = 0
    rows: int = 0
    bytes: int = 0
    cache_hits: int = 0
    slowest: float = 0.0       # seconds of the slowest request (its retries and waits included)
    slowest_request: str = ""  # which one: method and target, credentials redacted
    started: float | None = None
    finished: float | None = None
    cap: RequestCap | None = field(default=None, repr=False, compare=False)  # the query's request limit
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        """Add to the counters; counting a request past ``cap`` raises ``RequestLimitExceeded``
        (``send_with_retry`` counts each attempt before sending it)."""
        if self.cap is not None and counts.get("requests"):
            self.cap.take(counts["requests"])
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def note_request(self, seconds: float, what: str) -> None:
        """One request answered (or failed) after ``seconds``: kept if it is the slowest so far."""
        with self._lock:
            if seconds > self.slowest:
                self.slowest, self.slowest_request = seconds, what

    def start(self) -> None:
        if self.started is None:
            self.started = time.perf_counter()

    def stop(self) -> None:
        if self.started is not None and self.finished is None:
            self.finished = time.perf_counter()

    @property
    def elapsed(self) -> float:
        """Seconds from the first request to the end of the scan (so far, while it runs)."""
        if self.started is None:
            return 0.0
        return (self.finished if self.finished is not None else time.perf_counter()) - self.started

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "retries": self.retries,
                "throttled": self.throttled,
                "logins": self.logins,
                "pages": self.pages,
                "rows": self.rows,
                "bytes": self.bytes,
                "cache_hits": self.cache_hits,
                "slowest_seconds": round(self.slowest, 6),
                "slowest_request": self.slowest_request,
                "elapsed": round(self.elapsed, 6),
            }
