"""What the probe knows of each platform beyond its dialect: the documented answer shape, the opt-in
pushdowns it tests (and the options a confirmation justifies), and which option says that text ``=``
or LIKE ignores case. A platform without an entry is probed by its dialect alone."""

from __future__ import annotations

import dataclasses
from typing import Any

from dialect import TableDef, table_as
from dialect.entu import EntuTable, _pushable
from lowcode_sql.probe.context import Hints

__all__ = ["hints_for"]


def _keys(*names: str) -> Any:
    return lambda body: isinstance(body, dict) and all(n in body for n in names)


def _entu_single(table: TableDef, rows: list[dict[str, Any]]) -> TableDef:
    # sorting and exact filters need single-valued properties (the source's ``single_valued``, kept in
    # the table by discovery): the probe treats so those whose every sampled entity holds at
    # most one value, since it tests the API, not the account's data model
    single = {c.name for c in table.columns if table.has(c.name + "__all")
              and all(len(r.get(c.name + "__all") or ()) <= 1 for r in rows)}
    entu = table_as(table, EntuTable)
    both = entu.single | single
    return dataclasses.replace(entu, single=both, pushable=_pushable(entu.props, both))


_HINTS: dict[str, Hints] = {
    # docs/notes/totalum-api.md: {data, metadata: {count}} is assumed (the seed's example is a bare array)
    "totalum": Hints(
        shape=("an object with data and metadata.count",
               lambda b: isinstance(b, dict) and "data" in b and isinstance(b.get("metadata"), dict)
               and "count" in b["metadata"]),
        probe_options=lambda t, rows: {"in_operator": True, "aggregate": True},
        confirms={"IN honoured": ("in_operator", True), "aggregate": ("aggregate", True)}),
    # docs/notes/slingr-api.md: list answers {total, offset, items}; like() case unknown
    "slingr": Hints(
        shape=("an object with total, offset and items", _keys("total", "offset", "items")),
        probe_options=lambda t, rows: {"like_case": "sensitive", "aggregate_pushdown": True},
        like_case_option="like_case",
        confirms={"aggregate": ("aggregate_pushdown", True)}),
    # docs/notes/coredata-api.md: tastypie {meta, objects}; order_by and the projects' identifier unconfirmed
    "coredata": Hints(
        shape=("an object with meta and objects", _keys("meta", "objects")),
        probe_options=lambda t, rows: {"order_by": True, "project_identifier": True, "case_sensitive_text": True},
        case_option=("case_sensitive_text", False),
        confirms={"impossible filter [identifier]": ("project_identifier", True), "sort": ("order_by", True)}),
    "entu": Hints(shape=("an object with count and entities", _keys("count", "entities")),
                  probe_table=_entu_single),
    # docs/notes/alumio-api.md: list answers {results, ...}; text = case-sensitive assumed
    "alumio": Hints(
        shape=("an object with results", _keys("results")),
        probe_options=lambda t, rows: {"case_insensitive_text": False},
        case_option=("case_insensitive_text", True)),
}


def hints_for(platform: str) -> Hints:
    return _HINTS.get(platform, Hints())
