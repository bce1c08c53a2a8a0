"""``attach(duckdb_connection, config)``: the platforms' tables inside *your own* DuckDB connection.

>>> import duckdb, lowcode_sql
>>> duck = duckdb.connect()
>>> lowcode_sql.attach(duck, "lowcode.toml")                      # doctest: +SKIP
>>> duck.sql("SELECT id FROM crm.projects WHERE title = 'Board'")  # doctest: +SKIP
>>> duck.sql("SELECT * FROM crm__projects LIMIT 5")               # doctest: +SKIP
>>> duck.sql("SELECT * FROM lowcode_scan('crm', 'projects')")     # doctest: +SKIP
>>> lowcode_sql.detach(duck)                                      # doctest: +SKIP

Each remote table is registered as ``<source>__<table>`` through DuckDB 2.0's scan-source
protocol (``con._register_arrow_source``, a private hook: see docs/notes/duckdb-sources.md), so
DuckDB's own optimizer hands each scan the columns it needs and offers its filters:

* ``accepts(predicate)`` says yes only when the source's dialect classifies the predicate as
  **exact** (DuckDB drops an accepted filter and never re-checks it, docs/notes/duckdb-sources.md §2); anything
  else is refused and DuckDB applies it itself.
* ``stream(columns, filters)`` renders one request plan from the accepted filters and the needed
  columns, and returns a lazy Arrow stream over the pages: nothing is requested before DuckDB
  pulls, no page beyond the first before DuckDB asks for a second batch (``LIMIT 10`` is one
  request), and the pages stop when DuckDB stops. Accepted filters that the dialect
  cannot send *together* (CoreData sends one value per parameter) are re-checked on each batch.

DuckDB reads streaming results ahead into a 10 MiB buffer (plus a batch per thread), which over
small pages means thousands of requests for one ``fetchmany(10)`` (§3). ``attach`` therefore sets
``streaming_buffer_size`` on the connection (``64KiB`` by default; pass
``streaming_buffer_size=None`` to keep DuckDB's) and ``detach`` restores it; each scan also keeps at
most ``readahead`` pages in flight beyond the one DuckDB is reading.

With ``schemas=True`` (the default) each source also appears as a catalog (an in-memory
``ATTACH`` holding views), so the SQL you would give ``lowcode_sql.connect`` runs unchanged:
``SELECT ... FROM crm.projects``. ``lowcode_scan('crm', 'projects')`` is a table macro over the
registered names. Registrations are local to the connection: DuckDB does not share them with
``duck.cursor()`` (docs/notes/duckdb-sources.md §5), so take cursors from the attachment instead,
``att.cursor()``, which registers everything on the new cursor too (``detach`` of the connection
detaches its cursors). The catalogs belong to the database, so every attached connection of one
database shares them; the last one detached removes them.

Where the private hook is missing (another DuckDB release), ``attach`` warns and registers plain
lazy Arrow streams instead: every query then reads whole tables (no filter or column pushdown),
still stopping early under a LIMIT.

A registration still alive when the interpreter exits makes DuckDB print nanobind "leaked
instances" noise, so every attached connection is detached at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import datetime as dt
import logging
import math
import secrets
import threading
import warnings
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa

from dialect import TableDef
from lowcode_sql.attach_errors import FailureLog, ScanFailed, result_of
from lowcode_sql.attach_head import head_rows, headed
from lowcode_sql.errors import ConfigError, LowcodeSQLError
from lowcode_sql.execute.scan import open_scan
from lowcode_sql.fetch.scan import ScanStats
from lowcode_sql.ir import And, Cmp, Exactness, InList, IsNull, Op, Or, Pred, columns_of
from lowcode_sql.plan.split import items_of, split
from lowcode_sql.scanspec import ScanSpec
from lowcode_sql.sqltypes import sql_type

__all__ = ["Attachment", "PushdownUnavailable", "ScanLog", "attach", "attached", "detach", "node_to_pred"]

log = logging.getLogger(__name__)

SEPARATOR = "__"  # <source>__<table>
MACRO = "lowcode_scan"
LOG_SIZE = 256

_OPS = {"=": Op.EQ, "!=": Op.NE, "<>": Op.NE, "<": Op.LT, "<=": Op.LE, ">": Op.GT, ">=": Op.GE}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_PLAIN = (str, int, float, Decimal, dt.date, dt.datetime, dt.time, bytes)


class PushdownUnavailable(UserWarning):
    """DuckDB's private scan-source hook is missing: tables are attached without pushdown."""


