"""PEP 249 (DB-API 2.0) over lowcode_sql: for pandas, SQLAlchemy (``lowcode://``), Superset and friends.

>>> from lowcode_sql import dbapi
>>> con = dbapi.connect("lowcode.toml")                      # doctest: +SKIP
>>> cur = con.cursor()                                        # doctest: +SKIP
>>> cur.execute("SELECT id, title FROM crm.projects WHERE title = ?", ["Board"])  # doctest: +SKIP
>>> cur.description[1][:2], cur.fetchmany(10)                 # doctest: +SKIP
(('title', 'VARCHAR'), [...])

Parameters use ``?`` (``paramstyle = "qmark"``), the style DuckDB shares; ``$1`` (numbered) and,
with a mapping, ``$name`` work too. Values are bound as typed literals before planning, so a
parameter is pushed down exactly like a literal. The engine only reads, so ``commit`` and
``rollback`` do nothing. ``description`` type codes are DuckDB type names (``'BIGINT'``,
``'TIMESTAMP WITH TIME ZONE'``, ``'VARCHAR[]'``) that compare equal to the PEP 249 type objects
(``STRING``, ``NUMBER``, ``DATETIME``, ``BINARY``, ``ROWID``).

Errors are PEP 249 classes; each keeps the engine's typed error as ``__cause__`` and
``.lowcode_error``::

    Error
     ├── InterfaceError         closed connection/cursor, ConfigError
     └── DatabaseError          any other LowcodeSQLError
          ├── ProgrammingError  SQLSyntaxError, UnknownTable, UnknownColumn, wrong parameters,
          │                     DuckDB binder/catalog errors
          ├── NotSupportedError UnsupportedQuery (writes, several statements), callproc
          ├── OperationalError  FetchError: auth, API errors, timeouts, connection, InconsistentScan
          ├── DataError         ConversionError, DuckDB conversion/out-of-range errors
          ├── InternalError     DialectError (a bug)
          └── IntegrityError    (never raised: the engine does not write)
"""

from __future__ import annotations

import datetime as _dt
import re
import time as _time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa

from lowcode_sql import errors as _e
from lowcode_sql.result import python_values

__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Connection",
    "Cursor",
    "DataError",
    "DatabaseError",
    "Date",
    "DateFromTicks",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "Warning",
    "apilevel",
    "connect",
    "paramstyle",
    "threadsafety",
    "type_code",
]

apilevel = "2.0"
threadsafety = 1  # threads may share the module, not connections (PEP 249)
paramstyle = "qmark"

# --- exceptions -------------------------------------------------------------------------------


class Warning(Exception):  # the name PEP 249 requires
    """Important warnings (PEP 249); not raised by lowcode_sql."""


class Error(Exception):
    """Base of every DB-API error; ``lowcode_error`` is the engine's error, when there is one."""

    lowcode_error: _e.LowcodeSQLError | None = None


class InterfaceError(Error):
    pass


class DatabaseError(Error):
    pass


class DataError(DatabaseError):
    pass


class OperationalError(DatabaseError):
    pass


class IntegrityError(DatabaseError):
    pass


class InternalError(DatabaseError):
    pass


class ProgrammingError(DatabaseError):
    pass


class NotSupportedError(DatabaseError):
    pass


# DuckDB error kinds as the engine's ExecutionError text starts ("Binder Error: ...").
_DUCKDB_KINDS: tuple[tuple[str, type[Error]], ...] = (
    ("Parser Error", ProgrammingError),
    ("Binder Error", ProgrammingError),
    ("Catalog Error", ProgrammingError),
    ("Conversion Error", DataError),
    ("Out of Range Error", DataError),
    ("Invalid Input Error", DataError),
    ("Not implemented Error", NotSupportedError),
)


