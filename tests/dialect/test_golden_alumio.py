"""Golden SQL -> split -> request files for Alumio, in both operator modes.

``golden/alumio.txt`` is the default (confirmed: ``=`` and ``gte`` only) configuration,
``golden/alumio_loopback.txt`` the one with ``loopback_operators``. The ``filter`` query parameter is
shown URL-decoded so the JSON can be reviewed. Regenerate with ``LOWCODE_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

from dialect.alumio import Alumio
from tests.dialect.golden_harness import StaticCatalog, offline_catalog, render

GOLDEN = Path(__file__).parent / "golden"
OPTIONS: dict[str, Any] = {
    "storages": ["customer-map"],
    "storage_schemas": {"customer-map": {"crmId": "VARCHAR", "erpId": "BIGINT"}},
    "entity_fields": {"sku": "VARCHAR", "customer.email": "VARCHAR", "grandTotal": "DOUBLE"},
}


def catalog(**options: Any) -> StaticCatalog:
    return offline_catalog("alumio", Alumio({**OPTIONS, **options}),
                           "with the storages option, discovery makes no requests")


def readable(text: str) -> str:
    return "\n".join(unquote_plus(line) if line.lstrip().startswith(("request:", "count:")) else line
                     for line in text.splitlines())


@pytest.mark.parametrize("name,options", [("alumio", {}), ("alumio_loopback", {"loopback_operators": True})])
def test_golden(name, options, folder):
    path = GOLDEN / f"{name}.txt"
    cases = []
    for block in path.read_text().split("-- sql\n")[1:]:
        sql, _, expected = block.partition("-- expect\n")
        cases.append((sql.strip(), expected.strip()))
    cat = catalog(**options)
    actual = [(sql, readable(render(sql, cat, folder))) for sql, _ in cases]
    if os.environ.get("LOWCODE_UPDATE_GOLDEN"):
        path.write_text("".join(f"-- sql\n{s}\n-- expect\n{a}\n\n" for s, a in actual))
        return
    for (sql, expected), (_, got) in zip(cases, actual, strict=True):
        assert got == expected, f"\nSQL: {sql}\n--- expected\n{expected}\n--- got\n{got}"


# --- options and hooks that the golden files do not show ------------------------------------------


def _split(options: dict[str, Any], sql: str, folder: Any) -> str:
    return readable(render(sql, catalog(**options), folder))


def test_case_insensitive_text_makes_text_equality_a_superset(folder):
    out = _split({"case_insensitive_text": True}, "SELECT identifier FROM alumio.tasks WHERE status = 'new'", folder)
    assert "superset: status = 'new'" in out and '"where":{"status":"new"}' in out
    out = _split({"case_insensitive_text": True, "loopback_operators": True},
                 "SELECT identifier FROM alumio.tasks WHERE status <> 'new'", folder)
    assert "local: status <> 'new'" in out  # a case-blind neq would drop 'NEW', which SQL keeps


def test_api_prefix_moves_every_path(folder):
    out = _split({"api_prefix": "/custom/v2"}, "SELECT count(*) FROM alumio.storage_customer_map", folder)
    assert "count: custom/v2/storages/customer-map/entities?" in out


def test_bearer_auth_and_accept_header():
    from dialect import Secret

    plan = Alumio({}).auth({"token": Secret("t0k")})
    headers = dict(plan.headers)
    assert headers["Authorization"] == Secret("Bearer t0k") and headers["Accept"] == "application/json"
    assert "t0k" not in repr(plan)
    with pytest.raises(Exception, match="token"):
        Alumio({}).auth({})


def test_bad_options_are_config_errors():
    from lowcode_sql.errors import LowcodeSQLError

    with pytest.raises(LowcodeSQLError, match="unknown type"):
        Alumio({"entity_fields": {"sku": "NUMBERISH"}})
    with pytest.raises(LowcodeSQLError, match="unknown option"):
        Alumio({"loopback": True})


def test_discovery_lists_storages_when_not_named():
    d = Alumio({})
    gen = d.discover()
    req = next(gen)
    assert req.path == "api/v1/storages"
    try:
        gen.send({"metadata": {"totalCount": 1}, "results": [{"identifier": "my-store", "sizeInBytes": 3}]})
    except StopIteration as stop:
        names = [t.name for t in stop.value]
    assert "storage_my_store" in names and "tasks" in names


def test_parse_page_reads_total_cursor_and_json_text():
    d = Alumio({"storages": ["s"]})
    tables = {t.name: t for t in catalog(storages=["s"]).tables.values()}
    page = d.parse_page(tables["tasks"], {"metadata": {"totalCount": 7}, "results": [
        {"identifier": "a", "entityData": {"b": [1, "x"], "a": None}}, {"identifier": "b", "entityData": None}]})
    assert page.total == 7 and page.cursor is None
    assert page.records[0]["__lc_json_entityData"] == '{"a": null, "b": [1, "x"]}'
    assert page.records[1]["__lc_json_entityData"] is None
    page = d.parse_page(tables["storage_s"], {"metadata": {"totalCount": 2}, "results": [], "next": ["c"]})
    assert page.cursor == ["c"]
    assert d.parse_page(tables["storage_s"], {"results": [], "next": []}).cursor is None
    with pytest.raises(Exception, match="results"):
        d.parse_page(tables["tasks"], {"error": "x"})


def test_discovery_pages_through_the_storages():
    gen = Alumio({}).discover()
    first = next(gen)
    assert dict(first.params)["filter"] == '{"skip":0,"limit":1000}'
    second = gen.send({"metadata": {"totalCount": 3}, "results": [{"identifier": "a"}, {"identifier": "b"}]})
    assert dict(second.params)["filter"] == '{"skip":2,"limit":1000}'
    try:
        gen.send({"metadata": {"totalCount": 3}, "results": [{"identifier": "c"}]})
    except StopIteration as stop:
        names = {t.name for t in stop.value}
    assert {"storage_a", "storage_b", "storage_c"} <= names


def test_storage_values_option():
    # without storage_values the value columns are gone and a listing without values is fine ...
    d = Alumio({"storages": ["s"], "storage_values": False})
    table = {t.name: t for t in catalog(storages=["s"], storage_values=False, storage_schemas={}).tables.values()}
    assert [c.name for c in table["storage_s"].columns] == ["identifier", "updated_at"]
    assert d.parse_page(table["storage_s"], {"results": [{"identifier": "k"}]}).records == [{"identifier": "k"}]
    # ... with it (the default), such a listing is an error rather than NULL values
    storage = {t.name: t for t in catalog(storages=["s"]).tables.values()}["storage_s"]
    with pytest.raises(Exception, match="storage_values"):
        Alumio({"storages": ["s"]}).parse_page(storage, {"results": [{"identifier": "k", "updatedAt": None}]})
    assert Alumio({"storages": ["s"]}).parse_page(storage, {"results": [{"identifier": "k", "value": None}]})
