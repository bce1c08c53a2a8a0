"""PostgreSQL -> DuckDB translation: statement splitting, routing, PostgreSQL semantics, names."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest

from lowcode_sql.execute.duck import connect_duckdb
from lowcode_sql.pgwire.pgcatalog import rewrite_catalog
from lowcode_sql.pgwire.pgfuncs import SERVED_MACROS
from lowcode_sql.pgwire.pgsemantics import PG_GLOBAL_SETTINGS
from lowcode_sql.pgwire.transpile import split_statements, translate
from lowcode_sql.pgwire.types import _numeric_binary, decode_param, encode_text_column

SOURCES = {"crm": {"deals": pa.schema([("id", pa.int64()), ("amount", pa.float64()), ("n", pa.int32())])}}


def tr(sql: str, **kw):
    return translate(sql, source_tables=SOURCES, catalog_tables=frozenset({"pg_class"}),
                     settings={"application_name": "x"}, user="u", rewrite_catalog=rewrite_catalog, **kw)


def test_split_statements_respects_quotes_comments_and_dollar_quotes():
    sql = "SET a = 'x;y'; SELECT \"a;b\" -- c;d\n FROM t; /* e;f */ SELECT $$g;h$$;;  "
    assert split_statements(sql) == ["SET a = 'x;y'", 'SELECT "a;b" -- c;d\n FROM t', "/* e;f */ SELECT $$g;h$$"]
    assert split_statements(" ; -- only a comment") == []


def test_routing():
    assert tr("SELECT id FROM crm.deals").target == "engine"
    assert tr("SELECT id FROM deals").target == "engine"
    assert tr("SELECT relname FROM pg_catalog.pg_class").target == "catalog"
    assert tr("SELECT 1").target == "catalog"
    with pytest.raises(NotImplementedError):
        tr("SELECT * FROM crm.deals d JOIN pg_class c ON c.oid = d.id")


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT 10 / 4", 2),
    ("SELECT -7 / 2", -3),  # truncates toward zero like PostgreSQL
    ("SELECT 7 / 2.0", 3.5),
    ("SELECT CAST(7 AS INT) / 2", 3),
    ("SELECT (1 + 6) / 2 * 2", 6),
    ("SELECT 10 % 4 / 2", 1),
])
def test_integer_division_semantics(sql, expected):
    assert pg_duck().sql(tr(sql).sql).fetchall()[0][0] == expected


def pg_duck() -> duckdb.DuckDBPyConnection:
    """A DuckDB with the served connections' PostgreSQL semantics (pgsemantics)."""
    return connect_duckdb(external_access=False, global_settings=PG_GLOBAL_SETTINGS, init_sql=SERVED_MACROS)


def test_integer_division_uses_the_binders_types_at_any_depth():
    con = pg_duck()
    con.execute("CREATE SCHEMA crm")
    con.execute("CREATE TABLE crm.deals AS SELECT 2299::BIGINT AS id, 7.0::DOUBLE AS amount, 9::INTEGER AS n "
                "UNION ALL SELECT 0, 1.0, 1")
    rows = con.sql(tr("SELECT d.id / 2, amount / 2, n / 2 FROM crm.deals d ORDER BY 1 DESC").sql).fetchall()
    assert rows[0] == (1149, 3.5, 4)
    # types from the binder, not the syntax: subqueries, CTEs, aggregates (sum(bigint) is numeric)
    for sql, expected in [
        ("SELECT x / 4 FROM (SELECT 10 AS x) t", 2),
        ("WITH c AS (SELECT n * 3 AS y FROM crm.deals) SELECT max(y) / 2 FROM c", 13),
        ("SELECT max(i / 1000) FROM generate_series(1, 999999) AS g(i)", 999),
        ("SELECT sum(id) / count(*) FROM crm.deals", 1149.5),
        ("SELECT sum(n) / count(*) FROM crm.deals", 5),
        ("SELECT avg(n) FROM crm.deals", 5.0),
    ]:
        assert con.sql(tr(sql).sql).fetchall()[0][0] == expected, sql


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT format('%s-%s', 'a', 'b')", "a-b"),
    ("SELECT format('%I.%I', 'public', 'My T')", 'public."My T"'),
    ("SELECT format('%L, %L, %L', 'it''s', NULL, 'a\\b')", "'it''s', NULL, E'a\\\\b'"),
    ("SELECT format('100%% %s', NULL)", "100% "),
    ("SELECT format('%2$s %1$s %s', 'a', 'b')", "b a b"),
    ("SELECT format('[%5s|%-5s]', 'ab', 'cd')", "[   ab|cd   ]"),
    ("SELECT format('%s', 42)", "42"),
])
def test_format_follows_postgresql(sql, expected):
    assert pg_duck().sql(tr(sql).sql).fetchall()[0][0] == expected


