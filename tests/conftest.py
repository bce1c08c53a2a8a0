"""Shared fixtures: a tiny in-memory dialect for planner tests (no HTTP)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from dialect import AuthPlan, ColumnDef, Dialect, Discovery, TableDef
from lowcode_sql.errors import UnknownTable
from lowcode_sql.execute.folder import DuckDBFolder
from lowcode_sql.ir import Cmp, Exactness, Like, Op, Pred
from lowcode_sql.requests import HttpRequest, NoPaging, Page, ScanRequest
from lowcode_sql.sandbox._base import SAMPLE_ENV, STRICT_ENV
from lowcode_sql.scanspec import Aggregate, ScanSpec, SortKey

# Every emulator in the tests is strict (lowcode_sql/sandbox/_base.py "Strict mode"): a dialect that
# sends a parameter, operator or body key the platform's docs do not document fails its tests. Set in
# the environment, so emulators that subprocesses start are strict too; a test about lenient answers
# passes strict=False.
os.environ[STRICT_ENV] = "1"
# The emulators' edge-case samples (case variants, wildcards in values, NULL vs missing, extreme
# numbers) are what the suites test against; users get the plausible business by default. Tests of
# what a user sees (the demo, the README) ask for "business" themselves.
os.environ[SAMPLE_ENV] = "traps"


class ToyDialect(Dialect):
    """EQ/range comparisons exact, LIKE superset, everything else local; sorts on any column."""

    name = ""  # not registered

    def auth(self, credentials: Any) -> AuthPlan:
        return AuthPlan()

    def discover(self) -> Discovery:
        return []
        yield  # pragma: no cover

    def classify(self, table: TableDef, conjuncts: Sequence[Pred]) -> list[Exactness]:
        out = []
        for c in conjuncts:
            if isinstance(c, Cmp) and c.op is not Op.NE:
                out.append(Exactness.EXACT)
            elif isinstance(c, Like):
                out.append(Exactness.SUPERSET)
            else:
                out.append(Exactness.LOCAL)
        return out

    def can_sort(self, table: TableDef, keys: Sequence[SortKey]) -> bool:
        return True

    def can_aggregate(self, table: TableDef, keys: Sequence[str], aggregates: Sequence[Aggregate],
                      filters: Sequence[Pred] = ()) -> bool:
        return set(keys) <= {"age", "name"} and all(a.column in (None, "age", "name", "born") for a in aggregates)

    def render_scan(self, table: TableDef, spec: ScanSpec) -> ScanRequest:
        return ScanRequest(HttpRequest("GET", table.name), NoPaging())

    def parse_page(self, table: TableDef, body: Any) -> Page:
        return Page(body)


PEOPLE = TableDef("people", (
    ColumnDef("id", pa.int64()),
    ColumnDef("name", pa.string()),
    ColumnDef("age", pa.int64()),
    ColumnDef("born", pa.timestamp("us")),
    ColumnDef("tags", pa.list_(pa.string())),
))
ORDERS = TableDef("orders", (
    ColumnDef("id", pa.int64()),
    ColumnDef("person_id", pa.int64()),
    ColumnDef("amount", pa.float64()),
))


class ToyCatalog:
    def __init__(self) -> None:
        self.dialect = ToyDialect()
        self.tables = {("toy", "people"): PEOPLE, ("toy", "orders"): ORDERS}

    def resolve(self, db: str | None, name: str) -> tuple[str, TableDef, Dialect]:
        for (src, tname), t in self.tables.items():
            if tname == name and (db is None or db == src):
                return src, t, self.dialect
        raise UnknownTable(f"{db}.{name}" if db else name, [f"{s}.{t}" for s, t in self.tables])


@pytest.fixture
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    yield con
    con.close()


@pytest.fixture
def toy_catalog() -> ToyCatalog:
    return ToyCatalog()


@pytest.fixture
def folder(duck: duckdb.DuckDBPyConnection) -> DuckDBFolder:
    return DuckDBFolder(duck)
