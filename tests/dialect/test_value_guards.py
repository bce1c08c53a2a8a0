"""Each dialect's own guard against values it cannot send: NaN and infinities (defence in depth,
the planner keeps them local too, see ``tests/plan/test_pushdown_blockers.py``), values of another
type than the column's, sort keys it cannot name.

NaN/inf have no JSON form and order differently on every platform (Mongo puts NaN below every
number, DuckDB above), so a pushed ``x < 'inf'`` would silently drop or keep the wrong rows.
"""

from __future__ import annotations

import datetime as dt
import math

import pyarrow as pa
import pytest

from dialect import ColumnDef, TableDef
from dialect.alumio import Alumio
from dialect.coredata import CoreData
from dialect.entu import Entu, EntuTable
from dialect.totalum import Totalum
from lowcode_sql.types import Cmp, Exactness, InList, ListContains, Op, ScanSpec, SortKey

NON_FINITE = [math.nan, math.inf, -math.inf]


def entu_table() -> TableDef:
    cols = (ColumnDef("_id", pa.string()), ColumnDef("num", pa.float64()),
            ColumnDef("num__all", pa.list_(pa.float64())))
    return EntuTable("item", cols, entity_type="item", props={"num": "number"}, single=frozenset({"num"}))


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


# --- values of another type than the column's ------------------------------------------------------
# The planner folds every literal to the column's own type, and DuckDB's table-source filters arrive
# typed the same way (DUCKDB-SOURCES "Lit.type is exactly the column's DuckDB type"), so a dialect
# should never see these. If one ever did, sending it would change the answer (Mongo's ``{vip: 1}``
# does not match ``true``), so each dialect keeps it local (defence in depth, as for NaN above).


def test_coredata_sends_a_date_bound_only_as_a_datetime():
    from tests.dialect.test_golden import coredata_catalog

    d, t = CoreData({}), coredata_catalog().tables["projects"]
    for value in ("2024-01-01", dt.date(2024, 1, 1), 1704067200):
        assert d.classify(t, [Cmp("created", Op.GT, value)]) == [Exactness.LOCAL], value
    assert d.classify(t, [Cmp("created", Op.GT, dt.datetime(2024, 1, 1))]) == [Exactness.EXACT]
    assert d.classify(t, [Cmp("title", Op.EQ, 5)]) == [Exactness.LOCAL]


def test_totalum_sends_a_boolean_only_as_a_boolean_and_only_with_equality():
    from tests.dialect.test_golden_totalum import catalog

    d, t = Totalum({}), catalog().tables["client"]
    for pred in (Cmp("vip", Op.EQ, 1), Cmp("vip", Op.NE, 0), Cmp("vip", Op.EQ, "true"), Cmp("vip", Op.LT, True),
                 Cmp("credit", Op.EQ, "5"), Cmp("credit", Op.EQ, True), Cmp("name", Op.EQ, 5)):
        assert d.classify(t, [pred]) == [Exactness.LOCAL], pred
    assert d.classify(t, [Cmp("vip", Op.EQ, True)]) == [Exactness.EXACT]
    assert d.classify(t, [Cmp("vip", Op.NE, False)]) == [Exactness.EXACT]


def test_alumio_turns_gt_into_ge_plus_one_only_for_an_integer_value_on_an_integer_column():
    # ``x > 3`` is ``x >= 4`` only when x holds integers; otherwise ``gte 3`` is a superset to re-check
    from tests.dialect.test_golden_alumio import catalog

    d, t = Alumio({}), catalog().tables["queue_processes"]
    assert d.classify(t, [Cmp("priority", Op.GT, 3)]) == [Exactness.EXACT]
    assert d.render_scan(t, _spec("queue_processes", Cmp("priority", Op.GT, 3))).base == (
        d.render_scan(t, _spec("queue_processes", Cmp("priority", Op.GE, 4))).base)
    assert d.classify(t, [Cmp("priority", Op.GT, 3.0)]) == [Exactness.SUPERSET]  # not an int: not + 1
    assert d.classify(t, [Cmp("process_time", Op.GT, 3)]) == [Exactness.SUPERSET]  # a DOUBLE column
    assert d.classify(t, [Cmp("process_time", Op.GT, 3.0)]) == [Exactness.SUPERSET]


def _spec(table: str, pred: Cmp) -> ScanSpec:
    return ScanSpec("s", table, (), ((pred, Exactness.EXACT),), ())


def test_entu_sorts_only_on_a_single_valued_scalar_property_it_knows():
    d, t = Entu({"db": "demo"}), entu_table()
    assert d.can_sort(t, [SortKey("num", False, True)])  # Mongo: missing values first ascending
    assert not d.can_sort(t, [SortKey("nosuch", False, True)])  # not a property of the table
    assert not d.can_sort(t, [SortKey("num__all", False, True)])  # the LIST column
