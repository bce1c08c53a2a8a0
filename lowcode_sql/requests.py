"""What a dialect renders for a scan (``HttpRequest``, ``Paging``, ``ScanRequest``) and what it parses
(``Page``): plain values the fetcher sends and pages through; credentials are added by the fetcher."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union
from urllib.parse import urlencode

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ArrowPage", "CursorPaging", "HttpRequest", "NoPaging", "OffsetPaging", "Page", "Paging", "ScanRequest"]


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP request, relative to the source's base URL. Credentials are added by the fetcher."""

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    json: Any = None

    def with_paging(self, container: str | None, values: Sequence[tuple[str, Any]]) -> HttpRequest:
        """Add paging values where the API wants them (see ``OffsetPaging.container``)."""
        if container is None:
            return self.with_params(*((k, str(v)) for k, v in values))
        import json as _json

        if container == "body":
            doc = _json.loads(_json.dumps(self.json)) if self.json is not None else {}
        else:
            raw = dict(self.params).get(container)
            doc = _json.loads(raw) if raw else {}
        for key, value in values:
            *parents, leaf = key.split(".")
            node = doc
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
        if container == "body":
            return HttpRequest(self.method, self.path, self.params, self.headers, doc)
        encoded = _json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
        params = tuple((k, encoded if k == container else v) for k, v in self.params)
        if container not in dict(self.params):
            params += ((container, encoded),)
        return HttpRequest(self.method, self.path, params, self.headers, self.json)

    def with_params(self, *extra: tuple[str, str]) -> HttpRequest:
        keys = {k for k, _ in extra}
        kept = tuple(p for p in self.params if p[0] not in keys)
        return HttpRequest(self.method, self.path, kept + tuple(extra), self.headers, self.json)

    def target(self) -> str:
        """Path and query string, as in golden files and EXPLAIN."""
        return self.path + ("?" + urlencode(self.params) if self.params else "")

    def __hash__(self) -> int:  # json bodies are dicts: hash their canonical text
        import json as _json

        return hash((self.method, self.path, self.params, self.headers, _json.dumps(self.json, sort_keys=True)))


@dataclass(frozen=True)
class OffsetPaging:
    """Random-access paging by row offset (or page number): pages can be fetched concurrently once
    the total is known. ``start``/``max_rows`` carry a pushed OFFSET/LIMIT."""

    offset_param: str
    limit_param: str
    page_size: int
    start: int = 0
    max_rows: int | None = None
    page_number: bool = False  # send offset // page_size instead of the offset (Totalum)
    #: where the two values go: ``None`` plain query parameters; ``"body"`` the JSON body; any other
    #: name, a query parameter holding a JSON object (Alumio's ``filter``). Inside JSON, a dotted
    #: param name is a nested key (``pagination.page``) and the values are numbers.
    container: str | None = None
    #: Boundary check (``fetch/scan.py``): every page after the first is requested one row early and
    #: its first row must be the row the page before ended with, so rows shifting under a running scan
    #: raise ``InconsistentScan`` instead of being skipped. Costs one row per page after the first.
    overlap: bool = True
    #: Page-number APIs only: a row count the API adds to ``page * limit`` (Totalum's
    #: ``pagination.skip``). Pages after the first are then requested as page 0 plus this skip, so
    #: they can start one row early; without it page-number paging cannot overlap (no boundary check).
    skip_param: str | None = None
    #: Without a reported total: whether a page shorter than asked ends the scan. True only where the
    #: dialect knows the platform never clamps its page size; False (Totalum, whose maximum page size
    #: is undocumented) reads on until a page adds no row, one request more per scan, and a clamp
    #: cannot cut the scan short (``fetch/scan.py``, "Pages without a total").
    short_page_ends: bool = True
    #: Without a reported total, pages after the first ask at most this many rows (Totalum: 50, its
    #: documented default limit), so a server cap at or above it never clamps them.
    untotalled_page_size: int | None = None


@dataclass(frozen=True)
class CursorPaging:
    """Sequential paging: each page names the next (a cursor value or link); no concurrency."""

    cursor_param: str
    limit_param: str
    page_size: int
    max_rows: int | None = None
    container: str | None = None  # as OffsetPaging.container (the cursor is sent as given)


@dataclass(frozen=True)
class NoPaging:
    """One request answers everything (counts, grouped aggregates)."""


Paging = Union[OffsetPaging, CursorPaging, NoPaging]


@dataclass(frozen=True)
class ScanRequest:
    """What a dialect renders for a scan: the request without paging parameters, and how to page."""

    base: HttpRequest
    paging: Paging
    notes: tuple[str, ...] = ()  # human-readable facts for EXPLAIN (e.g. "title: superset")

    def page_request(self, offset: int, size: int, cursor: Any = None, *, by_skip: bool = False) -> HttpRequest:
        """The request for ``size`` rows from row ``offset`` (or after ``cursor``). ``by_skip``: a
        page-number API with a ``skip_param`` is asked for page 0 skipping ``offset`` rows, so any
        offset can be reached."""
        p = self.paging
        if isinstance(p, OffsetPaging):
            if by_skip:
                if not (p.page_number and p.skip_param):
                    raise ValueError("by_skip needs page-number paging with a skip_param")
                return self.base.with_paging(
                    p.container, [(p.offset_param, 0), (p.limit_param, size), (p.skip_param, offset)]
                )
            if p.page_number and size and offset % size:
                raise ValueError(f"page-number paging cannot fetch {size} rows from row {offset}")
            # the API computes the first row as page * limit: the page is counted in pages of `size`
            first = offset // size if p.page_number and size else offset
            return self.base.with_paging(p.container, [(p.offset_param, first), (p.limit_param, size)])
        if isinstance(p, CursorPaging):
            extra: list[tuple[str, Any]] = [(p.limit_param, size)]
            if cursor is not None:
                extra.append((p.cursor_param, cursor if p.container else str(cursor)))
            return self.base.with_paging(p.container, extra)
        return self.base


@dataclass
class Page:
    """One parsed response: its records, the reported total (if any) and the next cursor."""

    records: list[Any]
    total: int | None = None
    cursor: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ArrowPage:
    """A page read straight from its bytes into Arrow (``fetch.scan.iter_converted``'s ``fast`` decoder): the
    converted batch, the key of each row (never None) and the reported total."""

    batch: pa.RecordBatch
    keys: list[Any]
    total: int | None
