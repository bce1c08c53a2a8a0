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
from tests.dialect.golden_harness import render
from tests.dialect.test_golden import StaticCatalog

GOLDEN = Path(__file__).parent / "golden"
OPTIONS: dict[str, Any] = {
    "storages": ["customer-map"],
    "storage_schemas": {"customer-map": {"crmId": "VARCHAR", "erpId": "BIGINT"}},
    "entity_fields": {"sku": "VARCHAR", "customer.email": "VARCHAR", "grandTotal": "DOUBLE"},
}


def catalog(**options: Any) -> StaticCatalog:
    d = Alumio({**OPTIONS, **options})
    gen = d.discover()
    try:
        next(gen)
    except StopIteration as stop:
        return StaticCatalog("alumio", d, stop.value)
    raise AssertionError("with the storages option, discovery makes no requests")


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