def _dbapi_class(err: _e.LowcodeSQLError) -> type[Error]:
    if isinstance(err, _e.ConfigError):
        return InterfaceError
    if isinstance(err, _e.UnsupportedQuery):
        return NotSupportedError
    if isinstance(err, _e.PlanError):
        return ProgrammingError
    if isinstance(err, _e.FetchError):
        return OperationalError
    if isinstance(err, _e.ConversionError):
        return DataError
    if isinstance(err, _e.DialectError):
        return InternalError
    if isinstance(err, _e.ExecutionError):
        text = str(err)
        for prefix, cls in _DUCKDB_KINDS:
            if text.startswith(prefix):
                return cls
    return DatabaseError


def _translate(err: _e.LowcodeSQLError) -> Error:
    out = _dbapi_class(err)(str(err))
    out.lowcode_error = err
    return out


# --- types ------------------------------------------------------------------------------------


class _TypeObject:
    """A PEP 249 type object: equal to every DuckDB type name of its family."""

    def __init__(self, name: str, *prefixes: str) -> None:
        self.name = name
        self._prefixes = prefixes

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _TypeObject):
            return other is self
        if not isinstance(other, str):
            return NotImplemented
        t = other.upper()
        if t.endswith("]"):  # lists are none of the scalar families
            return False
        return any(t == p or t.startswith(p + "(") or t.startswith(p + " ") for p in self._prefixes)

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"<DB-API type {self.name}>"


STRING = _TypeObject("STRING", "VARCHAR", "JSON", "UUID", "ENUM")
BINARY = _TypeObject("BINARY", "BLOB", "BIT")
NUMBER = _TypeObject("NUMBER", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                     "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL")
# BOOLEAN is none of PEP 249's families: a tool reading NUMBER would format true as 1
DATETIME = _TypeObject("DATETIME", "DATE", "TIME", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS",
                       "TIMESTAMPTZ", "INTERVAL")
ROWID = _TypeObject("ROWID")  # no table has row ids

Date = _dt.date
Time = _dt.time
Timestamp = _dt.datetime
Binary = bytes


def DateFromTicks(ticks: float) -> _dt.date:  # PEP 249 names
    return Date(*_time.localtime(ticks)[:3])


def TimeFromTicks(ticks: float) -> _dt.time:
    return Time(*_time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks: float) -> _dt.datetime:
    return Timestamp(*_time.localtime(ticks)[:6])


def type_code(t: pa.DataType) -> str:
    """The DuckDB type name of an Arrow result column (its ``description`` type code)."""
    from lowcode_sql.sqltypes import sql_type

    if pa.types.is_dictionary(t):
        return type_code(t.value_type)
    try:
        return sql_type(t)
    except (TypeError, KeyError):
        pass
    if pa.types.is_interval(t) or pa.types.is_duration(t):
        return "INTERVAL"
    if pa.types.is_map(t):
        return f"MAP({type_code(t.key_type)}, {type_code(t.item_type)})"
    if pa.types.is_unsigned_integer(t):
        return {8: "UTINYINT", 16: "USMALLINT", 32: "UINTEGER", 64: "UBIGINT"}[t.bit_width]
    if pa.types.is_fixed_size_list(t):
        return f"{type_code(t.value_type)}[{t.list_size}]"
    if pa.types.is_fixed_size_binary(t) or pa.types.is_binary_view(t):
        return "BLOB"
    if isinstance(t, pa.ExtensionType):
        return {"arrow.uuid": "UUID", "arrow.json": "JSON"}.get(t.extension_name, type_code(t.storage_type))
    return str(t).upper()


def _describe(field: pa.Field) -> tuple[Any, ...]:
    t = field.type
    precision = scale = None
    if pa.types.is_decimal(t):
        precision, scale = t.precision, t.scale
    return (field.name, type_code(t), None, None, precision, scale, field.nullable)


# --- EXPLAIN ----------------------------------------------------------------------------------

# ``EXPLAIN [ANALYZE] query`` (PostgreSQL's and DuckDB's spelling; BI tools and SQL Lab send it)
_EXPLAIN = re.compile(r"\s*EXPLAIN\s+(?P<analyze>ANALY[SZ]E\s+)?(?P<query>.*\S)\s*;?\s*$", re.I | re.S)


