"""Apache Superset engine spec for the ``lowcode://`` SQLAlchemy dialect.

Superset finds it through the ``superset.db_engine_specs`` entry point (pyproject.toml), which
``superset.db_engine_specs.load_engine_specs`` reads beside its own specs; a database whose URL
starts with ``lowcode://`` then gets it (``engine = "lowcode"``, the dialect's name). Without it
Superset falls back to ``BaseEngineSpec``, which has no time grains: every chart with a time
grain failed with ``No grain spec for P1Y``.

The engine runs DuckDB's SQL, so everything here is DuckDB SQL: the time grains (each Superset
grain, as Superset's own specs define them: a bucket's *start*, except the two "week ending"
grains, labelled by the week's last day), ``epoch_to_dttm``, and the literals of ``convert_dttm``.
Superset parses SQL Lab's and the charts' SQL with sqlglot, in the dialect
``superset.sql.parse.SQLGLOT_DIALECTS`` names for the engine; ``lowcode`` is not among them, so
importing this module under Superset adds it as DuckDB (else DuckDB syntax such as ``::`` casts in
nested positions or ``EXCLUDE`` would be parsed by sqlglot's generic dialect).

Importable without Superset: the grains and literals are plain data and classmethods that the
tests run through the engine; only the base class comes from Superset when it is there.
"""

from __future__ import annotations

import datetime as _dt
import uuid as _uuid
import weakref as _weakref
from typing import TYPE_CHECKING, Any

__all__ = ["EPOCH_MS_TO_DTTM", "EPOCH_TO_DTTM", "TIME_GRAINS", "LowcodeEngineSpec", "cancel_query", "cancel_query_id",
           "convert_dttm"]

# Superset's TimeGrain values (superset/constants.py) -> DuckDB SQL, ``{col}`` the column. Grains
# under a day are floored on the clock (5 s buckets start at :00, :05, ...); TIME_BUCKET's default
# origin (2000-01-03 00:00) is a midnight, so its buckets are aligned to the clock, and on a DATE
# column it returns the date itself. Weeks: DuckDB's 'week' is ISO (Monday first).
TIME_GRAINS: dict[str | None, str] = {
    None: "{col}",
    "PT1S": "DATE_TRUNC('second', {col})",
    "PT5S": "TIME_BUCKET(INTERVAL '5 seconds', {col})",
    "PT30S": "TIME_BUCKET(INTERVAL '30 seconds', {col})",
    "PT1M": "DATE_TRUNC('minute', {col})",
    "PT5M": "TIME_BUCKET(INTERVAL '5 minutes', {col})",
    "PT10M": "TIME_BUCKET(INTERVAL '10 minutes', {col})",
    "PT15M": "TIME_BUCKET(INTERVAL '15 minutes', {col})",
    "PT30M": "TIME_BUCKET(INTERVAL '30 minutes', {col})",
    "PT0.5H": "TIME_BUCKET(INTERVAL '30 minutes', {col})",
    "PT1H": "DATE_TRUNC('hour', {col})",
    "PT6H": "TIME_BUCKET(INTERVAL '6 hours', {col})",
    "P1D": "DATE_TRUNC('day', {col})",
    "P1W": "DATE_TRUNC('week', {col})",
    "1969-12-28T00:00:00Z/P1W": "DATE_TRUNC('week', {col} + INTERVAL 1 DAY) - INTERVAL 1 DAY",  # from Sunday
    "1969-12-29T00:00:00Z/P1W": "DATE_TRUNC('week', {col})",  # from Monday
    "P1W/1970-01-03T00:00:00Z": "DATE_TRUNC('week', {col} + INTERVAL 1 DAY) + INTERVAL 5 DAY",  # Sun..Sat: the Saturday
    "P1W/1970-01-04T00:00:00Z": "DATE_TRUNC('week', {col}) + INTERVAL 6 DAY",  # Mon..Sun: the Sunday
    "P1M": "DATE_TRUNC('month', {col})",
    "P3M": "DATE_TRUNC('quarter', {col})",
    "P0.25Y": "DATE_TRUNC('quarter', {col})",
    "P1Y": "DATE_TRUNC('year', {col})",
}

# Epoch numbers to a naive TIMESTAMP whatever the session's time zone (TO_TIMESTAMP would give a
# TIMESTAMP WITH TIME ZONE, shown in that zone): microseconds since 1970 as MAKE_TIMESTAMP reads them.
EPOCH_TO_DTTM = "MAKE_TIMESTAMP(CAST({col} * 1000000 AS BIGINT))"
EPOCH_MS_TO_DTTM = "MAKE_TIMESTAMP(CAST({col} * 1000 AS BIGINT))"


