"""An opt-in per-source response cache, for dashboards that send the same queries again (docs/DESIGN.md §7).

Keyed by the normalized request (method, path, sorted parameters, canonical JSON body) and a
SHA-256 fingerprint of the source's credentials, never the credentials themselves, so two users of
one server never share answers. Entries are the response bodies as bytes (the bytes the platform
sent, or compact JSON), decoded afresh on every hit, so no caller can change a cached answer, and a
scan reads a cached page straight into Arrow as it reads one from the wire
(``SourceRuntime.send``). They expire after ``ttl`` seconds and are evicted least recently used
beyond ``max_bytes``. Only successful answers are stored.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from dialect import Secret
from lowcode_sql.requests import HttpRequest

__all__ = ["ResponseCache", "credential_fingerprint"]


def credential_fingerprint(credentials: Mapping[str, Secret]) -> str:
    """A one-way digest of the credentials (names and values), for cache keys."""
    h = hashlib.sha256()
    for name in sorted(credentials):
        h.update(name.encode() + b"\0" + credentials[name].reveal().encode() + b"\0")
    return h.hexdigest()


class ResponseCache:
    def __init__(self, ttl: float, max_bytes: int = 64 << 20, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.max_bytes, self.clock = ttl, max_bytes, clock
        self._entries: OrderedDict[tuple[Any, ...], tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @staticmethod
    def key(req: HttpRequest, fingerprint: str) -> tuple[Any, ...]:
        body = orjson.dumps(req.json, option=orjson.OPT_SORT_KEYS) if req.json is not None else b""
        return (req.method.upper(), req.path, tuple(sorted(req.params)), body, fingerprint)

    def get(self, key: tuple[Any, ...]) -> Any:
        """The cached body (decoded anew), or ``None``: a miss."""
        data = self.get_bytes(key)
        return None if data is None else orjson.loads(data)

    def get_bytes(self, key: tuple[Any, ...]) -> bytes | None:
        """The cached body's JSON bytes, or ``None``: a miss."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= self.clock():
                if entry is not None:
                    self._drop(key)
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: tuple[Any, ...], body: Any) -> None:
        self.put_bytes(key, orjson.dumps(body))

    def put_bytes(self, key: tuple[Any, ...], data: bytes) -> None:
        """Store a body as JSON bytes (a successful answer's, exactly as it decoded)."""
        if len(data) > self.max_bytes:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (self.clock() + self.ttl, data)
            self._bytes += len(data)
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: tuple[Any, ...]) -> None:
        _, data = self._entries.pop(key)
        self._bytes -= len(data)
