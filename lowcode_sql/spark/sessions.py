"""Open sources cached per process, so token logins are per Spark executor, not per partition.

Spark runs a Python data source's ``read()`` in Python worker processes, one task at a time per
worker, and reuses a worker for the next task (``spark.python.worker.reuse``, true by default;
docs/notes/spark.md). Without a cache every partition built its own runtime and logged in again:
4 partitions on 2 cores were 4 logins on Entu. Here each worker keeps its open sources (their HTTP
clients and authenticated sessions) in a process-level cache and the partitions it runs reuse them:
one login per worker process (and per budget share). Tokens are refreshed as anywhere else
(``fetch/auth.py``): ahead of their expiry, and by one re-login when the platform answers 401.

The key is a SHA-256 of the source's configuration (environment variable *names*, options, budget
share) and of the credential *values* read from this process's environment, so a rotated
credential opens a new session; nothing secret is kept in clear in the key. With worker reuse off,
every task starts a new process and logs in once, as before.

Kept inside ``lowcode_sql.spark``: a process-wide cache for DB-API connections may land elsewhere;
this one only serves the Spark reader.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator

from lowcode_sql.catalog import Catalog, Source
from lowcode_sql.config import Config, SourceConfig

__all__ = ["cached_source", "clear", "session_key"]

MAX_SESSIONS = 16  # distinct sources (and shares) one worker keeps open; the oldest is closed first

_lock = threading.Lock()
_open: OrderedDict[str, Catalog] = OrderedDict()
_atexit_registered = False


def session_key(sc: SourceConfig) -> str:
    """A digest naming ``sc`` and the credentials this process's environment gives it."""
    digest = hashlib.sha256(repr(dataclasses.replace(sc, secrets={})).encode())
    for cred, secret in sorted(sc.resolve_credentials().items()):  # a missing one fails here, typed
        digest.update(b"\0" + cred.encode() + b"\0" + hashlib.sha256(secret.reveal().encode()).digest())
    return digest.hexdigest()


@contextlib.contextmanager
def cached_source(sc: SourceConfig) -> Iterator[Source]:
    """The open source for ``sc`` in this process, logged in at most once while it stays cached."""
    global _atexit_registered
    key = session_key(sc)
    with _lock:
        catalog = _open.get(key)
        if catalog is not None:
            _open.move_to_end(key)
    if catalog is None:
        made = Catalog(Config((sc,)))
        with _lock:
            catalog = _open.setdefault(key, made)
            _open.move_to_end(key)
            evicted = [_open.popitem(last=False)[1] for _ in range(len(_open) - MAX_SESSIONS)]
            if not _atexit_registered:
                atexit.register(clear)
                _atexit_registered = True
        if catalog is not made:  # another thread opened it first
            made.close()
        for old in evicted:
            with contextlib.suppress(Exception):
                old.close()
    yield catalog.source(sc.name)


def clear() -> None:
    """Close every cached source (at exit, and in tests)."""
    with _lock:
        catalogs = list(_open.values())
        _open.clear()
    for catalog in catalogs:
        with contextlib.suppress(Exception):
            catalog.close()
