"""``external_access``: the Python API reads local files by default (joining API data with a local
Parquet file is a feature); ``external_access=False`` is for applications that run SQL they did not
write, through ``connect``, the DB-API and the SQLAlchemy URL (README, "Security")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

import lowcode_sql
from lowcode_sql import dbapi
from lowcode_sql.config import Config
from lowcode_sql.connection import Connection
from lowcode_sql.duckdb_attach import attach
from lowcode_sql.errors import ConfigError, ExecutionError
from lowcode_sql.sandbox import get_sandbox

ITEMS = pa.table({"name": ["alpha", "beta"], "qty": [1, 2]})
HOST_ROUTES = ["SELECT * FROM read_text('/proc/self/environ')", "SELECT * FROM glob('/etc/*')",
               "SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM read_blob('/etc/*')"]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    pq.write_table(pa.table({"name": ["beta"], "note": ["b"]}), allowed / "notes.parquet")
    pq.write_table(pa.table({"name": ["alpha"], "note": ["a"]}), outside / "notes.parquet")
    return {"allowed": allowed / "notes.parquet", "outside": outside / "notes.parquet", "dir": allowed}


def _sandbox(**kw: Any) -> lowcode_sql.Connection:
    con = Connection(Config(), **kw)
    con.add_source("entu", "entu", sandbox=get_sandbox("entu", sample_data=False))
    con.sandbox("entu").load_table("item", ITEMS)
    return con


def test_default_keeps_local_files(files: dict[str, Path]) -> None:
    with _sandbox() as con:
        sql = f"SELECT i.name, n.note FROM entu.item i JOIN read_parquet('{files['outside']}') n USING (name)"
        assert con.sql(sql).fetchall() == [("alpha", "a")]


def test_external_access_false_refuses_the_host(files: dict[str, Path]) -> None:
    with _sandbox(external_access=False) as con:
        for sql in [*HOST_ROUTES, f"SELECT * FROM read_parquet('{files['outside']}')"]:
            with pytest.raises(ExecutionError, match="Permission Error") as info:
                con.sql(sql)
            assert isinstance(info.value.__cause__, duckdb.PermissionException), sql
        assert con.sql("SELECT sum(qty) FROM entu.item").fetchall() == [(3,)]
        # the engine's own DuckDB settings cannot be turned back on, also not from Python
        with pytest.raises(duckdb.InvalidInputException, match="locked"):
            con.engine._con.execute("SET enable_external_access = true")


def test_allowed_directories(files: dict[str, Path]) -> None:
    with _sandbox(external_access=False, allowed_directories=[files["dir"]]) as con:
        sql = "SELECT i.name, n.note FROM entu.item i JOIN read_parquet('{}') n USING (name)"
        assert con.sql(sql.format(files["allowed"])).fetchall() == [("beta", "b")]
        with pytest.raises(ExecutionError, match="Permission Error"):
            con.sql(sql.format(files["outside"]))
    with pytest.raises(ConfigError, match="external_access=False"):
        _sandbox(allowed_directories=[files["dir"]])
    with pytest.raises(ConfigError, match="not a directory"):
        _sandbox(external_access=False, allowed_directories=[files["allowed"]])


def test_dbapi_passes_external_access() -> None:
    for external, refused in ((True, False), (False, True)):
        con = dbapi.connect(demo=True, external_access=external)
        try:
            cur = con.cursor()
            cur.execute("SELECT count(*) FROM coredata.projects")
            assert cur.fetchone()[0] > 0
            if refused:
                with pytest.raises(dbapi.Error, match="Permission Error"):
                    cur.execute(HOST_ROUTES[0])
            else:
                cur.execute("SELECT count(*) FROM glob('/etc/*')")
                assert cur.fetchone()[0] > 0
        finally:
            con.close()


def test_sqlalchemy_url_passes_external_access(files: dict[str, Path]) -> None:
    eng = sa.create_engine(f"lowcode://?demo=true&external_access=false&allowed_directories={files['dir']}")
    try:
        with eng.connect() as c:
            assert c.execute(sa.text("SELECT count(*) FROM coredata.projects")).scalar() > 0
            path = files["allowed"]
            assert c.execute(sa.text(f"SELECT note FROM read_parquet('{path}')")).scalar() == "b"
            with pytest.raises(sa.exc.DBAPIError, match="Permission Error"):
                c.execute(sa.text(HOST_ROUTES[0]))
    finally:
        eng.dispose()
    with pytest.raises(dbapi.InterfaceError, match="external_access"):
        sa.create_engine("lowcode://?demo=true&external_access=maybe").connect()


def test_duckdb_attach_on_a_locked_connection() -> None:
    """``attach`` into your own DuckDB: its access settings are yours. Locked before attaching (the
    streaming buffer is then left alone) or after, the lazy scan sources still work."""
    with _sandbox() as lc:
        for lock_first in (True, False):
            duck = duckdb.connect(config={"enable_external_access": False, "autoload_known_extensions": False,
                                          "autoinstall_known_extensions": False})
            if lock_first:
                duck.execute("SET lock_configuration = true")
            att = attach(duck, lc)
            if not lock_first:
                duck.execute("SET lock_configuration = true")
            assert duck.sql("SELECT name FROM entu__item WHERE qty > 1").fetchall() == [("beta",)]
            with pytest.raises(duckdb.PermissionException):
                duck.sql(HOST_ROUTES[0]).fetchall()
            att.detach()
            duck.close()
