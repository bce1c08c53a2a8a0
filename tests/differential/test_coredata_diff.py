"""CoreData: generated queries through lowcode_sql + the sandbox vs DuckDB over the same rows."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import pyarrow as pa

import lowcode_sql
from lowcode_sql.sandbox.coredata import CoreDataSandbox
from tests.differential.harness import DifferentialSuite, Env
from tests.differential.querygen import TEXT_EDGES, Column, MultiRefGen, QueryGen

WORDS = ["Board", "board", "Budget", "İstanbul", "istanbul", "Straße", "STRASSE", "None", "true", "True",
         "50% off", "a_b", "back\\slash", "O'Brien", "x,y", " padded ", "日本語", "🙂 emoji", "Ab", "AB", ""]


def make_projects(n: int = 160, seed: int = 7) -> pa.Table:
    r = random.Random(seed)
    base = dt.datetime(2019, 6, 1)
    created, rows = [], []
    for _ in range(n):
        ts = base + dt.timedelta(seconds=r.randrange(0, 10**8), microseconds=r.choice([0, 0, 123456]))
        if created and r.random() < 0.1:
            ts = r.choice(created)  # exact ties
        created.append(ts)
        title = None if r.random() < 0.08 else r.choice(WORDS + TEXT_EDGES) + (r.choice(["", " 2", "x"]))
        rows.append({
            "id": str(uuid.UUID(int=r.getrandbits(128), version=4)),
            "title": title,
            "identifier": None if r.random() < 0.2 else r.choice(["2014-16", "2014-17", "600010199", "6000", "true"]),
            "created": ts,
            "modified": None if r.random() < 0.1 else ts + dt.timedelta(days=r.randrange(0, 400)),
            "status": r.choice(["space_status:active:", "space_status:closed:", None]),
            "tags": r.sample(["urgent", "Ω", "2014", "x"], r.randint(0, 2)),
        })
    return pa.Table.from_pylist(rows, schema=pa.schema([
        ("id", pa.string()), ("title", pa.string()), ("identifier", pa.string()),
        ("created", pa.timestamp("us")), ("modified", pa.timestamp("us")), ("status", pa.string()),
        ("tags", pa.list_(pa.string())),
    ]))


PROJECTS = make_projects()


def columns() -> list[Column]:
    d = PROJECTS.to_pydict()
    return [
        Column("title", "text", d["title"]), Column("identifier", "text", d["identifier"]),
        Column("created", "ts", d["created"]), Column("modified", "ts", d["modified"]),
        Column("status", "text", d["status"]), Column("tags", "list_text", [t for ts in d["tags"] for t in ts]),
    ]


EDGE_CASES = [
    "SELECT id FROM cd.projects WHERE title = 'None'",
    "SELECT id FROM cd.projects WHERE title LIKE 'true%'",
    "SELECT id FROM cd.projects WHERE title LIKE '50\\% off%' ESCAPE '\\'",
    "SELECT id FROM cd.projects WHERE title LIKE '50% off%'",
    "SELECT id FROM cd.projects WHERE title = ' padded '",
    "SELECT id FROM cd.projects WHERE title LIKE 'İ%'",
    "SELECT count(*) FROM cd.projects WHERE modified >= '2020-01-01' AND modified < '2021-01-01'",
    "SELECT count(*) FROM cd.projects WHERE modified = (SELECT max(modified) FROM cd.projects)",
    "SELECT count(*) FROM cd.projects WHERE created BETWEEN '2019-06-01' AND '2020-06-01 12:00:00.123456'",
    "SELECT id, created FROM cd.projects ORDER BY created DESC, id LIMIT 7 OFFSET 3",
    "SELECT count(*) FROM cd.projects WHERE NOT (title = 'Board' OR title IS NULL)",
    # ORDER BY + LIMIT pushdown (order_by mode): NULL placement must match SQL's
    "SELECT modified FROM cd.projects ORDER BY modified DESC LIMIT 12",
    "SELECT modified FROM cd.projects ORDER BY modified DESC NULLS FIRST LIMIT 12",
    "SELECT modified FROM cd.projects ORDER BY modified LIMIT 12",
    "SELECT created FROM cd.projects WHERE title LIKE 'B%' ORDER BY created DESC LIMIT 9 OFFSET 4",
]


class CoreDataSuite(DifferentialSuite):
    schema = "cd"
    configs = ["plain", "order_by"]  # the sandbox and the dialect without / with ORDER BY (order_by)
    edge_cases = EDGE_CASES
    env_fields = ("con", "ref")

    def connect(self, config: str) -> tuple[lowcode_sql.Connection, CoreDataSandbox]:
        ordering = config == "order_by"
        sandbox = CoreDataSandbox(sample_data=False, ordering=ordering)
        sandbox.load_table("projects", PROJECTS)
        con = lowcode_sql.connect()
        con.add_source("cd", "coredata", sandbox=sandbox, options={"page_size": 40, "order_by": ordering})
        return con, sandbox

    def reference_tables(self, config: str) -> dict[str, pa.Table]:
        return {"projects": PROJECTS}

    def query(self, env: Env, r: random.Random) -> tuple[str, bool]:
        return QueryGen("projects", "id", columns(), r).query("cd")

    def multi_reference_query(self, env: Env, r: random.Random) -> tuple[str, bool]:
        return MultiRefGen("projects", "id", columns(), r).multi_reference_query("cd")

    def ordered(self, sql: str) -> bool:
        return "ORDER BY" in sql

    def leaf_cases(self, config: str) -> list[str]:
        return _leaf_cases()


def _leaf_cases() -> list[str]:
    """Every operator on every filterable column, one conjunct at a time, with values from the data."""
    r = random.Random(3)
    cols = {c.name: c for c in columns()}
    out = []
    gen = QueryGen("projects", "id", [], r)
    for name in ("title", "identifier", "created", "modified"):
        col = cols[name]
        for op in ("=", "<>", "<", "<=", ">", ">="):
            for _ in range(2):
                out.append(f"SELECT id FROM cd.projects WHERE {name} {op} {lit_of(col, gen.value(col))}")
        out.append(f"SELECT count(*) FROM cd.projects WHERE {name} IS NULL")
        if col.kind == "text":
            for _ in range(4):
                out.append(f"SELECT count(*) FROM cd.projects WHERE {name} LIKE {lit_of(col, gen.like_pattern(col))}")
    return out


def lit_of(col: Column, v: object) -> str:
    from tests.differential.querygen import lit

    return lit(v, col.kind)


SUITE = CoreDataSuite()
env = SUITE.env_fixture()
leaf_envs = SUITE.leaf_envs_fixture()
test_generated_queries_agree = SUITE.generated_test(max_examples=150)
test_multi_reference_queries_agree = SUITE.multi_reference_test(max_examples=40)
test_edge_cases_agree = SUITE.edge_test()
test_each_leaf_agrees = SUITE.leaf_test()