def test_format_refuses_what_it_cannot_mean():
    with pytest.raises(NotImplementedError):
        tr("SELECT format(relname, 'x') FROM pg_class")
    with pytest.raises(SyntaxError, match="too few arguments"):
        tr("SELECT format('%s %s', 'a')")


def test_desc_puts_nulls_first():
    assert "DESC NULLS FIRST" in tr("SELECT id FROM crm.deals ORDER BY id DESC").sql


def test_output_names_follow_postgresql():
    t = tr("SELECT count(*), sum(amount), id, amount AS a, 1 + 2, CAST(n AS TEXT), CAST('1' AS INT), "
           "version(), CASE WHEN id > 1 THEN 1 END, max(n) OVER () FROM crm.deals")
    assert t.names == ["count", "sum", "id", "a", "?column?", "n", "int4", "version", "case", "max"]
    assert tr("SELECT id > 1 OR n IS NULL, id > 1 AND n > 2 FROM crm.deals").names == ["?column?", "?column?"]
    assert tr("SELECT to_char(now(), 'FMMonth'), 'to_char(' AS s").names == ["to_char", "s"]
    assert tr("SELECT * FROM crm.deals").names is None


def test_session_values_and_parameters():
    t = tr("SELECT current_setting('application_name'), current_user, $2, $1")
    assert t.nparams == 2 and "'x'" in t.sql and "'u'" in t.sql


def test_catalog_rewrites():
    out = tr("SELECT c.oid::regclass::text, 'crm.deals'::regclass, t.oid::regtype, n.nspname "
             "FROM pg_catalog.pg_class c, pg_catalog.pg_type t, information_schema.tables i "
             "WHERE c.relname OPERATOR(pg_catalog.~) '^d' COLLATE pg_catalog.default").sql
    assert "__REGCLASS_NAME(c.oid)" in out and "TO_REGCLASS('crm.deals')" in out
    assert "FORMAT_TYPE(t.oid, NULL)" in out and "information_schema_tables" in out
    assert "pg_catalog" not in out and "COLLATE" not in out


def test_text_encoding_matches_postgresql():
    cols = [
        (pa.array([1.0, 0.5, float("nan"), float("inf"), None]), [b"1", b"0.5", b"NaN", b"Infinity", None]),
        (pa.array([True, False]), [b"t", b"f"]),
        (pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 120000), dt.datetime(2024, 1, 2)], pa.timestamp("us")),
         [b"2024-01-02 03:04:05.12", b"2024-01-02 00:00:00"]),
        (pa.array([dt.datetime(2024, 1, 2, tzinfo=dt.UTC)], pa.timestamp("ms", "UTC")), [b"2024-01-02 00:00:00+00"]),
        # whole seconds (DuckDB's TIMESTAMP_S) have no fraction: their trailing zeros are digits
        (pa.array([dt.datetime(2024, 1, 2, 3, 4, 50), None], pa.timestamp("s")), [b"2024-01-02 03:04:50", None]),
        (pa.array([dt.time(3, 4, 0)], pa.time32("s")), [b"03:04:00"]),
        (pa.array([dt.time(3, 4, 0), dt.time(0, 0, 10, 250000)], pa.time64("us")), [b"03:04:00", b"00:00:10.25"]),
        (pa.array([[1, 2], None]), [b"[1, 2]", None]),
        (pa.array([b"\x00\xff"]), [b"\\x00ff"]),
    ]
    for arr, expected in cols:
        assert encode_text_column(arr) == expected


