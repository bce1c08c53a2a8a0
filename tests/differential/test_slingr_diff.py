"""Slingr: generated queries through lowcode_sql + the sandbox vs DuckDB over the same rows.

Two configurations:

* ``keyset``: the sandbox's ``like`` is case-insensitive (its default) and the dialect does not know
  (``like_case = unknown``), so LIKE with cased letters is a SUPERSET; full scans page by id
  (``_offset=<last id>``) 40 records at a time;
* ``offset``: the sandbox's ``like`` is case-sensitive and the dialect is told so (LIKE exact), and
  pages are numeric offsets fetched concurrently.

The entity has scalars of every pushable kind, a multi-valued text field (``tags``), a multi-valued
nested group (``parts`` with ``parts__code``/``parts__qty``), a single nested group (``info``) and a
relationship (``owner``). The reference side is a DuckDB table with the columns the dialect declares,
built from the same rows; rows are in the API's default order (id descending), so a LIMIT without
ORDER BY picks the same rows on both sides.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lowcode_sql
from lowcode_sql.sandbox.slingr import SlingrSandbox
from tests.differential.harness import DifferentialSuite, compare, leaf_cases
from tests.differential.querygen import Column, QueryGen

# Quotes, commas and parentheses (the query language's own syntax), operator look-alikes, regex
# metacharacters, LIKE wildcards, slashes (like() forms), unicode case traps (İ, Kelvin sign, long s U+017F, ß).
WORDS = [
    "apple", "Apple", "APPLE", "ACME, Inc (US)", "ACME", " Inc (US)", "O'Brien", 'say "hi"', '"quoted"',
    "greater(5)", "like(x)", "a'),or(filter('title','x", "x,y", "(paren)", "[br]", "a.b", "axb", "x*y+z?",
    "^caret", "dollar$", "back\\slash", "sl/ash", "/lead", "trail/", "50% off", "under_score", "line\nbreak",
    "İstanbul", "istanbul", "\u212aelvin", "kelvin", "\u017ftar", "star", "STAR", "straße", "STRASSE", "日本語",
    "tie", "tie", " padded ", "true", "null", "empty()",
]  # fmt: skip
TAGS = ["red", "Red", "green", "a,b", "x'y", "(p)", "\u017f", "s", "empty()", "tie"]
KINDS = ["pending", "active", "in,active", "(x)"]
CITIES = ["Las Vegas", "San Jose", "O'Hare", "a,b", "Newark"]
N_ROWS = 160
TS_BASE = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
ITEM = pa.struct([("code", pa.string()), ("qty", pa.int64())])
INFO = pa.struct([("city", pa.string()), ("zip", pa.string())])
OWNER = pa.struct([("id", pa.string()), ("label", pa.string())])
DECLARED = {"title": "text", "kind": "choice", "num": "decimal", "ts": "dateTime", "day": "date", "tags": "text",
            "parts.code": "text", "info.city": "text", "info.zip": "text", "wall": "dateTimeNoTimezone",
            "dur": "timeDuration", "hhmm": "time", "big": "bigNumber"}
# the date/time variants and big numbers (API-NOTES §1 "Value formats in queries"), as the sandbox stores them
SANDBOX_TYPES = {k: v for k, v in DECLARED.items() if k in ("wall", "dur", "hhmm", "big")}


def make_rows(seed: int) -> list[dict[str, Any]]:
    r = random.Random(seed)
    rows = []
    seen_ts: list[dt.datetime] = []
    for i in range(N_ROWS):
        maybe = lambda v, p=0.12: None if r.random() < p else v  # noqa: E731
        ts = r.choice(seen_ts) if seen_ts and r.random() < 0.1 else (
            TS_BASE + dt.timedelta(milliseconds=r.randrange(-2 * 10**12, 2 * 10**11)))
        seen_ts.append(ts)
        parts = None if r.random() < 0.1 else [
            {"code": maybe(r.choice(TAGS), 0.15), "qty": maybe(r.randint(-3, 9), 0.15)} for _ in range(r.randint(0, 3))]
        rows.append({
            "id": f"{r.getrandbits(64):016x}{i:08x}",
            "title": maybe(r.choice(WORDS) + r.choice(["", "", " 2", "x"])),
            "num": maybe(r.choice([0.0, 1.0, -1.0, 2.5, 0.1, 1e9, -3.75, round(r.uniform(-500, 500), 2)])),
            "cnt": maybe(r.randint(-5, 30)),
            "flag": maybe(r.random() < 0.5),
            "day": maybe(dt.date(1960, 1, 1) + dt.timedelta(days=r.randrange(40000))),
            "ts": maybe(ts),
            "kind": maybe(r.choice(KINDS)),
            "tags": None if r.random() < 0.15 else r.sample(TAGS, r.randint(0, 3)),
            "parts": parts,
            "info": None if r.random() < 0.15 else {"city": maybe(r.choice(CITIES)),
                                                    "zip": maybe(f"{r.randint(0, 99):05d}")},
            "owner": None if r.random() < 0.2 else {"id": f"{r.randint(1, 6):024x}",
                                                    "label": r.choice(["Ann", "Bob", "O'Neil"])},
            "serial": i * 7 % N_ROWS - 20,
            # whole minutes (the API's yyyy-MM-dd HH:mm), some shared, around 2020-01-01
            "wall": maybe(dt.datetime(2020, 1, 1) + dt.timedelta(minutes=r.randrange(-3000, 3000) * r.choice([1, 7]))),
            "dur": maybe(r.choice([0, 1000, 3_600_000, r.randrange(10**9)])),
            "hhmm": maybe(f"{r.randrange(24):02d}:{r.choice([0, 15, 30, 45]):02d}"),
            "big": maybe(r.choice(["1", "1.0", "8.9977381997738199773", "-2.50", "123456789012345678901234567890"])),
        })  # fmt: skip
    # The API's default order is id descending; the first record also fixes the inner-field order
    # of the sampled STRUCT columns, so it has every inner field.
    rows.sort(key=lambda x: x["id"], reverse=True)
    rows[0]["parts"] = [{"code": "red", "qty": 1}]
    rows[0]["info"] = {"city": "Newark", "zip": "07102"}
    rows[0]["owner"] = {"id": "1" * 24, "label": "Ann"}
    return rows


ROWS = make_rows(21)
ARROW = {"id": pa.string(), "title": pa.string(), "num": pa.float64(), "cnt": pa.int64(), "flag": pa.bool_(),
         "day": pa.date32(), "ts": pa.timestamp("us", tz="UTC"), "kind": pa.string(), "tags": pa.list_(pa.string()),
         "parts": pa.list_(ITEM), "info": INFO, "owner": OWNER, "serial": pa.int64(), "wall": pa.timestamp("us"),
         "dur": pa.int64(), "hhmm": pa.string(), "big": pa.string()}


def source_table() -> pa.Table:
    return pa.table({k: pa.array([x[k] for x in ROWS], t) for k, t in ARROW.items()})


def _values(items: list[dict[str, Any]] | None, key: str) -> list[Any] | None:
    out = [e[key] for e in items or [] if e.get(key) is not None]
    return out or None  # every non-null inner value; NULL when there is none


def reference_table() -> pa.Table:
    cols = dict(zip(source_table().column_names, source_table().columns, strict=True))
    cols["label"] = cols["id"]
    cols["version"] = pa.array([0] * N_ROWS, pa.int64())
    cols["parts__code"] = pa.array([_values(x["parts"], "code") for x in ROWS], pa.list_(pa.string()))
    cols["parts__qty"] = pa.array([_values(x["parts"], "qty") for x in ROWS], pa.list_(pa.int64()))
    for struct, keys in (("info", ("city", "zip")), ("owner", ("id", "label"))):
        for k in keys:
            cols[f"{struct}__{k}"] = pa.array([(x[struct] or {}).get(k) for x in ROWS], pa.string())
    return pa.table(cols)


CONFIGS = {
    "keyset": ({}, {"page_size": 40}),
    "offset": ({"like_case_insensitive": False}, {"page_size": 40, "like_case": "sensitive", "keyset": False}),
}


def columns() -> list[Column]:
    def pool(name: str) -> list[Any]:
        return [v for v in reference_table().column(name).to_pylist() if v is not None]

    def flat(name: str) -> list[Any]:
        return [v for vs in pool(name) for v in vs]

    return [
        Column("title", "text", pool("title")), Column("num", "num", pool("num")), Column("cnt", "int", pool("cnt")),
        Column("flag", "bool", pool("flag")), Column("day", "date", pool("day")), Column("ts", "tstz", pool("ts")),
        Column("kind", "text", pool("kind")), Column("tags", "list_text", flat("tags")),
        Column("parts__code", "list_text", flat("parts__code")), Column("parts__qty", "list_num", flat("parts__qty")),
        Column("info__city", "text", pool("info__city")), Column("owner__label", "text", pool("owner__label")),
        Column("owner__id", "text", pool("owner__id")), Column("serial", "int", pool("serial"), unique=True),
        Column("wall", "ts", pool("wall")), Column("dur", "int", pool("dur")), Column("hhmm", "text", pool("hhmm")),
        Column("big", "text", pool("big")),
    ]  # fmt: skip


COLUMNS = columns()


def connect(config: str) -> tuple[lowcode_sql.Connection, SlingrSandbox]:
    sandbox_kw, options = CONFIGS[config]
    sandbox = SlingrSandbox(sample_data=False, **sandbox_kw)
    sandbox.load_table("item", source_table(), choices=["kind"], types=SANDBOX_TYPES)
    con = lowcode_sql.connect()
    con.add_source("sl", "slingr", sandbox=sandbox,
                   options={"entities": ["item"], "fields": {"item": DECLARED}, "sample_size": 1000, **options})
    return con, sandbox


class SlingrSuite(DifferentialSuite):
    schema = "sl"
    configs = list(CONFIGS)
    env_fields = ("con", "ref", "config")
    connect = staticmethod(connect)

    def reference_tables(self, config: str) -> dict[str, pa.Table]:
        return {"item": reference_table()}

    def columns(self, config: str) -> list[Column]:
        return COLUMNS

    def leaf_cases(self, config: str) -> list[str]:
        return leaf_cases("sl.item", "id", COLUMNS, like={"LIKE": 3, "NOT LIKE": 1, "ILIKE": 3})


SUITE = SlingrSuite()
env = SUITE.env_fixture()
leaf_envs = SUITE.leaf_envs_fixture()
test_generated_queries_agree = SUITE.generated_test(max_examples=130)
test_multi_reference_queries_agree = SUITE.multi_reference_test(max_examples=40)


def test_schema_matches_the_reference(env):
    con, ref, _ = env
    # DuckDB quotes struct field names only where needed; the engine always does
    got = {name: typ.replace('"', "") for name, typ, _ in con.describe("sl.item")}
    want = {name: typ.replace('"', "") for name, typ, *_ in ref.sql("DESCRIBE sl.item").fetchall()}
    assert got == want


AGG_KEYS = ["kind", "flag", "day", "cnt", "title", "wall", "hhmm", "ts", "id"]
AGG_COLS = ["cnt", "num", "ts", "day", "flag", "wall", "dur", "title", "kind", "big", "serial"]


@settings(max_examples=50, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1))
def test_generated_aggregates_agree(env, seed):
    """GROUP BY with COUNT/SUM/AVG/MIN/MAX, sent to PUT /data/item/aggregate when the filter is exact
    and has no OR (the match stage takes field filters only)."""
    con, ref, _ = env
    r = random.Random(seed)
    gen = QueryGen("item", "id", [c for c in COLUMNS if not c.kind.startswith("list_")], r)
    where = " AND ".join(gen.leaf() for _ in range(r.randint(0, 2)))
    keys = r.sample(AGG_KEYS, r.choice([0, 1, 1, 2]))
    col = r.choice(AGG_COLS)
    ints = r.choice(["cnt", "dur", "serial"])  # (double sums differ in the last bits with the order)
    aggs = ["count(*)", f"count({col})", f"min({col})", f"max({col})", f"sum({ints})", f"avg({ints})"]
    sql = (f"SELECT {', '.join([*keys, *r.sample(aggs, r.randint(1, len(aggs)))])} FROM sl.item"
           f"{' WHERE ' + where if where else ''}{' GROUP BY ' + ', '.join(keys) if keys else ''}")
    compare(con, ref, sql, False)


def test_generated_aggregates_are_mostly_pushed(env):
    """The generator above reaches the aggregate endpoint (not only DuckDB over a plain scan)."""
    con, _, _ = env
    pushed = 0
    for seed in range(40):
        r = random.Random(seed)
        keys = r.sample(AGG_KEYS, r.choice([0, 1, 2]))
        col = r.choice([c for c in AGG_COLS if c not in ("big", "title", "kind")])
        sql = (f"SELECT {', '.join([*keys, 'count(*)', f'max({col})', 'sum(cnt)'])} FROM sl.item WHERE cnt > 0"
               f"{' GROUP BY ' + ', '.join(keys) if keys else ''}")
        pushed += "PUT data/item/aggregate" in con.explain(sql)
    assert pushed == 40


EDGE_CASES = [
    "SELECT id FROM sl.item WHERE title = 'ACME, Inc (US)'",
    "SELECT id FROM sl.item WHERE title IN ('ACME, Inc (US)', 'apple')",
    "SELECT id FROM sl.item WHERE title = 'O''Brien' OR title = 'apple'",
    "SELECT id FROM sl.item WHERE title = 'O''Brien'",
    "SELECT id FROM sl.item WHERE title = 'a''),or(filter(''title'',''x'",
    "SELECT id FROM sl.item WHERE title = 'a''),or(filter(''title'',''x' OR cnt > 3",
    "SELECT id FROM sl.item WHERE title = 'say \"hi\"' OR title = '\"quoted\"'",
    "SELECT id FROM sl.item WHERE title IN ('greater(5)', 'like(x)', 'empty()')",
    "SELECT id FROM sl.item WHERE title IN ('like(x', 'y)') OR title = 'like(x,y)'",  # naive join: like(x,y)
    "SELECT id FROM sl.item WHERE title <> 'greater(5)' AND title <> 'tie'",
    "SELECT id FROM sl.item WHERE title = ' padded ' OR title = ''",
    "SELECT id FROM sl.item WHERE title = 'x,y' AND kind = 'in,active'",
    "SELECT id FROM sl.item WHERE kind IN ('in,active', '(x)') OR kind IS NULL",
    "SELECT id FROM sl.item WHERE kind <> '(x)'",
    "SELECT id FROM sl.item WHERE kind NOT IN ('pending', 'in,active')",
    "SELECT id FROM sl.item WHERE title LIKE '%, Inc (%'",
    "SELECT id FROM sl.item WHERE title LIKE '%''%' OR title LIKE '%\"%'",
    "SELECT id FROM sl.item WHERE title LIKE '/lead%' OR title LIKE '%trail/' OR title LIKE '%/%'",
    "SELECT id FROM sl.item WHERE title LIKE 'x*y+z?%' OR title LIKE '^%' OR title LIKE '%$%'",
    "SELECT id FROM sl.item WHERE title LIKE 'back\\slash%' OR title LIKE '%(paren)%' OR title LIKE '[br]%'",
    "SELECT id FROM sl.item WHERE title LIKE '50!% off%' ESCAPE '!'",
    "SELECT id FROM sl.item WHERE title LIKE 'line_break%'",
    "SELECT id FROM sl.item WHERE title LIKE 'apple'",
    "SELECT id FROM sl.item WHERE title LIKE 'star%'",
    "SELECT id FROM sl.item WHERE title ILIKE 'star%'",
    "SELECT id FROM sl.item WHERE title ILIKE 'kelvin%'",
    "SELECT id FROM sl.item WHERE title ILIKE 'istanbul%'",
    "SELECT id FROM sl.item WHERE title ILIKE 'STRASSE%' OR title ILIKE 'apple'",
    "SELECT id FROM sl.item WHERE title ILIKE '%日本%'",
    "SELECT id FROM sl.item WHERE title IS NULL",
    "SELECT id FROM sl.item WHERE title <> 'apple'",
    "SELECT id FROM sl.item WHERE num > 0 AND num <= 2.5",
    "SELECT id FROM sl.item WHERE num = 0.1 OR num = 1e9",
    "SELECT id FROM sl.item WHERE num BETWEEN -1 AND 1",
    "SELECT id FROM sl.item WHERE num NOT IN (0, 1, 2.5)",
    "SELECT id FROM sl.item WHERE cnt > 2.5",
    "SELECT id FROM sl.item WHERE cnt = 3 OR cnt IS NULL",
    "SELECT id FROM sl.item WHERE flag AND NOT flag IS NULL",
    "SELECT id FROM sl.item WHERE flag <> TRUE",
    "SELECT id FROM sl.item WHERE flag IS NULL",
    "SELECT id FROM sl.item WHERE flag IN (TRUE, FALSE)",
    "SELECT id FROM sl.item WHERE day = DATE '1970-01-01' OR day < DATE '1965-01-01'",
    "SELECT id FROM sl.item WHERE day >= '2000-01-01' AND day < '2010-01-01'",
    "SELECT id FROM sl.item WHERE ts < TIMESTAMPTZ '1970-01-01 00:00:00+00'",
    "SELECT id FROM sl.item WHERE ts >= TIMESTAMPTZ '2019-06-01 12:00:00.123+02'",
    "SELECT id FROM sl.item WHERE ts > TIMESTAMPTZ '2010-01-01 00:00:00.000500+00'",
    "SELECT id FROM sl.item WHERE ts = (SELECT max(ts) FROM sl.item)",
    "SELECT id FROM sl.item WHERE ts IN (SELECT ts FROM sl.item ORDER BY id LIMIT 3)",
    "SELECT id FROM sl.item WHERE list_contains(tags, 'a,b') OR list_contains(tags, 'x''y')",
    "SELECT id FROM sl.item WHERE list_contains(tags, 'red') AND NOT list_contains(tags, 'Red')",
    "SELECT id FROM sl.item WHERE tags IS NULL",
    "SELECT id FROM sl.item WHERE tags = []",
    "SELECT id FROM sl.item WHERE list_contains(parts__code, '(p)') AND NOT list_contains(parts__qty, 3)",
    "SELECT id FROM sl.item WHERE parts__code IS NULL AND parts IS NOT NULL",
    "SELECT id FROM sl.item WHERE parts__qty IS NOT NULL AND NOT list_contains(parts__code, 'red')",
    "SELECT id FROM sl.item WHERE len(parts) > 1",
    "SELECT id FROM sl.item WHERE info__city = 'O''Hare' OR info__city = 'a,b'",
    "SELECT id FROM sl.item WHERE info__city <> 'Newark' AND info__zip IS NOT NULL",
    "SELECT id FROM sl.item i WHERE i.info.city = 'Newark'",
    "SELECT id FROM sl.item WHERE owner__label = 'O''Neil' AND owner IS NOT NULL",
    "SELECT id FROM sl.item WHERE owner IS NULL OR owner__id = '000000000000000000000002'",
    "SELECT id, owner, info, parts FROM sl.item WHERE owner__label = 'Ann'",
    "SELECT id FROM sl.item WHERE (title = 'apple' OR cnt > 5) AND (flag OR num < 0)",
    "SELECT id FROM sl.item WHERE NOT (title = 'apple' OR title IS NULL)",
    "SELECT id FROM sl.item WHERE id = (SELECT min(id) FROM sl.item)",
    "SELECT id FROM sl.item WHERE id IN (SELECT id FROM sl.item ORDER BY id DESC LIMIT 3)",
    "SELECT id FROM sl.item WHERE id <> (SELECT max(id) FROM sl.item) AND version = 0",
    "SELECT cnt FROM sl.item ORDER BY cnt DESC LIMIT 10",  # ties: only the sort key is determined
    "SELECT id, cnt FROM sl.item ORDER BY cnt NULLS FIRST, id LIMIT 10 OFFSET 3",
    "SELECT ts FROM sl.item WHERE ts IS NOT NULL ORDER BY ts LIMIT 5",
    "SELECT id, day FROM sl.item ORDER BY day DESC NULLS LAST, id LIMIT 12 OFFSET 30",
    "SELECT title FROM sl.item ORDER BY serial DESC LIMIT 45",
    "SELECT title, ts FROM sl.item WHERE flag ORDER BY serial NULLS FIRST LIMIT 30 OFFSET 7",
    "SELECT id FROM sl.item ORDER BY id LIMIT 45",
    "SELECT id FROM sl.item ORDER BY id DESC LIMIT 45 OFFSET 50",
    "SELECT title FROM sl.item ORDER BY id LIMIT 45 OFFSET 30",
    "SELECT id FROM sl.item LIMIT 7 OFFSET 3",
    "SELECT count(*) FROM sl.item WHERE title IS NULL",
    "SELECT count(*) FROM sl.item WHERE title LIKE '%a%'",
    "SELECT count(*), count(title), min(ts), max(day), sum(cnt) FROM sl.item",
    "SELECT kind, count(*) FROM sl.item GROUP BY kind",
    # (double sums of num would differ in the last bits with the summation order: integers here)
    "SELECT kind, count(*), count(num), sum(cnt), avg(cnt), min(ts), max(day), min(flag) FROM sl.item GROUP BY kind",
    "SELECT flag, sum(cnt), count(title), max(num) FROM sl.item WHERE cnt > 3 GROUP BY flag",
    "SELECT title, count(*), max(cnt) FROM sl.item WHERE title IS NOT NULL GROUP BY title",
    "SELECT min(cnt), max(cnt), count(*), sum(cnt) FROM sl.item WHERE title = 'tie'",
    "SELECT count(title), sum(num), avg(cnt), max(ts) FROM sl.item WHERE cnt > 1000",
    "SELECT day, kind, count(*) FROM sl.item WHERE num > 0 AND num <= 100 GROUP BY day, kind",
    "SELECT kind, count(*), sum(cnt) FROM sl.item WHERE kind <> 'pending' OR cnt > 5 GROUP BY kind",
    "SELECT kind, count(*) AS n FROM sl.item GROUP BY kind HAVING count(*) > 30 ORDER BY n DESC",
    "SELECT ts, count(*) FROM sl.item GROUP BY ts ORDER BY 2 DESC, 1 LIMIT 5",
    "SELECT unnest(tags) AS t, count(*) FROM sl.item GROUP BY t",
    # date-time without time zone: whole minutes on the wire, literals with seconds move to a minute
    "SELECT id FROM sl.item WHERE wall > TIMESTAMP '2020-01-01 10:00:30' AND wall <= '2020-01-02 07:59:59.999'",
    "SELECT id FROM sl.item WHERE wall >= TIMESTAMP '2019-12-31 23:59:00.001' OR wall < '2019-12-30 00:00:00'",
    "SELECT id FROM sl.item WHERE wall = (SELECT max(wall) FROM sl.item) OR wall = TIMESTAMP '2020-01-01 00:00:01'",
    "SELECT id FROM sl.item WHERE wall IN (SELECT wall FROM sl.item ORDER BY id LIMIT 3) OR wall IS NULL",
    "SELECT id FROM sl.item WHERE wall <> TIMESTAMP '2020-01-01 00:00:00'",
    "SELECT wall FROM sl.item ORDER BY wall DESC LIMIT 45",  # ties: only the sort key is determined
    "SELECT kind, min(wall), max(wall), count(wall) FROM sl.item GROUP BY kind",
    "SELECT id FROM sl.item WHERE dur > 1000 AND dur <= 3600000 OR dur IS NULL",
    "SELECT sum(dur), avg(dur), count(*) FROM sl.item WHERE flag",
    "SELECT id FROM sl.item WHERE hhmm = '10:30' OR hhmm > '20:00' OR hhmm LIKE '1%'",
    "SELECT id FROM sl.item WHERE big = '1' OR big IS NULL",
    "SELECT id FROM sl.item WHERE big > '2' AND big IS NOT NULL",
    "SELECT big, count(*) FROM sl.item GROUP BY big",
]


test_edge_cases_agree = SUITE.edge_test(EDGE_CASES)
test_each_leaf_agrees = SUITE.leaf_test()  # one test per leaf and configuration (was one per configuration)


def test_pushdown_shapes(env):
    """The split the module docstring promises, so the agreement above is not all local work."""
    con, _, config = env
    plan = con.explain("SELECT id FROM sl.item WHERE title = 'ACME, Inc (US)' AND list_contains(parts__code, 'red') "
                       "AND ts >= TIMESTAMPTZ '2020-01-01 00:00:00+00' AND (cnt > 3 OR flag)")
    assert "local:    -" in plan and "superset: -" in plan, plan
    like = con.explain("SELECT id FROM sl.item WHERE title LIKE 'App%'")
    assert ("exact:    title LIKE" in like) == (config == "offset"), like
    assert "exact:    title ILIKE" in con.explain("SELECT id FROM sl.item WHERE title ILIKE 'app%'")
    grouped = con.explain("SELECT kind, count(*), sum(cnt), max(ts) FROM sl.item WHERE flag GROUP BY kind")
    assert "PUT data/item/aggregate" in grouped and "requests: 1" in grouped, grouped
    wall = con.explain("SELECT id FROM sl.item WHERE wall > TIMESTAMP '2020-01-01 10:00:30' AND hhmm = '10:30' "
                       "AND dur >= 1000 AND big IS NOT NULL")
    assert "local:    -" in wall and "superset: -" in wall, wall
    assert "wall=greaterOrEquals%282020-01-01+10%3A01%29" in wall and "big=notEmpty%28%29" in wall, wall
    assert "local:    big = '1'" in con.explain("SELECT id FROM sl.item WHERE big = '1'")  # server: 1 = 1.0
    sorted_plan = con.explain("SELECT title FROM sl.item ORDER BY cnt DESC LIMIT 3")
    assert "_sortField=cnt&_sortType=desc" in sorted_plan and "_size=3" in sorted_plan, sorted_plan
