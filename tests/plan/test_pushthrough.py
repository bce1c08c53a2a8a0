"""Outer filters reach the scans inside derived tables, CTEs and UNION ALL branches (issue 15
item 0: ``plan/unwrap.py`` and ``plan/pushthrough.py``), and never where SQL forbids it.

Each rule is tested with a case it pushes next to the case it must not push, so each test fails on
a planner that pushes nothing through a wrapper."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from lowcode_sql.ir import Cmp, Exactness, Op, Or, Pred
from lowcode_sql.plan import plan
from tests.conftest import ToyDialect

AGE3 = (Cmp("age", Op.EQ, 3), Exactness.EXACT)


def specs(sql, catalog, folder):
    p = plan(sql, catalog, folder)
    return p, [s.spec for s in p.scans]


def pushed(sql, catalog, folder):
    p, ss = specs(sql, catalog, folder)
    assert len(ss) == 1, p.sql
    return p, ss[0].pushed


UNWRAPPED = [
    "SELECT count(*) FROM {t} WHERE age = 3",
    "SELECT name, count(*) AS n FROM {t} WHERE age > 3 GROUP BY name",
    "SELECT id, name FROM {t} WHERE age = 3 ORDER BY name DESC, id LIMIT 5 OFFSET 2",
    "SELECT id FROM {t} WHERE age = 3 LIMIT 10",
    "SELECT id, name FROM {t} WHERE name LIKE 'A%' AND age >= 30",
    "SELECT * FROM {t} WHERE age > 5 AND age < 3",
    "SELECT min(born), max(age) FROM {t} WHERE FALSE",
]
WRAPPERS = [
    "(SELECT * FROM toy.people) AS v",
    "(SELECT * FROM (SELECT * FROM toy.people) AS w) AS v",
    "(SELECT * FROM toy.people AS p WHERE p.age < 1000) AS v",
    "(SELECT * FROM (SELECT * FROM toy.people WHERE id > 0) AS w WHERE w.age < 100) AS v",
]


@pytest.mark.parametrize("sql", UNWRAPPED)
@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_a_select_star_wrapper_plans_like_the_table(toy_catalog, folder, sql, wrapper):
    """Superset's ``(SELECT * FROM t) AS virtual_table``: the same scan as without the wrapper
    (filters, COUNT, aggregates, ORDER BY/LIMIT/OFFSET, projection, contradictions), plus the
    wrapper's own WHERE."""
    _, [bare] = specs(sql.format(t="toy.people AS v"), toy_catalog, folder)
    p, [wrapped] = specs(sql.format(t=wrapper), toy_catalog, folder)
    if "WHERE" in wrapper:
        if bare.contradiction:
            assert wrapped.contradiction
            return
        extra = [x for x in wrapped.pushed if x not in bare.pushed]
        assert extra and all(e is Exactness.EXACT for _, e in extra), p.sql
        bare_rest = {k: v for k, v in vars(bare).items() if k != "pushed"}
        assert bare_rest == {k: v for k, v in vars(wrapped).items() if k != "pushed"}
    else:
        assert wrapped == bare, p.sql
    assert "SELECT *" not in p.sql or sql.startswith("SELECT *")


@pytest.mark.parametrize("cte", [
    "WITH v AS (SELECT * FROM toy.people) {q}",
    "WITH w AS (SELECT * FROM toy.people), v AS (SELECT * FROM w) {q}",
    "WITH v AS MATERIALIZED (SELECT id, name, age FROM toy.people) {q}",
])
def test_a_cte_referenced_once_is_filtered_like_a_derived_table(toy_catalog, folder, cte):
    p, got = pushed(cte.format(q="SELECT id FROM v WHERE age = 3 AND name LIKE 'A%'"), toy_catalog, folder)
    assert AGE3 in got and any(e is Exactness.SUPERSET for _, e in got), p.sql
    assert "age" not in p.sql.rsplit("WHERE", 1)[1] and "LIKE" in p.sql  # exact: dropped; superset: kept


def test_projected_columns_map_to_the_inner_expressions(toy_catalog, folder):
    p, got = pushed("SELECT * FROM (SELECT id, age AS a, name FROM toy.people) AS v WHERE a = 3", toy_catalog, folder)
    assert got == (AGE3,)
    assert "a = 3" not in p.sql  # the API answers it exactly, on one path of plain columns
    # a computed column: the IR has no arithmetic, so nothing is sent and the conjunct stays
    p, got = pushed("SELECT * FROM (SELECT id, age + 1 AS b FROM toy.people) AS v WHERE b = 4 AND id = 7",
                    toy_catalog, folder)
    assert got == ((Cmp("id", Op.EQ, 7), Exactness.EXACT),) and "b = 4" in p.sql