class _Rows:
    """A finished result (EXPLAIN's lines) with the StreamedResult surface a cursor reads."""

    requests = 0

    def __init__(self, table: pa.Table) -> None:
        self.schema = table.schema
        self._batches = table.to_batches()

    def read_next_batch(self) -> pa.RecordBatch | None:
        return self._batches.pop(0) if self._batches else None

    def close(self) -> None:
        self._batches = []


def _explain(engine: Any, match: re.Match[str], params: Any) -> _Rows:
    """lowcode_sql's plan (what each scan pushes to the platform, the requests it sends; with
    ANALYZE, what the run cost) as one ``QUERY PLAN`` text row per line, as PostgreSQL answers."""
    text = engine.explain(match.group("query"), params, analyze=match.group("analyze") is not None)
    return _Rows(pa.table({"QUERY PLAN": pa.array(text.splitlines(), pa.string())}))


# --- connection and cursor --------------------------------------------------------------------


def connect(
    config: Any = None,
    *,
    connection: Any = None,
    demo: bool = False,
    catalog_ttl: float | None = None,
    **kw: Any,
) -> Connection:
    """A DB-API connection.

    ``config`` is what ``lowcode_sql.connect`` takes (a TOML path, a mapping, a Config, or None for
    ``$LOWCODE_SQL_CONFIG``); ``demo=True`` connects to the embedded emulators instead; an existing
    ``lowcode_sql.Connection`` can be shared with ``connection=`` (closing the DB-API connection
    then leaves it open). Other keywords (``timezone``, ``readahead``, ``external_access``,
    ``allowed_directories``) go to ``lowcode_sql.connect``: ``external_access=False`` for SQL you did
    not write (README, "Security").

    Connections of the same sources (URL, options, credential values) share their discovered tables
    and login tokens for ``catalog_ttl`` seconds (default 300; 0: not shared), so an application
    opening a connection per query logs in and discovers once (``lowcode_sql.shared_catalog``).
    """
    from lowcode_sql import connection as _connection
    from lowcode_sql.shared_catalog import DEFAULT_TTL, Sharing

    ttl = DEFAULT_TTL if catalog_ttl is None else float(catalog_ttl)
    try:
        if connection is not None:
            return Connection(connection, owned=False)
        if demo:
            return Connection(_connection.demo(**kw), owned=True)
        engine = _connection.connect(config, **kw)
        return Connection(engine, owned=True, sharing=Sharing(engine, ttl))
    except _e.LowcodeSQLError as err:
        raise _translate(err) from err


