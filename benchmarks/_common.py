"""Shared helpers for the benchmarks: deterministic CoreData ``tasks`` data built with Arrow
compute (no per-row Python), the page bodies the sandbox sends, ``BenchCoreDataSandbox`` (the
emulator with O(page) unfiltered pages, checked byte for byte against the stock one by
``self_check``), a sandbox server in a child process, timing and table printing.

Not a benchmark itself; imported by the ``bench_*.py`` scripts (run them from the repository root;
``run_all.py`` sets ``PYTHONPATH``).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # so "python benchmarks/bench_x.py" works without PYTHONPATH too
    sys.path.insert(0, str(ROOT))

MISSED = 3  # exit status of a benchmark that ran but missed its target (1 is left to crashes)
BASE_TIME = dt.datetime(2024, 1, 1)
STATUSES = ["open", "in progress", "waiting", "done", "cancelled"]
PEOPLE = ["Anna Jónsdóttir", "Björn Sigurðsson", "Guðrún Helgadóttir", "Ólafur Magnússon", None]
SPACES = [(f"00000000-0000-4000-9000-{i:012d}", f"Space {i}") for i in range(8)]
PROJECTS = [(f"00000000-0000-4000-a000-{i:012d}", f"2024-{i:02d}", f"Project {i}") for i in range(50)]


def _uuid_like(prefix: str, idx: pa.Array) -> pa.Array:
    """'<prefix>-<12 zero-padded digits>': a UUID-shaped, unique, deterministic string."""
    digits = pc.utf8_lpad(pc.cast(idx, pa.string()), 12, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def _pick(values: Sequence[Any], codes: np.ndarray, typ: pa.DataType | None = None) -> pa.Array:
    return pa.array(values, typ or pa.string()).take(pa.array(codes))


def make_tasks(n: int, *, seed: int = 42, prefix_every: int = 200) -> pa.Table:
    """``n`` CoreData-shaped task rows (the columns the dialect declares for ``tasks``).

    Deterministic for a given ``n`` and ``seed``. Row ``i``:

    * ``title`` = ``"Task %07d" % i``, except every ``prefix_every``-th row whose title is
      ``"Prelude %07d"`` (so ``LIKE 'Pre%'`` selects ``n / prefix_every`` rows) and every 997th row
      whose title is NULL;
    * ``created`` = 2024-01-01 + i minutes (+ i*7919 % 1e6 microseconds, so some values carry
      fractions); ``modified`` = ``created`` + 1 hour + (i % 3600) s; NULL for every 251st row;
    * nested ``space`` / ``project`` refs, ``tags`` and ``contacts`` lists, ``dynatype`` struct.
    """
    rng = np.random.default_rng(seed)
    i = np.arange(n, dtype=np.int64)
    idx = pa.array(i)
    title = pc.binary_join_element_wise("Task ", pc.utf8_lpad(pc.cast(idx, pa.string()), 7, "0"), "")
    pre = pc.binary_join_element_wise("Prelude ", pc.utf8_lpad(pc.cast(idx, pa.string()), 7, "0"), "")
    title = pc.if_else(pa.array(i % prefix_every == prefix_every - 1), pre, title)
    title = pc.if_else(pa.array(i % 997 == 500), pa.scalar(None, pa.string()), title)

    epoch0 = np.datetime64(BASE_TIME, "us").astype(np.int64)  # naive wall clock, as CoreData sends it
    created_us = epoch0 + i * 60_000_000 + (i * 7919 % 1_000_000) * (i % 4 == 0)
    modified_us = created_us + 3_600_000_000 + (i % 3600) * 1_000_000
    created = pa.array(created_us, pa.timestamp("us"))
    modified = pa.array(modified_us, pa.timestamp("us"), mask=(i % 251 == 100))
    due = pa.array(created_us + 14 * 86_400_000_000, pa.timestamp("us"), mask=(i % 3 == 0))

    space_codes = rng.integers(0, len(SPACES), n)
    space = pa.StructArray.from_arrays(
        [_pick([s[0] for s in SPACES], space_codes), _pick([s[1] for s in SPACES], space_codes)], ["id", "title"]
    )
    proj_codes = rng.integers(0, len(PROJECTS), n)
    project = pa.StructArray.from_arrays(
        [_pick([p[0] for p in PROJECTS], proj_codes), _pick([p[1] for p in PROJECTS], proj_codes),
         _pick([p[2] for p in PROJECTS], proj_codes)],
        ["id", "identifier", "title"],
        mask=pa.array(i % 41 == 7),
    )
    # tags: 0-2 tags per row, drawn from a small vocabulary
    tag_vocab = pa.array(["urgent", "billing", "legal", "hr", "it", "sales"])
    n_tags = (i % 3).astype(np.int32)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(n_tags, out=offsets[1:])
    tag_values = tag_vocab.take(pa.array(rng.integers(0, len(tag_vocab), int(offsets[-1]))))
    tags = pa.ListArray.from_arrays(pa.array(offsets), tag_values)
    # contacts: 0-1 {id,title}
    n_c = (i % 2).astype(np.int32)
    c_off = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(n_c, out=c_off[1:])
    c_idx = pa.array(rng.integers(0, 5000, int(c_off[-1])))
    contacts = pa.ListArray.from_arrays(
        pa.array(c_off),
        pa.StructArray.from_arrays([_uuid_like("00000000-0000-4000-b000-", c_idx),
                                    pc.binary_join_element_wise("Contact ", pc.cast(c_idx, pa.string()), "")],
                                   ["id", "title"]),
    )
    dynatype = pa.StructArray.from_arrays(
        [pa.array(["dt-task"] * 1, pa.string()).take(pa.array(np.zeros(n, dtype=np.int64))),
         _pick(["Task"], np.zeros(n, dtype=np.int64)), _pick(["Task"], np.zeros(n, dtype=np.int64)),
         _pick(["Tasks"], np.zeros(n, dtype=np.int64))],
        ["id", "title", "caption_singular", "caption_plural"],
    )
    # responsible_users: 0-1 {first_name,last_name,username}
    n_u = (i % 4 == 1).astype(np.int32)
    u_off = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(n_u, out=u_off[1:])
    u_codes = rng.integers(0, 4, int(u_off[-1]))
    users = pa.StructArray.from_arrays(
        [_pick(["Anna", "Björn", "Guðrún", "Ólafur"], u_codes),
         _pick(["Jónsdóttir", "Sigurðsson", "Helgadóttir", "Magnússon"], u_codes),
         _pick(["anna", "bjorn", "gudrun", "olafur"], u_codes)],
        ["first_name", "last_name", "username"],
    )
    ids = _uuid_like("00000000-0000-4000-8000-", idx)
    return pa.table({
        "id": ids,
        "snapshot_id": _uuid_like("00000000-0000-4000-c000-", idx),
        "type": _pick(["Task"], np.zeros(n, dtype=np.int64)),
        "title": title,
        "description": pc.if_else(pa.array(i % 5 == 0), pa.scalar(None, pa.string()),
                                  pc.binary_join_element_wise("Description of task ", pc.cast(idx, pa.string()), "")),
        "created": created,
        "modified": modified,
        "created_by": _pick(PEOPLE, rng.integers(0, len(PEOPLE), n)),
        "modified_by": _pick(PEOPLE, rng.integers(0, len(PEOPLE), n)),
        "tags": tags,
        "dynatype": dynatype,
        "version": pc.cast(pa.array(i % 7 + 1), pa.string()),
        "status": _pick(STATUSES, rng.integers(0, len(STATUSES), n)),
        "status_message": _pick(["", "blocked on review", "ok"], rng.integers(0, 3, n)),
        "due_date": due,
        "space": space,
        "contacts": contacts,
        "connected_users": pa.ListArray.from_arrays(pa.array(offsets), pa.array(["demo"] * int(offsets[-1]))),
        "responsible_users": pa.ListArray.from_arrays(pa.array(u_off), users),
        "project": project,
        "resource_uri": pc.binary_join_element_wise("/api/v2/tasks/", ids, "/", ""),
    })


def tasks_def():  # type: ignore[no-untyped-def]
    """The dialect's ``TableDef`` of CoreData ``tasks`` (its discovery returns at once)."""
    from dialect.coredata import CoreData

    gen = CoreData().discover()
    try:
        next(gen)
    except StopIteration as stop:
        return {t.name: t for t in stop.value}["tasks"]
    raise AssertionError("coredata discovery sent a request")


