"""Golden SQL -> split -> request files for each dialect, over the dialects' own table definitions."""

from __future__ import annotations

from typing import Any

import pytest

from dialect.coredata import CoreData
from dialect.entu import Entu
from tests.dialect.golden_harness import StaticCatalog, check, offline_catalog


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
    return offline_catalog("coredata", CoreData(options), "coredata discovery makes no requests")


def coredata_options_catalog() -> StaticCatalog:
    return coredata_catalog(order_by=True, max_limit=500, exact_suffix=True)


@pytest.mark.parametrize("name,factory", [("coredata", coredata_catalog), ("entu", entu_catalog),
                                          ("coredata_options", coredata_options_catalog)])
def test_golden(name, factory, folder):
    check(name, factory(), folder)