class Connection:
    """A PEP 249 connection over a ``lowcode_sql.Connection`` (``.engine``)."""

    Warning = Warning
    Error = Error
    InterfaceError = InterfaceError
    DatabaseError = DatabaseError
    DataError = DataError
    OperationalError = OperationalError
    IntegrityError = IntegrityError
    InternalError = InternalError
    ProgrammingError = ProgrammingError
    NotSupportedError = NotSupportedError

    def __init__(self, lowcode_connection: Any, *, owned: bool = True, sharing: Any = None) -> None:
        self.engine = lowcode_connection
        self._owned = owned
        self._closed = False
        self._sharing = sharing  # shared_catalog.Sharing: tables and tokens handed on to the next connection
        self._cancelled = False  # set by cancel() from another thread; cleared when a query starts

    @property
    def closed(self) -> bool:
        return self._closed

    def _check(self) -> None:
        if self._closed:
            raise InterfaceError("the connection is closed")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._share()
        if self._owned:
            self.engine.close()

    def _share(self) -> None:
        if self._sharing is not None:
            self._sharing.save()

    def commit(self) -> None:
        self._check()  # lowcode_sql only reads: there is never anything to commit

    def rollback(self) -> None:
        self._check()  # nor to roll back

    def cursor(self) -> Cursor:
        self._check()
        return Cursor(self)

    def cancel(self) -> None:
        """Stop the query a cursor of this connection is running, from another thread (as
        psycopg's ``Connection.cancel``): DuckDB is interrupted and the query's scans stop sending
        requests; the running ``execute`` or fetch raises ``OperationalError``. Nothing running:
        nothing happens. The connection stays usable."""
        self._check()
        # the flag as well as the interrupt: DuckDB forgets an interrupt that comes before it runs
        # (while the query is planned, or its tables discovered), and the cursor checks the flag
        self._cancelled = True
        self.engine.engine.interrupt()

    def execute(self, operation: str, parameters: Any = None) -> Cursor:
        """Shortcut (as sqlite3 and DuckDB have): a new cursor that ran ``operation``."""
        return self.cursor().execute(operation, parameters)

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Cursor:
    """A PEP 249 cursor. A query's result streams: ``execute`` reads its first batch, fetches read
    on batch by batch (``Connection.stream``), so ``fetchmany`` over a large result holds one batch
    at a time. ``rowcount`` is known at once when the result fits in its first batch, and else
    -1 until the last row has been fetched (PEP 249 allows -1 for "not determinable")."""

    batch_rows = 65_536  # rows DuckDB hands over per batch

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.arraysize = 1
        self._stream: Any = None  # lowcode_sql.result.StreamedResult of the last query
        self._schema: pa.Schema | None = None
        self._batches: list[pa.RecordBatch] = []  # read, not fully fetched (the first one partly)
        self._offset = 0  # rows of _batches[0] already fetched
        self._pos = 0
        self._seen = 0  # rows read from the stream so far
        self._closed = False
        self.rowcount = -1
        self.lastrowid = None  # nothing is ever inserted

    # --- state --------------------------------------------------------------------------------

    @property
    def description(self) -> list[tuple[Any, ...]] | None:
        if self._schema is None:
            return None
        return [_describe(f) for f in self._schema]

    @property
    def rownumber(self) -> int | None:
        return None if self._schema is None else self._pos

    @property
    def requests(self) -> int:
        """HTTP requests the last query sent so far (0 before any)."""
        return 0 if self._stream is None else int(self._stream.requests)

    @property
    def closed(self) -> bool:
        return self._closed

    def _check(self) -> None:
        if self._closed:
            raise InterfaceError("the cursor is closed")
        self.connection._check()

    def _reset(self) -> None:
        if self._stream is not None:
            self._stream.close()  # stops its scans
        self._stream = self._schema = None
        self._batches, self._offset, self._pos, self._seen = [], 0, 0, 0
        self.rowcount = -1

    def close(self) -> None:
        self._closed = True
        self._reset()

    # --- executing ----------------------------------------------------------------------------

    def execute(self, operation: str, parameters: Sequence[Any] | Mapping[str, Any] | None = None) -> Cursor:
        self._check()
        if not isinstance(operation, str):
            raise ProgrammingError(f"the operation must be a str, not {type(operation).__name__}")
        params: Any = parameters
        if parameters is not None and not isinstance(parameters, Mapping):
            if isinstance(parameters, str | bytes) or not isinstance(parameters, Sequence):
                raise ProgrammingError("parameters must be a sequence (for ?/$1) or a mapping (for $name)")
            params = list(parameters)
        elif isinstance(parameters, Mapping):
            params = dict(parameters)
        self._reset()
        self.connection._cancelled = False
        try:
            explain = _EXPLAIN.match(operation)
            if explain is not None:
                self._stream = _explain(self.connection.engine, explain, params)
            else:
                self._stream = self.connection.engine.stream(operation, params, batch_rows=self.batch_rows)
            self._schema = self._stream.schema
            # the first batch now: most failures (API errors, DuckDB's) belong to execute()
            if self._read() and self._batches[0].num_rows < self.batch_rows:
                self._read()  # a short first batch is usually the whole result: learn rowcount
        except _e.LowcodeSQLError as err:
            self._reset()
            self._stop_if_cancelled()
            raise _translate(err) from err
        except Exception:
            # DuckDB's InterruptException (it may run the query while opening the stream): the cancel
            self._stop_if_cancelled()
            raise
        finally:
            self.connection._share()  # what planning discovered and logged in is there for the next one
        return self

    def _read(self) -> bool:
        """Read the next batch into ``_batches``; False at the end (then ``rowcount`` is known)."""
        if self._stream is None:
            return False
        self._stop_if_cancelled()
        try:
            batch = self._stream.read_next_batch()
        except Exception:
            self._stop_if_cancelled()  # whatever the interrupted query raised is the cancel
            raise
        self._stop_if_cancelled()
        if batch is None:
            self.rowcount = self._seen
            self._stream.close()
            return False
        self._seen += batch.num_rows
        self._batches.append(batch)
        return True

    def _stop_if_cancelled(self) -> None:
        if self.connection._cancelled:
            self._reset()
            raise OperationalError("canceling statement due to user request")  # PostgreSQL's words

    def executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> Cursor:
        """Run ``operation`` once per parameter set; the last run's result set stays fetchable
        and ``rowcount`` is the total number of rows all runs produced."""
        self._check()
        total = 0
        ran = False
        for params in seq_of_parameters:
            self.execute(operation, params)
            # a run whose count is not known yet (a result larger than a batch) makes the total unknown
            total = -1 if total < 0 or self.rowcount < 0 else total + self.rowcount
            ran = True
        if ran:
            self.rowcount = total
        return self

    def callproc(self, procname: str, parameters: Any = None) -> Any:
        raise NotSupportedError("lowcode_sql has no stored procedures")

    def nextset(self) -> bool | None:
        self._check()
        return None  # one statement, one result set

    def setinputsizes(self, sizes: Any) -> None:
        pass

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        pass

    # --- fetching -----------------------------------------------------------------------------

    def _need_result(self) -> None:
        self._check()
        if self._schema is None:
            raise ProgrammingError("no result set: call execute() with a query first")

    def _next_part(self, limit: int | None) -> pa.RecordBatch | None:
        """Up to ``limit`` (None: all) unfetched rows of the current batch, reading on when it is used up."""
        try:
            while not self._batches or self._offset >= self._batches[0].num_rows:
                if self._batches:
                    self._batches.pop(0)
                    self._offset = 0
                if not self._batches and not self._read():
                    return None
        except _e.LowcodeSQLError as err:
            raise _translate(err) from err
        batch = self._batches[0]
        n = batch.num_rows - self._offset if limit is None else min(limit, batch.num_rows - self._offset)
        part = batch.slice(self._offset, n)
        self._offset += n
        self._pos += n
        return part

    def _take(self, n: int | None) -> list[tuple[Any, ...]]:
        """The next ``n`` rows (None: all the rest) as tuples, one batch's Python values at a time."""
        self._need_result()
        out: list[tuple[Any, ...]] = []
        while n is None or len(out) < n:
            part = self._next_part(None if n is None else n - len(out))
            if part is None:
                break
            cols = [python_values(c) for c in part.columns]
            out.extend(zip(*cols, strict=True) if cols else (() for _ in range(part.num_rows)))
        return out

    def fetchone(self) -> tuple[Any, ...] | None:
        rows = self._take(1)
        return rows[0] if rows else None

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        return self._take(max(0, self.arraysize if size is None else size))

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._take(None)

    def _rest(self, rows_per_batch: int | None = None) -> Iterator[pa.RecordBatch]:
        while (part := self._next_part(rows_per_batch)) is not None:
            yield part

    def fetch_arrow_table(self) -> pa.Table:
        """The rows not fetched yet, as a ``pyarrow.Table`` (no per-value Python work)."""
        self._need_result()
        assert self._schema is not None
        return pa.Table.from_batches(list(self._rest()), self._schema)

    def fetch_record_batch(self, rows_per_batch: int = 1_000_000) -> pa.RecordBatchReader:
        """The rows not fetched yet as a lazy ``pyarrow.RecordBatchReader`` (read as it is read)."""
        self._need_result()
        assert self._schema is not None
        return pa.RecordBatchReader.from_batches(self._schema, self._rest(max(1, rows_per_batch)))

    def fetchdf(self) -> Any:
        """The rows not fetched yet as a pandas DataFrame."""
        return self.fetch_arrow_table().to_pandas()

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while True:
            row = self.fetchone()
            if row is None:
                return
            yield row

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