def page_bytes(table: pa.Table, page_size: int) -> list[bytes]:
    """The JSON bodies the CoreData sandbox sends for ``?limit=page_size&offset=k`` over ``table``
    (tastypie's ``{"meta": {...}, "objects": [...]}``), byte for byte: they come from
    ``BenchCoreDataSandbox``'s Arrow-backed pages, which ``self_check`` compares with the stock
    emulator's."""
    sb = BenchCoreDataSandbox()
    sb.load_arrow("tasks", table)
    return [_get(sb, [("limit", str(page_size)), ("offset", str(o))])[2:] for o in range(0, table.num_rows, page_size)]


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    """Median wall time of ``repeat`` calls (and all the times, and the last result)."""
    times: list[float] = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, out


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(r[k]) for r in cells) for k in range(len(headers))]
    line = "  ".join("-" * w for w in widths)
    for n, r in enumerate(cells):
        print("  ".join(c.rjust(w) if n and _numeric(c) else c.ljust(w) for c, w in zip(r, widths, strict=True)))
        if n == 0:
            print(line)


def _fmt(c: Any) -> str:
    if isinstance(c, float):
        return f"{c:,.3f}" if abs(c) < 100 else f"{c:,.0f}"
    if isinstance(c, int):
        return f"{c:,}"
    return str(c)


