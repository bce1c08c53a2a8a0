"""An opt-in per-source response cache, for dashboards that send the same queries again (docs/DESIGN.md §7).

Keyed by the normalized request (method, path, sorted parameters, canonical JSON body) and a
SHA-256 fingerprint of the source's credentials, never the credentials themselves, so two users of
one server never share answers. Entries are the response bodies as bytes (the bytes the platform
sent, or compact JSON), decoded afresh on every hit, so no caller can change a cached answer, and a
scan reads a cached page straight into Arrow as it reads one from the wire
(``SourceRuntime.send``). They expire after ``ttl`` seconds and are evicted least recently used
beyond ``max_bytes``. Only successful answers are stored.

A scan read to its end also leaves its Arrow batches (``put_batches``), keyed by everything the
batches depend on (``execute.scan``): a repeated dashboard query then reads no page and decodes
nothing (decoding was 0.6-0.9 s of CPU per 100k Totalum rows from cached bytes). Such an entry
expires when the scan's first page would: the scan started before any of its pages was stored.
Arrow arrays are immutable, so sharing them cannot change a cached answer either.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from dialect import Secret
from lowcode_sql.requests import HttpRequest

__all__ = ["ResponseCache", "credential_fingerprint"]

if TYPE_CHECKING:
    import pyarrow as pa


def credential_fingerprint(credentials: Mapping[str, Secret]) -> str:
    """A one-way digest of the credentials (names and values), for cache keys."""
    h = hashlib.sha256()
    for name in sorted(credentials):
        h.update(name.encode() + b"\0" + credentials[name].reveal().encode() + b"\0")
    return h.hexdigest()


class ResponseCache:
    def __init__(self, ttl: float, max_bytes: int = 64 << 20, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.max_bytes, self.clock = ttl, max_bytes, clock
        # key -> (expiry, bytes or a scan's batches, size in bytes)
        self._entries: OrderedDict[tuple[Any, ...], tuple[float, Any, int]] = OrderedDict()
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
        got = self._get(key)
        return got if isinstance(got, bytes) else None

    def get_batches(self, key: tuple[Any, ...]) -> tuple[pa.RecordBatch, ...] | None:
        """A finished scan's batches, or ``None``: a miss."""
        got = self._get(key)
        return got if isinstance(got, tuple) else None

    def _get(self, key: tuple[Any, ...]) -> Any:
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
        self._put(key, data, len(data), self.clock() + self.ttl)

    def put_batches(self, key: tuple[Any, ...], batches: tuple[pa.RecordBatch, ...], started: float) -> None:
        """Store the batches of a scan read to its end, that started at ``started`` (``clock()``)."""
        self._put(key, batches, sum(b.nbytes for b in batches), started + self.ttl)

    def _put(self, key: tuple[Any, ...], payload: Any, size: int, expires: float) -> None:
        if size > self.max_bytes or expires <= self.clock():
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (expires, payload, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: tuple[Any, ...]) -> None:
        self._bytes -= self._entries.pop(key)[2]
