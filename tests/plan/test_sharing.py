"""Scan sharing (plan/sharing.py): when several references to one table become one shared scan."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from dialect import TableDef
from lowcode_sql.ir import And, Cmp, Exactness, Op, Or, Pred
from lowcode_sql.plan import QueryPlan, plan
from tests.conftest import ToyCatalog, ToyDialect


class OrDialect(ToyDialect):
    """The toy dialect, sending an OR of exact branches exactly too."""

    def classify(self, table: TableDef, conjuncts: Sequence[Pred]) -> list[Exactness]:
        out = []
        for c in conjuncts:
            if isinstance(c, Or) and all(self._exact(b) for b in c.items):
                out.append(Exactness.EXACT)
            else:
                out.extend(super().classify(table, [c]))
        return out

    def _exact(self, p: Pred) -> bool:
        items = p.items if isinstance(p, And) else (p,)
        return all(e is Exactness.EXACT for e in super().classify(None, list(items)))  # type: ignore[arg-type]


@pytest.fixture
def or_catalog() -> ToyCatalog:
    cat = ToyCatalog()
    cat.dialect = OrDialect()
    return cat


def shared(p: QueryPlan) -> list:
    return [s for s in p.scans if s.feeds]


def test_a_self_join_is_one_shared_scan_feeding_both_references(toy_catalog, folder):
    p = plan("SELECT a.name, b.age FROM toy.people a JOIN toy.people b ON a.id = b.age", toy_catalog, folder)
    assert len(p.scans) == 1
    scan = p.scans[0]
    assert [(f.alias, f.columns) for f in scan.feeds] == [("a", ("id", "name")), ("b", ("age",))]
    assert scan.spec.columns == ("id", "name", "age")  # the union, in the table's order
    assert scan.spec.pushed == ()
    # each reference keeps its own view in DuckDB's SQL
    assert {f.view for f in scan.feeds} <= set(p.sql.replace(" ", " ").split())


def test_a_correlated_aggregate_over_the_same_table_shares_the_scan(toy_catalog, folder):
    sql = "SELECT a.id FROM toy.people a WHERE a.age > (SELECT avg(b.age) FROM toy.people b WHERE b.name = a.name)"
    p = plan(sql, toy_catalog, folder)
    assert len(p.scans) == 1 and [f.alias for f in p.scans[0].feeds] == ["a", "b"]


def test_identical_filters_are_sent_once_and_still_applied_by_duckdb(toy_catalog, folder):
    sql = "SELECT id FROM toy.people WHERE age = 3 UNION ALL SELECT id FROM toy.people WHERE age = 3"
    p = plan(sql, toy_catalog, folder)
    (scan,) = p.scans
    assert scan.spec.pushed == ((Cmp("age", Op.EQ, 3), Exactness.EXACT),)
    assert p.sql.count("age = 3") == 2  # not dropped: DuckDB applies every reference's own filter
    assert all(f.columns == ("id", "age") for f in scan.feeds)


def test_different_filters_stay_separate_when_their_or_is_not_sent_exactly(toy_catalog, folder):
    sql = "SELECT id FROM toy.people WHERE age = 3 UNION ALL SELECT id FROM toy.people WHERE age = 4"
    p = plan(sql, toy_catalog, folder)
    assert len(p.scans) == 2 and not shared(p)
    assert "age" not in p.sql  # both answered by the API as before


def test_different_exact_filters_share_one_scan_with_their_or(or_catalog, folder):
    sql = "SELECT id FROM toy.people WHERE age = 3 UNION ALL SELECT id FROM toy.people WHERE age = 4 AND name = 'x'"
    p = plan(sql, or_catalog, folder)
    (scan,) = p.scans
    ((pred, exactness),) = scan.spec.pushed
    assert exactness is Exactness.EXACT
    assert pred == Or((Cmp("age", Op.EQ, 3), And((Cmp("age", Op.EQ, 4), Cmp("name", Op.EQ, "x")))))
    assert "age = 3" in p.sql and "age = 4" in p.sql and "name = 'x'" in p.sql


def test_under_a_limit_only_identical_requests_are_shared(or_catalog, folder):
    # DuckDB may stop reading early: an OR scan could read further than either reference alone
    sql = ("SELECT * FROM (SELECT id FROM toy.people WHERE age = 3 UNION ALL "
           "SELECT id FROM toy.people WHERE age = 4) LIMIT 5")
    assert not shared(plan(sql, or_catalog, folder))
    # nor a whole-table scan a selective reference would have to search through
    sql = "SELECT * FROM (SELECT id FROM toy.people UNION ALL SELECT id FROM toy.people WHERE age = 4) LIMIT 5"
    assert not shared(plan(sql, or_catalog, folder))
    sql = "SELECT * FROM (SELECT id FROM toy.people UNION ALL SELECT id FROM toy.people) LIMIT 5"
    assert len(shared(plan(sql, or_catalog, folder))) == 1


def test_a_pushed_aggregate_joins_a_whole_table_scan_and_is_computed_by_duckdb(toy_catalog, folder):
    sql = "SELECT id FROM toy.people WHERE age > (SELECT avg(age) FROM toy.people)"
    alone = plan("SELECT avg(age) FROM toy.people", toy_catalog, folder)
    assert alone.scans[0].spec.aggregates  # alone, the API computes it
    p = plan(sql, toy_catalog, folder)
    (scan,) = p.scans
    assert not scan.spec.aggregates and len(scan.feeds) == 2
    assert "AVG(age)" in p.sql and "__lc_sum" not in p.sql


def test_a_count_or_limit_keeps_its_own_scan_when_sharing_would_widen_the_fetch(or_catalog, folder):
    sql = "SELECT (SELECT count(*) FROM toy.people WHERE age = 4), id FROM toy.people WHERE age = 3"
    p = plan(sql, or_catalog, folder)
    assert not shared(p) and any(s.spec.count_only or s.spec.aggregates for s in p.scans)
    sql = "SELECT id FROM toy.people WHERE age = 3 AND id IN (SELECT id FROM toy.people ORDER BY age LIMIT 2)"
    p = plan(sql, or_catalog, folder)
    assert not shared(p) and any(s.spec.limit == 2 for s in p.scans)


def test_a_count_inside_the_shared_rows_joins_when_no_limit_may_stop_the_query(or_catalog, folder):
    sql = ("SELECT (SELECT count(*) FROM toy.people WHERE age = 3 AND name = 'x') AS n, id "
           "FROM toy.people WHERE age = 3")
    p = plan(sql, or_catalog, folder)
    (scan,) = p.scans
    assert not scan.spec.count_only and scan.spec.pushed == ((Cmp("age", Op.EQ, 3), Exactness.EXACT),)
    assert "name = 'x'" in p.sql


def test_contradictions_other_tables_and_the_reference_run_are_not_shared(toy_catalog, folder):
    sql = "SELECT a.id FROM toy.people a JOIN toy.people b ON a.id = b.id WHERE b.age = 1 AND b.age = 2"
    p = plan(sql, toy_catalog, folder)
    assert not shared(p) and [s.spec.contradiction for s in p.scans] == [False, True]
    p = plan("SELECT p.id FROM toy.people p JOIN toy.orders o ON p.id = o.person_id", toy_catalog, folder)
    assert not shared(p)
    p = plan("SELECT a.id FROM toy.people a JOIN toy.people b ON a.id = b.id", toy_catalog, folder, pushdown=False)
    assert not shared(p) and len(p.scans) == 2


def test_references_narrowing_one_filter_share_its_scan_without_an_or(toy_catalog, folder):
    sql = "SELECT id FROM toy.people WHERE age = 3 UNION ALL SELECT id FROM toy.people WHERE age = 3 AND name = 'x'"
    (scan,) = plan(sql, toy_catalog, folder).scans
    assert scan.spec.pushed == ((Cmp("age", Op.EQ, 3), Exactness.EXACT),) and len(scan.feeds) == 2
    assert not shared(plan(f"SELECT * FROM ({sql}) LIMIT 3", toy_catalog, folder))