def test_one_or_two_levels_of_derived_tables(toy_catalog, folder):
    for sql in ["SELECT * FROM (SELECT * FROM (SELECT id, age FROM toy.people) AS a) AS b WHERE age = 3",
                "SELECT * FROM (SELECT id AS k, age AS x FROM (SELECT id, age FROM toy.people) AS a) AS b "
                "WHERE b.x = 3"]:
        _, got = pushed(sql, toy_catalog, folder)
        assert got == (AGE3,), sql


def test_not_through_limit_offset_window_or_qualify(toy_catalog, folder):
    _, got = pushed("SELECT * FROM (SELECT age, name FROM toy.people ORDER BY name) AS v WHERE age = 3",
                    toy_catalog, folder)
    assert got == (AGE3,)
    for inner in ["SELECT age FROM toy.people LIMIT 5", "SELECT age FROM toy.people OFFSET 5",
                  "SELECT age, row_number() OVER (ORDER BY id) AS r FROM toy.people",
                  "SELECT age FROM toy.people QUALIFY row_number() OVER (PARTITION BY age ORDER BY id) = 1",
                  "SELECT DISTINCT ON (name) age FROM toy.people ORDER BY name, id"]:
        assert_blocked(inner, toy_catalog, folder)


def assert_blocked(inner, catalog, folder):
    """``WHERE age = 3`` above ``inner`` reaches no scan and stays in DuckDB's SQL."""
    p, got = pushed(f"SELECT * FROM ({inner}) AS v WHERE age = 3", catalog, folder)
    assert got == () and "age = 3" in p.sql, inner


def test_through_group_by_only_on_its_keys(toy_catalog, folder):
    sql = "SELECT * FROM (SELECT age, count(*) AS n, max(name) AS m FROM toy.people GROUP BY age) AS v WHERE {w}"
    p, got = pushed(sql.format(w="age = 3 AND n > 1 AND m = 'x'"), toy_catalog, folder)
    assert got == (AGE3,) and "n > 1" in p.sql and "m = 'x'" in p.sql
    for inner in ["SELECT count(*) AS age FROM toy.people",  # a global aggregate has a row for no input
                  "SELECT age, count(*) AS n FROM toy.people GROUP BY ROLLUP (age)",
                  "SELECT age, count(*) AS n FROM toy.people GROUP BY GROUPING SETS ((age), ())",
                  "SELECT max(age) AS age FROM toy.people GROUP BY name"]:
        assert_blocked(inner, toy_catalog, folder)


def test_an_unsendable_copy_leaves_the_inner_aggregate_pushed(toy_catalog, folder):
    """A copy the API cannot take must not cost the inner query its own pushdowns."""
    # (grouped on a number: over a pushed text comparison the API's aggregate is not used unless
    # count_from_total, plan/scans.py _aggregate)
    sql = "SELECT * FROM (SELECT age, count(*) AS n FROM toy.people GROUP BY age) AS v WHERE {w}"
    _, [spec] = specs(sql.format(w="abs(age) = 3"), toy_catalog, folder)
    assert spec.aggregates and spec.pushed == ()
    _, [spec] = specs(sql.format(w="age = 3"), toy_catalog, folder)
    assert spec.aggregates and spec.pushed == (AGE3,)


def test_through_distinct_on_its_columns(toy_catalog, folder):
    p, got = pushed("SELECT * FROM (SELECT DISTINCT age, name FROM toy.people) AS v WHERE age = 3",
                    toy_catalog, folder)
    assert got == (AGE3,) and "age = 3" not in p.sql


def test_never_into_the_null_supplying_side_of_an_outer_join(toy_catalog, folder):
    # outside: the wrapper is the NULL-supplying side of the outer query's LEFT JOIN
    p, ss = specs("SELECT * FROM toy.orders AS o LEFT JOIN (SELECT id, age FROM toy.people) AS v "
                  "ON v.id = o.person_id WHERE v.age = 3", toy_catalog, folder)
    assert all(s.pushed == () for s in ss) and "v.age = 3" in p.sql
    # ... but its own ON conjuncts filter it before the join
    _, ss = specs("SELECT * FROM toy.orders AS o LEFT JOIN (SELECT id, age FROM toy.people) AS v "
                  "ON v.id = o.person_id AND v.age = 3", toy_catalog, folder)
    assert [s.pushed for s in ss] == [(), (AGE3,)]
    # inside: the column comes from the wrapper's own NULL-supplying side
    sql = "SELECT * FROM (SELECT o.id, p.age FROM toy.orders AS o {j} JOIN toy.people AS p ON p.id = o.person_id) AS v "
    _, ss = specs(sql.format(j="LEFT") + "WHERE v.age = 3", toy_catalog, folder)
    assert all(s.pushed == () for s in ss)
    _, ss = specs(sql.format(j="") + "WHERE v.age = 3", toy_catalog, folder)
    assert [s.pushed for s in ss] == [(), (AGE3,)]