@dataclasses.dataclass
class ScanLog:
    """What one DuckDB scan of a remote table asked for and what was sent (newest last)."""

    table: str  # <source>.<table>
    columns: tuple[str, ...]  # fetched (the needed ones plus those of re-checked filters)
    pushed: tuple[str, ...]  # predicates sent to the API
    rechecked: tuple[str, ...]  # accepted predicates re-applied locally (see module docstring)
    stats: ScanStats = dataclasses.field(default_factory=ScanStats)


# --- DuckDB predicate nodes -> the predicate IR -------------------------------------------------


def _value(lit: Any, column_type: str) -> tuple[bool, Any]:
    """``(ok, value)``: a ``Lit`` as the Python value the planner would give a dialect."""
    value, typ = getattr(lit, "value", None), getattr(lit, "type", None)
    if typ != column_type or value is None or isinstance(value, list | dict):
        return False, None
    from duckdb._sources import nodes

    exact = getattr(nodes, "exact_value", None)
    if exact is not None and not exact(lit):
        return False, None
    if typ == "TIMESTAMP WITH TIME ZONE":
        # the instant as microseconds since the epoch (docs/notes/duckdb-sources.md §2)
        if not isinstance(value, int) or isinstance(value, bool):
            return False, None
        return True, _EPOCH + dt.timedelta(microseconds=value)
    if isinstance(value, float) and not math.isfinite(value):
        return False, None  # NaN/inf order differently in every system (as the planner keeps them local)
    if not isinstance(value, _PLAIN):
        return False, None
    return True, value


def node_to_pred(node: Any, types: dict[str, str]) -> Pred | None:
    """A DuckDB ``duckdb._sources.nodes`` predicate as a ``Pred``, or None when it has no exact
    equivalent. ``types`` maps the table's columns to their DuckDB type names."""
    from duckdb._sources import nodes as n

    def column(c: Any) -> str | None:
        if not isinstance(c, n.Col) or len(c.parts) != 1:
            return None  # struct fields have no name in the IR
        name = c.parts[0]
        typ = types.get(name)
        if typ is None or typ.endswith("]") or typ.startswith(("STRUCT", "MAP")):
            return None
        return name

    if isinstance(node, n.Binary):
        op = node.op.upper()
        if op in ("AND", "OR"):
            left, right = node_to_pred(node.left, types), node_to_pred(node.right, types)
            if left is None or right is None:
                return None
            cls = And if op == "AND" else Or
            items: list[Pred] = []
            for p in (left, right):
                items.extend(p.items if isinstance(p, cls) else (p,))
            return cls(tuple(items))
        if op not in _OPS:
            return None
        lhs, rhs, cmp_op = node.left, node.right, _OPS[op]
        if isinstance(lhs, n.Lit) and isinstance(rhs, n.Col):
            lhs, rhs, cmp_op = rhs, lhs, cmp_op.flip()
        col = column(lhs)
        if col is None or not isinstance(rhs, n.Lit):
            return None
        ok, value = _value(rhs, types[col])
        return Cmp(col, cmp_op, value) if ok else None
    if isinstance(node, n.Unary) and node.op.upper() == "NOT":
        inner = node_to_pred(node.operand, types)
        return None if inner is None else inner.negate()  # NNF: De Morgan holds in 3-valued logic
    if isinstance(node, n.Postfix):
        col = column(node.operand)
        op = node.op.upper()
        if col is None or op not in ("IS NULL", "IS NOT NULL"):
            return None
        return IsNull(col, negated=op == "IS NOT NULL")
    if isinstance(node, n.In):
        col = column(node.operand)
        if col is None or not node.values:
            return None
        values: list[Any] = []
        for lit in node.values:
            ok, value = _value(lit, types[col]) if isinstance(lit, n.Lit) else (False, None)
            if not ok:
                return None
            if value not in values:
                values.append(value)
        return InList(col, tuple(values))
    return None