@pytest.mark.parametrize("value", ["0", "1", "-1.5", "12345.6789", "0.0001", "1E+5", "100000000.00", "-0.000123"])
def test_binary_numeric(value):
    import psycopg.types.numeric as pn

    loader = pn.NumericBinaryLoader(1700)
    assert loader.load(_numeric_binary(Decimal(value))) == Decimal(value)


def test_parameter_decoding():
    assert decode_param(b"42", 23, 0) == 42 and decode_param(b"x", 0, 0) == "x"
    assert decode_param(b"2024-01-02", 1082, 0) == dt.date(2024, 1, 2)
    assert decode_param(b"\x00\x00\x00\x00\x00\x00\x00\x07", 20, 1) == 7
    assert decode_param(None, 23, 0) is None and decode_param(b"t", 16, 0) is True


def test_bare_numeric_keeps_digits_and_names():
    t = tr("SELECT -0.0001::numeric, CAST(n AS numeric), amount::numeric, current_setting('application_name') "
           "FROM crm.deals")
    assert t.names == ["?column?", "n", "amount", "current_setting"]  # `-x::numeric` is -(x::numeric)
    con = pg_duck()
    con.execute("CREATE SCHEMA crm")
    con.execute("CREATE TABLE crm.deals (id BIGINT, amount DOUBLE, n INTEGER)")
    # integers keep every digit (DECIMAL(20,0): int8's 19, uint8's 20), other types 10 fraction
    # digits, decimals their own
    assert [str(x) for x in con.sql(t.sql).types[:3]] == ["DECIMAL(5,4)",
                                                          "DECIMAL(20,0)", "DECIMAL(38,10)"]
    assert con.sql(tr("SELECT -0.0001::numeric").sql).fetchall() == [(Decimal("-0.0001"),)]
    assert con.sql(tr("SELECT 9223372036854775807::numeric").sql).fetchall() == [(Decimal(9223372036854775807),)]
    # rows of one VALUES or UNION share a type: an integer's numeric must leave room for fractions
    assert con.sql(tr("SELECT x FROM (VALUES (1::numeric), (2.5::numeric), (NULL::numeric)) t(x)").sql
                   ).fetchall() == [(Decimal("1"),), (Decimal("2.5"),), (None,)]


def test_result_types_come_from_the_binder():
    """numeric division, avg(int) and sum(int) have PostgreSQL's result types at any depth (issue 14)."""
    con = pg_duck()
    con.execute("CREATE SCHEMA crm")
    con.execute("CREATE TABLE crm.deals AS SELECT 2299::BIGINT AS id, 7.5::DOUBLE AS amount, 9::INTEGER AS n "
                "UNION ALL SELECT 0, 1.0, 1")
    for sql, value, kind in [
        ("SELECT 10 / 4.0", Decimal("2.5"), "DECIMAL(38,16)"),
        ("SELECT x / 4 FROM (SELECT 10.0 AS x) t", Decimal("2.5"), "DECIMAL(38,16)"),
        ("SELECT count(*) / 5.0 FROM crm.deals", Decimal("0.4"), "DECIMAL(38,16)"),
        ("SELECT sum(id) / count(*) FROM crm.deals", Decimal("1149.5"), "DECIMAL(38,16)"),
        ("SELECT t.a / t.b FROM (SELECT sum(n) AS a, count(*) AS b FROM crm.deals) t", 5, "BIGINT"),
        ("SELECT sum(n) FROM crm.deals", 10, "BIGINT"),
        ("SELECT sum(n) OVER () FROM crm.deals", 10, "BIGINT"),
        ("SELECT sum(v) FROM (SELECT n AS v FROM crm.deals) s", 10, "BIGINT"),
        ("SELECT avg(n) FROM crm.deals", Decimal("5"), "DECIMAL(38,16)"),
        ("SELECT avg(v) FROM (SELECT n AS v FROM crm.deals) s", Decimal("5"), "DECIMAL(38,16)"),
        ("SELECT avg(amount) FROM crm.deals", 4.25, "DOUBLE"),
        ("SELECT amount / 2 FROM crm.deals ORDER BY 1 DESC LIMIT 1", 3.75, "DOUBLE"),
        # computed in double precision: 16 to 17 significant digits (pgsemantics)
        ("SELECT 123456789012.123456 / 7", Decimal("17636684144.58906514"), "DECIMAL(38,16)"),
        ("SELECT max(amount::numeric) / 2 FROM crm.deals", Decimal("3.75"), "DECIMAL(38,16)"),
    ]:
        rel = con.sql(tr(sql).sql)
        got = rel.fetchall()[0][0]
        assert str(rel.types[0]) == kind, sql
        assert got == value or abs(got - value) <= abs(value) * Decimal("1e-16"), (sql, got)


