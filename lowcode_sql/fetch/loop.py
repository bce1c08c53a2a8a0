"""One background asyncio event loop, in a daemon thread, shared by the whole engine.

DuckDB, the DB-API and the PG-wire server all call us from plain threads; the HTTP work is async
(httpx) so pages of one scan, and scans of one query, overlap. Rather than one ``asyncio.run`` per
call (which would rebuild connection pools every time), every ``SourceRuntime`` lives on this loop
and sync code hands it coroutines with ``run``/``submit``/``iterate``.

At interpreter exit, registered resources (HTTP clients) are closed and the loop is shut down.

A forked child (multiprocessing, a Celery or gunicorn worker) has none of its parent's threads: it
forgets the parent's loop, thread and decoding pool and starts its own on first use (before, its
first query waited forever on a loop nobody ran). Nothing of the parent's is closed in the child:
their sockets are the parent's connections too.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import queue
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from typing import Any, Protocol, TypeVar

__all__ = ["get_loop", "in_loop_thread", "iterate", "off_loop", "register", "run", "shutdown", "submit"]

T = TypeVar("T")


class _Closable(Protocol):
    async def aclose(self) -> None: ...


_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_atexit_registered = False
# Weak: a runtime nobody references any more is closed by its own owner or by GC, not kept alive.
_resources: weakref.WeakSet[Any] = weakref.WeakSet()
_pool: _Workers | None = None
# One per core of the machines we target: the work handed over releases the GIL (pyarrow)
_POOL_THREADS = 2


_parents: list[Any] = []  # in a forked child: the parent's loop, never finalised here (it "runs" elsewhere)


def _forget_after_fork() -> None:
    global _lock, _loop, _thread, _pool, _resources
    if _loop is not None:
        _parents.append(_loop)
    _lock = threading.Lock()  # another thread may have held it at the fork
    _loop = _thread = _pool = None
    _resources = weakref.WeakSet()  # the parent's to close; a runtime registers again when used here


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    loop.run_forever()


def get_loop() -> asyncio.AbstractEventLoop:
    """The shared loop, started on first use."""
    global _loop, _thread, _atexit_registered
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            ready = threading.Event()
            thread = threading.Thread(target=_serve, args=(loop, ready), name="lowcode-sql-io", daemon=True)
            thread.start()
            ready.wait()
            _loop, _thread = loop, thread
            if not _atexit_registered:
                atexit.register(shutdown)
                _atexit_registered = True
        return _loop


def in_loop_thread() -> bool:
    """Whether the caller runs on the shared loop's thread (where blocking on it would deadlock)."""
    return _thread is not None and threading.current_thread() is _thread


