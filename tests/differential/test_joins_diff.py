"""Joins through lowcode_sql + the Totalum sandbox vs DuckDB over the same rows (issue 15 item 2).

Self-joins of ``tl.item`` on its ``ref`` reference (20% NULL, values repeated: duplicate keys on
both sides), on ``_id``, and on text, each side filtered by generated predicates: the bound joins
(``plan/joins.py``) send one side's keys to the other's scan, and the answer must stay DuckDB's. Both
Totalum configurations: or-lists of equalities (GET) and the ``in`` operator (POST).
"""

from __future__ import annotations

import random

import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

import lowcode_sql.plan
from tests.differential.harness import compare
from tests.differential.querygen import QueryGen
from tests.differential.test_totalum_diff import SUITE, columns

env = SUITE.env_fixture()


@pytest.fixture(autouse=True)
def _no_scan_sharing(monkeypatch):
    """These are self-joins, which scan sharing (plan/sharing.py) reads as one scan, and a shared scan
    is never bound; switched off here so the self-joins test the bound joins (the same rules as
    between two tables). The shared self-joins are compared by every suite's MultiRefGen cases."""
    monkeypatch.setattr(lowcode_sql.plan, "share_scans", lambda *a, **k: [])

KEYS = [("a.ref", "b._id"), ("a.ref", "b.ref"), ("a._id", "b.ref"), ("a.title", "b.title"), ("b._id", "a.ref")]
JOINS = ["JOIN", "LEFT JOIN", "RIGHT JOIN", "SEMI JOIN", "ANTI JOIN", ","]


def _on(pred: str, alias: str) -> str:
    """A generated predicate over ``item``'s columns, qualified with ``alias``."""
    tree = sqlglot.parse_one(pred, read="duckdb")
    for col in tree.find_all(exp.Column):
        col.set("table", exp.to_identifier(alias))
    return tree.sql("duckdb")


def join_query(r: random.Random) -> str:
    gen = QueryGen("item", "_id", columns(), r)
    left, right = r.choice(KEYS)
    kind = r.choice(JOINS)
    b_filter = _on(gen.predicate(), "b")
    a_filter = _on(gen.predicate(), "a") if r.random() < 0.3 else None
    where = [b_filter, *([a_filter] if a_filter else [])]
    if kind == ",":
        return f"SELECT a._id, b._id FROM tl.item a, tl.item b WHERE {left} = {right} AND {' AND '.join(where)}"
    cols = "a._id" if kind in ("SEMI JOIN", "ANTI JOIN") else "a._id, b._id, b.title"
    if r.random() < 0.5 and kind not in ("SEMI JOIN", "ANTI JOIN"):
        # the filter inside the ON: the null-supplying side's own conjunct (pushed into its scan)
        return (f"SELECT {cols} FROM tl.item a {kind} tl.item b ON {left} = {right} AND {b_filter}"
                + (f" WHERE {a_filter}" if a_filter else ""))
    return f"SELECT {cols} FROM tl.item a {kind} tl.item b ON {left} = {right} WHERE {' AND '.join(where)}"


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1))
def test_generated_joins_agree(env, seed):
    con, ref, _ = env
    compare(con, ref, join_query(random.Random(seed)), ordered=False)


EDGE = [
    # NULL keys on the build side: never sent, never matched
    "SELECT a._id, b._id FROM tl.item a JOIN tl.item b ON a.ref = b.ref WHERE b.ref IS NULL OR b.status = 'new'",
    # duplicate keys: many a.ref point at one b._id
    "SELECT b._id, count(*) FROM tl.item a JOIN tl.item b ON a.ref = b._id WHERE b.status = 'open' GROUP BY b._id",
    # a cast on the key: not reduced, DuckDB's comparison decides
    "SELECT a._id FROM tl.item a JOIN tl.item b ON CAST(a.serial AS BIGINT) = CAST(b.serial AS BIGINT) "
    "WHERE b.status = 'new'",
    "SELECT a._id FROM tl.item a JOIN tl.item b ON a.ref = CAST(b._id AS VARCHAR) WHERE b.status = 'new'",
    # text keys with case traps: the API must match exactly as DuckDB does
    "SELECT a._id, b._id FROM tl.item a JOIN tl.item b ON a.title = b.title WHERE b.status = 'Open'",
    # no key at all
    "SELECT a._id FROM tl.item a JOIN tl.item b ON a.ref = b._id WHERE b.title = 'no such title'",
    # three tables: a chain of two joins
    "SELECT a._id, c._id FROM tl.item a JOIN tl.item b ON a.ref = b._id JOIN tl.item c ON c.ref = a._id "
    "WHERE b.status = 'closed'",
]


@pytest.mark.parametrize("sql", EDGE)
def test_join_edge_cases_agree(env, sql):
    con, ref, _ = env
    compare(con, ref, sql, ordered=False)


def test_the_generated_joins_do_send_keys(env):
    """The generator reaches the bound joins it means to test (not only plans without them)."""
    con, _, _ = env
    planned = [bool(con.engine.plan(join_query(random.Random(seed))).joins) for seed in range(40)]
    assert sum(planned) >= 10
