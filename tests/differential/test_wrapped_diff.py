"""Generated queries of every platform's suite, wrapped the way BI tools and dbt wrap them.

Each query of a suite's generator (``DifferentialSuite.query``) is run bare and with its table
replaced by one or two levels of ``(SELECT * FROM t) AS t`` derived tables or CTEs (Superset's
virtual datasets), and wrapped whole in an outer ``SELECT *``: every form must give DuckDB's
answer over the same rows AND cost exactly the requests of the bare query (``plan/unwrap.py``).
Wrappers that cannot be merged (a projection list, UNION ALL) must give DuckDB's answer, and a
filter on a projection list must still reach the API: the requests stay those of the bare query
without its COUNT/aggregate shortcut (``plan/pushthrough.py``).

A sample of each suite's generator, per configuration (``N`` queries: the full suites hold
150-250 each, and every form multiplies the time).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.differential import test_alumio_diff as al
from tests.differential import test_coredata_diff as cd
from tests.differential import test_entu_diff as en
from tests.differential import test_slingr_diff as sl
from tests.differential import test_totalum_diff as tl
from tests.differential.harness import Env, compare
from tests.differential.test_shapes_diff import target  # noqa: F401  (the fixture: one per platform config)

N = 8  # generated queries per configuration

MODULES: list[ModuleType] = [cd, en, tl, sl, al]
CASES = [(m, config) for m in MODULES for config in m.SUITE.configs]

STAR_FORMS = [
    "SELECT {before}(SELECT * FROM {t}) AS {a}{after}",
    "SELECT {before}(SELECT * FROM (SELECT * FROM {t}) AS w1) AS {a}{after}",
    "WITH {a} AS (SELECT * FROM {t}) SELECT {before}{a}{after}",
    "WITH w1 AS (SELECT * FROM {t}), {a} AS (SELECT * FROM w1) SELECT {before}{a}{after}",
    "WITH w1 AS (SELECT * FROM {t}) SELECT {before}(SELECT * FROM w1) AS {a}{after}",
]


@pytest.fixture(scope="module", params=CASES, ids=[f"{m.SUITE.schema}-{c}" for m, c in CASES])
def case(request: pytest.FixtureRequest) -> Iterator[tuple[ModuleType, Env]]:
    module, config = request.param
    env = module.SUITE.open(config)
    yield module, env
    env.con.close()
    env.ref.close()


def _split(sql: str, schema: str) -> tuple[str, str, str, str]:
    """``SELECT <before>FROM s.t<after>`` -> (before + 'FROM ', 's.t', table name, after)."""
    m = re.search(rf"\bFROM ({schema}\.(\w+))\b", sql)
    assert m is not None, sql
    return sql[len("SELECT "):m.start(1)], m.group(1), m.group(2), sql[m.end(1):]


def _queries(module: ModuleType, env: Env) -> list[tuple[str, bool]]:
    return [module.SUITE.query(env, random.Random(7000 + i)) for i in range(N)]


def test_select_star_wrappers_answer_and_cost_like_the_bare_query(case):
    module, env = case
    for sql, ordered in _queries(module, env):
        bare = compare(env.con, env.ref, sql, ordered)
        before, t, a, after = _split(sql, module.SUITE.schema)
        forms = [f.format(before=before, t=t, a=a, after=after) for f in STAR_FORMS]
        forms.append(f"SELECT * FROM ({sql}) AS q")
        for wrapped in forms:
            got = compare(env.con, env.ref, wrapped, ordered and not wrapped.endswith(" AS q"))
            if bare is None:
                assert got is None, wrapped
                continue
            assert got.requests == bare.requests, f"{wrapped}\n{env.con.explain(wrapped)}\n{env.con.explain(sql)}"
            module.SUITE.after(env, wrapped)


def test_other_wrappers_answer_like_duckdb_and_still_filter(case):
    module, env = case
    for sql, ordered in _queries(module, env):
        before, t, a, after = _split(sql, module.SUITE.schema)
        names = env.ref.sql(f"SELECT * FROM {t} LIMIT 0").columns  # the columns both sides have
        cols = ", ".join(f'"{n}"' for n in names)
        projected = f"SELECT {before}(SELECT {cols} FROM {t}) AS {a}{after}"
        compare(env.con, env.ref, projected, ordered)
        for wrapped in [f"SELECT {before}(SELECT * FROM {t} UNION ALL SELECT * FROM {t}) AS {a}{after}",
                        f"WITH {a} AS (SELECT {cols} FROM {t}) SELECT {before}{a}{after}"]:
            compare(env.con, env.ref, wrapped, ordered)
        if " WHERE " in sql and "count(*)" not in sql and " LIMIT " not in sql:
            # a plain filtered projection: the filter still reaches the API through the projection list
            got = env.con.sql(projected)
            assert got.requests == env.con.sql(sql).requests, f"{projected}\n{env.con.explain(projected)}"


# --- the push-through rules, on real rows: filters above what they must not cross --------------

RULE_SHAPES = [
    "SELECT * FROM (SELECT {k}, {c} FROM {t} ORDER BY {k} LIMIT 7) AS v WHERE {w}",
    "SELECT * FROM (SELECT {k}, {c} FROM {t} ORDER BY {k} LIMIT 50 OFFSET 3) AS v WHERE {w}",
    "SELECT * FROM (SELECT {k}, {c}, row_number() OVER (ORDER BY {k}) AS rn FROM {t}) AS v WHERE {w}",
    "SELECT * FROM (SELECT {c}, count(*) AS n FROM {t} GROUP BY {c}) AS v WHERE {w}",
    "SELECT * FROM (SELECT {c}, count(*) AS n FROM {t} GROUP BY ROLLUP ({c})) AS v WHERE {w}",
    "SELECT * FROM (SELECT count(*) AS n, min({c}) AS {c} FROM {t}) AS v WHERE {w}",
    "SELECT * FROM (SELECT DISTINCT {c} FROM {t}) AS v WHERE {w}",
    "SELECT * FROM (SELECT {k}, {c} FROM {t} UNION ALL SELECT {k}, {c} FROM {t}) AS v WHERE {w}",
    "WITH cte AS (SELECT {k}, {c} FROM {t}) SELECT * FROM cte WHERE {w} UNION ALL SELECT * FROM cte WHERE {w2}",
    "WITH cte AS (SELECT {k}, {c} FROM {t}) SELECT * FROM cte WHERE {w} UNION ALL SELECT * FROM cte",
    "SELECT * FROM (SELECT {k} AS k2 FROM {t} ORDER BY {k} LIMIT 5) AS o "
    "LEFT JOIN (SELECT {k}, {c} FROM {t}) AS v ON v.{k} = o.k2 WHERE {w}",
    "SELECT * FROM (SELECT {k} AS k2 FROM {t} ORDER BY {k} LIMIT 5) AS o "
    "LEFT JOIN (SELECT {k}, {c} FROM {t}) AS v ON v.{k} = o.k2 AND {w}",
    "SELECT * FROM (SELECT s.{k}, s.{c} FROM (SELECT {k} FROM {t} ORDER BY {k} LIMIT 9) AS o "
    "LEFT JOIN {t} AS s ON s.{k} = o.{k}) AS v WHERE {w}",
]


def test_filters_above_aggregates_windows_limits_and_outer_joins_agree(target):  # noqa: F811
    for seed in range(3):
        for i, shape in enumerate(RULE_SHAPES):
            r = random.Random(seed * 100 + i)
            gen, table = target.gen(r)
            col = r.choice(gen.scalar())
            where = " AND ".join(gen.predicate() if r.random() < 0.3 else gen.leaf(col) for _ in range(r.randint(1, 2)))
            if any(c.name in where for c in gen.columns if c.name not in (col.name, gen.key)):
                where = gen.leaf(col)  # the wrappers hold the key and one column only
            sql = shape.format(k=gen.key, c=col.name, t=f"{target.source}.{table}", w=where, w2=gen.leaf(col))
            compare(target.con, target.ref, sql, False)
