"""The fetch layer: HTTP for the sans-IO dialects (auth, retries, budget, paging, concurrency).

``SourceRuntime`` holds one source's client and policies; ``iter_pages`` turns a dialect's
``ScanRequest`` into an ordered, sync iterator of record lists; ``fetch_count`` answers COUNT(*)
with one request. All I/O runs on one shared background loop (``fetch.loop``).
"""

from __future__ import annotations

from lowcode_sql.fetch.auth import AuthSession
from lowcode_sql.fetch.budget import Budget, RateLimiter
from lowcode_sql.fetch.retry import RetryPolicy
from lowcode_sql.fetch.runtime import SourceRuntime
from lowcode_sql.fetch.scan import afetch_count, fetch_count, iter_pages
from lowcode_sql.fetch.stats import ScanStats

__all__ = [
    "AuthSession",
    "Budget",
    "RateLimiter",
    "RetryPolicy",
    "ScanStats",
    "SourceRuntime",
    "afetch_count",
    "fetch_count",
    "iter_pages",
]