def _numeric(s: str) -> bool:
    return bool(s) and (s[0].isdigit() or s[0] in "-.") and not s.startswith("--")


def verdict(name: str, value: float, target: float, *, higher_is_better: bool = True, unit: str = "") -> bool:
    ok = value >= target if higher_is_better else value <= target
    cmp = ">=" if higher_is_better else "<="
    print(f"TARGET {name}: {value:,.2f}{unit} (target {cmp} {target:g}{unit}) -> {'MET' if ok else 'MISSED'}")
    return ok


def machine() -> str:
    return f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus"


# --------------------------------------------------------------------------------------------
# A sandbox whose unfiltered list requests cost O(page) instead of O(table)
# --------------------------------------------------------------------------------------------

from lowcode_sql.sandbox._base import Request, Response, encode_response, json_response  # noqa: E402
from lowcode_sql.sandbox.coredata import BASE, CoreDataSandbox  # noqa: E402

AUTH = {"authorization": "apikey demo:demo-key"}  # CoreDataSandbox's demo user


class BenchCoreDataSandbox(CoreDataSandbox):
    """``CoreDataSandbox`` with two emulator-side shortcuts for unfiltered, unsorted list pages
    (the only requests a full scan sends), answering byte for byte like the stock emulator
    (``self_check`` proves it on every benchmark run):

    * tables loaded with ``load_table``: the stock ``_list`` tests ``all(p(i) for p in preds)`` for
      every stored row on every request, even with no filter (~0.6 us/row: ~6 ms per page of a
      10k-row table) under the emulator's global handle lock, so concurrent requests queue behind
      each other. A real server answers a page from an index; here the page is sliced from a range.
    * tables loaded with ``load_arrow``: kept as Arrow and encoded page by page on request, so a
      1M-row table needs no 1M Python dicts (several GB) in the server process. Such a table
      answers only unfiltered, unsorted list requests (enough for a full scan and its count).

    * the latency counts from a request's arrival and the page is built meanwhile
      (``latency_hides_work``): with the stock order (wait, then build under the handle lock) 8
      requests arriving together came back ~2 ms apart, one page of this single Python process's
      CPU each, which a real API's workers do not impose; it stretched every round of a
      concurrent scan by ~15 ms (issue 15, item 4).

    Filtered or sorted requests on ``load_table`` tables take the stock path unchanged.
    ``GET /_bench/stats[?reset=1]`` returns the request counters and ``GET /_bench/latency?value=s``
    sets the latency (for a server in another process).
    """

    def __init__(self, **kw: Any) -> None:
        kw.setdefault("sample_data", False)
        super().__init__(**kw)
        self.latency_hides_work = True
        self.arrow_tables: dict[str, pa.Table] = {}
        self.rows_sent = 0  # list objects in the answers since reset_stats (request economy)
        self.bytes_sent = 0
        #: not None: Arrow-backed pages, once encoded, are answered from here (``_serve.py --cache-pages``)
        self.page_cache: dict[tuple[Any, ...], bytes] | None = None

    def reset_stats(self) -> None:
        super().reset_stats()
        self.rows_sent = self.bytes_sent = 0

    def load_arrow(self, name: str, table: pa.Table) -> None:
        self.resources[name] = self._new_resource(name, {})
        self.arrow_tables[name] = table
        if self.page_cache is not None:
            self.page_cache.clear()

    def handle(self, request: Request) -> Response:
        if request.path == "/_bench/stats":
            # this request is itself counted and in flight: report what came before it
            out = {"requests": self.stats.requests - 1, "max_in_flight": self.stats.max_in_flight}
            if request.arg("reset"):
                self.reset_stats()
            return json_response(out)
        if request.path == "/_bench/latency":
            self.latency = float(request.arg("value") or 0)  # from the next request on
            return json_response({"latency": self.latency})
        response = super().handle(request)
        body = response.body
        if isinstance(body, dict) and isinstance(body.get("objects"), list):
            self.rows_sent += len(body["objects"])
            self.bytes_sent += len(encode_response(response)[0])
        elif isinstance(body, bytes):
            self.bytes_sent += len(body)  # Arrow-backed pages count their rows in _list
        return response

    def _list(self, res, request, rows, uri):  # type: ignore[no-untyped-def]
        preds = self._build_filters(res, request)
        arrow = self.arrow_tables.get(res.name)
        plain = not preds and not request.args("order_by")
        if arrow is None and (not plain or not isinstance(rows, range)):
            return super()._list(res, request, rows, uri)
        if not plain:
            return self.error_response(400, "bench sandbox: Arrow-backed tables serve unfiltered pages only")
        limit, offset = self._limit(request), self._offset(request)
        count = len(rows) if arrow is None else arrow.num_rows
        end = count if limit == 0 else min(count, offset + limit)
        meta: dict[str, Any] = {"limit": limit, "offset": offset, "total_count": count}
        if limit:
            meta["previous"] = None if offset - limit < 0 else self._page_uri(uri, request, limit, offset - limit)
            meta["next"] = None if offset + limit >= count else self._page_uri(uri, request, limit, offset + limit)
        meta = {k: meta[k] for k in ("limit", "next", "offset", "previous", "total_count") if k in meta}
        if arrow is None:
            return json_response({"meta": meta, "objects": [res.objects[i] for i in rows[offset:end]]})
        self.rows_sent += max(0, end - offset)
        memo = (res.name, offset, end, tuple(meta.items()))
        body = self.page_cache.get(memo) if self.page_cache is not None else None
        if body is None:
            objs = arrow.slice(offset, max(0, end - offset)).to_pylist() if offset < count else []
            # orjson writes naive datetimes as isoformat() does and sorts keys at every depth, like the
            # stock emulator's _to_json + _sort_keys (for the types make_tasks produces).
            body = orjson.dumps({"meta": meta, "objects": objs}, option=orjson.OPT_SORT_KEYS)
            if self.page_cache is not None:
                self.page_cache[memo] = body
        return Response(200, body, {"content-type": "application/json"})


