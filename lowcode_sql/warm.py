"""Pay, when a source is added, what a process's first scan would otherwise pay inside a query.

Measured on a fresh process against sandbox servers over HTTP (``benchmarks/bench_startup.py``):
a connection's first query that read a table took 190-330 ms where the same query warm took
11-60 ms, and almost all of the difference was one-off work of the process, not of the query:

- **pandas**, ~0.2 s: pyarrow imported it on the first conversion of Python objects. Scans no
  longer make pyarrow convert any while pandas is not imported (``convert/pyobjects.py``), so
  nothing here imports it either: a process that never uses pandas never pays for it.
- **TLS.** The process's shared TLS context loads the CA bundle (35-90 ms), needed by every
  source that talks to the network (``fetch.runtime.warm_tls``, called by the connection when
  it has such a source).
- **Imports** the scan path makes on first use: ``pyarrow.compute`` and ``pyarrow.json``, anyio's
  asyncio backend (httpcore's pool locks and events are anyio's, imported by the first request)
  and ``zoneinfo`` (~25 ms together).
- **The scratch database** a scan re-checks a superset filter in (``execute.duck.scratch_cursor``):
  creating a DuckDB database costs ~15 ms and 4 MB, once per process.

What stays in a first query is the interpreter running its code for the first time; the
command daemon removes that too for CLI commands (``lowcode_sql.forkserver``). The CLI's own
one-shot process does not warm (``Connection(warm=False)``): its connection runs one statement,
so the work would only move, and ``query --demo "SELECT 1"`` needs none of it. Its ``shell``
and ``serve`` warm: there a first query comes later.
"""

from __future__ import annotations

import importlib
import threading

__all__ = ["warm_process"]

# imported by a query's first scan, or its first rows read into Python (zoneinfo: the zone of a
# TIMESTAMPTZ value); ``tests/test_first_query.py`` fails when a first query imports anything
# (the engine's own modules are imported with the connection already)
_SCAN_MODULES = (
    "pyarrow.compute",
    "pyarrow.json",
    "zoneinfo",
)

_lock = threading.Lock()
_warmed = False


def warm_process(*, scratch: bool = True) -> None:
    """Once per process (thread-safe; later calls return at once): the imports and one-off
    library work of a first scan (module docstring). No I/O, nothing a query could observe, and
    not pandas.
    ``scratch=False``: not the scratch database, whose threads a ``fork`` would not copy (the
    command daemon forks after warming; its children make their own)."""
    global _warmed
    if _warmed:
        return
    with _lock:
        if _warmed:
            return
        for name in _SCAN_MODULES:
            importlib.import_module(name)
        from lowcode_sql.convert import pyobjects

        _import_anyio_backend()
        pyobjects.pandas_installed()  # looked up once, by the first page of records otherwise
        if scratch:
            from lowcode_sql.execute.duck import scratch_cursor

            scratch_cursor().close()
        _warmed = True


def _import_anyio_backend() -> None:
    """anyio imports its asyncio backend when the first of its primitives is made in a running
    loop (httpcore makes one per request); done here on the engine's I/O loop, as httpcore would."""
    from lowcode_sql.fetch import loop

    async def make_event() -> None:
        import anyio

        anyio.Event()

    loop.run(make_event())
