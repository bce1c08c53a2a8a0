"""Introspection SQL that BI tools send, taken from their sources (each query says where from), and
the errors and result metadata they show users (issue 14)."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

import lowcode_sql
from lowcode_sql.pgwire import ServerThread
from lowcode_sql.sandbox.totalum import TotalumSandbox

pytestmark = pytest.mark.slow

# Metabase, src/metabase/driver/postgres.clj, `sql-jdbc.sync/current-user-table-privileges :postgres`
# (as MaterializeInc/materialize's regression test for it quotes it): keywords as bare output names
METABASE_PRIVILEGES = """
with table_privileges as (
 select
   NULL as role,
   t.schemaname as schema,
   t.objectname as table,
   pg_catalog.has_table_privilege(current_user, '"' || t.schemaname || '"' || '.' || '"' || t.objectname || '"',  'UPDATE') as update,
   pg_catalog.has_table_privilege(current_user, '"' || t.schemaname || '"' || '.' || '"' || t.objectname || '"',  'SELECT') as select,
   pg_catalog.has_table_privilege(current_user, '"' || t.schemaname || '"' || '.' || '"' || t.objectname || '"',  'INSERT') as insert,
   pg_catalog.has_table_privilege(current_user, '"' || t.schemaname || '"' || '.' || '"' || t.objectname || '"',  'DELETE') as delete
 from (
   select schemaname, tablename as objectname from pg_catalog.pg_tables
   union
   select schemaname, viewname as objectname from pg_catalog.pg_views
   union
   select schemaname, matviewname as objectname from pg_catalog.pg_matviews
 ) t
 where t.schemaname !~ '^pg_'
   and t.schemaname <> 'information_schema'
   and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'USAGE')
)
select t.*
from table_privileges t
"""  # noqa: E501

# Metabase, src/metabase/driver/postgres.clj, `sql-jdbc.sync/describe-fields-sql :postgres` (0.50+), as its
# HoneySQL renders it (the column-comment part: a per-row FORMAT('%I.%I', ...)::regclass::oid)
METABASE_DESCRIBE_FIELDS = """
SELECT "c"."column_name" AS "name",
  "c"."ordinal_position" - 1 AS "database-position",
  "c"."table_schema" AS "table-schema",
  "c"."table_name" AS "table-name",
  COL_DESCRIPTION(CAST(CAST(FORMAT('%I.%I', CAST("c"."table_schema" AS TEXT), CAST("c"."table_name" AS TEXT))
    AS REGCLASS) AS OID), "c"."ordinal_position") AS "field-comment"
FROM "information_schema"."columns" AS "c"
WHERE c.table_schema !~ '^information_schema|catalog_history|pg_' AND ("c"."table_schema" IN ('entu'))
  AND "c"."table_name" = 'item'
ORDER BY "table-schema" ASC, "table-name" ASC, "database-position" ASC
"""

# Grafana, public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts, showTables()
_SCHEMA_CONSTRAINT = """
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )"""
GRAFANA_TABLES = f"""SELECT
    CASE WHEN {_SCHEMA_CONSTRAINT}
      THEN quote_ident(table_name)
      ELSE quote_ident(table_schema) || '.' || quote_ident(table_name)
    END AS "table"
    FROM information_schema.tables
    WHERE quote_ident(table_schema) NOT IN ('information_schema',
                             'pg_catalog',
                             '_timescaledb_cache',
                             '_timescaledb_catalog',
                             '_timescaledb_internal',
                             '_timescaledb_config',
                             'timescaledb_information',
                             'timescaledb_experimental')
    ORDER BY CASE WHEN {_SCHEMA_CONSTRAINT} THEN 0 ELSE 1 END, 1"""

# DBeaver, plugins/org.jkiss.dbeaver.ext.postgresql/.../model/PostgreSchema.java, IndexCache.prepareObjectsStatement
DBEAVER_INDEXES = """SELECT i.*,i.indkey as keys,c.relname,c.relnamespace,c.relam,c.reltablespace,tc.relname as tabrelname,dsc.description,pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred_expr,pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) as expr,pg_catalog.pg_relation_size(i.indexrelid) as index_rel_size,pg_catalog.pg_stat_get_numscans(i.indexrelid) as index_num_scans
FROM pg_catalog.pg_index i
INNER JOIN pg_catalog.pg_class c ON c.oid=i.indexrelid
INNER JOIN pg_catalog.pg_class tc ON tc.oid=i.indrelid
LEFT OUTER JOIN pg_catalog.pg_description dsc ON i.indexrelid=dsc.objoid
WHERE  c.relnamespace=%s ORDER BY c.relname"""  # noqa: E501


def _format_works(c: psycopg.Connection) -> bool:
    """Whether PostgreSQL's format('%I.%I', ...) is there yet (issue 14 has it on another branch)."""
    try:
        return c.execute("SELECT format('%I.%I', 'a', 'b')").fetchone() == ("a.b",)
    except psycopg.Error:
        return False


