"""pyodbc through Debian's psqlODBC driver (DSN-less), and SQLAlchemy postgresql+psycopg reflection."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pgwire.conftest import BIG_ROWS, MID_ROWS, PASSWORD, USER

pytestmark = pytest.mark.slow

PSQLODBC = Path("/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so")


@pytest.fixture(scope="module")
def odbc_cs(server):
    pyodbc = pytest.importorskip("pyodbc")
    if not PSQLODBC.exists():
        pytest.skip("psqlODBC (Debian odbc-postgresql) not installed")
    del pyodbc
    return (f"DRIVER={PSQLODBC};SERVER=127.0.0.1;PORT={server.port};DATABASE=lowcode;UID={USER};"
            f"PWD={{{PASSWORD}}};SSLmode=disable")


@pytest.mark.parametrize("options", ["", "UseDeclareFetch=1;Fetch=100", "UseServerSidePrepare=0"])
def test_pyodbc_queries_tables_columns(odbc_cs, server, options):
    import pyodbc

    declares = server.server.statement_kinds["DECLARE"]
    with pyodbc.connect(odbc_cs + ";" + options) as c:
        cur = c.cursor()
        assert c.getinfo(pyodbc.SQL_DBMS_NAME) == "PostgreSQL"
        rows = cur.execute("SELECT name, price FROM entu.item WHERE price > ? ORDER BY price", 2).fetchall()
        assert [tuple(r) for r in rows] == [(None, 3.25), ("Straße", 10.0)]
        assert cur.execute("SELECT count(*) FROM entu.big").fetchone()[0] == BIG_ROWS
        mid = cur.execute("SELECT label FROM entu.mid ORDER BY n").fetchall()
        assert len(mid) == MID_ROWS and mid[-1][0] == f"row {MID_ROWS - 1}"
        tables = {(t.table_schem, t.table_name, t.table_type) for t in cur.tables(schema="entu")}
        assert {("entu", "item", "TABLE"), ("entu", "big", "TABLE")} <= tables
        cols = {c.column_name: c.type_name for c in cur.columns(table="item", schema="entu")}
        assert cols["name"] == "text" and cols["price"] == "float8" and cols["ok"] == "bool"
        assert cols["day"] == "date" and cols["seen"] == "timestamptz" and cols["tags__all"] == "json"
    if "UseDeclareFetch=1" in options:
        assert server.server.statement_kinds["DECLARE"] > declares  # the cursor path was really taken



@pytest.mark.parametrize("options", ["", "UseServerSidePrepare=0"])
def test_psqlodbc_catalog_functions(odbc_cs, options):
    """Every catalog function of psqlODBC's info.c a tool's browser calls (issue 14 item 2) runs the driver's
    own SQL against the server and answers: the source's tables, columns and types where it lists them,
    nothing where a platform table has none (no keys, indexes, procedures)."""
    import pyodbc

    from tests.pgwire.odbc_catalog import odbc_catalog_rows

    with pyodbc.connect(odbc_cs + ";" + options) as c:
        cur = c.cursor()
        # SQLTables: the schema's tables, the schema list, the table types; no views
        assert {"item", "big", "mid"} <= {t.table_name for t in cur.tables(schema="entu", tableType="TABLE")}
        assert cur.tables(schema="entu", tableType="VIEW").fetchall() == []
        assert "entu" in {t.table_schem for t in cur.tables(catalog="", schema="%", table="")}
        assert "TABLE" in {t.table_type for t in cur.tables(catalog="", schema="", table="", tableType="%")}
        # SQLColumns: names, ODBC data types (psqlODBC maps float8 to SQL_FLOAT) and type names, in column order
        cols = cur.columns(table="item", schema="entu").fetchall()
        by_name = {r.column_name: r for r in cols}
        assert {"name", "qty", "price", "ok", "day", "seen", "tags"} <= set(by_name)
        assert by_name["price"].data_type == pyodbc.SQL_FLOAT and by_name["day"].data_type == pyodbc.SQL_TYPE_DATE
        assert by_name["seen"].data_type == pyodbc.SQL_TYPE_TIMESTAMP and by_name["ok"].type_name == "bool"
        assert [r.ordinal_position for r in cols] == list(range(1, len(cols) + 1))
        # no keys, indexes, row ids or procedures on a platform table
        assert cur.primaryKeys("item", schema="entu").fetchall() == []
        assert cur.foreignKeys(table="item", schema="entu").fetchall() == []
        assert cur.foreignKeys(foreignTable="item", foreignSchema="entu").fetchall() == []
        assert cur.statistics("item", schema="entu").fetchall() == []
        assert cur.rowIdColumns("item", schema="entu").fetchall() == []
        assert cur.procedures(schema="entu").fetchall() == []
        assert cur.procedureColumns(schema="entu").fetchall() == []
        # SQLGetTypeInfo (a fixed list in psqlODBC): the types the columns above use
        types = {r.type_name: r.data_type for r in cur.getTypeInfo()}
        assert types["float8"] == pyodbc.SQL_FLOAT and types["bool"] in (pyodbc.SQL_BIT, pyodbc.SQL_CHAR)
        assert {"int4", "int8", "numeric", "text", "varchar", "date", "timestamptz", "uuid"} <= set(types)
        assert {r.type_name for r in cur.getTypeInfo(pyodbc.SQL_TYPE_DATE)} == {"date"}
    # SQLTablePrivileges (pyodbc does not wrap it): the owner role reads the table
    privs = odbc_catalog_rows(odbc_cs + ";" + options, "SQLTablePrivileges", "entu", "item")
    assert ("entu", "item", "lowcode", "SELECT") in {(r[1], r[2], r[4], r[5]) for r in privs}


def test_sqlalchemy_inspect_and_pandas(dsn, server):
    sa = pytest.importorskip("sqlalchemy")
    pd = pytest.importorskip("pandas")
    url = f"postgresql+psycopg://{USER}:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{server.port}/lowcode"
    engine = sa.create_engine(url)
    try:
        insp = sa.inspect(engine)
        assert "entu" in insp.get_schema_names()
        assert {"item", "big"} <= set(insp.get_table_names(schema="entu"))
        assert insp.get_table_names() == insp.get_table_names(schema="entu")  # entu is the default schema
        cols = {c["name"]: c["type"] for c in insp.get_columns("item", schema="entu")}
        assert isinstance(cols["price"], sa.Float) and isinstance(cols["day"], sa.Date)
        assert isinstance(cols["seen"], sa.DateTime) and cols["seen"].timezone
        assert insp.get_pk_constraint("item", schema="entu")["constrained_columns"] == []
        assert insp.get_foreign_keys("item", schema="entu") == [] and insp.get_indexes("item", schema="entu") == []
        assert insp.has_table("item", schema="entu") and not insp.has_table("nope", schema="entu")
        with engine.connect() as c:
            df = pd.read_sql(sa.text("SELECT name, price FROM entu.item WHERE price > :p ORDER BY price"), c,
                             params={"p": 2})
            assert df["price"].tolist() == [3.25, 10.0]
            full = pd.read_sql_table("item", c, schema="entu")
            assert len(full) == 4 and "tags__all" in full.columns
            item = sa.Table("item", sa.MetaData(), autoload_with=c, schema="entu")
            got = c.execute(sa.select(item.c.name).where(item.c.price < 2)).fetchall()
            assert got == [("alpha",)]
    finally:
        engine.dispose()