async def off_loop(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a small worker pool, awaited: for CPU work that releases the GIL (reading a
    page's bytes into Arrow), so that the loop keeps reading responses and sending the next
    requests meanwhile. On the loop, 8 pages arriving together held the next 8 requests back by the
    sum of their decoding, every round of a concurrent scan (issue 15, item 4)."""
    global _pool
    if _pool is None:
        with _lock:
            if _pool is None:
                _pool = _Workers(_POOL_THREADS, "lowcode-sql-decode")
    fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
    _pool.put((fut, fn, args))
    return await fut


class _Workers:
    """Threads running ``(future, fn, args)`` jobs and settling each future on its loop.

    What ``run_in_executor`` on a ``ThreadPoolExecutor`` does, without its second future per job (a
    ``concurrent.futures.Future``, its condition variable and the callbacks chaining it to the
    asyncio one) or its locks and semaphore per submission: ~12% of the I/O thread's samples on a
    1M-row scan were ``ThreadPoolExecutor.submit`` (benchmarks/README.md, issue 15 item 3, sixth pass)."""

    def __init__(self, threads: int, name: str) -> None:
        self._jobs: queue.SimpleQueue[tuple[asyncio.Future[Any], Callable[..., Any], tuple[Any, ...]] | None] = (
            queue.SimpleQueue())
        self._threads = [threading.Thread(target=self._work, name=f"{name}_{i}", daemon=True) for i in range(threads)]
        for thread in self._threads:
            thread.start()

    def put(self, job: tuple[asyncio.Future[Any], Callable[..., Any], tuple[Any, ...]]) -> None:
        self._jobs.put(job)

    def shutdown(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            _run(*job)
            del job  # a page is not kept alive while the thread waits for the next job


def _run(fut: asyncio.Future[Any], fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    if fut.cancelled():  # (read from another thread: at worst the job runs for nothing)
        return
    try:
        result = fn(*args)
    except BaseException as exc:  # the awaiting task gets it, as from run_in_executor
        _settle(fut, _fail, exc)
    else:
        _settle(fut, _succeed, result)


def _settle(fut: asyncio.Future[Any], how: Callable[[asyncio.Future[Any], Any], None], value: Any) -> None:
    try:
        fut.get_loop().call_soon_threadsafe(how, fut, value)
    except RuntimeError:
        pass  # the loop is closed: nobody awaits it any more


def _succeed(fut: asyncio.Future[Any], result: Any) -> None:
    if not fut.done():
        fut.set_result(result)


def _fail(fut: asyncio.Future[Any], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


def submit(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Schedule ``coro`` on the shared loop; returns a thread-safe future."""
    return asyncio.run_coroutine_threadsafe(coro, get_loop())


def run(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run ``coro`` on the shared loop and block this (non-loop) thread for its result.

    On timeout or interruption (Ctrl-C) the coroutine is cancelled, so no request keeps running.
    """
    if in_loop_thread():
        coro.close()
        raise RuntimeError("lowcode_sql.fetch.loop.run() called from the I/O loop itself: await instead")
    fut = submit(coro)
    try:
        return fut.result(timeout)
    except BaseException:
        if not fut.done():
            fut.cancel()
        raise


def iterate(agen: AsyncIterator[T]) -> Generator[T, None, None]:
    """Consume an async iterator from sync code, one item per ``next()``; lazy.

    Closing the returned generator early cancels the step in flight and closes ``agen`` (whose
    ``finally`` blocks cancel their own tasks), so nothing keeps fetching for a consumer that left.
    """
    current: list[asyncio.Task[Any]] = []

    async def step() -> tuple[bool, Any]:
        task = asyncio.current_task()
        current[:] = [task] if task is not None else []
        try:
            return True, await agen.__anext__()
        except StopAsyncIteration:
            # Returned, not raised: StopAsyncIteration is awkward to carry through futures.
            return False, None

    async def close() -> None:
        task = current[0] if current else None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])
        aclose = getattr(agen, "aclose", None)
        if aclose is not None:
            await aclose()

    def gen() -> Generator[T, None, None]:
        fut: concurrent.futures.Future[tuple[bool, Any]] | None = None
        try:
            while True:
                fut = submit(step())
                ok, item = fut.result()
                fut = None
                if not ok:
                    return
                yield item
        finally:
            if fut is not None and not fut.done():
                fut.cancel()
            loop = _loop
            if loop is not None and not loop.is_closed():
                done = asyncio.run_coroutine_threadsafe(close(), loop)
                # From the loop thread (a GC'd generator) we cannot wait: the close still runs.
                if not in_loop_thread():
                    try:
                        done.result()
                    except (Exception, asyncio.CancelledError):
                        pass  # closing must not mask the consumer's own exception

    return gen()


def register(resource: _Closable) -> None:
    """Close ``resource`` (``await resource.aclose()``) when the interpreter exits."""
    _resources.add(resource)


def shutdown(timeout: float = 5.0) -> None:
    """Close registered resources, cancel leftover tasks and stop the loop. Safe to call twice."""
    global _loop, _thread, _pool
    with _lock:
        loop, thread, pool = _loop, _thread, _pool
        _loop = _thread = _pool = None
    if pool is not None:
        pool.shutdown()
    if loop is None or loop.is_closed():
        return

    async def finish() -> None:
        for resource in list(_resources):
            try:
                await resource.aclose()
            except Exception:
                pass  # best effort at exit: one broken client must not keep the others open
        me = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not me]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await loop.shutdown_asyncgens()

    if thread is not None and thread.is_alive():
        try:
            asyncio.run_coroutine_threadsafe(finish(), loop).result(timeout)
        except Exception:
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if thread.is_alive():
            return  # a stuck callback: leave the daemon thread, never close a running loop
    loop.close()