def test_metabase_privileges_and_column_sync(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        cur = c.execute(METABASE_PRIVILEGES)
        assert [d.name for d in cur.description] == ["role", "schema", "table", "update", "select", "insert",
                                                     "delete"]
        rows = {r[2]: r for r in cur.fetchall()}
        assert rows["item"] == (None, "entu", "item", True, True, True, True)
        sql = METABASE_DESCRIBE_FIELDS
        if not _format_works(c):
            # the same relation name without format(): the ::regclass::oid of a per-row name is what
            # is under test here
            sql = sql.replace("""FORMAT('%I.%I', CAST("c"."table_schema" AS TEXT), CAST("c"."table_name" AS TEXT))""",
                              """quote_ident("c"."table_schema") || '.' || quote_ident("c"."table_name")""")
        comments = {r[0]: r[4] for r in c.execute(sql).fetchall()}
        assert comments["name"] == "first string value of name" and comments["_id"] == "entity id"
        # a name or an OID: both resolve
        assert c.execute("SELECT (SELECT 'entu' || '.' || 'item')::regclass::oid = 'entu.item'::regclass::oid, "
                         "(SELECT oid FROM pg_class WHERE relname = 'item')::regclass::oid = "
                         "'entu.item'::regclass::oid").fetchone() == (True, True)


def test_grafana_table_list(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        tables = [r[0] for r in c.execute(GRAFANA_TABLES).fetchall()]
    # entu is on the search_path, so its tables are listed unqualified, as PostgreSQL would
    assert {"item", "big", "mid"} <= set(tables) and tables == sorted(tables)


def test_dbeaver_indexes_and_pgadmin_functions(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        ns = c.execute("SELECT oid FROM pg_namespace WHERE nspname = 'entu'").fetchone()[0]
        cur = c.execute(DBEAVER_INDEXES, [ns])
        assert "index_num_scans" in [d.name for d in cur.description] and cur.fetchall() == []
        assert c.execute("SELECT pg_stat_get_numscans(1)").fetchone() == (0,)
        # the WAL functions pgAdmin's dashboard and replication checks call: NULL on a primary
        assert c.execute("SELECT pg_is_in_recovery(), pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn(), "
                         "pg_is_wal_replay_paused()").fetchone() == (False, None, None, False)


def test_clock_and_statement_timestamp(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        a, b = c.execute("SELECT clock_timestamp(), pg_catalog.statement_timestamp()").fetchone()
        assert isinstance(a, dt.datetime) and a.tzinfo is not None and abs(a - b) < dt.timedelta(seconds=5)
        # also in a query on a source table (an engine, not the catalog)
        n, ts = c.execute("SELECT count(*), max(statement_timestamp()) FROM entu.item").fetchone()
        assert n == 4 and abs(ts - a) < dt.timedelta(minutes=5)
        assert c.execute("SELECT 'clock_timestamp() as select'").fetchone() == ("clock_timestamp() as select",)


def test_missing_relation_error_quotes_once(dsn):
    with psycopg.connect(dsn, autocommit=True) as c, pytest.raises(psycopg.errors.UndefinedTable) as e:
        c.execute("SELECT * FROM nope.nothing")
    assert e.value.diag.message_primary == 'relation "nope.nothing" does not exist'


def test_result_columns_name_their_table(dsn):
    # RowDescription's table OID and column number, which pgJDBC/psqlODBC turn into table names
    with psycopg.connect(dsn, autocommit=True) as c:
        oid = c.execute("SELECT 'entu.item'::regclass::oid").fetchone()[0]
        attnums = dict(c.execute("SELECT attname, attnum FROM pg_attribute WHERE attrelid = %s", [oid]).fetchall())
        cur = c.execute("SELECT t.price, name AS n, 1 AS one FROM entu.item t")
        res = cur.pgresult
        assert res is not None
        assert [(res.ftable(i), res.ftablecol(i)) for i in range(3)] == [(oid, attnums["price"]),
                                                                         (oid, attnums["name"]), (0, 0)]
        cur = c.execute("SELECT * FROM entu.item")
        assert [cur.pgresult.ftable(i) for i in range(cur.pgresult.nfields)] == [oid] * cur.pgresult.nfields


def test_totalum_link_table_without_its_filter_says_what_to_add():
    con = lowcode_sql.connect()
    con.add_source("tl", "totalum", sandbox=TotalumSandbox())
    with ServerThread(con, port=0, auth="trust") as srv, \
            psycopg.connect(f"host=127.0.0.1 port={srv.port} user=x dbname=lowcode sslmode=disable",
                            autocommit=True) as c:
        with pytest.raises(psycopg.errors.FeatureNotSupported, match=r"add WHERE source_id = '<client _id>'"):
            c.execute("SELECT name FROM tl.client__favorites")
        assert c.execute("SELECT 1").fetchone() == (1,)  # the session goes on
    con.close()
