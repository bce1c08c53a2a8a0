"""The Dialect base class: declarative tables plus pure render hooks.

A dialect never does I/O. It declares its tables (or a *discovery* generator that yields requests
and receives their JSON answers), classifies predicates into exact / superset / local, renders a
``ScanSpec`` into a ``ScanRequest`` and parses one response body into a ``Page``. The engine
drives HTTP, retries, paging, conversion and execution.

Adding a platform means one subclass of ``Dialect`` in ``dialect/<name>.py`` (registered by its
``name`` on subclassing, and through the ``lowcode_sql.dialects`` entry point) and one emulator in
``lowcode_sql/sandbox/``.
"""

from __future__ import annotations

import base64
import json
from abc import ABC, abstractmethod
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, NamedTuple, TypeVar

import pyarrow as pa

from lowcode_sql import types as _types
from lowcode_sql.ir import Exactness, Pred
from lowcode_sql.requests import HttpRequest, Page, ScanRequest
from lowcode_sql.scanspec import Aggregate, ScanSpec, SortKey
from lowcode_sql.secrets import Secret  # re-exported: it moved to lowcode_sql.secrets

__all__ = ["COMMON_OPTIONS", "NOT_SENT", "PUSH_OPS", "REGISTRY", "AuthPlan", "ColumnDef", "Dialect", "Discovery",
           "Secret", "TableDef", "Token", "Translated", "jwt_expiry", "push_op", "table_as"]

REGISTRY: dict[str, type[Dialect]] = {}


Extract = Literal["value", "first", "all"]
Parse = Literal["iso", "epoch_ms", "date"]  # ColumnDef.parse


@dataclass(frozen=True)
class ColumnDef:
    """One SQL column of a remote table.

    ``path`` is the JSON path inside a record. ``extract`` says how: ``value`` takes it as is;
    ``first``/``all`` read an array of value objects (Entu) and take ``item_key`` of the first /
    of every element. ``parse`` converts wire text to the Arrow type: ``iso`` (ISO-8601 text),
    ``epoch_ms`` (milliseconds since the epoch), ``date`` (ISO text to DATE).
    ``filter_only`` columns are not in the records: they echo a pushed equality filter.
    """

    name: str
    type: pa.DataType
    path: tuple[str, ...] = ()
    extract: Extract = "value"
    item_key: str | None = None
    parse: Parse | None = None
    doc: str = ""
    filter_only: bool = False

    def json_path(self) -> tuple[str, ...]:
        return self.path or (self.name,)


#: The operators a table may declare pushable for a column: a leaf predicate's ``push_op``.
PUSH_OPS = frozenset({"=", "<>", "<", "<=", ">", ">=", "IN", "NOT IN", "IS NULL", "IS NOT NULL", "LIKE",
                      "ILIKE", "CONTAINS", "NOT CONTAINS"})


def push_op(pred: Pred) -> str | None:
    """The operator of a leaf predicate as ``TableDef.pushable`` names it; None for AND/OR/constants."""
    if isinstance(pred, _types.Cmp):
        return pred.op.value
    if isinstance(pred, _types.InList):
        return "NOT IN" if pred.negated else "IN"
    if isinstance(pred, _types.IsNull):
        return "IS NOT NULL" if pred.negated else "IS NULL"
    if isinstance(pred, _types.Like):
        return ("NOT " if pred.negated else "") + ("ILIKE" if pred.case_insensitive else "LIKE")
    if isinstance(pred, _types.ListContains):
        return "NOT CONTAINS" if pred.negated else "CONTAINS"
    return None