def test_into_every_branch_of_a_union_all_of_one_type(toy_catalog, folder):
    p, ss = specs("SELECT * FROM (SELECT age AS x FROM toy.people UNION ALL SELECT person_id FROM toy.orders) AS v "
                  "WHERE x = 3", toy_catalog, folder)
    assert [s.pushed for s in ss] == [(AGE3,), ((Cmp("person_id", Op.EQ, 3), Exactness.EXACT),)]
    assert "x = 3" in p.sql  # two paths: the outer conjunct stays
    for sql in [
        # BIGINT and DOUBLE branches: the union compares DOUBLEs, a branch would compare its own type
        "SELECT * FROM (SELECT age AS x FROM toy.people UNION ALL SELECT amount FROM toy.orders) AS v WHERE x = 3",
        # UNION (distinct), a limited union: not this rule
        "SELECT * FROM (SELECT age AS x FROM toy.people UNION SELECT person_id FROM toy.orders) AS v WHERE x = 3",
        "SELECT * FROM (SELECT age AS x FROM toy.people UNION ALL SELECT person_id FROM toy.orders LIMIT 3) AS v "
        "WHERE x = 3",
        "SELECT * FROM (SELECT age AS x FROM toy.people UNION ALL SELECT 3) AS v WHERE x = 3",
    ]:
        _, ss = specs(sql, toy_catalog, folder)
        assert all(s.pushed == () for s in ss), sql


class OrDialect(ToyDialect):
    """ToyDialect that also sends an OR of what it sends."""

    def classify(self, table, conjuncts: Sequence[Pred]) -> list[Exactness]:
        out = super().classify(table, conjuncts)
        return [Exactness.EXACT if isinstance(c, Or) and all(d is Exactness.EXACT for d in super(OrDialect, self)
                                                              .classify(table, c.items)) else e
                for c, e in zip(conjuncts, out, strict=True)]


def test_a_cte_referenced_twice_gets_the_or_of_its_references(toy_catalog, folder):
    toy_catalog.dialect = OrDialect()
    cte = "WITH c AS (SELECT id, age FROM toy.people) "
    p, [spec] = specs(cte + "SELECT * FROM c AS a JOIN c AS b ON a.id = b.id WHERE a.age = 1 AND b.age = 2",
                      toy_catalog, folder)
    assert spec.pushed == ((Or((Cmp("age", Op.EQ, 1), Cmp("age", Op.EQ, 2))), Exactness.EXACT),)
    assert "a.age = 1" in p.sql and "b.age = 2" in p.sql  # each reference still filters its own rows
    # one reference that wants every row: nothing can be sent
    for sql in [cte + "SELECT * FROM c AS a JOIN c AS b ON a.id = b.id WHERE a.age = 1",
                cte + "SELECT * FROM c WHERE age = 1 UNION ALL SELECT * FROM c",
                cte + "SELECT * FROM c WHERE age = 1 AND id IN (SELECT id FROM c)"]:
        _, [spec] = specs(sql, toy_catalog, folder)
        assert spec.pushed == (), sql


def test_limit_goes_through_a_select_star_wrapper_only(toy_catalog, folder):
    _, [spec] = specs("SELECT * FROM (SELECT * FROM toy.people) AS s LIMIT 10", toy_catalog, folder)
    assert spec.limit == 10
    for sql in ["SELECT * FROM (SELECT * FROM toy.people) AS s WHERE upper(name) = 'A' LIMIT 10",
                "SELECT * FROM (SELECT * FROM toy.people) AS s JOIN toy.orders AS o ON o.person_id = s.id LIMIT 10",
                "SELECT * FROM (SELECT * FROM toy.people ORDER BY name) AS s LIMIT 10",
                "SELECT * FROM (SELECT * FROM toy.people LIMIT 20) AS s LIMIT 10",
                "SELECT DISTINCT name FROM (SELECT * FROM toy.people) AS s LIMIT 10"]:
        p = plan(sql, toy_catalog, folder)
        assert all(s.spec.limit != 10 for s in p.scans), sql


