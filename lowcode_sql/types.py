"""Plain values that cross the stages: plan -> dialect -> fetch -> convert -> execute.

Everything here is a frozen dataclass (or enum) so each seam can be golden-tested and hashed.

* ``Pred`` is the predicate IR the planner hands to a dialect: comparisons, IN, LIKE, IS NULL,
  list membership and AND/OR trees in negation normal form (NOT pushed to the leaves, which is
  valid in SQL's three-valued logic by De Morgan).
* ``ScanSpec`` is what one remote table scan must return.
* ``HttpRequest``/``Paging``/``ScanRequest`` are what a dialect renders; ``Page`` what it parses.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Union
from urllib.parse import urlencode

__all__ = [
    "And",
    "Cmp",
    "Const",
    "CursorPaging",
    "Exactness",
    "HttpRequest",
    "InList",
    "IsNull",
    "Like",
    "LikePattern",
    "ListContains",
    "NoPaging",
    "OffsetPaging",
    "Op",
    "Or",
    "Page",
    "Paging",
    "Pred",
    "ScanRequest",
    "ScanSpec",
    "SortKey",
    "columns_of",
]


class Exactness(enum.IntEnum):
    """How a pushed predicate relates to SQL's answer (docs/DESIGN.md §3)."""

    LOCAL = 0  # not sent; DuckDB evaluates it
    SUPERSET = 1  # the API returns every row SQL keeps, maybe more; DuckDB re-checks
    EXACT = 2  # the API returns exactly the rows SQL keeps; dropped locally


class Op(enum.Enum):
    EQ = "="
    NE = "<>"
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="

    def negate(self) -> Op:
        return _NEGATE[self]

    def flip(self) -> Op:
        """The operator with its operands swapped (``3 < x`` is ``x > 3``)."""
        return _FLIP[self]


_NEGATE = {Op.EQ: Op.NE, Op.NE: Op.EQ, Op.LT: Op.GE, Op.GE: Op.LT, Op.GT: Op.LE, Op.LE: Op.GT}
_FLIP = {Op.EQ: Op.EQ, Op.NE: Op.NE, Op.LT: Op.GT, Op.GT: Op.LT, Op.LE: Op.GE, Op.GE: Op.LE}


class _Wild(enum.Enum):
    ANY = "%"
    ONE = "_"


@dataclass(frozen=True)
class LikePattern:
    """A LIKE pattern parsed into literal runs and wildcards, escapes resolved.

    >>> p = LikePattern.parse("ab!%c%", escape="!")
    >>> p.prefix()
    'ab%c'
    """

    parts: tuple[str | _Wild, ...]

    # Literal-typed, so `part is LikePattern.ANY` narrows `part` as `is _Wild.ANY` does
    ANY: ClassVar[Literal[_Wild.ANY]] = _Wild.ANY
    ONE: ClassVar[Literal[_Wild.ONE]] = _Wild.ONE

    @classmethod
    def parse(cls, pattern: str, escape: str | None = None) -> LikePattern:
        parts: list[str | _Wild] = []
        buf: list[str] = []
        i = 0
        while i < len(pattern):
            ch = pattern[i]
            if escape is not None and ch == escape and i + 1 < len(pattern):
                buf.append(pattern[i + 1])
                i += 2
                continue
            if ch in "%_":
                if buf:
                    parts.append("".join(buf))
                    buf = []
                wild = _Wild.ANY if ch == "%" else _Wild.ONE
                # '%%' is the same as '%': keep the pattern canonical.
                if not (wild is _Wild.ANY and parts and parts[-1] is _Wild.ANY):
                    parts.append(wild)
            else:
                buf.append(ch)
            i += 1
        if buf:
            parts.append("".join(buf))
        return cls(tuple(parts))

    def literal(self) -> str | None:
        """The matched string when the pattern has no wildcard."""
        text = [p for p in self.parts if isinstance(p, str)]
        return "".join(text) if len(text) == len(self.parts) else None

    def prefix(self) -> str | None:
        """``'abc'`` for ``abc%``; None for any other shape."""
        if len(self.parts) == 2 and isinstance(self.parts[0], str) and self.parts[1] is _Wild.ANY:
            return self.parts[0]
        return None

    def suffix(self) -> str | None:
        if len(self.parts) == 2 and self.parts[0] is _Wild.ANY and isinstance(self.parts[1], str):
            return self.parts[1]
        return None

    def contains(self) -> str | None:
        p = self.parts
        if len(p) == 3 and p[0] is _Wild.ANY and isinstance(p[1], str) and p[2] is _Wild.ANY:
            return p[1]
        return None

    def leading_literal(self) -> str:
        """The literal text every match starts with (may be empty)."""
        return self.parts[0] if self.parts and isinstance(self.parts[0], str) else ""

    def to_regex(self) -> str:
        """An anchored regular expression matching exactly what LIKE matches (``.`` spans newlines
        only with the DOTALL flag, which callers must set)."""
        out = ["^"]
        for p in self.parts:
            if p is _Wild.ANY:
                out.append(".*")
            elif p is _Wild.ONE:
                out.append(".")
            else:
                out.append(re.escape(p))
        out.append("$")
        return "".join(out)

    def sql(self) -> str:
        """The pattern written back with ``\\`` as the escape character."""
        out = []
        for p in self.parts:
            if isinstance(p, _Wild):
                out.append(p.value)
            else:
                out.append(p.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
        return "".join(out)


# --- predicate IR -------------------------------------------------------------------------------


def sql_literal(value: Any) -> str:
    """A value written as a SQL literal, for EXPLAIN and golden files."""
    import datetime as _dt

    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, _dt.datetime):
        kind = "TIMESTAMPTZ" if value.tzinfo is not None else "TIMESTAMP"
        return f"{kind} '{value.isoformat(sep=' ')}'"
    if isinstance(value, _dt.date):
        return f"DATE '{value.isoformat()}'"
    return repr(value)


