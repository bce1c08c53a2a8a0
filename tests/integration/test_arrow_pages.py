"""Pages read straight from their bytes into Arrow (``convert.arrow.arrow_page_decoder``, CoreData's
``page_layout``): the same batches as ``orjson`` + ``records_to_batch``, the page's usual path for
anything that does not fit, and every scan guard still in force."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import orjson
import pyarrow as pa
import pytest

import lowcode_sql
from dialect import ColumnDef, TableDef
from dialect.coredata import CoreData
from lowcode_sql.convert import arrow as arrow_mod
from lowcode_sql.convert.arrow import arrow_page_decoder, records_to_batch
from lowcode_sql.errors import InconsistentScan
from lowcode_sql.fetch import scan as fetch_scan
from lowcode_sql.sandbox.coredata import CoreDataSandbox

LAYOUT = ("objects", ("meta", "total_count"))


@pytest.fixture(autouse=True)
def every_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small pages of flat records too: these tests are about exactness, not the size threshold."""
    monkeypatch.setattr(arrow_mod, "FLAT_MIN_BYTES", 0)


def test_small_pages_of_flat_records_take_the_usual_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    flat = arrow_page_decoder(tasks(), ("id", "title"), LAYOUT)
    nested = arrow_page_decoder(tasks(), ("id", "title", "tags"), LAYOUT)
    assert flat is not None and nested is not None
    small = body([{"id": str(i), "title": "t"} for i in range(100)], 100)
    assert flat(small) is None and nested(small) is not None
    big = body([{"id": str(i), "title": "t" * 64} for i in range(4000)], 4000)
    assert len(big) >= arrow_mod.FLAT_MIN_BYTES
    page = flat(big)
    assert page is not None and page.batch.num_rows == 4000


def tasks() -> TableDef:
    gen = CoreData().discover()
    try:
        next(gen)
    except StopIteration as stop:
        return {t.name: t for t in stop.value}["tasks"]
    raise AssertionError("coredata discovery sent a request")


RECORDS: list[dict[str, Any]] = [
    {"id": "a", "title": "Ünïcode \u2603 \"quoted\" \\ back\nslash", "created": "2024-01-02T03:04:05.123456",
     "tags": ["x", None, "y"], "space": {"id": "s1", "title": None, "extra": [1, {"deep": True}]},
     "contacts": [{"id": "c", "title": "t", "unknown": 1}], "unknown_top": {"a": [1, 2]}},
    {"id": "b", "title": None, "created": None, "tags": None, "space": None, "contacts": []},
    {"id": "c"},  # every other field missing
    {"id": "d", "title": "", "created": "2024-01-02T03:04:05", "modified": "2024-02-01T00:00:00Z",
     "due_date": "1999-12-31T23:59:59.999999", "dynatype": {"id": "t", "title": "T"}},
]


def body(records: list[Any], total: Any = 4) -> bytes:
    return orjson.dumps({"meta": {"total_count": total, "next": None}, "objects": records})


@pytest.mark.parametrize("columns", [None, ("id", "title", "created"), ("title",)])
def test_the_batch_is_the_one_records_to_batch_makes(columns: tuple[str, ...] | None) -> None:
    table = tasks()
    names = columns or tuple(c.name for c in table.columns if not c.filter_only)
    decode = arrow_page_decoder(table, names, LAYOUT)
    assert decode is not None
    page = decode(body(RECORDS))
    assert page is not None
    assert page.batch.equals(records_to_batch(table, names, RECORDS))
    assert page.keys == ["a", "b", "c", "d"] and page.total == 4


@pytest.mark.parametrize("records, total", [
    ([{"id": "a", "title": 5}], 1),  # a number where text is declared: pa.array raises too
    ([{"id": "a", "tags": "x"}], 1),
    ([{"id": None, "title": "t"}], 1),  # a null key: the guards compare whole records then
    ([{"title": "t"}], 1),  # no key
    ([None], 1),  # a null record
    ([{"id": 1}], 1),  # a number as the string key
    ([{"id": "a", "created": 20240101}], 1),
])
def test_what_does_not_fit_takes_the_usual_path(records: list[Any], total: Any) -> None:
    decode = arrow_page_decoder(tasks(), ("id", "title", "tags", "created"), LAYOUT)
    assert decode is not None
    assert decode(body(records, total)) is None


