"""Entu: generated queries through lowcode_sql + the sandbox vs DuckDB over the same rows.

Two configurations:

* ``multi``: every property is loaded from a LIST column and many rows hold 2+ values, nothing is
  declared single-valued, so filters on ``<prop>`` (the first value) are pushed as SUPERSET and
  re-checked locally, while ``list_contains(<prop>__all, v)`` is exact;
* ``single``: the scalar properties hold one value each and are declared ``single_valued``, so their
  filters are EXACT and ORDER BY/LIMIT are pushed; ``tags`` stays multi-valued.

The reference side is a DuckDB table ``en.item`` with ``_id`` and, per property ``p``, ``p`` (the
first value) and ``p__all`` (every value; NULL when there is none), built from the same rows.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pyarrow as pa

import lowcode_sql
from lowcode_sql.sandbox.entu import EntuSandbox
from tests.differential.harness import DifferentialSuite, leaf_cases
from tests.differential.querygen import Column

# Regex metacharacters, LIKE wildcards, a newline (PCRE's `$` also matches before a final "\n"),
# commas (the server splits `.in` values on them) and unicode case traps: İ lowers to i, ß has no
# single-character upper case, K (U+212A KELVIN SIGN) lowers to k.
WORDS = [
    "apple", "Apple", "APPLE", "a.b", "axb", "x*y+z?", "(paren)", "[br]", "{3}", "p|q", "^caret", "dollar$",
    "back\\slash", "sl/ash", "a/b/c", "50% off", "50 off", "under_score", "underXscore", "line\nbreak",
    "trail\n", "trail", "İstanbul", "istanbul", "ISTANBUL", "ß", "straße", "STRASSE", "\u212aelvin", "kelvin",
    "KELVIN", "x,y", "", " padded ", "日本語", "🙂 emoji", "tie", "tie", "Ωmega", "ωmega", "true", "null",
]  # fmt: skip
TAGS = ["red", "Red", "green", "a.b", "50%", "x_y", "İ", "i", "k", "\u212a", "sl/ash", "c,d", "new\nline", ""]
NUMBERS = [0, 1, -1, 2.5, -3.75, 42, 7, 1e9, -1e9, 0.1, 0.30000000000000004, -0.001, 123456.789, 3]
TS_BASE = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)

N_ROWS = 150
PROPS = ("title", "num", "flag", "day", "ts")
ARROW = {
    "title": pa.string(), "num": pa.float64(), "flag": pa.bool_(), "day": pa.date32(),
    "ts": pa.timestamp("us", tz="UTC"), "tags": pa.string(), "serial": pa.float64(),
}  # fmt: skip


def _oid(i: int, r: random.Random) -> str:
    # 24 lowercase hex digits, not in insertion order (so "ORDER BY _id" is a real sort)
    return f"{r.getrandbits(64):016x}{i:08x}"


def _one(prop: str, r: random.Random, seen: list[Any]) -> Any:
    if seen and r.random() < 0.15:
        return r.choice(seen)  # exact ties
    if prop == "title":
        v: Any = r.choice(WORDS) + r.choice(["", "", " 2", "x"])
    elif prop == "num":
        v = r.choice(NUMBERS) if r.random() < 0.5 else round(r.uniform(-500, 500), r.choice([0, 2]))
    elif prop == "flag":
        v = r.random() < 0.5
    elif prop == "day":
        v = dt.date(1970, 1, 1) if r.random() < 0.05 else dt.date(1960, 1, 1) + dt.timedelta(days=r.randrange(40000))
    else:  # ts: millisecond precision, both sides of the epoch
        v = TS_BASE + dt.timedelta(milliseconds=r.randrange(-2 * 10**12, 2 * 10**11))
    seen.append(v)
    return v


def make_rows(multi: bool, seed: int) -> list[dict[str, Any]]:
    """Source rows: ``_id`` and, per property, a list of values (None: the property is absent)."""
    r = random.Random(seed)
    seen: dict[str, list[Any]] = {p: [] for p in PROPS}
    rows = []
    for i in range(N_ROWS):
        row: dict[str, Any] = {"_id": _oid(i, r)}
        for p in PROPS:
            if r.random() < 0.1:
                row[p] = None
                continue
            n = r.choice([1, 1, 2, 2, 3]) if multi else 1
            row[p] = [_one(p, r, seen[p]) for _ in range(n)]
        row["tags"] = None if r.random() < 0.15 else r.sample(TAGS, r.choice([1, 1, 2, 3]))
        row["serial"] = [i * 7 % N_ROWS - 20]  # one distinct value per entity, in both configurations
        rows.append(row)
    # In the platform's natural order (_id ascending), like the reference table, so that a LIMIT
    # without ORDER BY picks the same rows on both sides.
    rows.sort(key=lambda x: x["_id"])
    if multi:
        # the same value twice in one entity, and both booleans
        rows[0]["title"] = ["dup", "dup"]
        rows[1]["flag"] = [True, False]
        rows[2]["flag"] = [False, True]
    return rows


def source_table(rows: list[dict[str, Any]], multi: bool) -> pa.Table:
    """What the sandbox loads: LIST columns (multi) or plain scalar columns (single)."""
    cols: dict[str, pa.Array] = {"_id": pa.array([x["_id"] for x in rows], pa.string())}
    for p in (*PROPS, "tags", "serial"):
        if multi or p == "tags":
            cols[p] = pa.array([x[p] for x in rows], pa.list_(ARROW[p]))
        else:
            cols[p] = pa.array([None if x[p] is None else x[p][0] for x in rows], ARROW[p])
    return pa.table(cols)


def reference_table(rows: list[dict[str, Any]]) -> pa.Table:
    """``_id``, and per property the first value and the LIST of all values."""
    cols: dict[str, pa.Array] = {"_id": pa.array([x["_id"] for x in rows], pa.string())}
    for p in (*PROPS, "tags", "serial"):
        values = [x[p] or None for x in rows]
        cols[p] = pa.array([None if v is None else v[0] for v in values], ARROW[p])
        cols[p + "__all"] = pa.array(values, pa.list_(ARROW[p]))
    return pa.table(cols)


CONFIGS = {
    "multi": (make_rows(True, 11), {}),
    "single": (make_rows(False, 12), {"item": [*PROPS, "serial"]}),
}


def columns(config: str) -> list[Column]:
    rows = CONFIGS[config][0]

    def pool(p: str) -> list[Any]:
        return [v for x in rows for v in (x[p] or [])]

    cols = [
        Column("title", "text", pool("title")), Column("num", "num", pool("num")),
        Column("flag", "bool", pool("flag")), Column("day", "date", pool("day")),
        Column("ts", "tstz", pool("ts")), Column("tags__all", "list_text", pool("tags")),
        Column("serial", "num", pool("serial"), unique=True),
    ]  # fmt: skip
    if config == "multi":
        cols += [Column("title__all", "list_text", pool("title")), Column("num__all", "list_num", pool("num"))]
    else:
        cols += [Column("tags", "text", pool("tags"))]  # first of a multi-valued property: superset
    return cols


def connect(config: str, **options: object) -> tuple[lowcode_sql.Connection, EntuSandbox]:
    rows, single = CONFIGS[config]
    sandbox = EntuSandbox(sample_data=False)
    sandbox.load_table("item", source_table(rows, config == "multi"))
    con = lowcode_sql.connect()
    con.add_source("en", "entu", sandbox=sandbox,
                   options={"db": "demo", "page_size": 40, "sample_size": 1000, "single_valued": single, **options})
    return con, sandbox


class EntuSuite(DifferentialSuite):
    schema = "en"
    configs = list(CONFIGS)
    env_fields = ("con", "ref", "config")
    key = "_id"
    connect = staticmethod(connect)
    columns = staticmethod(columns)

    def reference_tables(self, config: str) -> dict[str, pa.Table]:
        return {"item": reference_table(CONFIGS[config][0])}

    def leaf_cases(self, config: str) -> list[str]:
        like = {"LIKE": 3, "NOT LIKE": 2, "ILIKE": 3, "NOT ILIKE": 2}
        return leaf_cases("en.item", "_id", columns(config), like=like)


SUITE = EntuSuite()
env = SUITE.env_fixture()
leaf_envs = SUITE.leaf_envs_fixture()
test_generated_queries_agree = SUITE.generated_test(max_examples=150)
test_multi_reference_queries_agree = SUITE.multi_reference_test(max_examples=40)


def test_schema_matches_the_reference(env):
    con, ref, _ = env
    got = {name: typ for name, typ, _ in con.describe("en.item")}
    want = {name: typ for name, typ, *_ in ref.sql("DESCRIBE en.item").fetchall()}
    assert got == want


EDGE_CASES = [
    "SELECT _id FROM en.item WHERE title = ''",
    "SELECT _id FROM en.item WHERE title = 'trail'",
    "SELECT _id FROM en.item WHERE title LIKE 'trail'",
    "SELECT _id FROM en.item WHERE title LIKE 'trail%'",
    "SELECT _id FROM en.item WHERE title LIKE 'line_break%'",
    "SELECT _id FROM en.item WHERE title LIKE '%$%'",
    "SELECT _id FROM en.item WHERE title LIKE '^%'",
    "SELECT _id FROM en.item WHERE title LIKE '%/%'",
    "SELECT _id FROM en.item WHERE title LIKE 'a/b/c%'",
    "SELECT _id FROM en.item WHERE title LIKE '50!% off%' ESCAPE '!'",
    "SELECT _id FROM en.item WHERE title LIKE 'back\\slash%'",
    "SELECT _id FROM en.item WHERE title LIKE '%(paren)%' OR title LIKE '[br]%' OR title LIKE '{3}%'",
    "SELECT _id FROM en.item WHERE title LIKE 'p|q%' OR title LIKE 'x*y+z?%' OR title LIKE 'a.b%'",
    "SELECT _id FROM en.item WHERE title ILIKE 'istanbul%'",
    "SELECT _id FROM en.item WHERE title ILIKE 'İstanbul%'",
    "SELECT _id FROM en.item WHERE title ILIKE 'kelvin%'",
    "SELECT _id FROM en.item WHERE title ILIKE '\u212aelvin%'",
    "SELECT _id FROM en.item WHERE title ILIKE 'STRASSE%'",
    "SELECT _id FROM en.item WHERE title ILIKE 'ß%'",
    "SELECT _id FROM en.item WHERE title ILIKE '%ΩMEGA%'",
    "SELECT _id FROM en.item WHERE title IN ('x,y', 'apple')",
    "SELECT _id FROM en.item WHERE title IN ('', 'tie')",
    "SELECT _id FROM en.item WHERE title = 'a' AND title LIKE 'a%'",
    "SELECT _id FROM en.item WHERE title LIKE 'a%' AND title LIKE '%e'",
    "SELECT _id FROM en.item WHERE title >= 'a' AND title < 'b'",
    "SELECT _id FROM en.item WHERE title IN ('apple', 'tie') AND title IN ('tie', 'trail')",
    "SELECT _id FROM en.item WHERE title <> 'tie' AND title <> 'apple'",
    "SELECT _id FROM en.item WHERE title <> 'tie' AND title IS NOT NULL",
    "SELECT _id FROM en.item WHERE num > 0 AND num > 5",
    "SELECT _id FROM en.item WHERE num <> 0 AND num <> 1",
    "SELECT _id FROM en.item WHERE num = 0.30000000000000004",
    "SELECT _id FROM en.item WHERE num = 0.1 + 0.2",
    "SELECT _id FROM en.item WHERE num BETWEEN -1 AND 1",
    "SELECT _id FROM en.item WHERE num IN (0, 1, -1, 2.5)",
    "SELECT _id FROM en.item WHERE num = 3",
    "SELECT _id FROM en.item WHERE num = 3 AND num >= 3",
    "SELECT _id FROM en.item WHERE num > 1e9 OR num < -1e9",
    "SELECT _id FROM en.item WHERE flag AND flag IS NOT NULL",
    "SELECT _id FROM en.item WHERE NOT flag",
    "SELECT _id FROM en.item WHERE flag <> TRUE",
    "SELECT _id FROM en.item WHERE flag IN (TRUE, FALSE)",
    "SELECT _id FROM en.item WHERE day = DATE '1970-01-01'",
    "SELECT _id FROM en.item WHERE day < DATE '1970-01-01'",
    "SELECT _id FROM en.item WHERE day >= '2000-01-01' AND day < '2010-01-01'",
    "SELECT _id FROM en.item WHERE day IN (DATE '1970-01-01', DATE '2000-02-29')",
    "SELECT _id FROM en.item WHERE ts < TIMESTAMPTZ '1970-01-01 00:00:00+00'",
    "SELECT _id FROM en.item WHERE ts >= TIMESTAMPTZ '2019-06-01 12:00:00.123+02'",
    "SELECT _id FROM en.item WHERE ts > TIMESTAMPTZ '2010-01-01 00:00:00.000500+00'",
    "SELECT _id FROM en.item WHERE ts = (SELECT max(ts) FROM en.item)",
    "SELECT _id FROM en.item WHERE ts IN (SELECT ts FROM en.item ORDER BY _id LIMIT 3)",
    "SELECT _id FROM en.item WHERE list_contains(tags__all, 'c,d')",
    "SELECT _id FROM en.item WHERE list_contains(tags__all, '')",
    "SELECT _id FROM en.item WHERE list_contains(tags__all, 'red') AND list_contains(tags__all, 'green')",
    "SELECT _id FROM en.item WHERE list_contains(tags__all, 'red') AND NOT list_contains(tags__all, 'green')",
    "SELECT _id FROM en.item WHERE NOT list_contains(tags__all, 'red') AND NOT list_contains(tags__all, 'Red')",
    "SELECT _id FROM en.item WHERE NOT list_contains(tags__all, 'red') AND tags__all IS NOT NULL",
    "SELECT _id FROM en.item WHERE NOT list_contains(tags__all, 'red') AND tags__all IS NULL",
    "SELECT _id FROM en.item WHERE tags__all IS NULL OR list_contains(tags__all, 'new\nline')",
    "SELECT _id FROM en.item WHERE tags = 'red' AND list_contains(tags__all, 'green')",
    "SELECT _id FROM en.item WHERE tags__all = ['red']",
    "SELECT _id FROM en.item WHERE len(tags__all) > 1",
    "SELECT _id FROM en.item WHERE _id = (SELECT min(_id) FROM en.item)",
    "SELECT _id FROM en.item WHERE _id IN (SELECT _id FROM en.item ORDER BY _id DESC LIMIT 3)",
    "SELECT _id FROM en.item WHERE _id > '8'",
    "SELECT _id, title FROM en.item ORDER BY title, _id LIMIT 7 OFFSET 3",
    "SELECT _id, num FROM en.item ORDER BY num DESC, _id LIMIT 10",
    "SELECT _id, num FROM en.item ORDER BY num DESC NULLS LAST, _id LIMIT 10",
    "SELECT _id, ts FROM en.item WHERE ts IS NOT NULL ORDER BY ts, _id LIMIT 5",
    "SELECT _id, day FROM en.item ORDER BY day NULLS FIRST, _id LIMIT 12 OFFSET 30",
    "SELECT _id, flag FROM en.item ORDER BY flag DESC, _id LIMIT 60",
    "SELECT _id FROM en.item ORDER BY _id DESC LIMIT 45",
    "SELECT title FROM en.item ORDER BY _id LIMIT 45 OFFSET 30",
    "SELECT title, num FROM en.item WHERE num > 0 ORDER BY _id, num LIMIT 5",
    "SELECT title FROM en.item ORDER BY serial DESC LIMIT 45",
    "SELECT title, ts FROM en.item WHERE flag ORDER BY serial NULLS FIRST LIMIT 30 OFFSET 7",
    "SELECT _id, serial FROM en.item ORDER BY serial LIMIT 5",
    "SELECT title FROM en.item ORDER BY num DESC, _id LIMIT 10",
    "SELECT title, day FROM en.item WHERE num > 0 ORDER BY num NULLS FIRST, _id LIMIT 10 OFFSET 5",
    "SELECT num FROM en.item WHERE title LIKE '%a%' ORDER BY ts DESC, _id LIMIT 50",
    "SELECT num FROM en.item ORDER BY title NULLS FIRST, _id LIMIT 50 OFFSET 20",
    "SELECT num FROM en.item ORDER BY day DESC NULLS LAST, _id DESC LIMIT 7",
    "SELECT num FROM en.item ORDER BY flag NULLS FIRST, _id LIMIT 90",
    "SELECT num, ts FROM en.item WHERE list_contains(tags__all, 'red') ORDER BY day NULLS FIRST, _id LIMIT 3",
    "SELECT count(*) FROM en.item WHERE title IS NULL",
    "SELECT count(*) FROM en.item WHERE NOT (title = 'tie' OR title IS NULL)",
    "SELECT count(*), count(title), count(num), min(ts), max(day) FROM en.item",
    "SELECT flag, count(*) FROM en.item GROUP BY flag",
    "SELECT unnest(tags__all) AS t, count(*) FROM en.item GROUP BY t",
    "SELECT len(title__all), count(*) FROM en.item GROUP BY 1",
    "SELECT _id, num__all FROM en.item WHERE list_contains(num__all, 2.5)",
    # GROUP BY ... COUNT(*) pushed as group=<prop>.<type> (whole value arrays), re-summed by DuckDB
    "SELECT tags, count(*) FROM en.item GROUP BY tags",
    "SELECT tags__all, count(*) AS n FROM en.item GROUP BY tags__all HAVING count(*) > 1",
    "SELECT title, flag, count(*) FROM en.item WHERE num > 0 GROUP BY title, flag",
    "SELECT day, count(*) FROM en.item WHERE list_contains(tags__all, 'red') GROUP BY day ORDER BY count(*) DESC, day",
    "SELECT num__all, count(*) FROM en.item GROUP BY num__all",
    "SELECT ts, count(*) FROM en.item WHERE ts IS NOT NULL GROUP BY ts",
    "SELECT serial, tags, count(*) FROM en.item GROUP BY serial, tags",
    "SELECT count(*) AS n, flag__all FROM en.item WHERE title IS NULL GROUP BY flag__all",
    "SELECT flag, count(*) + 1 AS c FROM en.item WHERE flag = FALSE GROUP BY flag",
    "SELECT title, count(*) FROM en.item WHERE title = 'no such title' GROUP BY title",
]


test_edge_cases_agree = SUITE.edge_test(EDGE_CASES)
test_each_leaf_agrees = SUITE.leaf_test()


def test_pushdown_shapes(env):
    """The split the docstring promises: superset on multi-valued scalars, exact when declared."""
    con, _, config = env
    plan = con.explain("SELECT _id FROM en.item WHERE title = 'tie' AND list_contains(tags__all, 'red')")
    lines = {line.split(":", 1)[0].strip(): line.split(":", 1)[1] for line in plan.splitlines() if ":" in line}
    assert "list_contains(tags__all, 'red')" in lines["exact"]
    r = con.sql("SELECT tags, count(*) FROM en.item GROUP BY tags")
    assert [(s.mode, s.requests) for s in r.scans] == [("group", 1)]
    # Over a text comparison the API's groups are not used by default (no rows come back to check
    # how Entu compared the text; plan/scans.py _aggregate); count_from_total = true trusts it.
    sql = "SELECT num, count(*) FROM en.item WHERE list_contains(tags__all, 'red') GROUP BY num"
    assert [s.mode for s in con.sql(sql).scans] == ["scan"]
    trusting, _ = connect(config, count_from_total=True)
    assert [(s.mode, s.requests) for s in trusting.sql(sql).scans] == [("group", 1)]
    assert sorted(trusting.sql(sql).fetchall(), key=repr) == sorted(con.sql(sql).fetchall(), key=repr)
    if config == "single":
        assert "title = 'tie'" in lines["exact"]
        # (a filter on the sort key itself would keep the sort local: the boundary check of
        # execute/verify.py cannot send a second condition on the same property)
        plan = con.explain("SELECT title FROM en.item WHERE flag = true ORDER BY num DESC LIMIT 3")
        assert "sort=-num.number%2C_type._id" in plan and "limit=3" in plan, plan
        plan = con.explain("SELECT title FROM en.item ORDER BY _id LIMIT 3 OFFSET 4")
        assert "sort=" not in plan and "skip=4&limit=3" in plan, plan
    else:
        assert "title = 'tie'" in lines["superset"]
