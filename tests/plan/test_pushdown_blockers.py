"""What keeps LIMIT/ORDER BY/COUNT on the DuckDB side, and how partly sent filters are labelled.

A LIMIT sent to the API is only right when the API's first N rows *are* the query's first N rows:
every operator between the scan and the LIMIT (DISTINCT, GROUP BY, HAVING, QUALIFY, windows,
aggregates, and a WHERE conjunct the API did not apply, such as a subquery) blocks it. Each case
below would silently return too few (or wrong) rows if the blocker were forgotten.
"""

from __future__ import annotations

import math

import pytest
from sqlglot import exp, parse_one

from lowcode_sql.explain import explain_plan
from lowcode_sql.plan import plan
from lowcode_sql.plan.predicates import Converter
from lowcode_sql.types import Cmp, Exactness, InList, Op


def outer_spec(sql, catalog, folder):
    """The spec of the first scan (the outer query's table comes first in the tree walk)."""
    p = plan(sql, catalog, folder)
    return p.scans[0].spec


BLOCKED = [
    # DISTINCT: the API's first 3 rows may hold 2 distinct values
    "SELECT DISTINCT name FROM toy.people LIMIT 3",
    "SELECT DISTINCT name FROM toy.people WHERE age = 3 LIMIT 3",
    "SELECT DISTINCT name FROM toy.people ORDER BY name LIMIT 3",
    "SELECT DISTINCT ON (name) name, age FROM toy.people ORDER BY name LIMIT 3",
    "SELECT count(*) FROM (SELECT DISTINCT name FROM toy.people WHERE age > 1 LIMIT 3)",
    # GROUP BY / HAVING / QUALIFY / windows / aggregates not sent to the API
    "SELECT name FROM toy.people GROUP BY name LIMIT 3",
    "SELECT name FROM toy.people WHERE age >= 1 GROUP BY name ORDER BY name LIMIT 3",
    "SELECT name, count(*) FROM toy.people GROUP BY name HAVING count(*) > 1 ORDER BY name LIMIT 3",
    "SELECT id, row_number() OVER (ORDER BY id) AS rn FROM toy.people QUALIFY rn > 1 ORDER BY id LIMIT 3",
    "SELECT id, count(*) OVER () AS n FROM toy.people ORDER BY id LIMIT 3",
    "SELECT max(id) FROM toy.people LIMIT 3",
    "SELECT count(DISTINCT name) FROM toy.people LIMIT 3",
    # a WHERE conjunct the API does not apply (a subquery is never a scan filter)
    "SELECT id FROM toy.people WHERE name IN (SELECT name FROM toy.people WHERE age > 1) LIMIT 3",
    "SELECT id FROM toy.people WHERE age = 3 AND name IN (SELECT name FROM toy.people) ORDER BY id LIMIT 3",
    "SELECT id FROM toy.people WHERE name NOT IN (SELECT name FROM toy.people WHERE age > 1) LIMIT 3",
    "SELECT id FROM toy.people p WHERE EXISTS (SELECT 1 FROM toy.orders o WHERE o.person_id = p.id) LIMIT 3",
    "SELECT id FROM toy.people p WHERE NOT EXISTS (SELECT 1 FROM toy.orders o WHERE o.person_id = p.id) "
    "ORDER BY id LIMIT 3 OFFSET 2",
    "SELECT id FROM toy.people WHERE age = (SELECT max(age) FROM toy.people) LIMIT 3",
    "SELECT id FROM toy.people WHERE age > (SELECT min(id) FROM toy.orders) ORDER BY age LIMIT 3",
]


@pytest.mark.parametrize("sql", BLOCKED)
def test_limit_and_order_stay_local(toy_catalog, folder, sql):
    spec = outer_spec(sql, toy_catalog, folder)
    assert spec.limit is None and spec.offset == 0 and spec.order == (), spec
    assert not spec.count_only