def test_interval_literal_keeps_its_time_part():
    assert duckdb.sql(tr("SELECT interval '1 day 02:00:00'").sql).fetchall() == [(dt.timedelta(days=1, hours=2),)]


def test_a_broken_source_is_left_out_of_the_catalog(caplog):
    from types import SimpleNamespace

    from dialect import ColumnDef, TableDef
    from lowcode_sql.errors import AuthError
    from lowcode_sql.pgwire.pgcatalog import describe_sources

    def broken() -> dict:
        raise AuthError("login failed", source="bad")

    good = {"t": TableDef("t", (ColumnDef("a", pa.int64(), doc="the a"),), doc="T")}
    catalog = SimpleNamespace(sources={"bad": SimpleNamespace(tables=broken),
                                       "ok": SimpleNamespace(tables=lambda: good)})
    out = describe_sources(catalog)
    assert list(out) == ["ok"] and out["ok"]["t"][1:] == ("T", {"a": "the a"})
    assert "'bad' is not served" in caplog.text


@pytest.mark.parametrize(("value", "pattern", "expected"), [
    ("abc", "a%", True), ("abc", "a_c", True), ("a.c", "a.c", True), ("abc", "a.c", False),
    ("abd", "ab(c|d)", True), ("ab", "a%b%", True), ("xabc", "a%", False),
])
def test_similar_to_uses_postgresql_wildcards(value, pattern, expected):
    sql = tr(f"SELECT '{value}' SIMILAR TO '{pattern}', generate_series(1, 1)")
    assert duckdb.sql(sql.sql).fetchall() == [(expected, 1)] and sql.names == ["?column?", "generate_series"]


def test_data_rows_wire_format():
    from lowcode_sql.pgwire.protocol import data_rows_arrow

    out = data_rows_arrow([pa.array([b"1", None]), pa.array(["", "xy"])], 2)
    row1 = b"D" + (4 + 2 + 4 + 1 + 4).to_bytes(4, "big") + b"\x00\x02" + b"\x00\x00\x00\x01" + b"1" + b"\x00" * 4
    row2 = b"D" + (4 + 2 + 4 + 4 + 2).to_bytes(4, "big") + b"\x00\x02" + b"\xff" * 4 + b"\x00\x00\x00\x02xy"
    assert out == row1 + row2
    assert data_rows_arrow([pa.array(["a", "b", "c"]).slice(1, 2)], 2).endswith(b"\x00\x00\x00\x01c")


