"""Pausing the cyclic GC while a page's objects are built and dropped.

Decoding one JSON page allocates tens of thousands of dicts, lists and strings. With the GC on, a
page of 1,000 nested records set off ~35 young collections during the decode alone, which promoted
the page's first objects to the older generations; enough promoted objects trigger a collection
of the whole heap (sqlglot, DuckDB, pyarrow and the caller's objects). ``paused_gc`` holds the GC
off for the decode (``fetch.retry``) and the conversion to Arrow (``convert.arrow``); a page
converted as it arrives (``fetch.scan.iter_batches``) then dies before the GC ever looks at it.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

__all__ = ["paused_gc"]

_gc_lock = threading.Lock()
_gc_depth = 0


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic GC while building many short-lived objects (decoding a page allocates
    hundreds of thousands of dicts and strings; GC passes over them cost ~3x the decode)."""
    global _gc_depth
    with _gc_lock:
        _gc_depth += 1
        if _gc_depth == 1:
            was_enabled = gc.isenabled()
            gc.disable()
            _gc_state["enabled"] = was_enabled
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_state.get("enabled"):
                gc.enable()


_gc_state: dict[str, bool] = {}