@pytest.mark.parametrize("sql", [
    "SELECT id FROM toy.people WHERE name IN (SELECT name FROM toy.people) LIMIT 3",
    "SELECT id FROM toy.people p WHERE EXISTS (SELECT 1 FROM toy.orders o WHERE o.person_id = p.id)",
])
def test_a_subquery_conjunct_is_never_dropped_from_duckdb(toy_catalog, folder, sql):
    p = plan(sql, toy_catalog, folder)
    where = p.sql.split("WHERE", 1)[1]
    assert "SELECT" in where, p.sql  # the subquery is still evaluated locally


def test_the_same_shapes_without_a_blocker_are_pushed(toy_catalog, folder):
    """The control group: what makes the cases above differ is only the blocker."""
    spec = outer_spec("SELECT name FROM toy.people WHERE age = 3 ORDER BY name LIMIT 3", toy_catalog, folder)
    assert spec.limit == 3 and spec.order[0].column == "name"
    spec = outer_spec("SELECT id FROM toy.people WHERE age >= 1 LIMIT 3 OFFSET 2", toy_catalog, folder)
    assert spec.limit == 3 and spec.offset == 2


def test_count_of_a_subquery_filtered_scan_is_not_count_only(toy_catalog, folder):
    spec = outer_spec("SELECT count(*) FROM toy.people WHERE name IN (SELECT name FROM toy.people WHERE age > 1)",
                      toy_catalog, folder)
    assert not spec.count_only and "name" in spec.columns


# --- EXPLAIN's exact/superset label of a partly sent conjunct --------------------------------------

PARTLY_SENT = [
    # an AND whose other branch cannot be sent: the sent part is a superset of the conjunct
    ("SELECT id FROM toy.people WHERE (age > 3 AND abs(id) < 10)", Cmp("age", Op.GT, 3)),
    ("SELECT id FROM toy.people WHERE NOT (age <= 3 OR abs(id) >= 10)", Cmp("age", Op.GT, 3)),
    ("SELECT id FROM toy.people WHERE (age = 7 AND name || 'x' = 'ax') ORDER BY id LIMIT 2", Cmp("age", Op.EQ, 7)),
]


@pytest.mark.parametrize(("sql", "sent"), PARTLY_SENT)
def test_a_partly_sent_conjunct_is_labelled_superset(toy_catalog, folder, sql, sent):
    p = plan(sql, toy_catalog, folder)
    spec = p.scans[0].spec
    assert spec.pushed == ((sent, Exactness.SUPERSET),), spec.pushed
    assert spec.limit is None and not spec.count_only
    assert "abs" in p.sql.lower() or "||" in p.sql  # the whole conjunct is re-checked


def test_explain_prints_a_partly_sent_conjunct_as_superset(toy_catalog, folder):
    p = plan("SELECT id FROM toy.people WHERE (age > 3 AND abs(id) < 10) AND age < 90", toy_catalog, folder)
    text = explain_plan(p)
    assert "exact:    age < 90" in text, text
    assert "superset: age > 3" in text, text


# --- NaN / infinity literals are never sent ---------------------------------------------------------

NON_FINITE = ["'nan'::DOUBLE", "'inf'::DOUBLE", "'-inf'::DOUBLE", "CAST('Infinity' AS DOUBLE)", "-'inf'::DOUBLE",
              "'nan'::FLOAT", "1e308 * 10"]


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize("op", ["=", "<>", "<", "<=", ">", ">="])
def test_non_finite_literal_is_not_converted(folder, value, op):
    conv = Converter("o", {"amount": "DOUBLE"}, folder)
    pred, _ = conv.convert(parse_one(f"o.amount {op} {value}", read="duckdb"))
    assert pred is None


@pytest.mark.parametrize("sql", [
    "o.amount IN (1.5, 'nan'::DOUBLE)",
    "o.amount NOT IN ('inf'::DOUBLE)",
    "o.amount BETWEEN '-inf'::DOUBLE AND 10",
    "o.amount BETWEEN 0 AND 'inf'::DOUBLE",
])
def test_non_finite_literal_in_a_list_or_range_is_not_converted(folder, sql):
    pred, _ = Converter("o", {"amount": "DOUBLE"}, folder).convert(parse_one(sql, read="duckdb"))
    assert pred is None


