"""The lowcode:// SQLAlchemy dialect: reflection, Core queries, text() binds, pandas."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Any

import pandas as pd
import pytest

sa = pytest.importorskip("sqlalchemy")

from lowcode_sql import dbapi  # noqa: E402
from lowcode_sql.sqlalchemy_dialect import LowcodeDialect  # noqa: E402

from .conftest import queries  # noqa: E402


@pytest.fixture(scope="module")
def engine(lc: Any) -> Iterator[Any]:
    eng = sa.create_engine("lowcode://", creator=lambda: dbapi.connect(connection=lc), pool_pre_ping=True)
    yield eng
    eng.dispose()


def test_entry_point_and_url_resolution() -> None:
    names = {ep.name: ep.value for ep in entry_points(group="sqlalchemy.dialects")}
    assert names.get("lowcode") == "lowcode_sql.sqlalchemy_dialect:LowcodeDialect"
    assert sa.engine.url.make_url("lowcode://").get_dialect() is LowcodeDialect
    d = LowcodeDialect()
    assert d.create_connect_args(sa.engine.url.make_url("lowcode:////etc/x.toml?readahead=3")) == (
        [], {"config": "/etc/x.toml", "readahead": 3})
    assert d.create_connect_args(sa.engine.url.make_url("lowcode://?demo=true")) == ([], {"demo": True})
    with pytest.raises(dbapi.InterfaceError):
        d.create_connect_args(sa.engine.url.make_url("lowcode://?bogus=1"))


def test_no_statement_cache_warning(lc: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eng = sa.create_engine("lowcode://", creator=lambda: dbapi.connect(connection=lc))
        with eng.connect() as c:
            assert c.execute(sa.text("SELECT 1")).scalar() == 1
        eng.dispose()


def test_statement_cache_is_used(engine: Any) -> None:
    projects = sa.Table("projects", sa.MetaData(), schema="coredata", autoload_with=engine)
    stmt = sa.select(projects.c.status).where(projects.c.title == sa.bindparam("t"))
    with engine.connect() as c:
        c.execute(stmt, {"t": "Project 0001"}).all()
        again = c.execute(stmt, {"t": "Project 0002"})
        # the second run reuses the compiled form (SQLAlchemy reports why when it cannot)
        assert again.context.cache_hit == engine.dialect.CACHE_HIT
        assert again.all() == [("closed",)]


def test_inspect_schemas_tables_columns(engine: Any) -> None:
    insp = sa.inspect(engine)
    assert insp.get_schema_names() == ["coredata"]
    assert insp.default_schema_name == "coredata"
    assert {"projects", "tasks", "files", "contacts", "spaces"} <= set(insp.get_table_names("coredata"))
    assert insp.get_table_names() == insp.get_table_names("coredata")
    assert insp.get_view_names("coredata") == []
    cols = {c["name"]: c for c in insp.get_columns("projects", "coredata")}
    assert isinstance(cols["title"]["type"], sa.String)
    assert isinstance(cols["created"]["type"], sa.DateTime) and not cols["created"]["type"].timezone
    assert isinstance(cols["tags"]["type"], sa.ARRAY)
    assert cols["id"]["comment"]
    assert insp.get_pk_constraint("projects", "coredata")["constrained_columns"] == []
    assert insp.get_foreign_keys("projects", "coredata") == []
    assert insp.get_indexes("projects", "coredata") == []
    assert insp.get_unique_constraints("projects", "coredata") == []
    assert insp.get_check_constraints("projects", "coredata") == []
    assert insp.get_table_comment("projects", "coredata")["text"]
    assert insp.has_table("projects", "coredata") and not insp.has_table("nope", "coredata")
    assert not insp.has_table("projects", "elsewhere")
    with pytest.raises(sa.exc.NoSuchTableError):
        insp.get_columns("nope", "coredata")


def test_autoload_and_core_select_push_down(engine: Any, sandbox: Any) -> None:
    projects = sa.Table("projects", sa.MetaData(), schema="coredata", autoload_with=engine)
    assert "status" in projects.c
    stmt = (sa.select(projects.c.title, projects.c.status)
            .where(projects.c.title == "Project 0004").order_by(projects.c.title).limit(5))
    with engine.connect() as c:
        rows = c.execute(stmt).all()
        assert [tuple(r) for r in rows] == [("Project 0004", "closed")]
        # the statement is cached and re-run with a new bound value
        rows = c.execute(stmt.where(projects.c.status == "active")).all()
        assert rows == []
        n = c.execute(sa.select(sa.func.count()).select_from(projects)).scalar()
        assert n == 3000
    assert any(q.get("title") == "Project 0004" for q in queries(sandbox))


def test_text_with_binds(engine: Any, sandbox: Any) -> None:
    with engine.connect() as c:
        r = c.execute(sa.text("SELECT title FROM coredata.projects WHERE title = :t OR identifier = :i "
                              "ORDER BY title LIMIT :n"), {"t": "Project 0001", "i": "P-02", "n": 3})
        assert [row.title for row in r] == ["Project 0001", "Project 0002", "Project 0052"]
        r = c.execute(sa.text("SELECT count(*) FROM coredata.projects WHERE title = :t"), {"t": "Project 0009"})
        assert r.scalar() == 1
    assert any(q.get("title") == "Project 0009" for q in queries(sandbox))


def test_errors_surface_as_sqlalchemy_dbapi_errors(engine: Any) -> None:
    with engine.connect() as c, pytest.raises(sa.exc.ProgrammingError) as info:
        c.execute(sa.text("SELECT nope FROM coredata.projects"))
    assert isinstance(info.value.orig, dbapi.ProgrammingError)


def test_pandas_read_sql_and_read_sql_table(engine: Any, sandbox: Any) -> None:
    df = pd.read_sql(sa.text("SELECT title, created FROM coredata.projects WHERE title = :t"), engine,
                     params={"t": "Project 0010"})
    assert df["title"].tolist() == ["Project 0010"]
    assert str(df["created"].dtype).startswith("datetime64")
    df = pd.read_sql("SELECT status, count(*) AS n FROM coredata.projects GROUP BY status ORDER BY status", engine)
    assert df.to_dict("list") == {"status": ["active", "closed"], "n": [1000, 2000]}
    sandbox.stats.clear()
    df = pd.read_sql_table("projects", engine, schema="coredata", columns=["title", "status"])
    assert len(df) == 3000 and list(df.columns) == ["title", "status"]
    assert sandbox.stats.requests == 31  # 3000 rows in 100-row pages overlapping by a row: 1 + ceil(2900 / 99)


def test_do_ping_and_pool_pre_ping(engine: Any) -> None:
    with engine.connect() as c:
        raw = c.connection.dbapi_connection
        assert engine.dialect.do_ping(raw) is True


def test_url_with_a_config_file(tmp_path: Any) -> None:
    path = tmp_path / "lowcode.toml"
    path.write_text('[sources.crm]\nplatform = "coredata"\nsandbox = true\n')
    eng = sa.create_engine(f"lowcode:///{path}")  # an absolute path: four slashes in all
    try:
        assert sa.inspect(eng).get_schema_names() == ["crm"]
        with eng.connect() as c:
            assert c.execute(sa.text("SELECT count(*) > 0 FROM crm.projects")).scalar() is True
    finally:
        eng.dispose()