@dataclass(frozen=True)
class TableDef:
    """One remote table. A dialect subclasses it (a frozen dataclass with keyword-only fields) for
    what its rendering needs to know about the table (its resource, field kinds, ...).

    ``pushable`` declares, per column, the operators (``PUSH_OPS``) the dialect may send to the API
    for some values of the column's type, with the source's default options applied and before the
    ``local_filters`` option; every other leaf condition on the column stays local. Whether a given
    value is sent, and how exactly, is still ``classify``'s answer (a literal the API cannot write
    stays local). ``required_filters`` are columns a scan of the table must filter on with ``=``
    (``MissingRequiredFilter`` otherwise). The conformance suite checks both against ``classify``
    and the platform's emulator.
    """

    name: str
    columns: tuple[ColumnDef, ...]
    doc: str = ""
    key: str | None = None  # a unique column: used for duplicate detection across pages
    pushable: Mapping[str, frozenset[str]] = field(default_factory=dict)
    required_filters: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = {op for ops in self.pushable.values() for op in ops} - PUSH_OPS
        strays = set(self.pushable) - {c.name for c in self.columns}
        if unknown or strays:
            from lowcode_sql.errors import DialectError

            raise DialectError(f"table {self.name}: pushable names unknown columns {sorted(strays)} or "
                               f"operators {sorted(unknown)} (operators: {', '.join(sorted(PUSH_OPS))})")

    def column(self, name: str) -> ColumnDef:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def has(self, name: str) -> bool:
        return any(c.name == name for c in self.columns)

    def schema(self, names: Sequence[str] | None = None) -> pa.Schema:
        cols = self.columns if names is None else [self.column(n) for n in names]
        return pa.schema([pa.field(c.name, c.type) for c in cols])


_T = TypeVar("_T", bound=TableDef)


def table_as(table: TableDef, cls: type[_T]) -> _T:
    """``table`` as the dialect's own ``TableDef`` subclass: a table built elsewhere (by hand, or by
    another dialect) is a typed error, not an AttributeError deep in rendering."""
    if not isinstance(table, cls):
        from lowcode_sql.errors import DialectError

        raise DialectError(f"table {table.name!r} is a {type(table).__name__}, not a {cls.__name__}: "
                           "build it with the dialect's own discovery")
    return table


class Translated(NamedTuple):
    """A conjunct's exactness and what the dialect sends for it (its own rendering: a parameter, a
    JSON condition, ...; None when it is not sent)."""

    exactness: Exactness
    sent: Any = None


NOT_SENT = Translated(Exactness.LOCAL)


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float | None = None  # epoch seconds


@dataclass(frozen=True)
class AuthPlan:
    """How to authenticate, as data.

    ``headers`` are added to every request (values may hold ``Secret``s; ``{token}`` is replaced
    by the current token). ``login`` is sent first when a token exchange is needed; the dialect's
    ``parse_login`` turns its JSON into a ``Token``. A 401 answer triggers one re-login and a replay.
    """

    headers: tuple[tuple[str, str | Secret], ...] = ()
    login: HttpRequest | None = None
    login_secret_headers: tuple[tuple[str, Secret], ...] = ()
    login_secret_json: Mapping[str, Secret] = field(default_factory=dict)
    refresh_margin: float = 60.0


# A discovery routine yields requests and is sent their decoded JSON bodies; it returns tables.
Discovery = Generator[HttpRequest, Any, list[TableDef]]


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT, without verifying it (we only schedule a refresh)."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        return float(json.loads(base64.urlsafe_b64decode(payload))["exp"])
    except (IndexError, KeyError, ValueError, TypeError):
        return None


#: Options every dialect has: turning one pushdown off where an API was found not to honour it.
COMMON_OPTIONS: dict[str, tuple[Any, str]] = {
    "local_filters": ([], "columns whose WHERE conditions are never sent to the API, only evaluated locally "
                          "(\"*\": all): for a filter the API ignores or reads differently"),
    "sort_pushdown": (True, "send ORDER BY to the API where the dialect can; false sorts locally; \"trusted\" "
                            "also skips the check that a sorted LIMIT's rows are the first ones (one request)"),
    "count_from_total": (False, "answer COUNT(*) with a text condition from the API's reported total (one "
                                "request), and let the API aggregate (GROUP BY, SUM...) over text conditions, "
                                "instead of reading and checking the rows; set it once you know the API "
                                "compares text as SQL does (case, collation): totals and aggregates cannot "
                                "be checked"),
}


def _keep_local(classify: Any) -> Any:
    """``classify`` with the ``local_filters`` option applied: those conjuncts stay LOCAL."""

    def wrapped(self: Dialect, table: TableDef, conjuncts: Sequence[Pred]) -> list[Exactness]:
        decisions = classify(self, table, conjuncts)
        local = self.options.get("local_filters") or ()
        if not local:
            return list(decisions)
        from lowcode_sql.types import columns_of

        return [Exactness.LOCAL if "*" in local or (columns_of(p) & set(local)) else d
                for p, d in zip(conjuncts, decisions, strict=True)]

    wrapped.__doc__, wrapped.__name__ = classify.__doc__, classify.__name__
    return wrapped


