"""Process-wide memory tuning, for the processes lowcode_sql owns: the wire server
(``pgwire.server``) and the ``lowcode-sql`` command (``cli.main``). A library caller's process
is left as it is; ``ARROW_DEFAULT_MEMORY_POOL`` and ``MALLOC_ARENA_MAX`` set by the user win."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
from typing import Any

__all__ = ["limit_malloc_arenas", "release_free_memory", "use_system_arrow_pool"]


@functools.cache
def _libc() -> Any:
    """glibc, or None (another C library has no ``malloc_trim``). The process's own symbols
    first: ``find_library`` runs ``ldconfig`` in a child process, too slow for a command's start."""
    for find in (lambda: None, lambda: ctypes.util.find_library("c")):
        try:
            libc = ctypes.CDLL(find())
        except (OSError, TypeError):
            continue
        if hasattr(libc, "malloc_trim"):
            return libc
    return None


def release_free_memory() -> None:
    """Give free memory back to the system: Arrow's memory pool (jemalloc keeps freed pages for a
    while) and the C heap (glibc's ``malloc_trim``; a no-op where there is none). After a burst of
    clients, freed Arrow buffers and closed DuckDBs otherwise stay in the process's RSS."""
    import pyarrow as pa

    with contextlib.suppress(Exception):
        pa.default_memory_pool().release_unused()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def use_system_arrow_pool() -> None:
    """Make Arrow allocate with the C heap (``malloc``) instead of its bundled mimalloc, for the
    whole process (as ``limit_malloc_arenas``), unless ``ARROW_DEFAULT_MEMORY_POOL`` chooses a
    pool already. mimalloc keeps a heap per thread, and
    the pages a worker thread freed stay resident until that same thread allocates again
    (``release_unused`` only collects the calling thread's heap): after 16 clients for 15 s its
    one 1 GiB arena held 142 MB resident for good with 3 MB allocated. With the C heap, capped at
    2 arenas and trimmed when idle, the RSS came back to 23 MB above idle (benchmarks/README.md,
    "Wire server under load, second pass"); encoding speed is the same within noise. The
    command's exports too: pages decoded in the decoding threads (``fetch.loop.off_loop``) and freed
    by DuckDB's kept ~15 MB more resident under mimalloc (1M-row Parquet export 254-270 -> 241 MB,
    issue 15 item 6)."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    with contextlib.suppress(Exception):
        pa.set_memory_pool(pa.system_memory_pool())


_M_ARENA_MAX = -8  # glibc's mallopt parameter


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas for the process (unless ``MALLOC_ARENA_MAX`` is set already).
    glibc gives each thread that allocates concurrently an arena of its own, up to 8 per core;
    the server's worker threads (one per busy session) then keep memory spread over many arenas
    that ``malloc_trim`` cannot give back: measured with 16 clients, the RSS stayed 72 MB above
    idle with the default and came back to 44 MB above it with 2 arenas (benchmarks/README.md)."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(_M_ARENA_MAX, arenas)
