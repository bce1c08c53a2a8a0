"""``Dialect.translate``: the one walk that gives a conjunct's exactness and its rendering.

CoreData and Alumio classify and render through it, so ``render_scan`` sends exactly what
``classify`` approved: a pushed conjunct the dialect would not send is a ``DialectError``, never a
request that silently means something else (before, CoreData rendered a pushed ``title <> 'x'`` as
``title=x`` and Alumio a text range as ``{"lt": ...}``, conditions classify never approved).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest

from dialect import ColumnDef, Dialect, TableDef
from dialect.alumio import Alumio
from dialect.coredata import CoreData
from lowcode_sql.errors import DialectError
from lowcode_sql.types import Cmp, Exactness, InList, IsNull, Like, LikePattern, Op, Or, Pred, ScanSpec


def _tables(d: Dialect) -> dict[str, TableDef]:
    gen = d.discover()
    try:
        next(gen)
    except StopIteration as stop:
        return {t.name: t for t in stop.value}
    raise AssertionError("these dialects discover without requests here")


def _spec(table: TableDef, pushed: list[tuple[Pred, Exactness]]) -> ScanSpec:
    return ScanSpec("s", table, (), tuple(pushed), ())


def _alumio(**options: Any) -> Alumio:
    return Alumio({"storages": [], **options})


@pytest.mark.parametrize("d, table, pred", [
    (CoreData(), "projects", Cmp("title", Op.NE, "x")),
    (CoreData(), "projects", Cmp("status", Op.EQ, "done")),
    (CoreData(), "files", Cmp("parent", Op.EQ, "not-a-uuid")),
    (_alumio(), "routes", Cmp("name", Op.LT, "m")),
    (_alumio(), "routes", IsNull("name")),
], ids=["coredata-ne", "coredata-unfiltered", "coredata-bad-uuid", "alumio-text-range", "alumio-null"])
def test_a_pushed_conjunct_the_dialect_would_not_send_is_an_error(d: Dialect, table: str, pred: Pred) -> None:
    tdef = _tables(d)[table]
    assert d.classify(tdef, [pred]) == [Exactness.LOCAL]
    with pytest.raises(DialectError, match="cannot render"):
        d.render_scan(tdef, _spec(tdef, [(pred, Exactness.EXACT)]))


TS = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
CASES: list[tuple[Dialect, str, list[Pred]]] = [
    (CoreData(), "projects", [Cmp("title", Op.EQ, "a"), Like("title", LikePattern.parse("a%")),
                              Cmp("title", Op.EQ, "b"), Cmp("created", Op.GE, dt.datetime(2024, 1, 1)),
                              Cmp("created", Op.LT, dt.datetime(2024, 6, 1)), Cmp("title", Op.EQ, "True")]),
    (CoreData({"exact_suffix": True}), "contacts", [Like("identifier", LikePattern.parse("12")),
                                                    Cmp("identifier", Op.EQ, "12"), Cmp("modified", Op.EQ,
                                                                                       dt.datetime(2024, 1, 1))]),
    (_alumio(), "tasks", [Cmp("status", Op.EQ, "failed"), Cmp("status", Op.EQ, "new"),
                          Cmp("created_at", Op.GT, TS), Cmp("created_at", Op.GE, TS)]),
    (_alumio(loopback_operators=True), "task_statistics",
     [Or((Cmp("new", Op.GT, 3), IsNull("failed"))), InList("identifier", ("a", "b"), True),
      Cmp("date", Op.LE, dt.date(2024, 1, 2)), Like("identifier", LikePattern.parse("ab%")),
      Cmp("identifier", Op.LT, "m")]),
]


@pytest.mark.parametrize("d, table, conjuncts", CASES, ids=["coredata", "coredata-exact", "alumio", "alumio-loopback"])
def test_render_sends_what_translate_gave_for_the_pushed_conjuncts(d: Dialect, table: str,
                                                                   conjuncts: list[Pred]) -> None:
    tdef = _tables(d)[table]
    decisions = d.classify(tdef, conjuncts)
    translated = d.translate(tdef, conjuncts)
    assert decisions == [t.exactness for t in translated]
    pushed = [(p, e) for p, e in zip(conjuncts, decisions, strict=True) if e is not Exactness.LOCAL]
    assert pushed and len(pushed) < len(conjuncts), "the case should keep some conjuncts local"
    # the pushed ones alone translate as they did among all of them: render_scan relies on it
    again = d.translate(tdef, [p for p, _ in pushed])
    assert [t for t in translated if t.exactness is not Exactness.LOCAL] == again
    request = d.render_scan(tdef, _spec(tdef, pushed)).base
    assert request.params or request.json is not None


@pytest.mark.parametrize("pushable", [{"a": frozenset({"~"})}, {"nope": frozenset({"="})}])
def test_a_declaration_naming_an_unknown_operator_or_column_is_a_dialect_error(pushable: Any) -> None:
    with pytest.raises(DialectError, match="pushable names"):
        TableDef("t", (ColumnDef("a", pa.string()),), pushable=pushable)