def _sort_switch(can_sort: Any) -> Any:
    def wrapped(self: Dialect, table: TableDef, keys: Sequence[SortKey]) -> bool:
        return bool(self.options.get("sort_pushdown", True)) and bool(can_sort(self, table, keys))

    wrapped.__doc__, wrapped.__name__ = can_sort.__doc__, can_sort.__name__
    return wrapped


class Dialect(ABC):
    """Base class of every platform dialect. Subclasses register themselves by ``name``."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    #: option name -> (default, help): per-source switches for behaviour the docs leave unconfirmed
    OPTIONS: ClassVar[dict[str, tuple[Any, str]]] = {}
    #: credential name -> help (values come from environment variables named in the config)
    CREDENTIALS: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if cls.name:
            REGISTRY[cls.name] = cls
        # the switches every source has (issue 13): what a run-time check (``execute/verify.py``)
        # names when an API answer contradicts a pushdown
        cls.OPTIONS = {**cls.OPTIONS, **COMMON_OPTIONS}
        # wrapping a subclass's own methods at class creation (mypy forbids assigning to a method)
        if "classify" in cls.__dict__:
            cls.classify = _keep_local(cls.__dict__["classify"])  # type: ignore[method-assign]
        if "can_sort" in cls.__dict__:
            cls.can_sort = _sort_switch(cls.__dict__["can_sort"])  # type: ignore[method-assign]

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        opts = dict(options or {})
        unknown = set(opts) - set(self.OPTIONS)
        if unknown:
            from lowcode_sql.errors import ConfigError, close_matches

            name = sorted(unknown)[0]
            raise ConfigError(
                f"{self.name}: unknown option {name!r}{close_matches(name, self.OPTIONS)}"
            )
        self.options = {k: opts.get(k, d) for k, (d, _) in self.OPTIONS.items()}
        local = self.options["local_filters"]
        if not isinstance(local, list | tuple) or not all(isinstance(c, str) for c in local):
            from lowcode_sql.errors import ConfigError

            raise ConfigError(f"{self.name}: local_filters must be a list of column names, e.g. [\"title\"]")
        if self.options["sort_pushdown"] not in (True, False, "trusted"):
            from lowcode_sql.errors import ConfigError

            raise ConfigError(f"{self.name}: sort_pushdown must be true, false or \"trusted\"")
        if not isinstance(self.options["count_from_total"], bool):
            from lowcode_sql.errors import ConfigError

            raise ConfigError(f"{self.name}: count_from_total must be true or false")

    def sort_confirmed(self, table: TableDef, keys: Sequence[SortKey]) -> bool:
        """Whether the platform's docs confirm the API orders rows by ``keys`` exactly as SQL does
        (a documented default order on a unique key): a sorted LIMIT then skips the boundary check."""
        return False

    @property
    def sort_trusted(self) -> bool:
        """Whether the source says its API sorts exactly as SQL (``sort_pushdown = "trusted"``): a
        sorted LIMIT then skips the boundary check of ``execute/verify.py``."""
        return self.options.get("sort_pushdown") == "trusted"

    # --- auth ---------------------------------------------------------------------------------
    @abstractmethod
    def auth(self, credentials: Mapping[str, Secret]) -> AuthPlan: ...

    def parse_login(self, body: Any) -> Token:  # pragma: no cover - only token platforms
        raise NotImplementedError

    # --- tables -------------------------------------------------------------------------------
    @abstractmethod
    def discover(self) -> Discovery:
        """Yield discovery requests; return the tables. Fixed-resource platforms yield nothing."""

    # --- pushdown -----------------------------------------------------------------------------
    def translate(self, table: TableDef, conjuncts: Sequence[Pred]) -> list[Translated]:
        """How exactly each top-level conjunct is sent, and what is sent for it, from one walk: a
        dialect that implements ``translate_one`` (and ``settle``) gets ``classify`` from it and
        renders ``spec.pushed`` through it, so what it claims and what it sends cannot disagree."""
        return self.settle(table, conjuncts, [self.translate_one(table, p) for p in conjuncts])

    def translate_one(self, table: TableDef, pred: Pred) -> Translated:
        """One conjunct alone: its exactness and the dialect's rendering of it (None when LOCAL)."""
        return NOT_SENT

    def settle(self, table: TableDef, conjuncts: Sequence[Pred], translated: list[Translated]) -> list[Translated]:
        """Conflicts between conjuncts (a parameter the API takes once): the ones that lose become
        ``NOT_SENT``. Must keep every conjunct of a set it already settled: ``render_scan`` translates
        the pushed conjuncts again, without the local ones."""
        return translated

    def translate_pushed(self, table: TableDef, spec: ScanSpec) -> list[tuple[Pred, Any]]:
        """The pushed conjuncts with their renderings (for ``render_scan``); a conjunct ``translate``
        would not send is a ``DialectError`` (it was not classified by this dialect)."""
        preds = [p for p, _ in spec.pushed]
        out = []
        for pred, t in zip(preds, self.translate(table, preds), strict=True):
            if t.exactness is Exactness.LOCAL:
                from lowcode_sql.errors import DialectError

                raise DialectError(f"{self.name} cannot render {pred}: it is not sent to the API")
            out.append((pred, t.sent))
        return out

    def classify(self, table: TableDef, conjuncts: Sequence[Pred]) -> list[Exactness]:
        """Decide, for each top-level conjunct, whether it is sent and how exactly.

        Must be deterministic: ``render_scan`` renders exactly the conjuncts marked non-local.
        By default ``translate``'s answer.
        """
        return [t.exactness for t in self.translate(table, conjuncts)]

    classify = _keep_local(classify)

    def can_sort(self, table: TableDef, keys: Sequence[SortKey]) -> bool:
        """Whether the API orders rows exactly as SQL's ORDER BY ``keys`` would."""
        return False

    def can_count(self, table: TableDef) -> bool:
        """Whether a response reports the total number of matches."""
        return True

    max_pushed_limit: int | None = None  # a sorted LIMIT larger than this is not pushed (per instance)
    #: Whether a scan asks the API for ``spec.columns`` only (a field list), so other columns are
    #: absent from the records: the run-time checks (``execute/verify.py``) then test only the
    #: pushed conditions on those columns.
    projects_columns: ClassVar[bool] = False

    def can_aggregate(self, table: TableDef, keys: Sequence[str], aggregates: Sequence[Aggregate],
                      filters: Sequence[Pred] = ()) -> bool:
        """Whether the API can group by ``keys`` (none: one global group) and compute ``aggregates``
        exactly as SQL would, up to groups DuckDB merges again (see ``Aggregate``), with ``filters``
        (the scan's pushed conjuncts, all exact) applied. A yes makes ``render_scan`` receive
        ``spec.aggregates``."""
        return False

    def aggregate_path(self, agg: Aggregate) -> tuple[str, ...]:
        """Where an aggregate's value is in a grouped answer's records (after ``parse_page``)."""
        return (agg.name,)

    @abstractmethod
    def render_scan(self, table: TableDef, spec: ScanSpec) -> ScanRequest: ...

    @abstractmethod
    def parse_page(self, table: TableDef, body: Any) -> Page: ...

    def parse_answer(self, table: TableDef, request: HttpRequest, body: Any) -> Page:
        """``parse_page`` knowing the request that was sent (what the engine calls): a dialect whose
        answers differ by request (a list vs an aggregate) decides by what it asked, never by
        guessing from the answer's keys."""
        return self.parse_page(table, body)

    def page_layout(self, table: TableDef, request: ScanRequest) -> tuple[str, tuple[str, ...]] | None:
        """Where a page of ``request``'s answers keeps its records and its total: ``(records field,
        path of the total or ())`` when ``parse_answer`` is exactly "a JSON object whose records field is a
        list; the total is the integer at that path, else unknown", so the engine may read the page's
        bytes straight into Arrow (``convert.arrow.arrow_page_decoder``) and fall back to
        ``parse_answer`` for any page that does not fit. None (the default): always ``parse_answer``."""
        return None

    def echo_values(self, spec: ScanSpec) -> dict[str, Any]:
        """Values for ``filter_only`` columns (not in the records), taken from the pushed filters."""
        return {}

    def describe_option_help(self) -> list[str]:
        return [f"{k} (default {d!r}): {h}" for k, (d, h) in self.OPTIONS.items()]
