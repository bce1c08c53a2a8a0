"""Every kind of contradiction ``plan/contradiction.py`` claims to detect, and the satisfiable
neighbours it must not (a false "contradiction" would silently answer with no rows)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lowcode_sql.plan import plan
from lowcode_sql.plan.contradiction import is_contradiction
from lowcode_sql.types import And, Cmp, Const, InList, IsNull, Like, LikePattern, ListContains, Op, Or

D1, D2 = dt.date(2024, 1, 1), dt.date(2024, 6, 1)
T1, T2 = dt.datetime(2024, 1, 1, 12), dt.datetime(2024, 1, 1, 13)
Z1, Z2 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
PAIRS = [(1, 2), (1.5, 2.5), (Decimal("1.1"), Decimal("1.2")), ("a", "b"), (D1, D2), (T1, T2), (Z1, Z2)]
LIKE = Like("a", LikePattern.parse("x%", None), False)


def contradictions(lo, hi):
    """Unsatisfiable conjunctions over column ``a`` with values lo < hi."""
    return [
        [IsNull("a"), IsNull("a", negated=True)],
        [IsNull("a"), Cmp("a", Op.EQ, lo)],
        [Cmp("a", Op.GT, lo), IsNull("a")],
        [IsNull("a"), InList("a", (lo, hi))],
        [IsNull("a"), InList("a", (lo,), negated=True)],
        [Cmp("a", Op.EQ, lo), Cmp("a", Op.EQ, hi)],
        [Cmp("a", Op.EQ, lo), Cmp("a", Op.NE, lo)],
        [Cmp("a", Op.GT, hi), Cmp("a", Op.LT, lo)],
        [Cmp("a", Op.GE, hi), Cmp("a", Op.LE, lo)],
        [Cmp("a", Op.GT, lo), Cmp("a", Op.LT, lo)],
        [Cmp("a", Op.GE, lo), Cmp("a", Op.LT, lo)],  # equal bounds, one exclusive
        [Cmp("a", Op.GT, lo), Cmp("a", Op.LE, lo)],
        [Cmp("a", Op.GT, lo), Cmp("a", Op.GE, hi), Cmp("a", Op.LE, lo)],  # the tighter bound wins
        # a bound repeated at the same value: the exclusive one wins, in either order
        [Cmp("a", Op.LE, lo), Cmp("a", Op.LT, lo), Cmp("a", Op.GE, lo)],
        [Cmp("a", Op.GE, lo), Cmp("a", Op.GT, lo), Cmp("a", Op.LE, lo)],
        [Cmp("a", Op.EQ, lo), Cmp("a", Op.GT, lo)],
        [Cmp("a", Op.EQ, hi), Cmp("a", Op.LT, hi)],
        [InList("a", (lo,)), InList("a", (hi,))],
        [InList("a", (lo, hi)), InList("a", (lo, hi), negated=True)],
        [InList("a", (lo, hi)), Cmp("a", Op.NE, lo), Cmp("a", Op.NE, hi)],
        [InList("a", (lo, hi)), Cmp("a", Op.GT, hi)],
        [And((Cmp("a", Op.GE, hi), Cmp("a", Op.LE, lo)))],  # BETWEEN hi AND lo
        [Or((Cmp("a", Op.EQ, lo), Cmp("a", Op.EQ, hi))), Cmp("a", Op.NE, lo), Cmp("a", Op.NE, hi)],
        [Or((IsNull("a"), Cmp("a", Op.LT, lo))), Cmp("a", Op.GE, lo)],
        [Const(False)],
        [Cmp("b", Op.EQ, 1), Const(False)],
    ]


def satisfiable(lo, hi):
    return [
        [IsNull("a")],
        [IsNull("a", negated=True), Cmp("a", Op.EQ, lo)],
        [Cmp("a", Op.GE, lo), Cmp("a", Op.LE, lo)],
        [Cmp("a", Op.GT, lo), Cmp("a", Op.LT, hi)],  # dense, or an empty open interval we cannot see
        [Cmp("a", Op.EQ, lo), Cmp("a", Op.NE, hi)],
        [InList("a", (lo, hi)), Cmp("a", Op.NE, lo)],
        [InList("a", (lo, hi)), InList("a", (hi,))],
        [Cmp("a", Op.EQ, lo), IsNull("b")],
        [Or((Cmp("a", Op.EQ, lo), Cmp("a", Op.EQ, hi))), Cmp("a", Op.NE, lo)],
        [Or((IsNull("a"), Cmp("a", Op.LT, hi))), Cmp("a", Op.GE, lo)],
        [Const(True), Cmp("a", Op.LE, hi)],
    ]


@pytest.mark.parametrize(("lo", "hi"), PAIRS, ids=lambda v: type(v).__name__)
def test_contradictions_are_found(lo, hi):
    for preds in contradictions(lo, hi):
        assert is_contradiction(preds), preds
        assert is_contradiction(list(reversed(preds))), preds


@pytest.mark.parametrize(("lo", "hi"), PAIRS, ids=lambda v: type(v).__name__)
def test_satisfiable_conjunctions_are_not_contradictions(lo, hi):
    for preds in satisfiable(lo, hi):
        assert not is_contradiction(preds), preds
        assert not is_contradiction(list(reversed(preds))), preds


def test_value_leaves_need_a_non_null_column():
    for leaf in (LIKE, ListContains("a", "x"), LIKE.negate()):
        assert is_contradiction([IsNull("a"), leaf]), leaf
        assert not is_contradiction([IsNull("a", negated=True), leaf]), leaf


def test_values_of_different_families_are_never_compared():
    """``a = 1 AND a = 'x'`` is a type error DuckDB reports, not "no rows"; dates and datetimes,
    naive and aware datetimes, booleans and numbers do not order as in DuckDB."""
    assert not is_contradiction([Cmp("a", Op.EQ, 1), Cmp("a", Op.EQ, "1")])
    assert not is_contradiction([Cmp("a", Op.EQ, D1), Cmp("a", Op.EQ, T1)])
    assert not is_contradiction([Cmp("a", Op.LT, T1), Cmp("a", Op.GT, Z2)])
    assert not is_contradiction([Cmp("a", Op.EQ, True), Cmp("a", Op.EQ, 2)])
    assert not is_contradiction([InList("a", (1, "b")), InList("a", (2,))])


def test_booleans_contradict_their_negation():
    assert is_contradiction([Cmp("a", Op.EQ, True), Cmp("a", Op.NE, True)])
    assert is_contradiction([Cmp("a", Op.EQ, True), Cmp("a", Op.EQ, False)])
    assert not is_contradiction([Cmp("a", Op.EQ, True), Cmp("a", Op.NE, False)])


@pytest.mark.parametrize("where", [
    "age IS NULL AND age = 3",
    "age IS NULL AND age IS NOT NULL",
    "age >= 3 AND age < 3",
    "age BETWEEN 5 AND 1",
    "age IN (1, 2) AND age NOT IN (2, 1)",
    "(age = 1 OR age = 2) AND age > 2",
    "name IS NULL AND name LIKE 'a%'",
    "age = NULL",
    "age NOT IN (1, NULL)",
    "list_contains(tags, 'x') AND tags IS NULL",
    "NOT (age IS NULL OR age <> 4) AND age < 4",
    "age = 1 AND (age = 2 OR FALSE)",  # a constant inside a condition on a column
    "age IN ()",
    "age IN (NULL)",
])
def test_the_planner_marks_the_scan_and_drops_its_conjuncts(toy_catalog, folder, where):
    p = plan(f"SELECT id FROM toy.people WHERE {where} AND id > 0 LIMIT 3", toy_catalog, folder)
    spec = p.scans[0].spec
    assert spec.contradiction, where
    assert spec.columns == ("id",) or "id" in spec.columns


_J = "FROM toy.people a {join} toy.people b ON a.id = b.id"


@pytest.mark.parametrize("sql, emptied", [
    ("SELECT id FROM toy.people WHERE FALSE", [True]),
    ("SELECT id FROM toy.people WHERE 1 = 0 AND id > 0 LIMIT 3", [True]),
    ("SELECT count(*) FROM toy.people WHERE NULL", [True]),
    ("SELECT id FROM toy.people WHERE NOT (1 < 2)", [True]),
    (f"SELECT a.id {_J.format(join='LEFT JOIN')} AND FALSE", [False, True]),  # the joined side only
    (f"SELECT a.id {_J.format(join='LEFT JOIN')} WHERE 1 = 0", [True, False]),  # never the NULL side
    (f"SELECT a.id {_J.format(join='RIGHT JOIN')} AND FALSE", [False, False]),
    (f"SELECT a.id {_J.format(join='FULL JOIN')} WHERE FALSE", [False, False]),
    (f"SELECT a.id {_J.format(join='JOIN')} AND NULL", [True, True]),
    (f"SELECT a.id {_J.format(join='SEMI JOIN')} AND FALSE", [False, True]),
    (f"SELECT a.id {_J.format(join='ANTI JOIN')} AND FALSE", [False, True]),
    # an inner join's ON reaches only the scans joined at or before it, and not a side a later
    # RIGHT JOIN makes NULL-supplying
    ("SELECT a.id FROM toy.people a JOIN toy.people c ON FALSE RIGHT JOIN toy.people b ON a.id = b.id",
     [False, False, False]),
    ("SELECT a.id FROM toy.people a LEFT JOIN toy.people b ON a.id = b.id JOIN toy.people c ON FALSE",
     [True, False, True]),
    ("SELECT a.id FROM toy.people a JOIN toy.people b ON a.id = b.id JOIN toy.people c ON 1 = 0",
     [True, True, True]),
    ("SELECT id FROM toy.people WHERE random() < 0", [False]),  # volatile: evaluated per row
    ("SELECT id FROM toy.people WHERE 1", [False]),  # not a BOOLEAN: DuckDB decides what it means
    ("SELECT id FROM toy.people WHERE CAST('x' AS INT) = 1", [False]),  # DuckDB reports the error
])
def test_a_condition_on_no_column_empties_exactly_the_scans_it_may(toy_catalog, folder, sql, emptied):
    p = plan(sql, toy_catalog, folder)
    # per table reference, in the query's order: references that still read rows may share one
    # scan (plan/sharing.py), which then feeds each of their views
    by_view = {v: s.spec.contradiction for s in p.scans for v in ([f.view for f in s.feeds] or [s.view])}
    assert [by_view[v] for v in sorted(by_view, key=lambda v: int(v.rsplit("_", 1)[1]))] == emptied, p.sql


@pytest.mark.parametrize("cond", ["TRUE", "1 = 1", "NOT FALSE"])
def test_a_true_condition_on_no_column_is_dropped(toy_catalog, folder, cond):
    """It no longer blocks a pushed LIMIT (or COUNT) as an unexplained WHERE would."""
    p = plan(f"SELECT id FROM toy.people WHERE {cond} AND id > 0 LIMIT 3", toy_catalog, folder)
    spec = p.scans[0].spec
    assert not spec.contradiction and spec.limit == 3 and "WHERE" not in p.sql.upper(), p.sql


@pytest.mark.parametrize("where", ["age NOT IN ()", "NOT (age IN ())", "age NOT IN () OR age = 5"])
def test_not_in_an_empty_list_keeps_every_non_null_value(toy_catalog, folder, where):
    # DuckDB: 1 NOT IN () is TRUE but NULL NOT IN () is NULL: the condition is "age IS NOT NULL"
    p = plan(f"SELECT id FROM toy.people WHERE {where}", toy_catalog, folder)
    spec = p.scans[0].spec
    assert not spec.contradiction
    sent = [pred for pred, _ in spec.pushed] + list(spec.local)
    assert IsNull("age", negated=True) in sent or any(
        isinstance(x, Or) and IsNull("age", negated=True) in x.items for x in sent), (where, sent)