# --- the scan source ---------------------------------------------------------------------------


class _Table:
    """One remote table as DuckDB sees it: schema, filter acceptance and lazy streams."""

    def __init__(self, att: Attachment, source: str, tdef: TableDef) -> None:
        self.att = att
        self.source = source
        self.tdef = tdef
        self.schema = tdef.schema()
        self.types = {c.name: sql_type(c.type) for c in tdef.columns}
        src = att.connection.catalog.source(source)
        self.dialect = src.dialect
        self.runtime = src.runtime

    @property
    def label(self) -> str:
        return f"{self.source}.{self.tdef.name}"

    def accepts(self, node: Any) -> bool:
        try:
            pred = node_to_pred(node, self.types)
            # a superset filter is accepted too: the reader re-checks it on every batch (DuckDB
            # never re-checks an accepted one), so the API still narrows what it sends
            ok = pred is not None and all(
                d is not Exactness.LOCAL for d in self.dialect.classify(self.tdef, list(items_of(pred)))
            )
        except Exception as exc:  # a dialect bug must not fail the user's query: DuckDB filters instead
            log.warning("%s: refusing the filter %s: %s: %s", self.label, _fragment(node), type(exc).__name__, exc)
            ok = False
        self.att.offered.append((self.label, _fragment(node), ok))
        return ok

    def reader(self, columns: Sequence[int] | None, filters: Sequence[Any]) -> pa.RecordBatchReader:
        """A lazy reader of the rows matching every accepted filter, holding exactly ``columns``."""
        names = self.schema.names if columns is None else [self.schema.names[i] for i in columns]
        accepted: list[tuple[Any, Pred]] = []
        for node in filters:
            pred = node_to_pred(node, self.types)
            if pred is None:  # accepted earlier, so this cannot happen; never drop it silently
                raise LowcodeSQLError(f"{self.label}: cannot translate the accepted filter {_fragment(node)}")
            accepted.append((node, pred))
        shares = split(self.dialect, self.tdef, [pred for _, pred in accepted])
        pushed = shares.pushed
        # Each predicate was exact alone; together the dialect may send fewer of them (one value
        # per parameter): those DuckDB no longer checks are re-applied here, batch by batch.
        recheck = [i for i, exact in enumerate(shares.exact) if not exact]
        needed = set(names)
        for i in recheck:
            needed |= columns_of(accepted[i][1])
        fetch = tuple(c for c in self.schema.names if c in needed)
        spec = ScanSpec(self.source, self.tdef.name, fetch, tuple(pushed),
                        tuple(accepted[i][1] for i in recheck))
        log = ScanLog(self.label, fetch, tuple(str(p) for p, _ in pushed),
                      tuple(_fragment(accepted[i][0]) for i in recheck))
        self.att.scans.append(log)
        stats = log.stats
        rechecked = " AND ".join(_fragment(accepted[i][0]) for i in recheck)

        def opened(limit: int | None) -> tuple[pa.RecordBatchReader, Callable[[], None], Callable[[], int]]:
            # lazy_start: DuckDB never says LIMIT (docs/notes/duckdb-sources.md §3), so no page beyond the
            # first is requested before DuckDB asks for a second batch: `LIMIT 10` costs one request.
            # The shared scan path also checks each page against the exact filters sent (execute/verify.py).
            before = stats.rows
            scan = open_scan(self.source, self.tdef, self.dialect,
                             spec if limit is None else dataclasses.replace(spec, limit=limit), self.runtime,
                             readahead=self.att.readahead, lazy_start=True, stats=stats, output=names,
                             recheck=rechecked)
            assert isinstance(scan.data, pa.RecordBatchReader)  # a row scan: no contradiction, count or group
            return scan.data, scan.close, lambda: stats.rows - before

        head = head_rows(self.att.last_sql())
        if head is not None and head < _page_size(self.dialect.render_scan(self.tdef, spec)):
            batches: Iterator[pa.RecordBatch] = headed(opened, head, self.label)
            close: Callable[[], None] = batches.close  # type: ignore[attr-defined]
        else:
            data, close, _ = opened(None)
            batches = iter(data)
        return pa.RecordBatchReader.from_batches(self.tdef.schema(names), self._batches(batches, close))

    def _batches(self, data: Iterator[pa.RecordBatch], close: Callable[[], None]) -> Iterator[pa.RecordBatch]:
        try:
            yield from data
        except Exception as e:
            raise self.att.failed(self.label, e) from None
        finally:
            close()  # DuckDB stopped early (LIMIT), or the scan failed: stop the pages


