"""Each dialect's own guard against values it cannot send: NaN and infinities (defence in depth,
the planner keeps them local too, see ``tests/plan/test_pushdown_blockers.py``).

NaN/inf have no JSON form and order differently on every platform (Mongo puts NaN below every
number, DuckDB above), so a pushed ``x < 'inf'`` would silently drop or keep the wrong rows.
"""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from dialect._base import ColumnDef, TableDef
from dialect.entu import Entu
from lowcode_sql.types import Cmp, Exactness, InList, ListContains, Op

NON_FINITE = [math.nan, math.inf, -math.inf]


def entu_table() -> TableDef:
    cols = (ColumnDef("_id", pa.string()), ColumnDef("num", pa.float64()),
            ColumnDef("num__all", pa.list_(pa.float64())))
    return TableDef("item", cols, meta={"type": "item", "props": {"num": "number"}, "single": frozenset({"num"})})


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize("op", list(Op))
def test_entu_never_sends_a_non_finite_number(value, op):
    d = Entu({"db": "demo"})
    assert d.classify(entu_table(), [Cmp("num", op, value)]) == [Exactness.LOCAL]


@pytest.mark.parametrize("value", NON_FINITE)
def test_entu_never_sends_a_non_finite_list_item(value):
    assert Entu({"db": "demo"}).classify(entu_table(), [ListContains("num__all", value)]) == [Exactness.LOCAL]


@pytest.mark.parametrize("value", [0, -0.0, 2.5, -1e308, 1.7976931348623157e308])
def test_entu_sends_finite_numbers(value):
    d = Entu({"db": "demo"})
    assert d.classify(entu_table(), [Cmp("num", Op.LT, value)]) == [Exactness.EXACT]
    assert d.classify(entu_table(), [ListContains("num__all", value)]) == [Exactness.EXACT]


def test_entu_in_list_of_numbers_stays_local():
    # ``.in`` is for strings and references only (API-NOTES §5): numbers, finite or not, stay local
    assert Entu({"db": "demo"}).classify(entu_table(), [InList("num", (1.0, math.nan))]) == [Exactness.LOCAL]
