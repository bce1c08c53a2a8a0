"""``plan/split.py``: the one split of a scan's conjuncts between the API and DuckDB, used by the
planner and by ``duckdb_attach`` (flatten ANDs, classify all items in one call, demote items of
an inexactly converted conjunct to SUPERSET)."""

from __future__ import annotations

from collections.abc import Sequence

from dialect._base import TableDef
from lowcode_sql.plan.split import items_of, split
from lowcode_sql.types import And, Cmp, Exactness, IsNull, Op, Pred
from tests.conftest import PEOPLE, ToyDialect

A, B, N = Cmp("age", Op.GE, 30), Cmp("age", Op.LE, 40), IsNull("name")


def test_an_and_is_offered_item_by_item_and_exact_only_when_all_items_are():
    shares = split(ToyDialect(), PEOPLE, [And((A, B)), And((A, N))])
    assert shares.pushed == ((A, Exactness.EXACT), (B, Exactness.EXACT), (A, Exactness.EXACT))
    assert shares.exact == (True, False)  # IS NULL stays local: its conjunct is not the API's alone


def test_an_inexactly_converted_conjunct_is_pushed_as_superset_at_most():
    shares = split(ToyDialect(), PEOPLE, [A, B], [False, True])
    assert shares.pushed == ((A, Exactness.SUPERSET), (B, Exactness.EXACT))
    assert shares.exact == (False, True)


def test_all_items_are_classified_in_one_call():
    """A dialect may send fewer items together than alone (CoreData: one value per parameter)."""
    calls: list[list[Pred]] = []

    class OneAgeOnly(ToyDialect):
        def classify(self, table: TableDef, conjuncts: Sequence[Pred]) -> list[Exactness]:
            calls.append(list(conjuncts))
            seen = [c for c in conjuncts if isinstance(c, Cmp)]
            return [Exactness.EXACT if c is seen[0] else Exactness.LOCAL for c in conjuncts]

    shares = split(OneAgeOnly(), PEOPLE, [A, B])
    assert calls == [[A, B]]
    assert shares.pushed == ((A, Exactness.EXACT),) and shares.exact == (True, False)


def test_no_conjuncts_ask_the_dialect_nothing():
    assert split(ToyDialect(), PEOPLE, []).pushed == ()
    assert items_of(A) == (A,) and items_of(And((A, B))) == (A, B)