def _page_size(request: Any) -> int:
    """Rows the first request of a scan asks for (any number for an API without paging: one request)."""
    return int(getattr(request.paging, "page_size", 0) or 0)


def _fragment(node: Any) -> str:
    try:
        return str(node.fragment())
    except Exception:
        return repr(node)


_SOURCE_CLASS: Any = None


def _scan_source_api() -> Any:
    """The ``ArrowScanSource`` base class, or None when this DuckDB lacks the private protocol."""
    global _SOURCE_CLASS
    if _SOURCE_CLASS is not None:
        return _SOURCE_CLASS
    try:
        from duckdb._sources import ArrowScanSource, nodes
    except ImportError:
        return None
    if not all(hasattr(nodes, k) for k in ("Binary", "Col", "Lit", "In", "Unary", "Postfix")):
        return None

    class LowcodeScanSource(ArrowScanSource):
        schema_is_stable = True  # a table's columns are fixed once discovered

        def __init__(self, table: Any) -> None:  # a _Table (or the probe of _hook_works)
            super().__init__(None)  # obj=None: a fresh stream per scan (docs/notes/duckdb-sources.md §0)
            self.table = table

        def __arrow_c_schema__(self) -> Any:
            return self.table.schema.__arrow_c_schema__()

        def rows(self) -> int | None:
            return None  # unknown without a request

        def accepts(self, predicate: Any) -> bool:
            return self.table.accepts(predicate)

        def stream(self, columns: Sequence[int] | None, filters: Sequence[Any]) -> tuple[Any, bool]:
            try:
                reader = self.table.reader(columns, filters)
            except Exception as e:
                raise self.table.att.failed(self.table.label, e) from None
            return reader.__arrow_c_stream__(), True

    _SOURCE_CLASS = LowcodeScanSource
    return _SOURCE_CLASS


class _LazyStream:
    """The fallback: a fresh unfiltered lazy stream per scan, through the public ``register``."""

    def __init__(self, table: _Table) -> None:
        self.table = table

    def __arrow_c_schema__(self) -> Any:
        return self.table.schema.__arrow_c_schema__()

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self.table.reader(None, ()).__arrow_c_stream__(requested_schema)


# --- attach / detach ---------------------------------------------------------------------------


