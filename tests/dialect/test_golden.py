"""Golden SQL -> split -> request files for each dialect, over the dialects' own table definitions."""

from __future__ import annotations

from typing import Any

import pytest

from dialect import Dialect, TableDef
from dialect.coredata import CoreData
from dialect.entu import Entu
from lowcode_sql.errors import UnknownTable
from tests.dialect.golden_harness import check


class StaticCatalog:
    def __init__(self, source: str, dialect: Dialect, tables: list[TableDef]) -> None:
        self.source, self.dialect, self.tables = source, dialect, {t.name: t for t in tables}

    def resolve(self, db: str | None, name: str) -> tuple[str, TableDef, Dialect]:
        if (db not in (None, self.source)) or name not in self.tables:
            raise UnknownTable(name, list(self.tables))
        return self.source, self.tables[name], self.dialect


def entu_catalog() -> StaticCatalog:
    d = Entu({"db": "demo", "single_valued": {"book": ["isbn", "price", "title", "published"]}})
    v = lambda key, value: [{"_id": "x", key: value}]  # noqa: E731
    sample: list[dict[str, Any]] = [{
        "_id": "a" * 24, "title": v("string", "T"), "isbn": v("string", "1"), "price": v("number", 1.5),
        "published": v("date", "2020-01-01"), "tags": v("string", "x"), "in_stock": v("boolean", True),
        "author": v("reference", "b" * 24), "updated": v("datetime", "2020-01-01T00:00:00Z"),
        "pages": v("number", 3),
    }]
    return StaticCatalog("entu", d, [d.table_from_sample("book", sample)])


def coredata_catalog(**options: Any) -> StaticCatalog:
    d = CoreData(options)
    gen = d.discover()
    try:
        next(gen)
    except StopIteration as stop:
        return StaticCatalog("coredata", d, stop.value)
    raise AssertionError("coredata discovery makes no requests")


def coredata_options_catalog() -> StaticCatalog:
    return coredata_catalog(order_by=True, max_limit=500, exact_suffix=True)


@pytest.mark.parametrize("name,factory", [("coredata", coredata_catalog), ("entu", entu_catalog),
                                          ("coredata_options", coredata_options_catalog)])
def test_golden(name, factory, folder):
    check(name, factory(), folder)