def _get(sb: CoreDataSandbox, query: list[tuple[str, str]], table: str = "tasks") -> bytes:
    import asyncio

    resp = asyncio.run(sb.dispatch(Request("GET", f"{BASE}{table}/", query, dict(AUTH))))
    assert isinstance(resp, Response), resp
    body, _ = encode_response(resp)
    return bytes(resp.status.to_bytes(2, "big")) + body


def self_check(n: int = 2_500) -> None:
    """Assert that ``BenchCoreDataSandbox`` (both shortcuts, and its page cache) and ``page_bytes``
    send exactly the bytes the stock ``CoreDataSandbox`` sends for the pages of a full scan."""
    data = make_tasks(n)
    stock = CoreDataSandbox(sample_data=False)
    stock.load_table("tasks", data)
    fast = BenchCoreDataSandbox()
    fast.load_table("tasks", data)
    lazy = BenchCoreDataSandbox()
    lazy.load_arrow("tasks", data)
    cached = BenchCoreDataSandbox()
    cached.page_cache = {}
    cached.load_arrow("tasks", data)
    pages = [[("limit", "1000"), ("offset", str(o))] for o in range(0, n, 1000)]
    queries = [*pages, [("limit", "1000"), ("offset", str(n))], [("limit", "1000"), ("offset", str(n + 5))]]
    queries += [[("limit", "1")], [("limit", "7"), ("offset", "3")], [("offset", str(n - 10))], [("limit", "0")]]
    for q in queries:
        want = _get(stock, q)
        assert _get(fast, q) == want, f"BenchCoreDataSandbox (load_table) differs from the stock emulator for {q}"
        assert _get(lazy, q) == want, f"BenchCoreDataSandbox (load_arrow) differs from the stock emulator for {q}"
        for _ in range(2):  # encoded, then from the cache
            assert _get(cached, q) == want, f"BenchCoreDataSandbox (page_cache) differs from the stock emulator for {q}"
    filtered = [("title__startswith", "Prelude"), ("limit", "100")]
    assert _get(fast, filtered) == _get(stock, filtered)
    assert page_bytes(data, 1000) == [_get(stock, q)[2:] for q in pages], "page_bytes differs from the emulator"