class Attachment:
    """The tables attached to one DuckDB connection, and what their scans did."""

    def __init__(self, duck: duckdb.DuckDBPyConnection, connection: Any, owned: bool, readahead: int,
                 options: dict[str, Any] | None = None) -> None:
        self.duck = duck
        self.key = id(duck)  # the key in _attached (duck may become a weak proxy: see _adopt)
        self.connection = connection  # the lowcode_sql.Connection serving the scans
        self.owned = owned
        self.readahead = readahead
        self.options = options or {}  # attach()'s keywords, for cursor()
        self.names: list[str] = []  # registered <source>__<table> names
        self.tables: dict[str, _Table] = {}  # by registered name
        self.catalogs: list[str] = []  # per-source catalogs this attachment uses (created or shared)
        self.catalog_tokens: dict[str, str] = {}  # catalog -> the token marking its views as ours
        self.cursors: list[Attachment] = []  # attachments of cursor()s, detached with this one
        self.macro = False
        self.pushdown = False
        self.implicit = False  # attached by duck.cursor() (replaced by an explicit attach of it)
        self.previous_buffer: str | None = None
        # the most recent offers and scans (bounded: an attachment can live as long as the process)
        self.offered: deque[tuple[str, str, bool]] = deque(maxlen=LOG_SIZE)  # (table, predicate, accepted)
        self.scans: deque[ScanLog] = deque(maxlen=LOG_SIZE)
        self.failures = FailureLog()  # the typed errors of failed scans (lowcode_sql/attach_errors.py)
        self.sql_text: str | None = None  # the SQL this connection was last given (lowcode_sql/attach_head.py)

    @property
    def requests(self) -> int:
        """Requests sent by the logged scans."""
        return sum(s.stats.requests for s in self.scans)

    def last_sql(self) -> str | None:
        """The SQL text this connection was last given, if a text (sizes the first page)."""
        return self.sql_text

    def failed(self, label: str, e: BaseException) -> ScanFailed:
        """Keep a failed scan's typed error; the exception to raise to DuckDB instead."""
        return self.failures.record(label, e)

    @contextlib.contextmanager
    def typed_errors(self) -> Iterator[None]:
        """Inside this block a query that fails on an attached scan raises the scan's typed error
        (``APIError``, ``RequestTimeout``, …) instead of DuckDB's ``InvalidInputException`` text,
        and DuckDB's own errors raise ``UnknownColumn``/``UnknownTable``/``ExecutionError``:
        ``with att.typed_errors(): df = duck.sql(q).df()``."""
        try:
            yield
        except (duckdb.Error, pa.ArrowException, OSError) as e:
            typed = self.failures.typed(e)
            if typed is e:
                raise
            raise typed from typed.__cause__

    def sql(self, query: str, params: Any = None) -> pa.Table | None:
        """Run ``query`` on the attached connection and return its whole result as Arrow (None for
        a statement without one); failures are typed lowcode_sql errors (``typed_errors``)."""
        with self.typed_errors():
            return result_of(self.duck, query, params)

    def execute(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        """``duck.execute(query, params).fetchall()`` with typed lowcode_sql errors (``typed_errors``)."""
        with self.typed_errors():
            return self.duck.execute(query, params).fetchall()

    def clear(self) -> None:
        self.offered.clear()
        self.scans.clear()

    def detach(self) -> None:
        with _lock:
            live = _attached.get(self.key) is self
            if live:
                del _attached[self.key]
        if live:
            _undo(self)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """``duck.cursor()``, which sees every attached table too (so does a plain ``duck.cursor()``)."""
        if attached(self.duck) is not self:
            raise ConfigError("this attachment was detached")
        return self.duck.cursor()

    def _adopt(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Attach a cursor of this connection (DuckDB keeps registrations per connection, so
        without this a cursor sees neither the tables nor the catalogs' views). Its scans are
        logged here too, so ``requests`` counts every cursor's."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PushdownUnavailable)  # already said once for the connection
                child = attach(cur, self.connection, readahead=self.readahead, **self.options)
        except BaseException:
            cur.close()
            raise
        child.implicit = True
        child.offered, child.scans, child.failures = self.offered, self.scans, self.failures
        # Held weakly: tools open a cursor per query and drop it; once it is gone, so are its
        # registrations, and the attachment is forgotten (nothing keeps dead cursors alive).
        child.duck = weakref.proxy(cur)
        self.cursors.append(child)
        weakref.finalize(cur, _forget, child.key, child, weakref.ref(self))


_attached: dict[int, Attachment] = {}
_lock = threading.Lock()
_atexit_registered = False


def attached(duck: duckdb.DuckDBPyConnection) -> Attachment | None:
    """The attachment of ``duck``, if any."""
    return _attached.get(id(duck))


def attach(
    duck: duckdb.DuckDBPyConnection,
    config: Any = None,
    *,
    schemas: bool = True,
    macro: bool = True,
    readahead: int = 4,
    streaming_buffer_size: str | None = "64KiB",
    **connect_kw: Any,
) -> Attachment:
    """Make every table of every source queryable in the DuckDB connection ``duck``.

    ``config`` is what ``lowcode_sql.connect`` takes, or an open ``lowcode_sql.Connection``
    (then shared, and left open by ``detach``). Tables appear as ``<source>__<table>``, as
    ``<source>.<table>`` with ``schemas=True``, and through ``lowcode_scan('<source>', '<table>')``
    with ``macro=True``. ``readahead`` bounds the pages each scan requests ahead of DuckDB;
    ``streaming_buffer_size`` (a DuckDB setting of this connection, restored by ``detach``) bounds
    how far DuckDB reads ahead of a streaming result's consumer; None leaves it alone.
    """
    from lowcode_sql.connection import Connection, connect

    global _atexit_registered
    current = _attached.get(id(duck))
    if current is not None and current.implicit:
        detach(duck)  # a cursor attached by its connection's attachment: the explicit attach wins
    elif current is not None:
        raise ConfigError("this DuckDB connection is already attached: detach() it first")
    owned = not isinstance(config, Connection)
    lc = connect(config, **connect_kw) if owned else config
    options = {"schemas": schemas, "macro": macro, "streaming_buffer_size": streaming_buffer_size}
    att = Attachment(duck, lc, owned, max(1, int(readahead)), options)
    try:
        source_cls = _scan_source_api()
        can_push = source_cls is not None and _hook_works(duck, source_cls)
        if not can_push:
            warnings.warn("this DuckDB has no scan-source hook (_register_arrow_source): tables are attached "
                          "without filter or column pushdown, so every query reads whole tables",
                          PushdownUnavailable, stacklevel=2)
        att.pushdown = can_push
        for src in lc.catalog.sources.values():
            for tdef in src.tables().values():
                table = _Table(att, src.name, tdef)
                name = f"{src.name}{SEPARATOR}{tdef.name}"
                att.tables[name] = table
                # also as the single identifier "<source>.<table>", which the catalogs' views read:
                # a connection without the registrations then fails naming the user's table
                # (Table with name crm.projects does not exist), not crm__projects
                for reg in (name, _dotted(src.name, tdef.name)):
                    if can_push:
                        duck._register_arrow_source(reg, source_cls(table))
                    else:
                        duck.register(reg, _LazyStream(table))
                    att.names.append(reg)
        if schemas:
            _attach_catalogs(duck, att)
        if macro:
            duck.execute(f"CREATE OR REPLACE TEMP MACRO {MACRO}(source_name, table_name) AS TABLE "
                         f"SELECT * FROM query_table(source_name || '{SEPARATOR}' || table_name)")
            att.macro = True
        # a connection whose configuration its owner locked (README, "Security") keeps its buffer
        if streaming_buffer_size is not None and not _locked(duck):
            rows = duck.execute("SELECT current_setting('streaming_buffer_size')").fetchall()  # all: see below
            att.previous_buffer = str(rows[0][0]) if rows else None
            duck.execute(f"SET streaming_buffer_size = '{_setting(streaming_buffer_size)}'")
    except BaseException:
        _undo(att)
        raise
    with _lock:
        _attached[id(duck)] = att
        if not _atexit_registered:
            atexit.register(_detach_all)
            _atexit_registered = True
    _hook_cursors()
    return att


_plain_cursor: Any = None


def _hook_cursors() -> None:
    """Make ``cursor()`` of an attached connection return an attached cursor, for the tools that
    open their own cursor on the connection they are given (polars ``read_database``, pandas
    ``read_sql``, dbt-duckdb): DuckDB shares no registration with a cursor (docs/notes/duckdb-sources.md §5)."""
    global _plain_cursor
    with _lock:
        if _plain_cursor is not None:
            return
        plain = duckdb.DuckDBPyConnection.cursor
        _plain_cursor = plain

    def cursor(self: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        cur = plain(self)
        parent = _attached.get(id(self))
        if parent is not None and parent.duck is self and id(cur) not in _attached:
            parent._adopt(cur)
        return cur

    cursor.__doc__ = plain.__doc__
    duckdb.DuckDBPyConnection.cursor = cursor  # type: ignore[method-assign]
    # DuckDB tells a scan no LIMIT: the SQL text an attached connection runs sizes its first page
    # (lowcode_sql/attach_head.py). Only noted, never changed; other connections pay one dict lookup.
    for name in ("sql", "query", "execute"):
        setattr(duckdb.DuckDBPyConnection, name, _noting(getattr(duckdb.DuckDBPyConnection, name)))


def _noting(method: Callable[..., Any]) -> Callable[..., Any]:
    def run(self: duckdb.DuckDBPyConnection, query: Any, *args: Any, **kwargs: Any) -> Any:
        att = _attached.get(id(self))
        if att is not None:
            att.sql_text = query if isinstance(query, str) else None
        return method(self, query, *args, **kwargs)

    run.__doc__, run.__name__ = method.__doc__, method.__name__
    return run


def _forget(key: int, child: Attachment, parent: Any) -> None:
    with _lock:
        if _attached.get(key) is child:
            del _attached[key]
    owner = parent()
    if owner is not None and child in owner.cursors:
        owner.cursors.remove(child)
    for token in child.catalog_tokens.values():
        with _lock:
            users = _catalog_users.get(token)
            if users is not None:
                users.discard(id(child))


def _locked(duck: duckdb.DuckDBPyConnection) -> bool:
    rows = duck.execute("SELECT current_setting('lock_configuration')").fetchall()
    return bool(rows and rows[0][0])


def _hook_works(duck: duckdb.DuckDBPyConnection, source_cls: Any) -> bool:
    """Whether ``_register_arrow_source`` exists and takes our source (the API is private and
    may change in any release): register a one-column probe and drop it again."""
    hook = getattr(duck, "_register_arrow_source", None)
    if not callable(hook):
        return False
    probe = _Probe()
    name = "__lowcode_sql_probe"
    try:
        hook(name, source_cls(probe))
        ok = duck.execute(f"SELECT count(*) FROM {name}").fetchall() == [(0,)]
    except (duckdb.Error, TypeError, AttributeError, ValueError, NotImplementedError):
        return False
    finally:
        with contextlib.suppress(Exception):
            duck.unregister(name)
    return ok


class _Probe:
    """An empty stand-in for ``_Table`` to try the hook with."""

    schema = pa.schema([("x", pa.int64())])

    def accepts(self, node: Any) -> bool:
        return False

    def reader(self, columns: Sequence[int] | None, filters: Sequence[Any]) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(self.schema, iter(()))


def _setting(value: str) -> str:
    if not all(ch.isalnum() or ch in " ." for ch in value):
        raise ConfigError(f"streaming_buffer_size must look like '64KiB', not {value!r}")
    return value


# Catalogs are per database, registrations per connection: the views of a catalog resolve
# temp.main.<source>__<table> in whichever connection queries them, so every attached connection
# (or cursor) of one database can share one catalog. Its views carry a comment with a random token
# that names it here: token -> the live attachments using it; the last one detached removes it.
_catalog_users: dict[str, set[int]] = {}
_MARK = "lowcode_sql attach "


def _our_catalog(duck: duckdb.DuckDBPyConnection, name: str, tables: set[str]) -> str | None:
    """The token of the catalog ``name`` when a live attachment of this database made it with
    views of exactly ``tables`` (another config's source of the same name is not shared)."""
    rows = duck.execute("SELECT view_name, comment FROM duckdb_views() WHERE database_name = ? AND NOT internal",
                        [name]).fetchall()
    comments = {c for _, c in rows}
    if len(comments) != 1 or {v for v, _ in rows} != tables:
        return None
    comment = comments.pop()
    if not isinstance(comment, str) or not comment.startswith(_MARK):
        return None
    token = comment[len(_MARK):]
    return token if _catalog_users.get(token) else None


def _attach_catalogs(duck: duckdb.DuckDBPyConnection, att: Attachment) -> None:
    # fetchall, never fetchone: DuckDB 2.0 results stream, and an unfinished one blocks registering
    existing = {r[0] for r in duck.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
    for source in att.connection.catalog.sources.values():
        if source.name in existing:
            with _lock:
                token = _our_catalog(duck, source.name, set(source.tables()))
                if token is not None:  # made by another attachment of this database: share it
                    _catalog_users[token].add(id(att))
                    att.catalogs.append(source.name)
                    att.catalog_tokens[source.name] = token
                    continue
        if source.name in existing or source.name.lower() in ("main", "temp", "system", "memory"):
            warnings.warn(f"a database named {source.name!r} already exists in this DuckDB: its tables stay "
                          f"reachable as {source.name}{SEPARATOR}<table> only", UserWarning, stacklevel=3)
            continue
        duck.execute(f"ATTACH ':memory:' AS {_ident(source.name)}")
        token = secrets.token_hex(8)
        with _lock:
            _catalog_users[token] = {id(att)}
        att.catalogs.append(source.name)
        att.catalog_tokens[source.name] = token
        for tdef in source.tables().values():
            view = f"{_ident(source.name)}.{_ident(tdef.name)}"
            # a view in the attached catalog over the connection's registration: DuckDB still
            # offers filters and columns through it (docs/notes/duckdb-sources.md §5)
            duck.execute(f"CREATE VIEW {view} AS SELECT * FROM temp.main.{_ident(_dotted(source.name, tdef.name))}")
            duck.execute(f"COMMENT ON VIEW {view} IS '{_MARK}{token}'")


def _dotted(source: str, table: str) -> str:
    return f"{source}.{table}"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def detach(duck: duckdb.DuckDBPyConnection) -> None:
    """Remove everything ``attach`` added to ``duck`` (an unfinished result on it is aborted)."""
    with _lock:
        att = _attached.pop(id(duck), None)
    if att is not None:
        _undo(att)


def _undo(att: Attachment) -> None:
    for child in list(att.cursors):  # cursor()s first: they may share the catalogs and the connection
        child.detach()
    att.cursors = []
    duck = att.duck
    if isinstance(duck, weakref.ProxyType):
        try:
            duck = duck.__repr__.__self__  # the cursor itself, while it lives
        except ReferenceError:
            return  # dropped: its registrations went with it
    # The registrations cannot be dropped while a streaming result is open on the connection.
    with contextlib.suppress(Exception):
        duck.abort()
    if att.macro:
        with contextlib.suppress(duckdb.Error):
            duck.execute(f"DROP MACRO TABLE IF EXISTS temp.{MACRO}")
    for cat in att.catalogs:
        token = att.catalog_tokens.get(cat, "")
        with _lock:
            users = _catalog_users.get(token, set())
            users.discard(id(att))
            last = not users
            if last:
                _catalog_users.pop(token, None)
        if last:  # nobody else of this database uses it
            with contextlib.suppress(duckdb.Error):
                duck.execute(f"DETACH DATABASE IF EXISTS {_ident(cat)}")
    for name in att.names:
        with contextlib.suppress(duckdb.Error):
            duck.unregister(name)
    if att.previous_buffer is not None:
        with contextlib.suppress(duckdb.Error):
            duck.execute(f"SET streaming_buffer_size = '{_setting(att.previous_buffer)}'")
    att.names, att.catalogs, att.macro, att.previous_buffer = [], [], False, None
    att.catalog_tokens = {}
    att.tables = {}
    if att.owned:
        with contextlib.suppress(Exception):
            att.connection.close()


def _detach_all() -> None:
    # At exit: a registration still alive makes nanobind print "leaked instances" (docs/notes/duckdb-sources.md §8).
    with _lock:
        atts = list(_attached.values())
        _attached.clear()
    for att in atts:
        with contextlib.suppress(Exception):
            _undo(att)