@dataclass(frozen=True)
class Cmp:
    """``column <op> value``; ``value`` is already converted to the column's Python type."""

    column: str
    op: Op
    value: Any

    def negate(self) -> Pred:
        return Cmp(self.column, self.op.negate(), self.value)

    def __str__(self) -> str:
        return f"{self.column} {self.op.value} {sql_literal(self.value)}"


@dataclass(frozen=True)
class InList:
    column: str
    values: tuple[Any, ...]
    negated: bool = False

    def negate(self) -> Pred:
        return InList(self.column, self.values, not self.negated)

    def __str__(self) -> str:
        items = ", ".join(sql_literal(v) for v in self.values)
        return f"{self.column} {'NOT IN' if self.negated else 'IN'} ({items})"


@dataclass(frozen=True)
class Like:
    column: str
    pattern: LikePattern
    case_insensitive: bool = False
    negated: bool = False

    def negate(self) -> Pred:
        return Like(self.column, self.pattern, self.case_insensitive, not self.negated)

    def __str__(self) -> str:
        op = ("NOT " if self.negated else "") + ("ILIKE" if self.case_insensitive else "LIKE")
        return f"{self.column} {op} {sql_literal(self.pattern.sql())}"


@dataclass(frozen=True)
class IsNull:
    column: str
    negated: bool = False

    def negate(self) -> Pred:
        return IsNull(self.column, not self.negated)

    def __str__(self) -> str:
        return f"{self.column} IS {'NOT ' if self.negated else ''}NULL"


@dataclass(frozen=True)
class ListContains:
    """``list_contains(column, value)`` on a LIST column (multi-valued fields)."""

    column: str
    value: Any
    negated: bool = False

    def negate(self) -> Pred:
        return ListContains(self.column, self.value, not self.negated)

    def __str__(self) -> str:
        return f"{'NOT ' if self.negated else ''}list_contains({self.column}, {sql_literal(self.value)})"


@dataclass(frozen=True)
class And:
    items: tuple[Pred, ...]

    def negate(self) -> Pred:
        return Or(tuple(i.negate() for i in self.items))

    def __str__(self) -> str:
        return "(" + " AND ".join(map(str, self.items)) + ")"


@dataclass(frozen=True)
class Or:
    items: tuple[Pred, ...]

    def negate(self) -> Pred:
        return And(tuple(i.negate() for i in self.items))

    def __str__(self) -> str:
        return "(" + " OR ".join(map(str, self.items)) + ")"


@dataclass(frozen=True)
class Const:
    value: bool

    def negate(self) -> Pred:
        return Const(not self.value)

    def __str__(self) -> str:
        return "TRUE" if self.value else "FALSE"


Pred = Union[Cmp, InList, Like, IsNull, ListContains, And, Or, Const]


def columns_of(pred: Pred) -> set[str]:
    """Every column a predicate reads."""
    if isinstance(pred, And | Or):
        out: set[str] = set()
        for item in pred.items:
            out |= columns_of(item)
        return out
    if isinstance(pred, Const):
        return set()
    return {pred.column}


# --- scan specification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SortKey:
    column: str
    descending: bool = False
    nulls_first: bool = False


@dataclass(frozen=True)
class ScanSpec:
    """What one scan of one remote table must produce.

    ``pushed`` holds the conjuncts sent to the API with their exactness; ``local`` the ones DuckDB
    evaluates. ``order``/``limit``/``offset`` are set only when every conjunct is exact.
    ``count_only`` asks for the number of matching rows and no rows at all.
    """

    source: str
    table: str
    columns: tuple[str, ...]
    pushed: tuple[tuple[Pred, Exactness], ...] = ()
    local: tuple[Pred, ...] = ()
    order: tuple[SortKey, ...] = ()
    limit: int | None = None
    offset: int = 0
    count_only: bool = False
    contradiction: bool = False
    #: With ``aggregates``: the API groups by these columns (none: one global group) and computes
    #: the aggregates; one record per API group holds the keys and each ``Aggregate.name``.
    group_by: tuple[str, ...] = ()
    aggregates: tuple[Aggregate, ...] = ()

    @property
    def grouped(self) -> bool:
        return bool(self.aggregates)

    @property
    def exact(self) -> bool:
        return not self.local and all(e is Exactness.EXACT for _, e in self.pushed)

    def filters(self, exactness: Exactness | None = None) -> tuple[Pred, ...]:
        return tuple(p for p, e in self.pushed if exactness is None or e is exactness)


GROUP_COUNT = "__lc_count"

AggFunc = Literal["count_star", "count", "sum", "min", "max"]


@dataclass(frozen=True)
class Aggregate:
    """One aggregate an API computes per group (see ``ScanSpec.aggregates``).

    ``count_star`` counts rows; ``count`` the column's non-NULL values; ``sum``/``min``/``max``
    ignore NULLs (a group without values may answer NULL or 0: the engine asks for ``count`` too and
    makes SUM NULL then). DuckDB re-aggregates the API's groups (SUM of counts and sums, MIN of mins,
    MAX of maxes), so the API may split a group SQL merges, but never merge values SQL keeps apart.
    AVG is asked as ``sum`` and ``count``.
    """

    func: AggFunc
    column: str | None = None

    @property
    def name(self) -> str:
        """The column holding this aggregate in a grouped scan's records and view."""
        return GROUP_COUNT if self.func == "count_star" else f"__lc_{self.func}__{self.column}"

    def __str__(self) -> str:
        return "count(*)" if self.func == "count_star" else f"{self.func}({self.column})"

# --- requests and pages ---------------------------------------------------------------------------


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