# --------------------------------------------------------------------------------------------
# A sandbox server in another process
# --------------------------------------------------------------------------------------------


class ServerProcess:
    """``python benchmarks/_serve.py ...`` in a child process: a real HTTP CoreData sandbox whose
    CPU (and GIL) is not the client's. ``url`` once started; ``stats(reset)`` reads its counters."""

    def __init__(self, *, rows: int, latency: float, lazy: bool = False, columns: Sequence[str] = (),
                 cache_pages: bool = False) -> None:
        self.args = ["--rows", str(rows), "--latency", str(latency)] + (["--lazy"] if lazy else [])
        self.args += ["--cache-pages"] if cache_pages else []
        if columns:
            self.args += ["--columns", ",".join(columns)]
        self.proc: Any = None
        self.url = ""

    def __enter__(self) -> ServerProcess:
        import subprocess

        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("_serve.py")), *self.args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        line = self.proc.stdout.readline()
        if not line.startswith("URL "):
            self.__exit__()
            raise RuntimeError(f"sandbox server did not start: {line!r}")
        self.url = line.split()[1]
        return self

    def stats(self, reset: bool = False) -> dict[str, int]:
        import httpx

        r = httpx.get(self.url + "/_bench/stats" + ("?reset=1" if reset else ""), timeout=30)
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]

    def set_latency(self, seconds: float) -> None:
        import httpx

        httpx.get(f"{self.url}/_bench/latency?value={seconds}", timeout=30).raise_for_status()

    def __exit__(self, *exc: object) -> None:
        import subprocess

        if self.proc is None:
            return
        if self.proc.stdin:
            self.proc.stdin.close()  # the server exits at EOF on its stdin
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