def test_data_rows_fixed_width_columns_match_arrow_ones():
    """numpy fixed-width columns (binary format, no NULL) are laid out as the same bytes as the
    Arrow binary arrays of the same values, alone (no join) and between variable ones."""
    import numpy as np

    from lowcode_sql.pgwire.protocol import data_rows_arrow

    ints = np.array([1, -2, 3], ">i8")
    flags = np.array([1, 0, 1], "u1")
    as_arrow = [pa.array([a[i:i + 1].tobytes() for i in range(3)], pa.binary()) for a in (ints, flags)]
    text = pa.array(["x", None, "yz"])
    assert data_rows_arrow([ints, flags], 3) == data_rows_arrow(as_arrow, 3)
    assert data_rows_arrow([ints, flags], 3)[:7] == b"D\x00\x00\x00\x17\x00\x02"  # 4+2 + (4+8) + (4+1)
    assert data_rows_arrow([text, ints, text, flags], 3) == data_rows_arrow([text, as_arrow[0], text, as_arrow[1]], 3)
    assert data_rows_arrow([ints, text], 3) == data_rows_arrow([as_arrow[0], text], 3)


@pytest.mark.parametrize(("sql", "expected", "type_"), [
    (r"SELECT 'a_b%c' LIKE 'a\_b%', 'axb' LIKE 'a\_b'", (True, False), "BOOLEAN"),
    ("SELECT extract(year FROM DATE '2024-05-17')", (Decimal("2024"),), "DECIMAL(38,0)"),
    ("SELECT extract(second FROM TIMESTAMP '2024-05-17 01:02:03.25')", (Decimal("3.250000"),), "DECIMAL(38,6)"),
    ("SELECT sum(i) / count(*) FROM generate_series(1, 10) AS g(i)", (5,), None),
    ("SELECT x FROM generate_series(1, 3) x ORDER BY x DESC LIMIT 1", (3,), "INTEGER"),
    ("SELECT length('Straße'), octet_length('Straße'), strpos('abc', 'c')", (6, 7, 3), "INTEGER"),
    ("SELECT quote_ident('My T'), quote_ident('ok_1'), quote_literal('it''s'), quote_nullable(NULL)",
     ('"My T"', "ok_1", "'it''s'", "NULL"), "VARCHAR"),
    # Tableau's DATENAME: to_char's template patterns sqlglot does not know (FM, Month, Day, Q, ID)
    ("SELECT to_char(DATE '2024-02-29', 'FMMonth'), to_char(DATE '2024-02-29', 'FMDay'),"
     " to_char(DATE '2024-02-29', 'Q'), to_char(DATE '2024-02-29', 'ID'),"
     " to_char(DATE '2024-02-29', 'Mon DD, YYYY'), to_char(DATE '2024-02-29', 'Month')",
     ("February", "Thursday", "1", "4", "Feb 29, 2024", "February "), "VARCHAR"),
    # substr before the first character counts those positions (Tableau's RIGHT)
    ("SELECT substr('Straße', -3), substr('abc', 0, 2), substr('abc', -1, 2), substr('abc', 2),"
     " substr('abc', 1 - 3, 5)",
     ("Straße", "a", "", "bc", "ab"), "VARCHAR"),
    # Tableau's REGEXP_EXTRACT(_NTH): an element of regexp_matches' one row, NULL without a match or past the groups
    ("SELECT (SELECT (regexp_matches('alpha', '([a-z])([a-z]+)'))[2]), (regexp_matches('alpha', 'l.'))[1],"
     " (regexp_matches('alpha', 'z(.)'))[1], (regexp_matches('alpha', '(a)'))[2]", ("lpha", "lp", None, None), None),
])
def test_postgresql_results_and_types(sql, expected, type_):
    rel = pg_duck().sql(tr(sql).sql)
    assert rel.fetchall()[0] == expected
    if type_:
        assert {str(t) for t in rel.types} == {type_}


def test_sum_of_a_source_column_stays_pushable():
    # the planner pushes SUM(column) to platforms that aggregate (Totalum, Slingr): a source column's
    # sum keeps that shape, cast to numeric outside for a 64-bit integer (PostgreSQL's sum(int8))
    out = tr("SELECT n, sum(id), sum(amount) FROM crm.deals GROUP BY n").sql
    assert "CAST(SUM(id) AS DECIMAL(38, 0))" in out and "SUM(amount)" in out and "PG_SUM_ARG" not in out
    # through a subquery the binder decides (the column there may be anything)
    assert "SUM(PG_SUM_ARG(id))" in tr("SELECT sum(id) FROM (SELECT id::int AS id FROM crm.deals) t").sql
    assert "SUM(PG_SUM_ARG(id))" in tr("WITH deals AS (SELECT 1 AS id) SELECT sum(id) FROM deals").sql


