"""Pages of one table scan, in order, as a sync iterator over the async I/O loop.

Per paging scheme (``lowcode_sql.types``):

* ``OffsetPaging`` with a reported total: after the first page every remaining page is known, so
  they are fetched concurrently (within the source's budget and a read-ahead window of pages not
  yet consumed) and yielded in order. A first page shorter than asked while more rows exist means
  the server clamps the page size: the observed size becomes the stride.
* ``OffsetPaging`` without a total, and ``CursorPaging``: sequential, with the next page prefetched
  while the consumer converts the current one.
* ``NoPaging``: one request.

Guards (docs/DESIGN.md §4, "paging while data changes"): the rows received must match the reported
total, no page may be empty before the end, a page may not report a different total than the first,
a cursor may not repeat and, when the table has a key, no key may appear twice. Any violation is an
``InconsistentScan``: a partial answer is never presented as complete.

Pages without a total (``OffsetPaging`` whose answers report none): read sequentially. Where the
dialect declares that the platform never clamps its page size (``short_page_ends``), a short page is
the end. Otherwise (Totalum: the seed's example answer is a bare array without a count, and the
maximum page size is undocumented) a clamp looks exactly like the last page, so the scan reads on
until a page adds no row: one request more per scan, never a silent cut. Later pages ask at most
``untotalled_page_size`` rows. A page-number API without a skip reaches the row after a short page
only with a page size dividing it and no larger than that page (so under any cap that clamped it). A
server that ignores paging answers the same page again, which the boundary check or the duplicate-key
guard reports.

Boundary check (``OffsetPaging.overlap``, on by default): deleting k rows at the front and appending k
at the end keeps the total, and offset pages then silently skip k rows. So every page after the first
is requested one row early (from the row the page before ended with, with the same page size, so no
server maximum is exceeded) and must start with that same row, compared by the table's key, or by the
whole record (canonical JSON) where there is none; the repeated row is dropped. A mismatch raises
``InconsistentScan`` ("rows moved between pages during the scan"): what moved cannot be re-fetched
with any proof of completeness, so the scan fails and a retry reads a consistent table. Cost: one row
per page after the first (1/(L-1) more rows for pages of L rows: 0.1-0.5% with the dialects' default
page sizes, 2% on Totalum's 50-row many-to-many pages), and a request more when those rows spill into
another page. A LIMIT within the first page and COUNT(*) are unchanged. Page-number APIs overlap
through a skip parameter (``skip_param``); without one, or with pages of one row, there is no
overlap and no boundary check.

Why this yields the before- or the after-state for one change (each request is served atomically,
in one of the two states A, B): let D be the positions where A and B differ (a row present in only
one of them counts). For an insert or delete of a contiguous block, D runs from the block to the end
of the longer table; for one in-place replacement it is one position. If D is one contiguous run, two
adjacent pages that both touch D share a boundary row inside D, which differs between A and B (keys
are unique), so if they were served in different states the check fires. Hence all pages touching D
were served in one state X, and the others hold the same rows in both states: the scan returns X
exactly, and a total differing from the first page's is caught by the total guards. (An in-place
replacement at a boundary keeps its key: the earlier page's copy is kept, and that page alone
touches D.) A delete at one place and an insert at another is one run too (the rows between them
shift). Where it falls short: changes whose D is not one run (in-place replacements in two different
pages, two separate moves), or several changes during one scan, can be served half-before,
half-after without a boundary moving; only the total and duplicate-key guards apply to those.
Without a key, two identical records at a boundary cannot be told apart. Cursor paging is not
covered (it does not page by position).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import deque
from collections.abc import AsyncIterator, Callable, Generator, Sequence
from functools import partial
from typing import Any

import numpy as np
import orjson

from dialect import TableDef
from lowcode_sql import secrets
from lowcode_sql.errors import APIError, DialectError, InconsistentScan, LowcodeSQLError
from lowcode_sql.fetch import loop
from lowcode_sql.fetch.runtime import SourceRuntime
from lowcode_sql.fetch.stats import ScanStats
from lowcode_sql.requests import ArrowPage, CursorPaging, HttpRequest, NoPaging, OffsetPaging, Page, ScanRequest

__all__ = ["ConvertedPage", "ScanStats", "afetch_count", "fetch_count", "iter_converted", "iter_pages"]

Progress = Callable[[ScanStats, "int | None"], None]
#: Reads a page's bytes straight into its converted form, or None where that is not exact
#: (``convert.arrow.arrow_page_decoder``); see ``iter_converted``.
FastDecode = Callable[[bytes], "ArrowPage | None"]

_ADVICE = "the data changed during the scan or the API capped results; retry or narrow the query"


def iter_pages(
    runtime: SourceRuntime,
    table: TableDef,
    scan: ScanRequest,
    *,
    stats: ScanStats | None = None,
    readahead: int | None = None,
    on_progress: Progress | None = None,
    lazy_start: bool = False,
    expect_total: int | None = None,
    ramp: bool = True,
    fields: frozenset[str] | None = None,
) -> Generator[list[Any], None, None]:  # callers close() it to stop early
    """Yield each page's records (decoded JSON objects), in order.

    Lazy: nothing is sent before the first ``next()``. Closing the iterator early cancels requests
    in flight and sends no more. ``on_progress(stats, expected_rows)`` runs in the consumer's
    thread after each page (``expected_rows`` is None while unknown). ``lazy_start=True`` sends
    nothing beyond the first page until the consumer asks for the second (read-ahead then ramps up
    as usual): for consumers that may stop after one page without telling us why, such as a DuckDB
    scan under a ``LIMIT`` (docs/notes/duckdb-sources.md §3: no LIMIT reaches the source).
    ``expect_total``: the total a COUNT reported earlier (a Spark partition planned from it); any page
    reporting another total raises ``InconsistentScan``, as a total changing within one scan does.
    ``ramp=False`` is for a consumer that reads every page (a query without a LIMIT): once the total
    is known, every remaining page up to the read-ahead window is requested at once, instead of
    doubling the read-ahead page by page (which costs a 100-page scan at concurrency 8 15 round
    trips where 1 + 13 would do).

    The default read-ahead is bounded by rows as well as pages (``_readahead``): pages not yet
    consumed are held decoded, ~3.6 KB a record of 21 fields, so 16 pages of 1,000 rows were ~60 MB.
    ``fields``: the only record fields the consumer reads (``convert.arrow.top_level_fields``); a
    table with a key then has every other field but the key (the guards read it) dropped from its
    records as each page arrives, so pages waiting in the read-ahead hold what the query needs (an
    aggregate over 4 of CoreData's 21 task fields: peak RSS +39 MB over setup instead of +58 MB at
    100k rows). Missing fields stay missing. Ignored for
    a table without a key, whose boundary check compares whole records. ``iter_converted`` holds
    converted pages instead (the engine's scans).
    """
    return _iterate(runtime, table, scan, stats, readahead, on_progress, lazy_start, expect_total, ramp,
                    fields, None)


def iter_converted(
    runtime: SourceRuntime,
    table: TableDef,
    scan: ScanRequest,
    convert: Callable[[list[Any]], Any],
    *,
    stats: ScanStats | None = None,
    readahead: int | None = None,
    on_progress: Progress | None = None,
    lazy_start: bool = False,
    ramp: bool = True,
    fast: FastDecode | None = None,
) -> Generator[ConvertedPage, None, None]:  # callers close() it to stop early
    """``iter_pages`` with ``convert(records)`` run on each page as it arrives (on the I/O loop),
    so pages waiting in the read-ahead hold its result (an Arrow batch: ~0.5 MB for 1,000 CoreData
    tasks of 21 fields, whose decoded records are 3.6 MB) instead of decoded JSON (issue 19, item
    4). Each page is yielded as a ``ConvertedPage`` whose ``data`` is the converter's result for
    the rows yielded (``slice``d: ``convert`` must return something with ``slice`` and ``len``);
    the guards keep only the keys and the records at the page's edges. The same guards apply.

    ``fast(body)``, for a table with a key: the page's bytes read straight into what ``convert``
    would make of its records (no Python object per value, no GC work, the GIL released while the
    JSON is read). It returns None for any page it cannot read exactly as ``parse_answer`` +
    ``convert`` would (a null key or record, a value of another type, no records list...), and that
    page takes the usual path, which fails or succeeds as before. The guards read each row of a fast
    page as ``{key: value}``: what they read of a decoded record with a non-null key (the boundary
    check compares keys, the duplicate check hashes them), so every guard holds. A response cache's
    pages go through it too (it holds their bytes). Not used for a table without a key (its
    boundary check compares whole records)."""
    return _iterate(runtime, table, scan, stats, readahead, on_progress, lazy_start, None, ramp, None, convert,
                    fast)


def _iterate(runtime: SourceRuntime, table: TableDef, scan: ScanRequest, stats: ScanStats | None,
             readahead: int | None, on_progress: Progress | None, lazy_start: bool, expect_total: int | None,
             ramp: bool, fields: frozenset[str] | None,
             convert: Callable[[list[Any]], Any] | None, fast: FastDecode | None = None) -> Generator[Any, None, None]:
    stats = stats if stats is not None else ScanStats()
    worker = _Scan(runtime, table, scan, stats, readahead, lazy_start=lazy_start, ramp=ramp,
                   fields=fields | {table.key} if fields is not None and table.key is not None else None,
                   convert=convert, fast=fast)
    worker._total = expect_total  # the guard in _accept compares every page's total with it
    stats.start()
    pages = loop.iterate(worker.pages())
    try:
        for records in pages:
            stats.add(rows=len(records))
            if on_progress is not None:
                on_progress(stats, worker.expected)
            yield records
    finally:
        pages.close()
        stats.stop()


async def afetch_count(
    runtime: SourceRuntime, table: TableDef, scan: ScanRequest, *, stats: ScanStats | None = None,
    read_rows: bool = False,
) -> int:
    """The number of matching rows, from one request for a one-row page.

    An answer without a total (a Totalum bare array, the seed's own example) is an error, unless
    ``read_rows``: then the rows are read and counted (as many requests as a scan, never a guess).
    """
    stats = stats or ScanStats()
    worker = _Scan(runtime, table, scan, stats, 1)
    start = scan.paging.start if isinstance(scan.paging, OffsetPaging) else 0
    req = scan.page_request(start, 1)
    page = await worker.fetch(req)
    if page.total is not None:
        return page.total
    if not read_rows:
        raise APIError(f"{req.method} {req.target()}: the answer reports no total count", source=runtime.name)
    reader = _Scan(runtime, table, scan, stats, None, ramp=False)
    n = 0
    async for records in reader.pages():
        n += len(records)
    return n


def fetch_count(runtime: SourceRuntime, table: TableDef, scan: ScanRequest, *, stats: ScanStats | None = None,
                read_rows: bool = False) -> int:
    """Sync ``afetch_count``: ``COUNT(*)`` with an exact filter costs one request."""
    return loop.run(afetch_count(runtime, table, scan, stats=stats, read_rows=read_rows))


def _key_hash(value: Any) -> int:
    """One hash per key (the guard's hot path): JSON objects and arrays by their canonical text."""
    try:
        return hash(value)
    except TypeError:
        return hash(orjson.dumps(value, option=orjson.OPT_SORT_KEYS))


_NOTHING = object()


def _row_identity(key: str | None, row: Any) -> bytes:
    """What the boundary check compares: the key when the row has one, else the whole record, as
    canonical JSON text (object fields sorted, so their order does not matter)."""
    if key is not None and isinstance(row, dict) and row.get(key) is not None:
        row = row[key]
    return orjson.dumps(row, option=orjson.OPT_SORT_KEYS)


def _same_row(key: str | None, a: Any, b: Any) -> bool:
    try:
        return _row_identity(key, a) == _row_identity(key, b)
    except TypeError:  # not JSON-serialisable: a parser's own objects; compare them as they are
        return bool(a == b)


def _describe(key: str | None, row: Any) -> str | None:
    if key is not None and isinstance(row, dict) and row.get(key) is not None:
        return f"{key}={row[key]!r}"[:80]
    return None


def _hashable(value: Any) -> Any:
    try:
        hash(value)
        return value
    except TypeError:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _only(records: list[Any], fields: frozenset[str]) -> list[Any]:
    """``records`` with only ``fields`` (those present); unchanged when the first record has no
    more fields than that (a page of narrow records costs no copy)."""
    first = records[0] if records else None
    if not isinstance(first, dict) or len(first) <= len(fields):
        return records
    return [{k: r[k] for k in fields if k in r} if isinstance(r, dict) else r for r in records]


class ConvertedPage:
    """A page converted as it arrived (``iter_pages(convert=...)``): ``data``, the converter's result
    for the rows of this view (a zero-copy ``slice``), and what the scan's guards still read: each
    row's key (``None`` where it has none) and the whole records at a few positions (the page's
    first and last, and the row the next overlapping page must start with). Slicing gives a view,
    as a list slice would; indexing a record that was not kept is a bug and raises ``IndexError``."""

    __slots__ = ("_data", "_edges", "_start", "_stop", "keys")

    def __init__(self, data: Any, keys: list[Any] | None, edges: dict[int, Any], start: int, stop: int) -> None:
        self._data, self.keys, self._edges, self._start, self._stop = data, keys, edges, start, stop

    @classmethod
    def of(cls, records: list[Any], data: Any, key: str | None, keep: Sequence[int] = ()) -> ConvertedPage:
        n = len(records)
        keys = None if key is None else [r.get(key) if isinstance(r, dict) else None for r in records]
        edges = {i: records[i] for i in (0, n - 1, *keep) if 0 <= i < n}
        return cls(data, keys, edges, 0, n)

    @classmethod
    def of_keys(cls, data: Any, key: str, keys: list[Any], keep: Sequence[int] = ()) -> ConvertedPage:
        """A page read straight into ``data``: each row, as the guards read it, is ``{key: value}``
        (``keys`` holds no None: the fast decoder declines such pages)."""
        n = len(keys)
        return cls(data, keys, {i: {key: keys[i]} for i in (0, n - 1, *keep) if 0 <= i < n}, 0, n)

    @property
    def data(self) -> Any:
        """The converter's result for exactly this view's rows."""
        if self._start == 0 and self._stop == len(self._data):
            return self._data
        return self._data.slice(self._start, self._stop - self._start)

    def __len__(self) -> int:
        return self._stop - self._start

    def __getitem__(self, i: Any) -> Any:
        n = len(self)
        if isinstance(i, slice):
            a, b, step = i.indices(n)
            if step != 1:
                raise ValueError("a converted page is sliced with step 1 only")
            b = max(a, b)
            keys = None if self.keys is None else self.keys[a:b]
            return ConvertedPage(self._data, keys, self._edges, self._start + a, self._start + b)
        if i < 0:
            i += n
        if not 0 <= i < n or self._start + i not in self._edges:
            raise IndexError(f"record {i} of a converted page was not kept")
        return self._edges[self._start + i]


#: Rows the default read-ahead holds beyond the source's concurrency (``_readahead``).
READAHEAD_ROWS = 4_000


def _readahead(concurrency: int, stride: int) -> int:
    """Default pages not yet consumed (in flight or decoded) for pages of ``stride`` rows: at least
    the concurrency, so every request slot is used, and up to twice that while the pages are small
    (a slow consumer then finds pages waiting; with 1,000-row pages that is 8, not 16, pages)."""
    return max(1, concurrency, min(2 * concurrency, READAHEAD_ROWS // max(1, stride)))


def _ramp(start: int, consumed: int) -> int:
    """Pages in flight allowed once ``consumed`` pages were taken: ``start`` doubling per page
    (with a lazy start of 0: nothing until the first page is taken, then 1, 2, 4, ...)."""
    if start:
        return start << min(consumed, 16)
    return 1 << min(consumed - 1, 16) if consumed else 0


class _SeenKeys:
    """The keys a scan has received, as 64-bit hashes, to catch a row served twice. A hash collision
    (~1e-8 at 1M keys) would make a scan fail loudly, never answer wrongly.

    Exact: the hashes are kept in sorted numpy arrays (8 bytes a key; the strings themselves cost
    ~110 MB per million rows). Each page's sorted hashes are merged into a first array, which at
    ``_BASE`` keys is merged into a second one, which at ``_BASE * _FAN`` keys (2 MB) is kept as it
    is, one more sorted run. A merge copies at most the second array: merging everything into one
    array held the old and the new array of every key at once (16 MB at 1M keys, the guard's peak
    while a result streams: issue 19's memory bound).

    Fast: a page's keys are first tested against a *blocked* Bloom filter (8 to 16 bits a key, 1-2 MB
    at 1M keys), whose ``_PROBES`` bits for a key all lie in one 64-byte block, so a key costs one
    cache line. Only the keys it may hold (~1-4%) are looked up in the sorted arrays. Looking
    every key up in every array was the guard's cost in a scan, where the decoding threads keep the
    caches cold: ~6 cache misses a key and array, 0.45-0.6 s of a 1M-row scan's 0.65 s of guard
    (benchmarks/README.md, issue 15 item 3, sixth pass). The filter is built once the first page is
    stored and rebuilt, twice the size, from the sorted arrays when below 8 bits a key."""

    _BASE = 1 << 14  # keys in the first array before it moves into the second (128 KB)
    _FAN = 16
    _PROBES = 3  # bits a key sets in its block
    _CHUNK = 1 << 14  # keys placed at a time when the filter is rebuilt
    #: Fibonacci-hashing multipliers: ``hash`` of a small int is the int itself, so the block and
    #: the bits in it are taken from the top bits of two different odd products
    _MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))
    _SHIFTS = np.array([64 - 9 * (i + 1) for i in range(_PROBES)], dtype=np.uint64)  # 9 bits a probe

    def __init__(self) -> None:
        self._first = _EMPTY_KEYS
        self._second = _EMPTY_KEYS
        self._runs: list[np.ndarray] = []
        self._stored = 0
        self._filter = np.zeros(0, dtype=np.uint64)  # 8 words (512 bits) a block
        self._log2_blocks = 0

    def add_page(self, keys: Sequence[Any]) -> int | None:
        """Add a page's keys; the index of the first one seen before (then nothing is added)."""
        n = len(keys)
        if not n:
            return None
        try:
            hashes = np.fromiter(map(hash, keys), dtype=np.int64, count=n)  # scalar keys: no Python loop
        except TypeError:
            hashes = np.fromiter(map(_key_hash, keys), dtype=np.int64, count=n)
        ordered = np.sort(hashes)
        if n > 1 and bool((ordered[1:] == ordered[:-1]).any()):
            return self._first_seen(hashes)
        places = None  # (no filter before the first page is stored: nothing is held then)
        if self._filter.size:
            words, bits = places = self._places(ordered)
            maybe = ordered[(self._filter[words] & bits).all(axis=1)]
            if maybe.size and any(map(partial(_holds_any, maybe), self._arrays())):
                return self._first_seen(hashes)
        self._store(ordered, places)
        return None

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return (self._first, self._second, *self._runs)

    def _places(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per hash, its ``_PROBES`` words of the filter and the bit in each (two (n, probes) arrays)."""
        u = hashes.view(np.uint64)
        block = (u * self._MIX[0]) >> np.uint64(64 - self._log2_blocks)  # (uint64 products wrap, as intended)
        probes = ((u * self._MIX[1])[:, None] >> self._SHIFTS) & np.uint64(511)
        words = (block << np.uint64(3))[:, None] | (probes >> np.uint64(6))
        return words, np.left_shift(np.uint64(1), probes & np.uint64(63))

    def _first_seen(self, hashes: np.ndarray) -> int:
        """The index of the first of ``hashes`` (in page order) held already or earlier in the page."""
        seen: set[int] = set()
        held = np.zeros(hashes.size, dtype=bool)
        for stored in self._arrays():
            if stored.size:
                held |= stored.take(stored.searchsorted(hashes), mode="clip") == hashes
        for i, (h, before) in enumerate(zip(hashes.tolist(), held.tolist(), strict=True)):
            if before or h in seen:
                return i
            seen.add(h)
        raise AssertionError("a page with a key seen before has one")

    def _store(self, ordered: np.ndarray, places: tuple[np.ndarray, np.ndarray] | None) -> None:
        """Keep a page's sorted hashes, none of which is held yet (``places``: their places in the
        filter as it is, if computed)."""
        self._stored += ordered.size
        if self._stored * 8 > self._filter.size * 64:  # below 8 bits a key (or no filter yet)
            self._log2_blocks = max(4, (self._stored * 8 // 512 - 1).bit_length())  # 8-16 bits a key
            self._filter = np.zeros(8 << self._log2_blocks, dtype=np.uint64)
            for stored in (*self._arrays(), ordered):
                for at in range(0, stored.size, self._CHUNK):  # bounds the temporary arrays (1 MB)
                    self._mark(self._places(stored[at:at + self._CHUNK]))
        else:
            self._mark(places if places is not None else self._places(ordered))
        first = _merged(self._first, ordered)
        if first.size < self._BASE:
            self._first = first
            return
        self._first = _EMPTY_KEYS
        second = _merged(self._second, first)
        if second.size < self._BASE * self._FAN:
            self._second = second
            return
        self._second = _EMPTY_KEYS
        self._runs.append(second)

    def _mark(self, places: tuple[np.ndarray, np.ndarray]) -> None:
        words, bits = places
        np.bitwise_or.at(self._filter, words.ravel(), bits.ravel())


_EMPTY_KEYS = np.zeros(0, dtype=np.int64)


def _merged(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sorted ``a`` and ``b`` as one sorted array (timsort finds the two runs and merges them)."""
    out = np.concatenate((a, b))
    out.sort(kind="stable")
    return out


def _holds_any(ordered: np.ndarray, stored: np.ndarray) -> bool:
    """Whether sorted ``stored`` holds any of sorted ``ordered``."""
    return bool(stored.size) and bool((stored.take(stored.searchsorted(ordered), mode="clip") == ordered).any())


class _Scan:
    """The async side of one scan: an async generator of record lists plus the guards."""

    def __init__(self, runtime: SourceRuntime, table: TableDef, scan: ScanRequest, stats: ScanStats,
                 window: int | None, *, lazy_start: bool = False, ramp: bool = True,
                 fields: frozenset[str] | None = None, convert: Callable[[list[Any]], Any] | None = None,
                 fast: FastDecode | None = None):
        self.runtime = runtime
        self.fields = fields
        self.convert = convert
        # a fast page has no cursor: only for offset paging or a single request
        self.fast = (fast if convert is not None and table.key is not None
                     and isinstance(scan.paging, (OffsetPaging, NoPaging)) else None)
        self.table = table
        self.scan = scan
        self.stats = stats
        self.readahead = None if window is None else max(1, window)  # None: by rows, once the stride is known
        self.window = self.readahead if self.readahead is not None else 2 * runtime.concurrency
        self.ramp = 0 if lazy_start else 2  # pages prefetched before the consumer takes the first
        self.eager = not ramp and not lazy_start  # all of the window at once (see iter_pages)
        self.lazy_start = lazy_start
        self.expected: int | None = None  # rows the scan must deliver, once a total is known
        self.received = 0
        self._total: int | None = None
        self._keys = _SeenKeys()

    # --- helpers ----------------------------------------------------------------------------

    def _inconsistent(self, what: str) -> InconsistentScan:
        return InconsistentScan(f"{self.table.name}: {what}; {_ADVICE}", source=self.runtime.name)

    async def fetch(self, req: HttpRequest, keep: Sequence[int] = ()) -> Page:
        """One page, parsed; converted (``ConvertedPage``, keeping the records at ``keep`` too) or
        trimmed to ``fields`` here, as it arrives, so that pages waiting in the read-ahead are small."""
        body = await self.runtime.send(req, stats=self.stats, fast=self._fast if self.fast is not None else None)
        if isinstance(body, ArrowPage):
            self.stats.add(pages=1)
            assert self.table.key is not None  # self.fast is None otherwise
            held = ConvertedPage.of_keys(body.batch, self.table.key, body.keys, keep)
            return Page(held, body.total)  # type: ignore[arg-type]
        try:
            page = self.runtime.dialect.parse_answer(self.table, req, body)
            if not isinstance(page.records, list):
                raise TypeError(f"records is a {type(page.records).__name__}, not a list")
        except LowcodeSQLError:
            raise
        except Exception as exc:
            raise APIError(
                f"{req.method} {req.target()}: malformed page for table {self.table.name}: "
                f"{type(exc).__name__}: {secrets.redact(str(exc))[:200]}",  # redact before the cut
                source=self.runtime.name,
            ) from secrets.scrubbed(exc)
        self.stats.add(pages=1)
        if self.convert is not None:
            records = page.records
            held = ConvertedPage.of(records, self.convert(records), self.table.key, keep)
            page = dataclasses.replace(page, records=held)  # type: ignore[arg-type]
        elif self.fields is not None:
            page = dataclasses.replace(page, records=_only(page.records, self.fields))
        return page

    def _fast(self, body: bytes) -> ArrowPage | None:
        """``self.fast`` checked: a page whose rows and keys do not line up takes the usual path."""
        assert self.fast is not None  # fetch passes this only then
        try:
            page = self.fast(body)
        except Exception:  # an Arrow error the decoder did not expect: the usual path decides
            return None
        if page is None or len(page.batch) != len(page.keys) or any(k is None for k in page.keys):
            return None
        return page

    def _accept(self, page: Page, records: Sequence[Any]) -> Sequence[Any]:
        """Run the cross-page guards on ``records`` (already trimmed) before they are yielded."""
        if page.total is not None:
            if self._total is None:
                self._total = page.total
            elif page.total != self._total:
                raise self._inconsistent(f"the reported total changed from {self._total} to {page.total}")
        key = self.table.key
        if key is not None:
            if isinstance(records, ConvertedPage):
                values = [k for k in records.keys or () if k is not None]
            else:
                values = [rec[key] for rec in records if isinstance(rec, dict) and rec.get(key) is not None]
            twice = self._keys.add_page(values)
            if twice is not None:
                raise self._inconsistent(f"key {key}={values[twice]!r} was returned twice")
        self.received += len(records)
        return records

    def _finish(self) -> None:
        if self.expected is not None and self.received != self.expected:
            raise self._inconsistent(f"expected {self.expected} rows, received {self.received}")

    def _spawn(self, req: HttpRequest, keep: Sequence[int] = ()) -> asyncio.Task[Page]:
        return asyncio.get_running_loop().create_task(self.fetch(req, keep))

    # --- schemes ----------------------------------------------------------------------------

    def pages(self) -> AsyncIterator[Sequence[Any]]:
        p = self.scan.paging
        if isinstance(p, OffsetPaging):
            return self._offset(p)
        if isinstance(p, CursorPaging):
            return self._cursor(p)
        if isinstance(p, NoPaging):
            return self._single()
        raise DialectError(f"unknown paging scheme {type(p).__name__}")

    async def _single(self) -> AsyncIterator[Sequence[Any]]:
        page = await self.fetch(self.scan.base)
        self.expected = page.total
        yield self._accept(page, page.records)
        self._finish()

    def _overlaps(self, p: OffsetPaging, stride: int) -> bool:
        """Whether pages after the first can start one row early (module docstring, "Boundary check")."""
        return p.overlap and (not p.page_number or p.skip_param is not None) and stride >= 2

    def _later_request(self, p: OffsetPaging, offset: int, size: int) -> HttpRequest:
        """An overlapping page: a page-number API reaches an arbitrary row only through its skip."""
        return self.scan.page_request(offset, size, by_skip=p.page_number)

    def _check_boundary(self, p: OffsetPaging, before: Any, page: list[Any], offset: int, first: Any) -> None:
        """The page requested at ``offset`` must start with ``before``, the row at ``offset`` when the
        page before was served; anything else means rows moved between the two requests."""
        if page and _same_row(self.table.key, before, page[0]):
            return
        if p.skip_param is not None and page and offset > 0 and _same_row(self.table.key, first, page[0]):
            # page 0 came back again: most likely the server ignores the skip, which (for a
            # page-number API) is what the overlap relies on
            raise self._inconsistent(
                f"the page requested at row {offset} ({p.skip_param}={offset}) starts with the scan's first row: "
                f"the server seems to ignore {p.skip_param}; the source option drift_check = false turns "
                "the one-row page overlap off"
            )
        key = self.table.key
        was, now = _describe(key, before), (_describe(key, page[0]) if page else None)
        if was and now:
            what = f"row {offset} held {was} and then {now}"
        elif page:
            what = f"row {offset} is not the record the previous page ended with"
        else:
            what = f"row {offset}, the last row of the previous page, is gone"
        if p.skip_param is not None:
            what += (f" (if the table was not changing, the server may ignore {p.skip_param}: the source "
                     "option drift_check = false turns the one-row page overlap off)")
        raise self._inconsistent(f"rows moved between pages during the scan: {what}")

    async def _offset(self, p: OffsetPaging) -> AsyncIterator[Sequence[Any]]:
        limit = p.max_rows
        if limit is not None and limit <= 0:
            return
        if p.page_number and p.start % p.page_size:
            raise DialectError(f"page-number paging cannot start at row {p.start} (page size {p.page_size})")
        start = p.start
        asked = p.page_size if limit is None else min(p.page_size, limit)
        if p.page_number and start % asked:
            raise DialectError(f"page-number paging cannot fetch {asked} rows from row {start}: "
                               "the dialect must choose a page size that divides the offset")
        first = await self.fetch(self.scan.page_request(start, asked))
        if first.total is None:
            async for records in self._offset_sequential(p, start, asked, first):
                yield records
            return
        total = first.total
        expected = max(0, total - start) if limit is None else min(max(0, total - start), limit)
        self.expected = expected
        n = len(first.records)
        served = max(0, min(asked, total - start))  # what a consistent server returns
        if n > max(0, total - start):
            raise self._inconsistent(
                f"the page at offset {start} has {n} rows but the total leaves room for {max(0, total - start)}"
            )
        if n == 0 and expected > 0:
            raise self._inconsistent(f"empty page at offset {start} before the expected end ({expected} rows)")
        # Fewer rows than asked while the total says more exist: the server caps the page size.
        # More rows than asked: it ignores our size and uses its own. Either way, its size is the stride.
        stride = n if n != served else asked
        overlap = self._overlaps(p, stride)
        if p.page_number and not overlap and start % stride:
            raise self._inconsistent(f"the server's page size {stride} does not divide the start row {start}")
        end = start + expected
        # Each planned offset is the first row a page adds; with the overlap the page is requested
        # from the row before it, which the previous page ended with (so a page adds stride - 1 rows).
        plan = iter(range(start + n, end, stride - 1 if overlap else stride))  # lazy: 10M rows are 100k offsets
        if self.readahead is None:
            self.window = _readahead(self.runtime.concurrency, stride)

        def request(offset: int) -> tuple[HttpRequest, int, int]:
            """The request for the page adding rows from ``offset``, the row it starts at, its size."""
            if overlap:
                at = offset - 1
                size = min(stride, end - at)
                return self._later_request(p, at, size), at, size
            if p.page_number:
                # Page geometry must stay fixed: page k covers [k*stride, (k+1)*stride); trim locally.
                clamped = dataclasses.replace(self.scan, paging=dataclasses.replace(p, page_size=stride))
                return clamped.page_request(offset, stride), offset, stride
            size = min(stride, end - offset)
            return self.scan.page_request(offset, size), offset, size

        window: deque[tuple[int, int, int, asyncio.Task[Page]]] = deque()
        consumed = 0
        head = first.records[0] if first.records else None
        last = first.records[n - 1] if first.records else None  # the row the next page must start with

        def top_up() -> None:
            # Slow start, as in TCP: the read-ahead doubles with each page the consumer takes, up to
            # the window, so a LIMIT over a local filter that is satisfied by the first page costs only
            # a couple of extra requests, while a full scan reaches full concurrency after 2-3 pages
            # (growing by one page a page kept a 100-page scan at half concurrency for a third of it).
            # A consumer that reads every page gets the whole window at once (``eager``).
            allowed = self.window if self.eager else min(self.window, _ramp(self.ramp, consumed))
            while len(window) < allowed:
                offset = next(plan, None)
                if offset is None:
                    return
                req, at, size = request(offset)
                # the boundary check reads the row at size - 1 (the next page's first)
                window.append((offset, at, size, self._spawn(req, (size - 1,))))

        try:
            top_up()  # the remaining pages start before the consumer even sees the first
            yield self._accept(first, first.records[:expected])
            while True:
                consumed += 1
                top_up()  # with lazy_start the window is still empty here: the next page starts now
                if not window:
                    break  # the plan is exhausted
                offset, at, size, task = window[0]
                page = await task
                window.popleft()
                top_up()
                if page.total is not None and page.total != total:
                    raise self._inconsistent(f"the reported total changed from {total} to {page.total}")
                got, want = len(page.records), max(0, min(size, total - at))
                if got == 0:
                    raise self._inconsistent(f"empty page at offset {at} before the expected end ({expected} rows)")
                # A longer page is harmless only as the last one we need (a server ignoring a small
                # final limit); anywhere else it overlaps the next page.
                longer_ok = at + size >= end and got <= total - at
                if got < want or (got > want and not longer_ok):
                    raise self._inconsistent(
                        f"the page at offset {at} has {got} rows instead of {want} "
                        f"(expected {expected} rows in all)"
                    )
                records = page.records
                if overlap:
                    self._check_boundary(p, last, records, at, head)
                    last = records[size - 1]  # got >= want == size here unless this is the last page
                    records = records[1:]  # the row the previous page already delivered
                yield self._accept(page, records[: end - offset])
        finally:
            await _cancel(task for _, _, _, task in window)
        self._finish()

    async def _offset_sequential(
        self, p: OffsetPaging, offset: int, asked: int, page: Page
    ) -> AsyncIterator[Sequence[Any]]:
        # No total (module docstring, "Pages without a total"). With the overlap, each page after
        # the first starts at the row the previous one ended with (``offset`` is always the row
        # ``page`` starts at); a page that does not start with it, or is empty, means rows moved.
        limit = p.max_rows
        overlap = self._overlaps(p, p.page_size)
        cap = p.page_size if p.untotalled_page_size is None else max(1, min(p.page_size, p.untotalled_page_size))
        nxt: asyncio.Task[Page] | None = None
        req: HttpRequest | None = None
        head = page.records[0] if page.records else None
        before: Any = _NOTHING  # the row this page must start with (after the first page)
        first = True
        try:
            while True:
                n = len(page.records)
                new = page.records
                if before is not _NOTHING:
                    self._check_boundary(p, before, new, offset, head)
                    new = new[1:]
                room = None if limit is None else limit - self.received
                records = new if room is None else new[:room]
                # without short_page_ends a short page may be a clamp: only a page adding no row ends it
                more = (n > 0 and n >= asked) if p.short_page_ends else len(new) > 0
                more = more and (room is None or len(records) < room)
                req = None
                if more:
                    left = None if room is None else room - len(records)
                    if overlap:
                        before = page.records[-1]
                        offset += n - 1
                        asked = cap if left is None else min(cap, left + 1)
                        req = self._later_request(p, offset, asked)
                    elif p.page_number:
                        short = n < asked
                        # page k covers [k*size, (k+1)*size) only while the server honours the size:
                        # after a short page, ask no more than it served (so never above its cap)
                        offset += n if short else asked
                        if short:
                            cap = max(1, min(cap, n))
                        asked = _divisor(offset, cap)
                        req = self.scan.page_request(offset, asked)
                    else:
                        offset += n
                        asked = cap if left is None else min(cap, left)
                        req = self.scan.page_request(offset, asked)
                    if not (first and self.lazy_start):
                        nxt = self._spawn(req)  # overlaps the consumer
                yield self._accept(page, records)
                first = False
                if req is None:
                    return
                page = await nxt if nxt is not None else await self.fetch(req)
                nxt = None
        finally:
            if nxt is not None:
                await _cancel([nxt])

    async def _cursor(self, p: CursorPaging) -> AsyncIterator[Sequence[Any]]:
        limit = p.max_rows
        if limit is not None and limit <= 0:
            return
        size = p.page_size if limit is None else min(p.page_size, limit)
        page = await self.fetch(self.scan.page_request(0, size))
        if page.total is not None:
            self.expected = page.total if limit is None else min(page.total, limit)
        requested: set[Any] = set()
        nxt: asyncio.Task[Page] | None = None
        first = True
        try:
            while True:
                room = None if limit is None else limit - self.received
                records = page.records if room is None else page.records[:room]
                got = self.received + len(records)
                cursor = page.cursor
                done = cursor is None or (room is not None and len(records) >= room)
                if self.expected is not None and got >= self.expected:
                    done = True  # the reported total is reached: another request would be wasted
                if not done and not page.records and self.expected is not None:
                    raise self._inconsistent(f"empty page before the expected end ({self.expected} rows)")
                req: HttpRequest | None = None
                if not done:
                    key = _hashable(cursor)
                    if key in requested:
                        raise self._inconsistent(f"the cursor {str(cursor)[:80]!r} came back twice (paging loop)")
                    requested.add(key)
                    left = None if room is None else room - len(records)
                    asked = p.page_size if left is None else min(p.page_size, left)
                    req = self.scan.page_request(0, asked, cursor)
                    if not (first and self.lazy_start):
                        nxt = self._spawn(req)  # overlaps the consumer
                yield self._accept(page, records)
                first = False
                if req is None:
                    break
                page = await nxt if nxt is not None else await self.fetch(req)
                nxt = None
        finally:
            if nxt is not None:
                await _cancel([nxt])
        self._finish()


def _divisor(offset: int, most: int) -> int:
    """The largest page size of at most ``most`` rows that divides ``offset`` (page-number paging)."""
    most = max(1, most)
    if offset == 0 or offset % most == 0:
        return most
    return max(d for d in range(1, most + 1) if offset % d == 0)


async def _cancel(tasks: Any) -> None:
    """Cancel ``tasks`` and wait for them, retrieving their exceptions (no "never retrieved" noise)."""
    pending = list(tasks)
    for t in pending:
        t.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
