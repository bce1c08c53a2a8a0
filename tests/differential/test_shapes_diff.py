"""Pushdown *rules*, differentially, on every platform and configuration the other files set up.

The per-platform files test what each predicate means on each API; this one tests when the planner
may send LIMIT/ORDER BY/COUNT and how dialects combine several conditions, with shapes generated
the same way on all five platforms (``ShapeGen``):

* LIMIT above DISTINCT, GROUP BY, HAVING, a window, or a WHERE subquery (IN, NOT IN, EXISTS, scalar):
  sending it to the API would return too few rows;
* two or three conditions on one column: APIs keep one value per parameter or JSON key;
* NaN/±inf/-0.0 literals: no JSON form, and they order differently everywhere;
* contradictions of every kind ``plan/contradiction.py`` detects: no rows, and **no request**.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import lowcode_sql
from lowcode_sql.execute.shared import views_of
from lowcode_sql.sandbox.coredata import CoreDataSandbox
from tests.differential import test_alumio_diff as al
from tests.differential import test_coredata_diff as cd
from tests.differential import test_entu_diff as en
from tests.differential import test_slingr_diff as sl
from tests.differential import test_totalum_diff as tl
from tests.differential.harness import compare, reference
from tests.differential.querygen import Column, ShapeGen, contradictions, non_finite_conditions


@dataclass
class Target:
    con: lowcode_sql.Connection
    ref: Any
    source: str
    tables: list[tuple[str, str, list[Column]]]  # (table, key, columns)

    def gen(self, r: random.Random) -> tuple[ShapeGen, str]:
        table, key, cols = r.choice(self.tables)
        return ShapeGen(table, key, cols, r), table


def _coredata(ordering: bool) -> Target:
    sandbox = CoreDataSandbox(sample_data=False, ordering=ordering)
    sandbox.load_table("projects", cd.PROJECTS)
    con = lowcode_sql.connect()
    con.add_source("cd", "coredata", sandbox=sandbox, options={"page_size": 40, "order_by": ordering})
    return Target(con, reference({"projects": cd.PROJECTS}, "cd"), "cd", [("projects", "id", cd.columns())])


def _entu(config: str) -> Target:
    con, _ = en.connect(config)
    ref = reference({"item": en.reference_table(en.CONFIGS[config][0])}, "en")
    return Target(con, ref, "en", [("item", "_id", en.columns(config))])


def _totalum(config: str) -> Target:
    con, _ = tl.connect(config)
    return Target(con, reference({"item": tl.arrow_table()}, "tl"), "tl", [("item", "_id", tl.columns())])


def _slingr(config: str) -> Target:
    con, _ = sl.connect(config)
    return Target(con, reference({"item": sl.reference_table()}, "sl"), "sl", [("item", "id", sl.columns())])


def _alumio(mode: str) -> Target:
    con, _ = al.connect(mode)
    tables = [(name, *al.columns(name)) for name in al.SOURCES]
    return Target(con, reference(al.reference_tables(), "al"), "al", tables)  # type: ignore[arg-type]


BUILDERS: dict[str, Callable[[], Target]] = {
    "coredata-plain": lambda: _coredata(False), "coredata-order_by": lambda: _coredata(True),
    "entu-multi": lambda: _entu("multi"), "entu-single": lambda: _entu("single"),
    "totalum-get": lambda: _totalum("get"), "totalum-post_in": lambda: _totalum("post_in"),
    "slingr-keyset": lambda: _slingr("keyset"), "slingr-offset": lambda: _slingr("offset"),
    "alumio-confirmed": lambda: _alumio("confirmed"), "alumio-loopback": lambda: _alumio("loopback"),
}  # fmt: skip


@pytest.fixture(scope="module", params=list(BUILDERS))
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    t = BUILDERS[request.param]()
    yield t
    t.con.close()
    t.ref.close()


def test_limit_above_a_blocker_agrees(target):
    for seed in range(50):
        r = random.Random(seed)
        gen, _ = target.gen(r)
        sql, ordered = gen.blocker_query(target.source)
        compare(target.con, target.ref, sql, ordered)


def test_several_conditions_on_one_column_agree(target):
    for seed in range(120):
        r = random.Random(1000 + seed)
        gen, _ = target.gen(r)
        sql, ordered = gen.same_column_query(target.source)
        compare(target.con, target.ref, sql, ordered)


def _per_kind(cols: list[Column], kinds: tuple[str, ...] | None = None, n: int = 2) -> list[Column]:
    """At most ``n`` columns of each kind (the rules are per type: more columns add time, not cases)."""
    seen: dict[str, int] = {}
    out = []
    for c in cols:
        if (kinds is None or c.kind in kinds) and seen.get(c.kind, 0) < n:
            seen[c.kind] = seen.get(c.kind, 0) + 1
            out.append(c)
    return out


def test_non_finite_and_negative_zero_literals_agree(target):
    for table, key, cols in target.tables:
        for col in _per_kind(cols, ("num", "int"), 1):
            for i, cond in enumerate(non_finite_conditions(col.name)):
                compare(target.con, target.ref, f"SELECT count(*) FROM {target.source}.{table} WHERE {cond}", True)
                if i % 3 == 0:
                    compare(target.con, target.ref, f"SELECT {key} FROM {target.source}.{table} WHERE {cond}", False)


def test_contradictions_answer_without_a_request(target):
    for table, key, cols in target.tables:
        for col in _per_kind(cols, n=1):
            for i, cond in enumerate(contradictions(col)):
                sqls = [f"SELECT count(*) FROM {target.source}.{table} WHERE {cond}"]
                if i % 4 == 0:
                    sqls.append(f"SELECT {key}, {col.name} FROM {target.source}.{table} WHERE {cond} "
                                f"AND {key} IS NOT NULL ORDER BY {key} LIMIT 5")
                for sql in sqls:
                    result = compare(target.con, target.ref, sql, True)
                    assert result is not None, sql
                    assert result.requests == 0, f"{sql}\n{target.con.explain(sql)}"


FALSE_CONSTANTS = ["FALSE", "1 = 0", "NULL", "NOT TRUE", "(2 < 1) IS NOT DISTINCT FROM TRUE", "CAST(NULL AS BOOLEAN)"]
TRUE_CONSTANTS = ["TRUE", "1 = 1", "NOT (1 > 2)"]


def test_a_condition_on_no_column_is_decided_before_any_request(target):
    """``WHERE FALSE`` / ``1 = 0`` / ``NULL`` keep no row: the scan sends nothing, like any other
    contradiction; ``WHERE TRUE`` costs exactly what the query without it costs. (DuckDB's optimizer
    already skips reading most of these scans; a COUNT(*) answered from the API's total did not.)"""
    for table, key, _ in target.tables[:1]:
        t = f"{target.source}.{table}"
        for cond in FALSE_CONSTANTS:
            for sql in [f"SELECT {key} FROM {t} WHERE {cond}",
                        f"SELECT count(*) FROM {t} WHERE {cond}",  # the API's total: one request before
                        f"SELECT count(*) FROM {t} WHERE {key} IS NOT NULL AND {cond}",
                        f"SELECT {key} FROM {t} WHERE {cond} ORDER BY {key} LIMIT 3"]:
                result = compare(target.con, target.ref, sql, True)
                assert result.requests == 0, f"{sql}\n{target.con.explain(sql)}"
        for cond in TRUE_CONSTANTS:
            for bare in [f"SELECT count(*) FROM {t}", f"SELECT {key} FROM {t} ORDER BY {key} LIMIT 3"]:
                sql = bare.replace(f"FROM {t}", f"FROM {t} WHERE {cond}")
                result = compare(target.con, target.ref, sql, True)
                assert result.requests == target.con.sql(bare).requests, f"{sql}\n{target.con.explain(sql)}"


def test_a_constant_false_condition_in_a_join_keeps_the_preserved_side(target):
    """A constant condition may empty only scans whose emptiness empties the result (or, in a LEFT/
    SEMI/ANTI join's ON, the joined side): the preserved side of an outer join keeps its rows."""
    table, key, _ = target.tables[0]
    t = f"{target.source}.{table}"
    on = f"a.{key} = b.{key}"
    # (query, per scan in FROM/JOIN order: True = must send no request; False = must keep its
    # rows, which only the answer shows: DuckDB itself may skip reading a scan it does not need)
    cases = [
        (f"SELECT a.{key}, b.{key} FROM {t} a LEFT JOIN {t} b ON {on} AND {{c}}", [False, True]),
        (f"SELECT a.{key}, b.{key} FROM {t} a LEFT JOIN {t} b ON {on} WHERE {{c}}", [True, False]),
        (f"SELECT a.{key}, b.{key} FROM {t} a RIGHT JOIN {t} b ON {on} AND {{c}}", [False, False]),
        (f"SELECT a.{key}, b.{key} FROM {t} a FULL JOIN {t} b ON {on} AND {{c}}", [False, False]),
        (f"SELECT a.{key}, b.{key} FROM {t} a JOIN {t} b ON {on} AND {{c}}", [True, True]),
        (f"SELECT a.{key}, b.{key} FROM {t} a, {t} b WHERE {on} AND {{c}}", [True, True]),
        (f"SELECT a.{key} FROM {t} a ANTI JOIN {t} b ON {on} AND {{c}}", [False, True]),
        (f"SELECT a.{key} FROM {t} a SEMI JOIN {t} b ON {on} AND {{c}}", [False, True]),
        (f"SELECT v.x, a.{key} FROM (VALUES (1), (2)) v(x) LEFT JOIN {t} a ON {{c}}", [True]),
        (f"SELECT v.x, a.{key} FROM (VALUES (1)) v(x) LEFT JOIN {t} a ON TRUE WHERE {{c}}", [False]),
        (f"SELECT a.{key}, v.x FROM {t} a LEFT JOIN (VALUES (1)) v(x) ON {{c}}", [False]),
        (f"SELECT a.{key} FROM {t} a JOIN {t} c ON {{c}} RIGHT JOIN {t} b ON a.{key} = b.{key}",
         [False, False, False]),
    ]
    for template, silent in cases:
        for cond in ("FALSE", "1 = 0", "NULL"):
            sql = template.format(c=cond)
            result = compare(target.con, target.ref, sql, False)
            # per table reference, in the query's order (references reading rows may share one scan:
            # plan/sharing.py; the same plan again names each reference's view)
            scans = target.con.engine.plan(sql).scans
            assert len(scans) == len(result.scans), sql
            per_ref = sorted((int(v.rsplit("_", 1)[1]), report.requests)
                             for scan, report in zip(scans, result.scans, strict=True) for v in views_of(scan))
            assert len(per_ref) == len(silent), sql
            assert all(n == 0 for (_, n), quiet in zip(per_ref, silent, strict=True) if quiet), (
                f"{sql}\n{target.con.explain(sql)}")
        sql = template.format(c="TRUE")
        compare(target.con, target.ref, sql, False)