def test_like_any_all_and_every():
    con = pg_duck()
    sql = tr("SELECT name LIKE ANY (ARRAY['a%', 'o%']), name NOT ILIKE ALL (ARRAY['A%', 'b']), "
             "name ILIKE ALL (ARRAY['A%', '%A']) FROM (SELECT 'alpha' AS name) t").sql
    assert con.sql(sql).fetchall() == [(True, False, True)]
    out = tr("SELECT every(x) FROM (SELECT true AS x UNION ALL SELECT false) t")
    assert con.sql(out.sql).fetchall() == [(False,)] and out.names == ["every"]


def test_min_max_of_boolean_are_refused_with_postgresqls_error():
    from lowcode_sql.pgwire.errors import PGError, sqlstate

    schemas = {"crm": {"flags": pa.schema([("ok", pa.bool_())])}}
    # a source column's type is known before the query runs: refused even when no row would be read
    with pytest.raises(PGError) as refused:
        translate("SELECT min(ok) FROM crm.flags WHERE false", source_tables=schemas, catalog_tables=frozenset(),
                  settings={}, user="u", rewrite_catalog=rewrite_catalog)
    assert sqlstate(refused.value)[:2] == ("42883", "function min(boolean) does not exist")
    # any other boolean: DuckDB's binder picks the refusing overload, errors.py gives PostgreSQL's error
    with pytest.raises(duckdb.Error) as raised:
        pg_duck().sql(tr("SELECT max(b) FROM (SELECT true AS b) t").sql).fetchall()
    assert sqlstate(raised.value)[:2] == ("42883", "function max(boolean) does not exist")
    assert pg_duck().sql(tr("SELECT min(x), max(x) FROM (SELECT 'b' AS x UNION ALL SELECT 'a') t").sql).fetchall() \
        == [("a", "b")]


@pytest.mark.parametrize(("value", "text"), [
    ("1::float8", "1"), ("-2.5::float8", "-2.5"), ("1e15::float8", "1e+15"), ("123456789012345.6::float8",
                                                                               "123456789012345.6"),
    ("1e16::float8", "1e+16"), ("1.5e-5::float8", "1.5e-05"), ("1e-4::float8", "0.0001"), ("1e100::float8", "1e+100"),
    ("'-0'::float8", "-0"), ("'NaN'::float8", "NaN"), ("'-Infinity'::float8", "-Infinity"),
    ("1e6::real", "1e+06"), ("123456::real", "123456"), ("4066740.75::real", "4.0667408e+06"), ("0.1::real", "0.1"),
    ("NULL::float8", None), ("10", "10"), ("1.50", "1.50"),
])
def test_float_text_is_postgresqls_shortest_form(value, text):
    assert pg_duck().sql(tr(f"SELECT ({value})::text").sql).fetchall() == [(text,)]


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT to_char(1234.5, '9,999.99')", " 1,234.50"),
    ("SELECT to_char(-0.5, '999.99')", "   -.50"),
    ("SELECT to_char(0, 'FM999.99')", "0."),
    ("SELECT to_char(2.5::float8, 'FM9')", "2"),  # float8 goes through printf: halves to even
    ("SELECT to_char(2.5, 'FM9')", "3"),  # numeric: halves away from zero
    ("SELECT to_char(12345, '999')", " ###"),
    ("SELECT to_char(-12, '999PR')", " <12>"),
    ("SELECT to_char(7, 'FM\"No. \"000')", "No. 007"),
])
def test_number_to_char_follows_postgresqls_layout(sql, expected):
    assert pg_duck().sql(tr(sql).sql).fetchall() == [(expected,)]