def convert_dttm(target_type: str, dttm: _dt.datetime) -> str | None:
    """The DuckDB literal of ``dttm`` for a column of type ``target_type`` (as the dialect and
    ``cursor.description`` spell it: DATETIME, TIMESTAMP, TIMESTAMP WITH TIME ZONE, DATE, ...),
    or None for a type that takes no date literal (Superset then compares with its own string)."""
    t = target_type.strip().upper()
    if t == "DATE":
        return f"CAST('{dttm.date().isoformat()}' AS DATE)"
    text = dttm.isoformat(sep=" ", timespec="microseconds")
    if t in ("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE", "DATETIME(TIMEZONE=TRUE)"):
        return f"CAST('{text}' AS TIMESTAMPTZ)"
    if t.startswith(("TIMESTAMP", "DATETIME")):
        return f"CAST('{text.split('+')[0]}' AS TIMESTAMP)"
    return None


# SQL Lab's Stop button: the DB-API connections that run SQL Lab queries in this process, by the
# cancel id Superset keeps in the query's metadata. Weak: a connection the pool drops is forgotten.
_RUNNING: _weakref.WeakValueDictionary[str, Any] = _weakref.WeakValueDictionary()


def cancel_query_id(cursor: Any) -> str | None:
    """The id that names the DB-API connection of ``cursor`` to :func:`cancel_query` (None when
    the cursor is not lowcode_sql's: nothing to cancel it with)."""
    connection = getattr(cursor, "connection", None)
    if not callable(getattr(connection, "cancel", None)):
        return None
    key = _uuid.uuid4().hex
    _RUNNING[key] = connection
    return key


def cancel_query(key: str) -> bool:
    """Stop what the connection named ``key`` runs; False when this process does not hold it (a
    query that ran in another process, e.g. a Celery worker of async SQL Lab, or one whose
    connection is gone)."""
    connection = _RUNNING.pop(str(key), None)
    if connection is None:
        return False
    try:
        connection.cancel()
    except Exception:  # closed meanwhile: the query is not running any more
        return False
    return True


if TYPE_CHECKING:
    _Base: Any = object
else:
    try:
        from superset.db_engine_specs.base import BaseEngineSpec as _Base
    except ImportError:  # Superset is not installed: the spec is still importable (tests, docs)
        _Base = object
    else:
        try:
            from sqlglot.dialects.dialect import Dialects
            from superset.sql import parse as _parse

            _parse.SQLGLOT_DIALECTS.setdefault("lowcode", Dialects.DUCKDB)
        except (ImportError, AttributeError):  # another Superset layout: parsing stays generic
            pass


class LowcodeEngineSpec(_Base):
    """Superset's view of the ``lowcode://`` dialect: DuckDB SQL over read-only platform tables."""

    engine = "lowcode"
    engine_name = "lowcode_sql"
    engine_aliases: set[str] = set()
    default_driver = "lowcode_sql"
    drivers = {"lowcode_sql": "lowcode_sql (DB-API over low-code platform APIs)"}
    sqlalchemy_uri_placeholder = "lowcode:////path/to/lowcode.toml"

    _time_grain_expressions = TIME_GRAINS

    # The engine only reads: no CSV/Excel upload (it would CREATE TABLE and INSERT), no DML.
    supports_file_upload = False
    supports_dynamic_schema = False
    supports_catalog = False
    allows_sql_comments = True
    allows_joins = True
    allows_subqueries = True
    allows_alias_in_select = True
    allows_alias_in_orderby = True
    allows_cte_in_subquery = True
    # limit_method stays Superset's default, FORCE_LIMIT (a LIMIT written into the SQL): the
    # planner pushes that LIMIT to the platform, so a SQL Lab preview stops after a page or two.
    # No SSH tunnel: the DB-API connects to HTTPS APIs, not to a host and port.
    disable_ssh_tunneling = True

    @classmethod
    def epoch_to_dttm(cls) -> str:
        return EPOCH_TO_DTTM

    @classmethod
    def epoch_ms_to_dttm(cls) -> str:
        return EPOCH_MS_TO_DTTM

    @classmethod
    def convert_dttm(cls, target_type: str, dttm: _dt.datetime, db_extra: dict[str, Any] | None = None) -> str | None:
        return convert_dttm(target_type, dttm)

    @classmethod
    def get_cancel_query_id(cls, cursor: Any, query: Any) -> str | None:
        """Superset asks this before it runs a SQL Lab query: the id it stores to stop it with."""
        return cancel_query_id(cursor)

    @classmethod
    def cancel_query(cls, cursor: Any, query: Any, cancel_query_id: str) -> bool:
        """The Stop button: interrupts the connection running the query (``cursor``, a new
        connection's, is not needed: the engine runs in Superset's process). A query run by a
        Celery worker (async SQL Lab) is in another process: False, Superset then only marks it
        stopped."""
        return cancel_query(cancel_query_id)

    @classmethod
    def get_dbapi_exception_mapping(cls) -> dict[type[Exception], type[Exception]]:
        """lowcode_sql's DB-API errors as Superset's own exception kinds (its error messages and
        HTTP statuses), when Superset is there."""
        try:
            from superset.db_engine_specs import exceptions as sx
        except ImportError:
            return {}
        from lowcode_sql import dbapi

        return {
            dbapi.OperationalError: sx.SupersetDBAPIOperationalError,
            dbapi.ProgrammingError: sx.SupersetDBAPIProgrammingError,
            dbapi.DatabaseError: sx.SupersetDBAPIDatabaseError,
        }