@pytest.mark.parametrize("sql", [
    "SELECT * FROM (SELECT * FROM toy.people) AS v(a, b) WHERE a = 3",  # renames its columns
    "SELECT * FROM (SELECT * EXCLUDE (tags) FROM toy.people) AS v WHERE age = 3",
    "SELECT * FROM toy.orders AS o JOIN (SELECT * FROM toy.people WHERE id > 0) AS v ON v.id = o.person_id "
    "WHERE v.age = 3",
    "WITH v AS (SELECT * FROM toy.people WHERE id > 0) SELECT * FROM toy.orders AS o JOIN v ON v.id = o.person_id "
    "WHERE v.age = 3",
])
def test_wrappers_that_are_not_merged_still_pass_filters(toy_catalog, folder, sql):
    p = plan(sql, toy_catalog, folder)
    filtered = [s.spec for s in p.scans if AGE3 in s.spec.pushed or (Cmp("id", Op.EQ, 3), Exactness.EXACT)
                in s.spec.pushed]
    assert filtered, p.sql
    assert "(SELECT" in p.sql  # the wrapper is still there


def test_unwrapping_keeps_the_result_names_and_the_outer_scopes(duck, toy_catalog, folder):
    """The merged SQL reads the same names: the wrapper's alias, and its WHERE joins the outer one."""
    p = plan("SELECT v.id, name FROM (SELECT * FROM toy.people AS p WHERE p.age > 1 OR p.name = 'x') AS v "
             "WHERE v.id = 2 OR v.id = 3", toy_catalog, folder)
    assert "AS v" in p.sql and "p." not in p.sql
    assert "(v.age > 1 OR v.name = 'x') AND (v.id = 2 OR v.id = 3)" in p.sql


@pytest.mark.parametrize("wrapped", [
    "SELECT id FROM (SELECT * FROM toy.people) AS people WHERE age = 3 AND name LIKE 'A%'",
    "SELECT id FROM (SELECT id, name, age FROM toy.people) AS v WHERE age = 3 AND name LIKE 'A%'",
    "WITH v AS (SELECT id, age, name FROM toy.people) SELECT id FROM v WHERE age = 3 AND name LIKE 'A%'",
])
def test_explain_shows_the_pushed_filters_as_without_the_wrapper(toy_catalog, folder, wrapped):
    from lowcode_sql.explain import explain_plan

    def filters(sql: str) -> list[str]:
        text = explain_plan(plan(sql, toy_catalog, folder))
        return [line for line in text.splitlines() if line.strip().startswith(("exact:", "superset:"))]

    bare = filters("SELECT id FROM toy.people WHERE age = 3 AND name LIKE 'A%'")
    assert filters(wrapped) == bare and "age = 3" in bare[0]


def test_outputs_the_outer_query_never_reads_are_not_fetched(toy_catalog, folder):
    p, [spec] = specs("SELECT name, count(*) AS n FROM (SELECT id, name, age, born FROM toy.people) AS v "
                      "WHERE age = 3 GROUP BY name ORDER BY n", toy_catalog, folder)
    assert spec.columns == ("name", "age") and "born" not in p.sql
    for sql in ["SELECT * FROM (SELECT id, name, born FROM toy.people) AS v",
                "SELECT v FROM (SELECT id, name, born FROM toy.people) AS v",  # the row as a struct
                "SELECT id FROM (SELECT DISTINCT id, name, born FROM toy.people) AS v",
                "SELECT id FROM (SELECT id, name AS nm, born FROM toy.people ORDER BY nm, born) AS v",
                "SELECT id FROM (SELECT id, name, born FROM toy.people GROUP BY 1, 2, 3) AS v",
                "SELECT id FROM (SELECT id, name, born FROM toy.people UNION ALL SELECT id, name, born "
                "FROM toy.people) AS v"]:
        p = plan(sql, toy_catalog, folder)
        assert all({"name", "born"} <= set(s.spec.columns) for s in p.scans), sql


def test_a_bare_boolean_column_is_a_filter_too(toy_catalog, folder):
    """``WHERE ok``: the column is the whole conjunct (a UNION ALL once raised a ValueError on it)."""
    import pyarrow as pa

    from dialect import ColumnDef, TableDef

    for name in ("flags", "flags2"):  # two tables: one table's branches would be one shared scan (plan/sharing.py)
        toy_catalog.tables[("toy", name)] = TableDef(name, (ColumnDef("id", pa.int64()), ColumnDef("ok", pa.bool_())))
    ok = (Cmp("ok", Op.EQ, True), Exactness.EXACT)
    for sql, n in [("SELECT * FROM (SELECT id, ok FROM toy.flags) AS v WHERE ok", 1),
                   ("SELECT * FROM (SELECT id, ok FROM toy.flags UNION ALL SELECT id, ok FROM toy.flags2) AS v "
                    "WHERE ok", 2)]:
        _, ss = specs(sql, toy_catalog, folder)
        assert [s.pushed for s in ss] == [(ok,)] * n, sql
