"""What Superset needs of the ``lowcode://`` dialect beside its engine spec: EXPLAIN answers (SQL
Lab's "explain", tools that send ``EXPLAIN SELECT ...``), and LIST/STRUCT/MAP columns reflected with
real SQLAlchemy types (ARRAY, JSON-like) whose names print, instead of NullType ("UNKNOWN")."""

from __future__ import annotations

import pyarrow as pa
import pytest
import sqlalchemy as sa

from lowcode_sql import dbapi
from lowcode_sql.sqlalchemy_dialect import LowcodeDialect, Struct, arrow_to_sqlalchemy


@pytest.fixture(scope="module")
def engine():  # type: ignore[no-untyped-def]
    eng = sa.create_engine("lowcode://?demo=true")
    yield eng
    eng.dispose()


def test_explain_through_the_dialect(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as c:
        result = c.execute(sa.text("EXPLAIN SELECT title FROM coredata.projects WHERE title = :t"), {"t": "Board"})
        assert list(result.keys()) == ["QUERY PLAN"]
        lines = [r[0] for r in result]
    assert lines[0].startswith("scan coredata.projects")
    assert any("request:" in line and "GET" in line for line in lines), lines
    assert any("'Board'" in line for line in lines), lines  # the parameter is bound into the plan


def test_explain_analyze_runs_the_query_and_reports_its_cost() -> None:
    con = dbapi.connect(demo=True)
    cur = con.cursor()
    cur.execute("explain analyze SELECT count(*) FROM coredata.projects;")
    assert cur.description is not None and cur.description[0][:2] == ("QUERY PLAN", "VARCHAR")
    text = "\n".join(r[0] for r in cur.fetchall())
    assert cur.rowcount == len(text.splitlines())
    assert "actual" in text.lower(), text
    cur.execute("SELECT 1")  # the cursor goes on as usual afterwards
    assert cur.fetchall() == [(1,)]
    with pytest.raises(dbapi.ProgrammingError, match="nothing"):
        cur.execute("EXPLAIN SELECT * FROM coredata.nothing")
    con.close()


def test_complex_columns_reflect_as_real_types(engine) -> None:  # type: ignore[no-untyped-def]
    columns = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns("projects", schema="coredata")}
    tags, space = columns["tags"], columns["space"]
    assert isinstance(tags, sa.ARRAY) and isinstance(tags.item_type, sa.String)
    assert isinstance(space, Struct) and isinstance(space, sa.JSON)
    dialect = engine.dialect
    assert tags.compile(dialect=dialect) == "VARCHAR[]"
    assert space.compile(dialect=dialect) == 'STRUCT("id" VARCHAR, "title" VARCHAR)'
    assert not any(isinstance(t, sa.types.NullType) for t in columns.values()), columns


def test_struct_values_pass_through_unchanged(engine) -> None:  # type: ignore[no-untyped-def]
    meta = sa.MetaData()
    projects = sa.Table("projects", meta, schema="coredata", autoload_with=engine)
    with engine.connect() as c:
        row = c.execute(sa.select(projects.c.space, projects.c.tags).where(projects.c.space.is_not(None))
                        .limit(1)).one()
    assert isinstance(row[0], dict) and set(row[0]) == {"id", "title"}
    assert isinstance(row[1], list)


@pytest.mark.parametrize(("arrow", "spelling"), [
    (pa.list_(pa.struct([("a", pa.string())])), 'STRUCT("a" VARCHAR)[]'),
    (pa.map_(pa.string(), pa.int64()), "MAP(VARCHAR, BIGINT)"),
    (pa.list_(pa.int64(), 3), "BIGINT[]"),
])
def test_nested_types_have_duckdbs_names(arrow: pa.DataType, spelling: str) -> None:
    assert arrow_to_sqlalchemy(arrow).compile(dialect=LowcodeDialect()) == spelling
