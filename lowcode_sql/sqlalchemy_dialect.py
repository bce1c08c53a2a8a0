"""SQLAlchemy dialect ``lowcode://`` over ``lowcode_sql.dbapi`` (SQLAlchemy 2.x and 1.4).

URLs::

    lowcode:///lowcode.toml                # a config file, relative to the working directory
    lowcode:////etc/lowcode.toml           # an absolute path (four slashes, as in sqlite:////)
    lowcode://                             # $LOWCODE_SQL_CONFIG
    lowcode://?demo=true                   # the embedded emulators with sample data
    lowcode:///lowcode.toml?timezone=Europe/Tallinn&readahead=4
    lowcode:///lowcode.toml?catalog_ttl=60     # tables and tokens shared by connections for 60 s (default 300)
    lowcode:///lowcode.toml?external_access=false              # SQL you did not write (README, "Security")
    lowcode:///lowcode.toml?external_access=false&allowed_directories=/srv/data

Sources are schemas and their tables are tables (``inspect(engine).get_schema_names()``), with
typed columns from the dialects' Arrow types. The engine reads only: there are no keys, indexes
or constraints, and transactions are no-ops. Registered through the ``sqlalchemy.dialects`` entry
point, so ``create_engine("lowcode://...")`` finds it. To share a ``lowcode_sql.Connection``
(a sandbox in tests, say) pass ``creator=lambda: dbapi.connect(connection=con)``.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import default
from sqlalchemy.sql.compiler import GenericTypeCompiler

from lowcode_sql import dbapi as _dbapi

if TYPE_CHECKING:  # SQLAlchemy 2.x only; annotations are never evaluated, so 1.4 still imports us
    from sqlalchemy.engine.interfaces import (
        IsolationLevel,
        ReflectedColumn,
        ReflectedPrimaryKeyConstraint,
        ReflectedTableComment,
    )

__all__ = ["LowcodeDialect", "LowcodeTypeCompiler", "Struct", "arrow_to_sqlalchemy"]

_BOOLEAN = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def arrow_to_sqlalchemy(t: pa.DataType) -> Any:
    """The SQLAlchemy type of a column of Arrow type ``t``."""
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return sqltypes.String()
    if pa.types.is_boolean(t):
        return sqltypes.Boolean()
    if pa.types.is_int64(t) or pa.types.is_uint32(t):
        return sqltypes.BigInteger()
    if pa.types.is_int32(t) or pa.types.is_uint16(t):
        return sqltypes.Integer()
    if pa.types.is_int16(t) or pa.types.is_int8(t) or pa.types.is_uint8(t):
        return sqltypes.SmallInteger()
    if pa.types.is_floating(t):
        return sqltypes.Float()
    if pa.types.is_decimal(t):
        return sqltypes.Numeric(t.precision, t.scale)
    if pa.types.is_timestamp(t):
        return sqltypes.DateTime(timezone=t.tz is not None)
    if pa.types.is_date(t):
        return sqltypes.Date()
    if pa.types.is_time(t):
        return sqltypes.Time()
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return sqltypes.LargeBinary()
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        item = arrow_to_sqlalchemy(t.value_type)
        if isinstance(item, sqltypes.NullType):
            return sqltypes.NullType()
        return sqltypes.ARRAY(item)
    if pa.types.is_struct(t) or pa.types.is_map(t):
        return Struct(_dbapi.type_code(t))
    return sqltypes.NullType()


class Struct(sqltypes.JSON):
    """A STRUCT or MAP column: JSON-like to SQLAlchemy and tools (Superset shows it as a complex
    type, not UNKNOWN), spelled as DuckDB spells it (``STRUCT(a VARCHAR, n BIGINT)``). Values
    arrive as the Python dicts (lists of pairs for MAP) the DB-API returns: no JSON decoding."""

    __visit_name__ = "lowcode_struct"

    def __init__(self, spelling: str = "JSON") -> None:
        super().__init__()
        self.spelling = spelling

    def result_processor(self, dialect: Any, coltype: Any) -> None:
        return None

    def bind_processor(self, dialect: Any) -> None:
        return None


class LowcodeTypeCompiler(GenericTypeCompiler):
    """Type names as DuckDB spells them, for the complex types the generic compiler cannot name
    (``str(column.type)``, ``CAST``, what inspecting tools display)."""

    def visit_ARRAY(self, type_: Any, **kw: Any) -> str:
        return f"{self.process(type_.item_type, **kw)}[]"

    def visit_JSON(self, type_: Any, **kw: Any) -> str:
        return "JSON"

    def visit_lowcode_struct(self, type_: Struct, **kw: Any) -> str:
        return type_.spelling


class LowcodeDialect(default.DefaultDialect):
    """``lowcode://`` for SQLAlchemy (read-only; sources are schemas)."""

    name = "lowcode"
    driver = "lowcode_sql"
    supports_statement_cache = True
    paramstyle = "qmark"
    default_paramstyle = "qmark"
    positional = True
    supports_native_boolean = True
    supports_native_decimal = True
    supports_unicode_statements = True
    supports_unicode_binds = True
    returns_unicode_strings = True
    description_encoding = None
    supports_alter = False
    supports_sequences = False
    supports_comments = True
    inline_comments = False
    supports_multivalues_insert = False
    postfetch_lastrowid = False
    max_identifier_length = 255
    type_compiler_cls = LowcodeTypeCompiler  # SQLAlchemy 2.x's name
    type_compiler = LowcodeTypeCompiler  # 1.4's (2.x replaces it with the instance)

    # --- DB-API module (2.x: import_dbapi; 1.4: dbapi) ---------------------------------------

    @classmethod
    def import_dbapi(cls) -> ModuleType:
        return _dbapi

    @classmethod
    def dbapi(cls) -> ModuleType:  # type: ignore[override]  # SQLAlchemy 1.4's name
        return _dbapi

    def __init__(self, **kw: Any) -> None:
        # SQLAlchemy 2.x passes the module as ``dbapi``; 1.4 as well (from ``dbapi()``): make sure
        # the instance attribute holds the module, not the classmethod above.
        kw.setdefault("dbapi", _dbapi)
        super().__init__(**kw)
        if not isinstance(self.__dict__.get("dbapi"), ModuleType):
            self.dbapi = _dbapi  # type: ignore[assignment]  # shadows the 1.4 classmethod with the module

    def create_connect_args(self, url: Any) -> tuple[list[Any], dict[str, Any]]:
        opts: dict[str, Any] = dict(url.query)
        kwargs: dict[str, Any] = {}
        if str(opts.pop("demo", "")).lower() in ("1", "true", "yes", "on"):
            kwargs["demo"] = True
        if "readahead" in opts:
            kwargs["readahead"] = int(opts.pop("readahead"))
        if "timezone" in opts:
            kwargs["timezone"] = opts.pop("timezone")
        if "catalog_ttl" in opts:  # seconds connections share tables and tokens (0: not at all)
            kwargs["catalog_ttl"] = float(opts.pop("catalog_ttl"))
        if "external_access" in opts:
            value = str(opts.pop("external_access")).lower()
            if value not in _BOOLEAN:
                raise _dbapi.InterfaceError(f"external_access must be true or false, not {value!r}")
            kwargs["external_access"] = _BOOLEAN[value]
        if "allowed_directories" in opts:
            dirs = opts.pop("allowed_directories")  # repeated in the URL: a tuple
            kwargs["allowed_directories"] = [dirs] if isinstance(dirs, str) else list(dirs)
        if opts:
            raise _dbapi.InterfaceError(f"unknown lowcode:// URL option(s): {', '.join(sorted(opts))}")
        database = url.database or None
        if database and not kwargs.get("demo"):
            kwargs["config"] = database
        return [], kwargs

    # --- connection behaviour ------------------------------------------------------------------

    def do_rollback(self, dbapi_connection: Any) -> None:
        pass  # nothing is ever written

    def do_commit(self, dbapi_connection: Any) -> None:
        pass

    def do_ping(self, dbapi_connection: Any) -> bool:
        cur = dbapi_connection.cursor()
        try:
            cur.execute("SELECT 1")
            return cur.fetchone() == (1,)
        finally:
            cur.close()

    def get_isolation_level(self, dbapi_connection: Any) -> IsolationLevel:
        return "AUTOCOMMIT"

    def get_default_isolation_level(self, dbapi_conn: Any) -> IsolationLevel:
        return "AUTOCOMMIT"

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        pass

    def get_isolation_level_values(self, dbapi_conn: Any) -> list[IsolationLevel]:
        return ["AUTOCOMMIT"]

    def _get_server_version_info(self, connection: Any) -> tuple[int, ...]:
        from lowcode_sql import __version__

        return tuple(int(p) for p in __version__.split(".") if p.isdigit())

    # None with no sources, as DefaultDialect's own default_schema_name; the stub says str
    def _get_default_schema_name(self, connection: Any) -> str | None:  # type: ignore[override]
        names = self._sources(connection)
        return names[0] if names else None

    # --- reflection ----------------------------------------------------------------------------

    @staticmethod
    def _lowcode(connection: Any) -> Any:
        """The ``lowcode_sql.Connection`` behind an SQLAlchemy connection."""
        raw = connection.connection  # usually the pool's proxy of our dbapi.Connection
        for _ in range(3):
            if isinstance(raw, _dbapi.Connection):
                return raw.engine
            # SQLAlchemy 2.x and 1.4 proxies name it dbapi_connection; older 1.4 ones, connection
            raw = getattr(raw, "dbapi_connection", None) or raw.connection
        raise _dbapi.InterfaceError(f"not a lowcode_sql DB-API connection: {type(raw).__name__}")

    def _sources(self, connection: Any) -> list[str]:
        return list(self._lowcode(connection).catalog.sources)

    def _table(self, connection: Any, table_name: str, schema: str | None) -> Any:
        from sqlalchemy.exc import NoSuchTableError

        schema = schema or self.default_schema_name
        catalog = self._lowcode(connection).catalog
        if schema not in catalog.sources:
            raise NoSuchTableError(f"{schema}.{table_name}")
        tables = catalog.sources[schema].tables()
        if table_name not in tables:
            raise NoSuchTableError(f"{schema}.{table_name}")
        return tables[table_name]

    def get_schema_names(self, connection: Any, **kw: Any) -> list[str]:
        return self._sources(connection)

    def get_table_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        schema = schema or self.default_schema_name
        catalog = self._lowcode(connection).catalog
        if schema not in catalog.sources:
            return []
        return list(catalog.sources[schema].tables())

    def get_view_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        return []

    def get_temp_table_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        return []

    def get_temp_view_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        return []

    def get_sequence_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        return []

    def has_table(self, connection: Any, table_name: str, schema: str | None = None, **kw: Any) -> bool:
        schema = schema or self.default_schema_name
        catalog = self._lowcode(connection).catalog
        return schema in catalog.sources and table_name in catalog.sources[schema].tables()

    def has_schema(self, connection: Any, schema_name: str, **kw: Any) -> bool:
        return schema_name in self._sources(connection)

    def get_columns(self, connection: Any, table_name: str, schema: str | None = None,
                    **kw: Any) -> list[ReflectedColumn]:
        tdef = self._table(connection, table_name, schema)
        return [
            {
                "name": c.name,
                "type": arrow_to_sqlalchemy(c.type),
                "nullable": True,
                "default": None,
                "autoincrement": False,
                "comment": c.doc or None,
            }
            for c in tdef.columns
        ]

    def get_pk_constraint(self, connection: Any, table_name: str, schema: str | None = None,
                          **kw: Any) -> ReflectedPrimaryKeyConstraint:
        self._table(connection, table_name, schema)
        return {"constrained_columns": [], "name": None}

    def get_foreign_keys(self, connection: Any, table_name: str, schema: str | None = None, **kw: Any) -> list:
        self._table(connection, table_name, schema)
        return []

    def get_indexes(self, connection: Any, table_name: str, schema: str | None = None, **kw: Any) -> list:
        self._table(connection, table_name, schema)
        return []

    def get_unique_constraints(self, connection: Any, table_name: str, schema: str | None = None,
                               **kw: Any) -> list:
        self._table(connection, table_name, schema)
        return []

    def get_check_constraints(self, connection: Any, table_name: str, schema: str | None = None,
                              **kw: Any) -> list:
        self._table(connection, table_name, schema)
        return []

    def get_table_comment(self, connection: Any, table_name: str, schema: str | None = None,
                          **kw: Any) -> ReflectedTableComment:
        return {"text": self._table(connection, table_name, schema).doc or None}

    def get_view_definition(self, connection: Any, view_name: str, schema: str | None = None, **kw: Any) -> str:
        from sqlalchemy.exc import NoSuchTableError

        raise NoSuchTableError(view_name)


dialect = LowcodeDialect