@pytest.mark.parametrize(("template", "pattern"), [("9.99EEEE", "EEEE"), ("L999", "L"), ("RN", "RN"), ("99th", "th")])
def test_number_to_char_refuses_the_patterns_it_does_not_implement(template, pattern):
    with pytest.raises(NotImplementedError, match=f'"{pattern}" is not available'):
        tr(f"SELECT to_char(12, '{template}')")


def test_translation_cache_is_keyed_by_the_catalog_it_was_made_with():
    from lowcode_sql.pgwire.transpile import Translated, TranslationCache

    cache = TranslationCache(size=2)
    sources, tables = {"crm": {}}, frozenset({"pg_class"})
    cache.put(("SELECT 1", "u", ()), sources, tables, Translated("SELECT 1", "catalog", 0, ["?column?"]))
    hit = cache.get(("SELECT 1", "u", ()), sources, tables)
    assert hit == Translated("SELECT 1", "catalog", 0, ["?column?"])
    assert hit is not None and hit.names is not None
    hit.names.append("changed")  # a caller's change never reaches the cached entry
    assert cache.get(("SELECT 1", "u", ()), sources, tables) == Translated("SELECT 1", "catalog", 0, ["?column?"])
    # a rebuilt catalog has new maps (equal or not): the entry no longer applies
    assert cache.get(("SELECT 1", "u", ()), {"crm": {}}, tables) is None
    assert cache.get(("SELECT 1", "other user", ()), sources, tables) is None
    cache.put(("SELECT 2", "u", ()), sources, tables, Translated("SELECT 2", "catalog", 0, None))
    cache.put(("SELECT 3", "u", ()), sources, tables, Translated("SELECT 3", "catalog", 0, None))
    assert cache.get(("SELECT 1", "u", ()), sources, tables) is None  # least recently used went first
    assert cache.get(("SELECT 3", "u", ()), sources, tables) is not None


def test_data_rows_of_a_few_rows_are_the_arrow_paths_bytes(monkeypatch):
    """A few rows are assembled in Python (protocol._data_rows_few): byte for byte what the Arrow
    path gives for the same columns (NULLs, empty strings, multi-byte text, slices, numpy
    fixed-width values), so tests of either path hold for both."""
    import numpy as np

    from lowcode_sql.pgwire import protocol

    rng = np.random.default_rng(7)
    for n in (1, 2, 5, 16):
        ints = rng.integers(-2**40, 2**40, n).astype(">i8")
        floats = rng.normal(size=n).astype(">f8")
        flags = rng.integers(0, 2, n).astype("u1")
        text = pa.array(rng.choice(["", "ß€", "x" * 300, None], n).tolist(), pa.string())
        raw = pa.array([None if i % 3 == 0 else bytes([i]) * i for i in range(n + 2)], pa.binary()).slice(2, n)
        for cols in ([ints], [text], [ints, floats, flags], [text, ints, raw, flags], [raw, text, text]):
            few = protocol.data_rows_arrow(cols, n)
            monkeypatch.setattr(protocol, "_FEW_ROWS", 0)
            arrow = protocol.data_rows_arrow(cols, n)
            monkeypatch.setattr(protocol, "_FEW_ROWS", 16)
            assert few == arrow, (n, [type(c).__name__ for c in cols])


def test_source_columns_keep_plain_min_max_and_text_casts_for_pushdown():
    """A source column's type is known: min/max of a non-boolean one and the text of a non-float
    one need no type probe, and stay plain so the planner can push them to the platform."""
    sql = tr("SELECT min(id), max(n), amount::text, id::text FROM crm.deals").sql
    assert "MIN(id)" in sql and "MAX(n)" in sql and "CAST(id AS TEXT)" in sql
    assert "PG_TEXT(amount, amount)" in sql  # float8's text is PostgreSQL's own
    assert "PG_MAX_CHECK" in tr("SELECT max(x) FROM (SELECT id AS x FROM crm.deals) t").sql
