"""Golden SQL -> split -> request files for Totalum (GET per the seed, and the SDK's POST body)."""

from __future__ import annotations

from typing import Any

import pytest

from dialect._base import Dialect, TableDef
from dialect.totalum import Totalum
from lowcode_sql.errors import UnknownTable
from tests.dialect.golden_harness import check


class StaticCatalog:
    def __init__(self, source: str, dialect: Dialect, tables: list[TableDef]) -> None:
        self.source, self.dialect, self.tables = source, dialect, {t.name: t for t in tables}

    def resolve(self, db: str | None, name: str) -> tuple[str, TableDef, Dialect]:
        if (db not in (None, self.source)) or name not in self.tables:
            raise UnknownTable(name, list(self.tables))
        return self.source, self.tables[name], self.dialect


def _p(name: str, type_: str, target: str | None = None) -> dict[str, Any]:
    spec = [{"name": target, "label": target, "type": "table"}] if target else []
    return {"name": name, "label": name, "type": type_, "required": False, "value": "", "spec": spec}


STRUCTURES = {
    "client": [_p("name", "text"), _p("country", "options"), _p("vip", "boolean"), _p("credit", "number"),
               _p("since", "date"), _p("contract", "file"), _p("orders", "one-to-many", "order"),
               _p("favorites", "many-to-many", "product")],
    "product": [_p("name", "text"), _p("price", "number"), _p("fans", "many-to-many", "client")],
    "order": [_p("number", "text"), _p("client", "many-to-one", "client"), _p("total", "number"),
              _p("ordered", "date")],
}


def catalog(**options: Any) -> StaticCatalog:
    d = Totalum(options)
    return StaticCatalog("totalum", d, d.tables_from_structures(STRUCTURES))


@pytest.mark.parametrize("name,options", [("totalum", {}), ("totalum_post", {"request": "post", "in_operator": True})])
def test_golden(name, options, folder):
    check(name, catalog(**options), folder)


def test_tables_and_columns():
    tables = {t.name: t for t in catalog().tables.values()}
    assert sorted(tables) == ["client", "client__favorites", "order", "product", "product__fans"]
    assert [c.name for c in tables["client"].columns] == [
        "_id", "name", "country", "vip", "credit", "since", "contract", "createdAt", "updatedAt"]
    link = tables["client__favorites"]
    assert link.columns[0].name == "source_id" and link.columns[0].filter_only
    assert [c.name for c in link.columns[1:]] == [c.name for c in tables["product"].columns]
