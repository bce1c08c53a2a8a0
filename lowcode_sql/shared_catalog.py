"""Discovered tables and login tokens shared by the DB-API connections of one process.

Superset (and any SQLAlchemy app on a ``NullPool``) opens a new DB-API connection per chart: each
used to log in and rediscover every table again, 8-9 platform requests before the chart's own
(issue 14). ``lowcode_sql.dbapi.connect`` now seeds each new connection's sources from this cache
and writes back what they learned, so a second connection of the same source sends neither a
login nor a discovery request while the entry is fresh.

* The key of a source is a SHA-256 over everything that decides what the platform answers and who
  asks: platform, base URL, options and the credential *values* (resolved from the environment at
  connect time). The credentials are only hashed: neither they nor a reversible form are kept.
  Another account, another URL or a rotated key is another entry.
* An entry lives ``ttl`` seconds from the discovery that made it (default 300, ``catalog_ttl=`` on
  ``dbapi.connect`` and ``lowcode://...?catalog_ttl=``; 0 turns sharing off). Reusing it does not
  extend it, so a table added on the platform shows up within ``ttl`` however busy the dashboards.
* A shared token that the platform refuses (revoked, expired early) takes the usual path: a 401,
  one re-login, and the new token is shared from then on.
* Sandbox sources (an emulator in this process) and replayed ones are never shared: each
  connection has its own emulator, whose tokens and tables are its own.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from dialect import TableDef, Token

__all__ = ["DEFAULT_TTL", "SharedCatalog", "clear", "shared"]

DEFAULT_TTL = 300.0


@dataclass
class _Entry:
    expires: float
    tables: dict[str, TableDef] | None = None
    token: Token | None = None
    refresh_at: float | None = None


class SharedCatalog:
    """The process-wide store (``shared``); ``clock`` is monotonic seconds (tests move it)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(source: Any) -> str:
        """The key of a built, non-sandbox ``catalog.Source``: its credentials enter as the
        one-way digest its auth session keeps (``fetch.cache.credential_fingerprint``)."""
        sc, runtime = source.config, source.runtime
        blob = orjson.dumps([sc.platform, runtime.base_url, sc.options, runtime.auth.fingerprint],
                            option=orjson.OPT_SORT_KEYS, default=str)
        return hashlib.sha256(blob).hexdigest()

    def seed(self, source: Any, key: str) -> None:
        """Give ``source`` the fresh tables and token stored under ``key``, if any."""
        with self._lock:
            entry = self._fresh(key)
            if entry is None:
                return
            tables, token, refresh_at = entry.tables, entry.token, entry.refresh_at
        if tables is not None:
            source.seed_tables(tables)
        if token is not None:
            source.runtime.auth.restore(token, refresh_at)

    def store(self, source: Any, key: str, ttl: float) -> None:
        """Remember what ``source`` discovered and its current token under ``key``."""
        tables = source.discovered
        token, refresh_at = source.runtime.auth.token_state() if source.built else (None, None)
        if tables is None and token is None:
            return
        with self._lock:
            entry = self._fresh(key)
            if entry is None:  # a new entry's life starts now; reuse never extends it
                entry = self._entries[key] = _Entry(self.clock() + ttl)
            if tables is not None and entry.tables is None:
                entry.tables = dict(tables)
            if token is not None:
                entry.token, entry.refresh_at = token, refresh_at

    def _fresh(self, key: str) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and self.clock() >= entry.expires:
            del self._entries[key]
            entry = None
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return sum(1 for k in list(self._entries) if self._fresh(k) is not None)


shared = SharedCatalog()


def clear() -> None:
    """Forget every shared table list and token (the next connection logs in and discovers)."""
    shared.clear()


class Sharing:
    """The sharing of one DB-API connection: its sources' keys, seeded at connect, stored back
    after each query and at close."""

    def __init__(self, connection: Any, ttl: float, store: SharedCatalog = shared) -> None:
        self.ttl = ttl
        self._store = store
        self._sources: list[tuple[Any, str]] = []
        catalog = connection.catalog
        if ttl <= 0 or catalog.recorder is not None or catalog.replay is not None:
            return  # a recording must see every exchange; a replay is a world of its own
        for source in catalog.sources.values():
            if source.config.sandbox:
                continue
            key = store.key(source)
            self._sources.append((source, key))
            store.seed(source, key)

    def save(self) -> None:
        for source, key in self._sources:
            self._store.store(source, key, self.ttl)