def test_a_page_that_is_not_one_object_with_a_list_takes_the_usual_path() -> None:
    decode = arrow_page_decoder(tasks(), ("id", "title"), LAYOUT)
    assert decode is not None
    assert decode(b'{"meta": {"total_count": 1}}') is None  # no records: parse_answer explains
    assert decode(b'{"objects": {"id": "a"}}') is None
    assert decode(b'[{"id": "a"}]') is None
    assert decode(body([{"id": "a"}], 1) + b"\n" + body([{"id": "b"}], 1)) is None
    assert decode(body([{"id": "a"}], 1)[:-3]) is None  # truncated: orjson refuses it and the fetch retries
    assert decode(b'{"objects": [{"id": "a", "id": "b"}]}') is None  # duplicate keys: orjson keeps the last
    page = decode(body([{"id": "a"}], "1"))  # a total that is not an integer is no total (parse_page)
    assert page is None or page.total is None
    page = decode(b'{"objects": [{"id": "a"}]}')
    assert page is not None and page.total is None and page.keys == ["a"]


FLOATS = TableDef("t", (ColumnDef("id", pa.string()), ColumnDef("v", pa.float64()),
                        ColumnDef("w", pa.list_(pa.float64()), path=("s", "w"))), key="id")


@pytest.mark.parametrize("literal", [
    "0", "1", "-1", "1.5", "-0.0", "0.1", "1e308", "-1e308", "4.9e-324", "2.2250738585072014e-308",
    "1.7976931348623157e308", "1E5", "1.0e-7", "9007199254740992", "-9007199254740992", "null",
    "9007199254740993", "-9007199254740993", "12345678901234567890", "18446744073709551616", "1e17",
    "123456789012345678901234567890", "true", '"1.5"', "1e400", "{}",
])
def test_floats_read_fast_only_where_exactly_as_records_to_batch(literal: str) -> None:
    """A float field: the fast page equals ``records_to_batch``'s batch, or the page takes the usual
    path. ``pa.array`` refuses an integer literal between 2^53 and 2^64 into float64 (orjson gives an
    int no double holds), which read_json would round: such pages must not be read fast."""
    decode = arrow_page_decoder(FLOATS, ("id", "v", "w"), LAYOUT)
    assert decode is not None
    for rec in ('{"id": "a", "v": %s}', '{"id": "a", "s": {"w": [1, %s]}}'):
        page_bytes = ('{"objects": [%s, {"id": "b", "v": 2.5}], "meta": {"total_count": 2}}' % (rec % literal)).encode()
        fast = decode(page_bytes)
        try:
            records = orjson.loads(page_bytes)["objects"]
            slow: pa.RecordBatch | None = records_to_batch(FLOATS, ("id", "v", "w"), records)
        except Exception:
            slow = None
        if fast is not None:
            assert slow is not None and fast.batch.equals(slow), literal
    one = b'{"objects": [{"id": "a", "v": ' + literal.encode() + b"}]}"
    if literal in ("9007199254740993", "12345678901234567890", "1e17", "-9007199254740993"):
        assert decode(one) is None
    if literal in ("1.5", "-0.0", "0.1", "4.9e-324", "null"):
        assert decode(one) is not None


def test_no_decoder_where_it_could_differ() -> None:
    table = tasks()
    keyless = TableDef("t", (ColumnDef("id", pa.string()),))
    assert arrow_page_decoder(keyless, ("id",), LAYOUT) is None
    assert arrow_page_decoder(table, ("id",), ("objects", ("objects", "n"))) is None