def test_finite_extremes_and_negative_zero_are_converted(folder):
    conv = Converter("o", {"amount": "DOUBLE"}, folder)
    pred, exact = conv.convert(parse_one("o.amount < 1.7976931348623157e308", read="duckdb"))
    assert pred == Cmp("amount", Op.LT, 1.7976931348623157e308) and exact
    pred, _ = conv.convert(parse_one("o.amount IN (-0.0, 2)", read="duckdb"))
    assert isinstance(pred, InList) and all(math.isfinite(v) for v in pred.values)


@pytest.mark.parametrize("value", NON_FINITE[:3])
def test_non_finite_literal_stays_local_in_the_plan(toy_catalog, folder, value):
    p = plan(f"SELECT id FROM toy.orders WHERE amount < {value} LIMIT 3", toy_catalog, folder)
    spec = p.scans[0].spec
    assert spec.pushed == () and spec.limit is None and "amount" in spec.columns
    assert isinstance(parse_one(p.sql, read="duckdb").find(exp.Where), exp.Where)


# --- volatile functions are never folded once at plan time ------------------------------------------
# (``plan/analyze.py`` already keeps such conjuncts from every scan; the converter's own check is the
# second line, for any other caller)

@pytest.mark.parametrize("sql", ["o.name = uuid()::VARCHAR", "o.name = gen_random_uuid()::VARCHAR",
                                 "o.amount < random()", "o.amount IN (1, random())",
                                 "o.amount BETWEEN random() AND 2"])
def test_a_volatile_function_is_not_folded(folder, sql):
    pred, _ = Converter("o", {"amount": "DOUBLE", "name": "VARCHAR"}, folder).convert(parse_one(sql, read="duckdb"))
    assert pred is None


@pytest.mark.parametrize("sql", [
    "SELECT id FROM toy.people WHERE age = 3 ORDER BY name LIMIT 2 + 3",
    "SELECT id FROM toy.people WHERE age = 3 ORDER BY name LIMIT 5 OFFSET 1 + 1",
    "SELECT id FROM toy.people WHERE age = 3 ORDER BY name LIMIT (SELECT 5)",
])
def test_a_limit_or_offset_that_is_an_expression_is_left_to_duckdb(toy_catalog, folder, sql):
    p = plan(sql, toy_catalog, folder)
    spec = p.scans[0].spec
    assert spec.limit is None and spec.offset == 0 and "LIMIT" in p.sql



@pytest.mark.parametrize("where, sent", [
    ("o.amount = 3 OR lower(o.name) = 'x'", None),  # dropping the unknown branch would lose its rows
    ("NOT (o.amount <> 3 AND lower(o.name) <> 'x')", None),  # the same OR, after De Morgan
    ("(o.amount = 3 AND lower(o.name) = 'x') OR o.amount = 5", "(amount = 3.0 OR amount = 5.0)"),  # weakened
    ("o.amount = 3 AND lower(o.name) = 'x'", "amount = 3.0"),
])
def test_an_or_is_converted_only_with_every_branch(folder, where, sent):
    pred, exact = Converter("o", {"amount": "DOUBLE", "name": "VARCHAR"}, folder).convert(
        parse_one(where, read="duckdb"))
    assert (None if pred is None else str(pred)) == sent
    assert pred is None or not exact  # a weakened conjunct is a superset DuckDB re-checks


@pytest.mark.parametrize("where, sent", [
    ("o.amount = 3 OR NULL", "(amount = 3.0 OR FALSE)"),
    ("NOT (o.amount = 3 AND NULL)", "(amount <> 3.0 OR FALSE)"),  # x = 3 keeps no row: NOT NULL is NULL
])
def test_a_null_leaf_is_never_true_in_either_polarity(folder, where, sent):
    pred, _ = Converter("o", {"amount": "DOUBLE"}, folder).convert(parse_one(where, read="duckdb"))
    assert str(pred) == sent
