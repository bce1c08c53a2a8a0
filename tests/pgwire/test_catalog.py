"""Catalog queries as BI tools and drivers send them (Metabase's table list, DBeaver's type and
database queries, Power BI's information_schema reads, pgJDBC's array detection), against the
emulated pg_catalog."""

from __future__ import annotations

import psycopg
import pytest

pytestmark = pytest.mark.slow


def q(dsn: str, sql: str) -> list[tuple]:
    with psycopg.connect(dsn, autocommit=True) as c:
        return c.execute(sql).fetchall()


def test_metabase_table_list_with_descriptions(dsn):
    rows = q(dsn, """SELECT "n"."nspname" AS "schema", "c"."relname" AS "name", "d"."description" AS "description"
        FROM "pg_catalog"."pg_class" AS "c"
        INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON "c"."relnamespace" = "n"."oid"
        LEFT JOIN "pg_catalog"."pg_description" AS "d" ON ("c"."oid" = "d"."objoid") AND ("d"."objsubid" = 0)
             AND ("d"."classoid" = 'pg_class'::regclass)
        WHERE ("n"."nspname" !~ '^pg_') AND ("n"."nspname" <> 'information_schema') AND c.relkind in ('r', 'p', 'v')
          AND has_schema_privilege("n"."nspname", 'USAGE') AND has_table_privilege("c"."oid", 'SELECT')
        ORDER BY "schema", "name\"""")
    assert ("entu", "item", "Entu entities of type 'item'") in rows


def test_column_comments_and_types(dsn):
    rows = q(dsn, """SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
                            pg_catalog.col_description(a.attrelid, a.attnum)
                     FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'entu.item'::regclass AND a.attnum > 0
                     ORDER BY a.attnum""")
    by_name = {r[0]: r for r in rows}
    assert by_name["price"][1] == "double precision" and by_name["seen"][1] == "timestamp with time zone"
    assert by_name["price"][2] == "first number value of price"


def test_information_schema_like_power_bi(dsn):
    tables = q(dsn, "select TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE from INFORMATION_SCHEMA.tables "
                    "where TABLE_SCHEMA not in ('information_schema', 'pg_catalog') order by TABLE_SCHEMA, TABLE_NAME")
    assert ("entu", "item", "BASE TABLE") in tables
    cols = q(dsn, "select column_name, data_type, ordinal_position from information_schema.columns "
                  "where table_schema = 'entu' and table_name = 'item' order by ordinal_position")
    assert ("day", "date", 2) in cols and all(c[2] == i for i, c in enumerate(cols, start=1))


def test_dbeaver_style_queries(dsn):
    assert q(dsn, "SELECT db.oid, db.datname FROM pg_catalog.pg_database db WHERE datallowconn AND NOT datistemplate "
                  "OR db.datname = current_database() ORDER BY db.datname") == [(16383, "lowcode")]
    types = q(dsn, "SELECT t.oid, t.typname, format_type(nullif(t.typbasetype, 0), t.typtypmod) "
                   "FROM pg_catalog.pg_type t "
                   "LEFT OUTER JOIN pg_catalog.pg_type et ON et.oid = t.typelem "
                   "LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid = t.typrelid "
                   "WHERE t.typname IS NOT NULL AND (c.relkind IS NULL OR c.relkind = 'c')")
    assert (23, "int4", None) in types and (1184, "timestamptz", None) in types


def test_array_type_detection_like_pgjdbc(dsn):
    rows = q(dsn, "SELECT oid, typinput = 'pg_catalog.array_in'::regproc FROM pg_catalog.pg_type "
                  "WHERE oid IN (23, 1007) ORDER BY oid")
    assert rows == [(23, False), (1007, True)]


def test_psycopg_type_info(dsn):
    from psycopg.types import TypeInfo

    with psycopg.connect(dsn, autocommit=True) as c:
        info = TypeInfo.fetch(c, "int4")
        assert info is not None and info.oid == 23 and info.array_oid == 1007
        assert TypeInfo.fetch(c, "hstore") is None