@pytest.fixture
def fast_pages(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Whether each page of the scans in the test was read straight into Arrow."""
    seen: list[bool] = []
    real = fetch_scan._Scan._fast

    def spy(self: Any, page: bytes) -> Any:
        got = real(self, page)
        seen.append(got is not None)
        return got

    monkeypatch.setattr(fetch_scan._Scan, "_fast", spy)
    yield seen


def connect(sandbox: CoreDataSandbox) -> lowcode_sql.Connection:
    con = lowcode_sql.connect()
    con.add_source("cd", "coredata", sandbox=sandbox, options={"page_size": 40})
    return con


def test_a_scan_reads_every_page_into_arrow_with_the_same_answer(fast_pages: list[bool],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with connect(CoreDataSandbox()) as con:
        sql = "SELECT * EXCLUDE (associated_contacts_id) FROM cd.tasks ORDER BY id"
        fast = con.sql(sql).arrow()
        assert fast_pages and all(fast_pages)
        del fast_pages[:]
        monkeypatch.setattr(CoreData, "page_layout", lambda self, table, request: None)
        slow = con.sql(sql).arrow()
    assert fast_pages == [] and fast.num_rows == 400
    assert fast.equals(slow)


def test_fetched_pages_are_decoded_beside_the_io_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading a page into Arrow runs in the decoding threads (``fetch.loop.off_loop``), so the
    I/O loop goes on sending requests meanwhile."""
    threads: list[str] = []
    real = fetch_scan._Scan._fast

    def spy(self: Any, page: bytes) -> Any:
        threads.append(threading.current_thread().name)
        return real(self, page)

    monkeypatch.setattr(fetch_scan._Scan, "_fast", spy)
    with connect(CoreDataSandbox()) as con:
        result = con.sql("SELECT id, tags FROM cd.tasks")
        assert result.arrow().num_rows == 400
    assert len(threads) == result.requests > 1
    assert all(name.startswith("lowcode-sql-decode") for name in threads), threads


def test_rows_moving_between_fast_pages_are_an_error(fast_pages: list[bool]) -> None:
    sandbox = CoreDataSandbox()
    sandbox.latency = 0.01
    with connect(sandbox) as con:
        shrunk = False

        def progress(label: str, stats: Any, total: Any) -> None:
            nonlocal shrunk
            if not shrunk:
                shrunk = True
                sandbox.resources["tasks"].objects = sandbox.resources["tasks"].objects[:100]

        with pytest.raises(InconsistentScan):
            con.sql("SELECT id FROM cd.tasks", progress=progress)
    assert any(fast_pages)


def test_a_server_ignoring_the_offset_is_an_error_on_fast_pages(fast_pages: list[bool]) -> None:
    sandbox = CoreDataSandbox()
    real = sandbox.handle

    def first_page_always(request: Any) -> Any:
        request.query = [(k, "0" if k == "offset" else v) for k, v in request.query]
        return real(request)

    sandbox.handle = first_page_always  # type: ignore[method-assign]
    with connect(sandbox) as con, pytest.raises(InconsistentScan):
        con.sql("SELECT id FROM cd.tasks")
    assert any(fast_pages)


def test_cached_pages_are_read_into_arrow_too(fast_pages: list[bool], monkeypatch: pytest.MonkeyPatch) -> None:
    """The response cache keeps each page's bytes: a hit is read straight into Arrow as the first
    read was, with the same answer, and without a request. (Each query reads other columns of the
    same pages: the same columns again would be answered from the scan's batches, fetch/cache.py.)"""
    sandbox = CoreDataSandbox()
    con = lowcode_sql.connect()
    con.add_source("cd", "coredata", sandbox=sandbox, options={"page_size": 40}, cache_ttl=60)
    sql = "SELECT * EXCLUDE (associated_contacts_id) FROM cd.tasks ORDER BY id"
    with con:
        first = con.sql(sql)
        cold = first.arrow()
        n = len(fast_pages)
        assert n and all(fast_pages) and first.requests == n
        again = con.sql("SELECT id, title, tags, space FROM cd.tasks ORDER BY id")
        warm = again.arrow()
        assert again.requests == 0 and len(fast_pages) == 2 * n and all(fast_pages)
        monkeypatch.setattr(CoreData, "page_layout", lambda self, table, request: None)
        # the cached bytes decoded as JSON: the usual path
        slow = con.sql("SELECT id, title, tags, space, created FROM cd.tasks ORDER BY id").arrow()
    assert cold.num_rows == 400 and cold.select(["id", "title", "tags", "space"]).equals(warm)
    assert cold.select(["id", "title", "tags", "space", "created"]).equals(slow)


def test_an_export_of_nested_pages_never_imports_pandas(tmp_path: Any) -> None:
    """pyarrow imports pandas on its first conversion of Python objects (~35 MB of RSS, once per
    process: benchmarks/README.md, "Memory, streaming and exports"); pages read straight into Arrow
    make none, so a CLI export of nested records stays without it."""
    import subprocess
    import sys

    out = tmp_path / "tasks.parquet"
    code = ("import sys\nfrom lowcode_sql.cli import main\n"
            f"rc = main(['query', '--demo', '-o', {str(out)!r}, 'SELECT * FROM coredata.tasks'])\n"
            "print('pandas' in sys.modules, rc)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.stdout.split()[-2:] == ["False", "0"], run.stdout + run.stderr
    import pyarrow.parquet as pq

    assert pq.read_table(out).num_rows > 0
