"""A shillelagh adapter for CoreData lists, written the way shillelagh's documentation shows
("Creating a new adapter": an ``Adapter`` subclass with ``supports``/``parse_uri``/``get_columns``/
``get_data``, fields declaring which filters they take). Used by ``bench_peers.py`` only; not part
of lowcode_sql.

A table is the list URL itself: ``SELECT ... FROM "http://127.0.0.1:8000/api/v2/tasks/"``.
Pushed down, as CoreData's tastypie filters allow (docs/notes/coredata-api.md): ``title =`` and
``title LIKE 'prefix%'`` (``title__startswith``), ranges on ``created``/``modified`` (``__gt``,
``__gte``, ``__lt``, ``__lte``) and ``LIMIT``. Every pushed filter is declared inexact, so SQLite
checks it again: tastypie reads ``title=None`` as IS NULL and ``title=true`` as a boolean, and a
LIKE is case-insensitive in SQLite but ``startswith`` is not. Only the scalar fields are columns
(shillelagh has no struct or list type).
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
from shillelagh.adapters.base import Adapter
from shillelagh.fields import Field, ISODateTime, Order, String
from shillelagh.filters import Equal, Filter, Like, Range
from shillelagh.typing import RequestedOrder, Row

PAGE = 1000  # tastypie's max_limit on the emulator


def _text(**kw: Any) -> Field:
    return String(order=Order.NONE, exact=False, **kw)


COLUMNS: dict[str, Field] = {
    "id": _text(),
    "title": _text(filters=[Equal, Like]),
    "description": _text(),
    "status": _text(),
    "status_message": _text(),
    "created_by": _text(),
    "modified_by": _text(),
    "version": _text(),
    "created": ISODateTime(filters=[Range], order=Order.NONE, exact=False),
    "modified": ISODateTime(filters=[Range], order=Order.NONE, exact=False),
    "due_date": ISODateTime(order=Order.NONE, exact=False),
}


class CoreDataAdapter(Adapter):
    """One CoreData list endpoint (``/api/v2/<resource>/``) as a table."""

    safe = True
    supports_limit = True
    supports_offset = False

    @staticmethod
    def supports(uri: str, fast: bool = True, **kwargs: Any) -> bool | None:
        parsed = urllib.parse.urlparse(uri)
        return parsed.scheme in ("http", "https") and parsed.path.startswith("/api/v2/")

    @staticmethod
    def parse_uri(uri: str) -> tuple[str]:
        return (uri,)

    def __init__(self, uri: str, user: str = "demo", key: str = "demo-key") -> None:
        super().__init__()
        self.uri = uri
        self.client = httpx.Client(headers={"Authorization": f"apikey {user}:{key}"}, timeout=60)
        self.requests = 0

    def get_columns(self) -> dict[str, Field]:
        return COLUMNS

    def get_data(self, bounds: dict[str, Filter], order: list[tuple[str, RequestedOrder]],
                 limit: int | None = None, **kwargs: Any) -> Iterator[Row]:
        params: list[tuple[str, str]] = []
        for name, flt in bounds.items():
            params += _params(name, flt)
        offset, sent = 0, 0
        while True:
            size = PAGE if limit is None else min(PAGE, limit - sent)
            if size <= 0:
                return
            response = self.client.get(self.uri, params=[*params, ("limit", str(size)), ("offset", str(offset))])
            self.requests += 1
            response.raise_for_status()
            body = response.json()
            for n, obj in enumerate(body["objects"]):
                # raw JSON values: shillelagh parses them with each field's ``parse`` (ISO text -> datetime)
                yield {"rowid": offset + n, **{col: obj.get(col) for col in COLUMNS}}
            sent += len(body["objects"])
            offset += len(body["objects"])
            if not body["meta"].get("next") or not body["objects"]:
                return

    def close(self) -> None:
        self.client.close()


def _params(name: str, flt: Filter) -> list[tuple[str, str]]:
    if isinstance(flt, Equal):
        return [(name, str(flt.value))]
    if isinstance(flt, Like):
        pattern = str(flt.value)
        prefix = pattern[:-1]
        if pattern.endswith("%") and not any(c in prefix for c in "%_"):
            return [(f"{name}__startswith", prefix)]
        return []  # SQLite filters it
    if isinstance(flt, Range):
        out = []
        if flt.start is not None:
            out.append((f"{name}__{'gte' if flt.include_start else 'gt'}", _iso(flt.start)))
        if flt.end is not None:
            out.append((f"{name}__{'lte' if flt.include_end else 'lt'}", _iso(flt.end)))
        return out
    return []


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat()
    return str(value)
