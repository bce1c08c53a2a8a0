"""Totalum: generated queries through lowcode_sql + the sandbox vs DuckDB over the same rows.

The sandbox stores each SQL NULL either as a stored ``null`` or as a missing field (``nulls="mixed"``),
so Mongo's "null or missing" rules (``{f: null}``, ``ne``) are exercised on both shapes. Text values hold
regex metacharacters, LIKE wildcards, newlines and unicode case traps (İ/i, ß, KELVIN SIGN, long s).
Two configurations: the seed's ``GET api/v1/crud/{table}`` and the SDK's ``POST api/v1/crud/query/{table}``.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lowcode_sql
from lowcode_sql.sandbox.totalum import TotalumSandbox
from tests.differential.harness import DifferentialSuite, compare, leaf_cases, reference
from tests.differential.querygen import Column, QueryGen

WORDS = [
    "apple", "Apple", "APPLE", "a.b", "axb", "x*y+z?", "(paren)", "[br]", "{3}", "p|q", "^caret", "dollar$",
    "back\\slash", "sl/ash", "50% off", "50 off", "under_score", "underXscore", "line\nbreak", "trail\n",
    "trail", "İstanbul", "istanbul", "ISTANBUL", "\u0131i", "ß", "straße", "STRASSE", "\u212aelvin", "kelvin", "KELVIN",
    "\u017fun", "sun", "", " padded ", "日本語", "🙂 emoji", "tie", "tie", "Ωmega", "ωmega", "null", "Ann", "ann",
]  # fmt: skip
STATUSES = ["new", "open", "closed", "Open"]
NUMBERS = [0, 1, -1, 2.5, -3.75, 42, 7, 1e9, -1e9, 0.1, 0.30000000000000004, -0.001, 123456.789, 3]
TS_BASE = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
N_ROWS = 160


def _oid(i: int, r: random.Random) -> str:
    return f"{r.getrandbits(64):016x}{i:08x}"


def make_rows(seed: int) -> list[dict[str, Any]]:
    r = random.Random(seed)
    ids = sorted(_oid(i, r) for i in range(N_ROWS))
    rows = []
    for i, oid in enumerate(ids):
        def null(p: float = 0.12) -> bool:
            return r.random() < p

        rows.append({
            "_id": oid,
            "title": None if null() else r.choice(WORDS) + r.choice(["", "", " 2", "x"]),
            "num": None if null() else (r.choice(NUMBERS) if r.random() < 0.5 else round(r.uniform(-500, 500), 2)),
            "flag": None if null() else r.random() < 0.5,
            "ts": None if null() else TS_BASE + dt.timedelta(milliseconds=r.randrange(-2 * 10**12, 2 * 10**11)),
            "status": None if null() else r.choice(STATUSES),
            "ref": None if null(0.2) else ids[r.randrange(len(ids))] if i else None,
            "serial": float(i * 7 % N_ROWS - 20),
        })
    return rows


ROWS = make_rows(21)
ARROW = {"_id": pa.string(), "title": pa.string(), "num": pa.float64(), "flag": pa.bool_(),
         "ts": pa.timestamp("us", tz="UTC"), "status": pa.string(), "ref": pa.string(), "serial": pa.float64()}


def arrow_table() -> pa.Table:
    return pa.table({k: pa.array([row[k] for row in ROWS], t) for k, t in ARROW.items()})


# the seed's GET; the SDK's POST body with the (unconfirmed) ``in`` operator and the opt-in
# aggregation endpoint switched on
CONFIGS = {"get": {}, "post_in": {"request": "post", "in_operator": True, "aggregate": True}}


def connect(config: str) -> tuple[lowcode_sql.Connection, TotalumSandbox]:
    sb = TotalumSandbox(sample_data=False)
    sb.load_table("item", arrow_table(), references={"ref": "item"}, options={"status": STATUSES}, nulls="mixed")
    con = lowcode_sql.connect()
    con.add_source("tl", "totalum", sandbox=sb, options={"page_size": 40, **CONFIGS[config]})
    return con, sb


def columns() -> list[Column]:
    def pool(p: str) -> list[Any]:
        return [x[p] for x in ROWS if x[p] is not None]

    return [
        Column("title", "text", pool("title")), Column("num", "num", pool("num")),
        Column("flag", "bool", pool("flag")), Column("ts", "tstz", pool("ts")),
        Column("status", "text", pool("status")), Column("ref", "text", pool("ref")),
        Column("_id", "text", pool("_id"), unique=True), Column("serial", "num", pool("serial"), unique=True),
    ]  # fmt: skip


class TotalumSuite(DifferentialSuite):
    schema = "tl"
    configs = list(CONFIGS)
    leaf_configs = ["get"]
    key, sorted_share = "_id", 0.3
    connect = staticmethod(connect)

    def reference_tables(self, config: str) -> dict[str, pa.Table]:
        return {"item": arrow_table()}

    def columns(self, config: str) -> list[Column]:
        return columns()

    def leaf_cases(self, config: str) -> list[str]:
        like = {"LIKE": 4, "NOT LIKE": 1, "ILIKE": 4, "NOT ILIKE": 1}
        return leaf_cases("tl.item", "_id", columns(), repeat=("=", "<>"), like=like)


SUITE = TotalumSuite()
env = SUITE.env_fixture()
leaf_envs = SUITE.leaf_envs_fixture()
test_generated_queries_agree = SUITE.generated_test(max_examples=150)
test_multi_reference_queries_agree = SUITE.multi_reference_test(max_examples=40)


def test_schema_matches_the_reference(env):
    con, ref, _ = env
    got = {name: typ for name, typ, _ in con.describe("tl.item")}
    want = {name: typ for name, typ, *_ in ref.sql("DESCRIBE tl.item").fetchall()}
    assert {k: got[k] for k in want} == want
    assert got["createdAt"] == got["updatedAt"] == "TIMESTAMP WITH TIME ZONE"


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1))
def test_generated_aggregates_agree(env, seed):
    """GROUP BY with COUNT/SUM/AVG/MIN/MAX: grouped by DuckDB ("get"), or pushed to the aggregation
    endpoint when the filter is exact ("post_in", option aggregate = true)."""
    con, ref, _ = env
    r = random.Random(seed)
    gen = QueryGen("item", "_id", columns(), r)
    where = " AND ".join(gen.predicate() for _ in range(r.randint(0, 2)))
    keys = r.sample(["title", "flag", "status", "ts", "ref", "num"], r.choice([0, 1, 1, 2]))
    col = r.choice(["title", "num", "flag", "ts", "status", "ref", "_id"])
    aggs = ["count(*)", f"count({col})", f"min({col})", f"max({col})", "sum(serial)", "avg(serial)"]
    sql = (f"SELECT {', '.join([*keys, *r.sample(aggs, r.randint(1, len(aggs)))])} FROM tl.item"
           f"{' WHERE ' + where if where else ''}{' GROUP BY ' + ', '.join(keys) if keys else ''}")
    compare(con, ref, sql, False)


EDGE_CASES = [
    # NULL vs missing: {f: null} matches both; ne matches both too (so <> pairs it with ne: null)
    "SELECT _id FROM tl.item WHERE title IS NULL",
    "SELECT _id FROM tl.item WHERE title IS NOT NULL",
    "SELECT _id FROM tl.item WHERE title <> 'tie'",
    "SELECT _id FROM tl.item WHERE num <> 0 OR title <> 'tie'",
    "SELECT _id FROM tl.item WHERE (num <> 0 AND num > -5) OR flag",
    "SELECT _id FROM tl.item WHERE NOT (title = 'tie' OR title IS NULL)",
    "SELECT _id FROM tl.item WHERE title NOT IN ('tie', 'apple')",
    "SELECT _id FROM tl.item WHERE title NOT IN ('tie', NULL)",
    "SELECT _id FROM tl.item WHERE flag <> TRUE",
    "SELECT _id FROM tl.item WHERE NOT flag",
    "SELECT _id FROM tl.item WHERE flag IS NULL OR num IS NULL",
    "SELECT _id FROM tl.item WHERE title IN ('tie', NULL)",
    # regex metacharacters and wildcards in LIKE
    "SELECT _id FROM tl.item WHERE title = ''",
    "SELECT _id FROM tl.item WHERE title LIKE ''",
    "SELECT _id FROM tl.item WHERE title LIKE '%'",
    "SELECT _id FROM tl.item WHERE title LIKE 'trail'",
    "SELECT _id FROM tl.item WHERE title LIKE 'trail%'",
    "SELECT _id FROM tl.item WHERE title LIKE 'line_break%'",
    "SELECT _id FROM tl.item WHERE title LIKE '%$%'",
    "SELECT _id FROM tl.item WHERE title LIKE '^%'",
    "SELECT _id FROM tl.item WHERE title LIKE '%/%'",
    "SELECT _id FROM tl.item WHERE title LIKE '50!% off%' ESCAPE '!'",
    "SELECT _id FROM tl.item WHERE title LIKE 'back\\slash%'",
    "SELECT _id FROM tl.item WHERE title LIKE '%(paren)%' OR title LIKE '[br]%' OR title LIKE '{3}%'",
    "SELECT _id FROM tl.item WHERE title LIKE 'p|q%' OR title LIKE 'x*y+z?%' OR title LIKE 'a.b%'",
    "SELECT _id FROM tl.item WHERE title LIKE '%\n'",
    "SELECT _id FROM tl.item WHERE title LIKE '_'",
    "SELECT _id FROM tl.item WHERE title NOT LIKE 'a%'",
    # i folding (PCRE2) vs DuckDB ILIKE (lower()) on non-ASCII
    "SELECT _id FROM tl.item WHERE title ILIKE 'istanbul%'",
    "SELECT _id FROM tl.item WHERE title ILIKE 'İstanbul%'",
    "SELECT _id FROM tl.item WHERE title ILIKE '\u0131%'",
    "SELECT _id FROM tl.item WHERE title ILIKE 'kelvin%'",
    "SELECT _id FROM tl.item WHERE title ILIKE '\u212aelvin%'",
    "SELECT _id FROM tl.item WHERE title ILIKE 'sun%'",
    "SELECT _id FROM tl.item WHERE title ILIKE 'STRASSE%'",
    "SELECT _id FROM tl.item WHERE title ILIKE 'ß%'",
    "SELECT _id FROM tl.item WHERE title ILIKE '%ΩMEGA%'",
    "SELECT _id FROM tl.item WHERE title ILIKE 'ann' OR status ILIKE 'open'",
    # ranges: number/date pushed, text local
    "SELECT _id FROM tl.item WHERE title >= 'a' AND title < 'b'",
    "SELECT _id FROM tl.item WHERE num = 0.30000000000000004",
    "SELECT _id FROM tl.item WHERE num = 0.1 + 0.2",
    "SELECT _id FROM tl.item WHERE num BETWEEN -1 AND 1",
    "SELECT _id FROM tl.item WHERE num IN (0, 1, -1, 2.5)",
    "SELECT _id FROM tl.item WHERE num > 1e9 OR num < -1e9",
    "SELECT _id FROM tl.item WHERE num > 0 AND num > 5",
    "SELECT _id FROM tl.item WHERE ts < TIMESTAMPTZ '1970-01-01 00:00:00+00'",
    "SELECT _id FROM tl.item WHERE ts >= TIMESTAMPTZ '2019-06-01 12:00:00.123+02'",
    "SELECT _id FROM tl.item WHERE ts > TIMESTAMPTZ '2010-01-01 00:00:00.000500+00'",
    "SELECT _id FROM tl.item WHERE ts = (SELECT max(ts) FROM tl.item)",
    "SELECT _id FROM tl.item WHERE ts IN (SELECT ts FROM tl.item ORDER BY _id LIMIT 3)",
    # ids and references
    "SELECT _id FROM tl.item WHERE _id = (SELECT min(_id) FROM tl.item)",
    "SELECT _id FROM tl.item WHERE ref IN (SELECT _id FROM tl.item ORDER BY _id LIMIT 20)",
    "SELECT _id FROM tl.item WHERE _id > '8'",
    "SELECT _id FROM tl.item WHERE ref LIKE '0%'",
    "SELECT _id FROM tl.item WHERE ref = 'not-an-id'",
    "SELECT a._id, b.title FROM tl.item a JOIN tl.item b ON a.ref = b._id WHERE b.num > 0",
    # OR trees
    "SELECT _id FROM tl.item WHERE (title = 'tie' AND num > 0) OR (status = 'open' AND flag) OR ts IS NULL",
    "SELECT _id FROM tl.item WHERE (title LIKE 'a%' OR title LIKE 'A%') AND (num < 0 OR num > 100)",
    "SELECT _id FROM tl.item WHERE status IN ('open', 'Open') AND (flag OR num IN (1, 2, 3))",
    "SELECT _id FROM tl.item WHERE (num > 1 AND num > 2) OR title = 'tie'",
    # order, limit, offset, count
    "SELECT _id, title FROM tl.item ORDER BY title, _id LIMIT 7 OFFSET 3",
    "SELECT _id, num FROM tl.item ORDER BY num DESC, _id LIMIT 10",
    "SELECT _id, num FROM tl.item ORDER BY num DESC NULLS LAST, _id LIMIT 10",
    "SELECT _id, num FROM tl.item ORDER BY num NULLS FIRST, _id LIMIT 10 OFFSET 7",
    "SELECT _id, ts FROM tl.item WHERE ts IS NOT NULL ORDER BY ts, _id LIMIT 5",
    "SELECT _id, flag FROM tl.item ORDER BY flag DESC, _id LIMIT 60",
    "SELECT _id FROM tl.item ORDER BY _id DESC LIMIT 45",
    "SELECT title FROM tl.item ORDER BY _id LIMIT 45 OFFSET 30",
    "SELECT title FROM tl.item ORDER BY serial DESC LIMIT 45 OFFSET 41",
    "SELECT title FROM tl.item WHERE flag ORDER BY serial NULLS FIRST LIMIT 30 OFFSET 7",
    "SELECT num FROM tl.item ORDER BY title NULLS FIRST, _id LIMIT 50 OFFSET 20",
    "SELECT count(*) FROM tl.item WHERE title IS NULL",
    "SELECT count(*) FROM tl.item WHERE num <> 3",
    "SELECT count(*), count(title), count(num), min(ts), max(ts) FROM tl.item",
    "SELECT flag, count(*) FROM tl.item GROUP BY flag",
    "SELECT status, count(*), sum(serial), min(num), max(ts) FROM tl.item WHERE num > 0 GROUP BY status",
    # aggregate pushdown: NULL vs missing keys (two Mongo groups, one SQL group), empty input, dates, ids
    "SELECT title, count(*), count(num) FROM tl.item GROUP BY title",
    "SELECT count(*), sum(serial), avg(serial), min(title), max(title) FROM tl.item WHERE num > 1e12",
    "SELECT flag, sum(num) IS NULL, count(num), min(ts), max(ts) FROM tl.item WHERE num IS NULL GROUP BY flag",
    "SELECT ts, count(*) FROM tl.item WHERE ts >= TIMESTAMPTZ '2000-01-01 00:00:00+00' GROUP BY ts",
    "SELECT ref, count(*), min(_id) FROM tl.item WHERE ref IS NOT NULL AND _id <> ref GROUP BY ref",
    "SELECT status, flag, max(serial) - min(serial) AS spread FROM tl.item GROUP BY ALL HAVING count(*) > 3",
    "SELECT count(DISTINCT status), count(*) FROM tl.item",
    # $match compares dates through $expr, where null/missing sort below every date: lt/lte need a guard
    "SELECT flag, count(*), count(ts) FROM tl.item WHERE ts < TIMESTAMPTZ '1990-01-01 00:00:00+00' GROUP BY flag",
    "SELECT status, min(num) FROM tl.item WHERE ts <= TIMESTAMPTZ '2000-01-01 00:00:00+00' GROUP BY status",
    "SELECT count(*), max(ts) FROM tl.item WHERE ts <> TIMESTAMPTZ '1991-10-03 09:14:06.403+00' AND num > 0",
]

# BSON dates hold milliseconds: a literal with sub-millisecond digits next to a stored instant must not
# be rounded onto it (so it is kept local); a millisecond literal equal to a stored instant is pushed
_TS0 = sorted(r["ts"] for r in ROWS if r["ts"] is not None)[len(ROWS) // 2]
for _lit in (_TS0, _TS0 + dt.timedelta(microseconds=500), _TS0 - dt.timedelta(microseconds=1)):
    for _op in ("=", "<>", "<", "<=", ">", ">="):
        EDGE_CASES.append(f"SELECT _id FROM tl.item WHERE ts {_op} TIMESTAMPTZ '{_lit.isoformat(sep=' ')}'")
    EDGE_CASES.append(f"SELECT flag, count(*) FROM tl.item WHERE ts >= TIMESTAMPTZ '{_lit.isoformat(sep=' ')}' "
                      "GROUP BY flag")


test_edge_cases_agree = SUITE.edge_test(EDGE_CASES)
test_each_leaf_agrees = SUITE.leaf_test()


def test_pushdown_shapes(env):
    """What the module docstring of the dialect promises is really what gets pushed."""
    con, _, _ = env
    plan = con.explain("SELECT _id FROM tl.item WHERE title <> 'tie' AND (num > 1 OR flag) AND title LIKE 'a%'")
    assert "superset: -" in plan and "local:    -" in plan, plan
    plan = con.explain("SELECT _id FROM tl.item WHERE title ILIKE 'İ%' AND ref LIKE 'a%' AND title < 'b'")
    assert "exact:    -" in plan, plan
    plan = con.explain("SELECT _id FROM tl.item WHERE num <> 1 OR flag")
    assert "superset: (num <> 1.0 OR flag = TRUE)" in plan or "superset: (num <> 1.0 OR flag)" in plan, plan
    plan = con.explain("SELECT title FROM tl.item ORDER BY num DESC NULLS FIRST LIMIT 3")
    assert "(pushed)" not in plan


def test_many_to_many_link_table_agrees():
    """client__favorites WHERE source_id = x equals the join the relation describes."""
    con = lowcode_sql.connect_sandbox("totalum")
    sb = con.sandbox("totalum")
    pairs = sb.links[("client", "favorites")]
    products = {r["_id"]: r for r in sb.tables["product"].rows}
    for source in sorted({s for s, _ in pairs})[:6]:
        want = sorted((products[t].get("name"), products[t].get("price")) for s, t in pairs if s == source)
        got = con.sql(f"SELECT name, price FROM totalum.client__favorites WHERE source_id = '{source}'").fetchall()
        assert sorted(got) == want
        n = con.sql(f"SELECT count(*) FROM totalum.client__favorites WHERE source_id = '{source}' AND price > 100")
        assert n.fetchall() == [(sum(1 for _, p in want if p is not None and p > 100),)]
    con.close()


def test_many_to_many_generated_queries_agree():
    """Generated filters, ORDER BY, LIMIT/OFFSET and counts on a link table (``item__peers``: read per
    source record, sequential pages without a total) vs DuckDB over the linked rows."""
    sb = TotalumSandbox(sample_data=False)
    sb.load_table("item", arrow_table(), references={"ref": "item"}, options={"status": STATUSES}, nulls="mixed")
    sb.define_many_to_many("item", "peers", "item", "fans")
    r = random.Random(11)
    source, other = ROWS[0]["_id"], ROWS[1]["_id"]
    linked = sorted(r.sample(range(N_ROWS), 110))
    for i in linked:
        sb.link("item", "peers", source, ROWS[i]["_id"])
    for i in r.sample(range(N_ROWS), 5):
        sb.link("item", "peers", other, ROWS[i]["_id"])  # never in the answers for ``source``
    con = lowcode_sql.connect()
    con.add_source("tl", "totalum", sandbox=sb, options={"page_size": 40})
    peers = arrow_table().take(linked)
    peers = peers.add_column(0, "source_id", pa.array([source] * len(linked)))
    ref = reference({"item__peers": peers}, "tl")
    try:
        for seed in range(60):
            r = random.Random(seed)
            gen = QueryGen("item__peers", "_id", columns(), r)
            where = " AND ".join([f"source_id = '{source}'", *(gen.predicate() for _ in range(r.randint(0, 2)))])
            col = r.choice(columns())
            shape = r.random()
            if shape < 0.5:
                desc, nulls = r.choice(["", " DESC"]), r.choice(["", " NULLS FIRST", " NULLS LAST"])
                offset = r.choice(["", f" OFFSET {r.randint(1, 90)}"])
                sql = (f"SELECT _id, {col.name} FROM tl.item__peers WHERE {where} ORDER BY {col.name}{desc}{nulls}, "
                       f"_id LIMIT {r.choice([1, 7, 40, 100])}{offset}")
            elif shape < 0.7:
                sql = f"SELECT count(*), count({col.name}) FROM tl.item__peers WHERE {where}"
            else:
                sql = f"SELECT source_id, _id, {col.name} FROM tl.item__peers WHERE {where}"
            compare(con, ref, sql, "ORDER BY" in sql)
    finally:
        con.close()
        ref.close()
