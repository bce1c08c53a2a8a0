"""What every check reads: the source, the table under test, a sample page, and how to ask and judge.

A check is a plain object (``Check``: name, what it asks, what it costs, how it judges) so the plan can
be printed before a request is sent. Its ``run`` returns ``Finding``s: *confirmed* (the API did what
the dialect assumes), *differs* (it did not: the finding names the source option that copes),
*inconclusive* (the answer cannot tell) or *skipped* (not pushed on this source, no suitable column,
or over the request bound).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

from dialect import TableDef
from lowcode_sql.errors import AssumptionFailed, FetchError, RequestRefused
from lowcode_sql.execute.verify import ScanVerifier
from lowcode_sql.probe.session import Answer, Session
from lowcode_sql.types import Exactness, Pred, ScanSpec, SortKey

__all__ = ["BIG_PAGE", "Check", "Context", "Finding", "Hints", "Skip"]

Result = Literal["confirmed", "differs", "inconclusive", "skipped"]

#: rows asked of the sample page: large enough to see a page cap below it
BIG_PAGE = 1000


@dataclass
class Finding:
    check: str
    result: Result
    evidence: str
    #: source options this finding justifies (``local_filters`` entries are merged by the report)
    options: dict[str, Any] = field(default_factory=dict)
    #: a line for the TOML snippet that needs the user's judgement (a path the probe cannot know)
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check": self.check, "result": self.result, "evidence": self.evidence}
        if self.options:
            out["options"] = self.options
        if self.note:
            out["note"] = self.note
        return out


class Skip(Exception):
    """A check cannot run: the reason becomes a *skipped* finding."""


@dataclass(frozen=True)
class Check:
    name: str
    asks: str
    cost: str  # requests it sends: "1", "≤ 3", "≤ 1 per table" (shown in the plan)
    run: Callable[[Context], list[Finding]]


@dataclass(frozen=True)
class Hints:
    """What the probe knows about one platform beyond its dialect (``lowcode_sql/probe/platforms.py``)."""

    #: the documented answer shape: (description, test of a list answer's JSON body)
    shape: tuple[str, Callable[[Any], bool]] | None = None
    #: options the probe renders with (opt-in pushdowns it tests), given the table under test
    probe_options: Callable[[TableDef, list[dict[str, Any]]], dict[str, Any]] = lambda t, rows: {}
    #: the table as the probe renders for it (e.g. Entu: properties seen single-valued treated so)
    probe_table: Callable[[TableDef, list[dict[str, Any]]], TableDef] = lambda t, rows: t
    #: the option that says text ``=`` ignores case, and its value then
    case_option: tuple[str, Any] | None = None
    #: the option saying whether LIKE is case-sensitive (Slingr's ``like_case``)
    like_case_option: str | None = None
    #: check name -> the option a confirmed finding justifies (an opt-in the probe tested)
    confirms: Mapping[str, tuple[str, Any]] = field(default_factory=dict)
    #: the option bounding rows per request
    page_option: str | None = "page_size"


@dataclass
class Context:
    session: Session
    table: TableDef
    sample: Answer
    hints: Hints
    #: the table as the source sees it (``table`` may be the probe's variant of it, ``Hints.probe_table``)
    user_table: TableDef | None = None

    #: the findings so far (a check may read an earlier one's result)
    findings: list[Finding] = field(default_factory=list)

    def row_count(self) -> int | None:
        """The table's rows: the reported total, or the sample's when it was the whole table (shorter
        than asked, and the page cap check found nothing after it)."""
        if self.sample.page.total is not None:
            return self.sample.page.total
        if len(self.sample.rows) < BIG_PAGE and self.result("page cap") == "confirmed":
            return len(self.sample.rows)
        return None

    def result(self, check: str) -> str | None:
        return next((f.result for f in self.findings if f.check == check), None)

    def __post_init__(self) -> None:
        if self.user_table is None:
            self.user_table = self.table

    # --- asking ---------------------------------------------------------------------------------

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.table.columns if not c.filter_only)

    @property
    def sample_paging(self) -> Any:
        """How an unfiltered scan of the table pages."""
        return self.session.dialect.render_scan(self.table, self.spec()).paging

    def need(self, n: int) -> None:
        """Refuse to start a check that could pass the request bound (listed as skipped)."""
        if self.session.left < n:
            raise Skip(f"over the bound: needs up to {n} request{'s' if n != 1 else ''}, "
                       f"{self.session.left} left")

    def justified(self, check: str) -> dict[str, Any]:
        """The opt-in option a confirmed ``check`` justifies (``Hints.confirms``), unless already set."""
        option = self.hints.confirms.get(check)
        if option is None or self.session.user_dialect.options.get(option[0]) == option[1]:
            return {}
        return {option[0]: option[1]}

    def pushed(self, pred: Pred) -> Exactness:
        return self.session.dialect.classify(self.table, [pred])[0]

    def user_exact(self, pred: Pred) -> bool:
        assert self.user_table is not None
        return self.session.user_dialect.classify(self.user_table, [pred])[0] is Exactness.EXACT

    def spec(self, preds: Sequence[Pred] = (), order: Sequence[SortKey] = ()) -> ScanSpec:
        pushed = tuple((p, self.pushed(p)) for p in preds)
        return ScanSpec(self.session.name, self.table.name, self.columns, pushed=pushed, order=tuple(order))

    def fetch(self, spec: ScanSpec, offset: int = 0, size: int = BIG_PAGE, *, by_skip: bool = False) -> Answer:
        return self.session.fetch(self.table, spec, offset, size, by_skip=by_skip)

    # --- judging --------------------------------------------------------------------------------

    def failing(self, answer: Answer, preds: Sequence[Pred] = (), order: Sequence[SortKey] = ()) -> str | None:
        """Why the answer breaks ``preds`` or ``order`` (DuckDB's semantics, as the run-time checks
        judge them), or None."""
        if answer.batch is None or not answer.rows:
            return None
        verifier = ScanVerifier(self.session.name, self.table, preds, order)
        try:
            verifier.check(answer.batch)
        except AssumptionFailed as e:
            text = str(e).split("] ", 1)[-1].split(" although", 1)[0].split(": it ignores", 1)[0]
            return text.removeprefix(f"{self.table.name}: ").strip()
        finally:
            verifier.close()
        return None

    def identity(self, row: Mapping[str, Any]) -> str:
        key = self.table.key
        if key and row.get(key) is not None:
            return str(row[key])
        return json.dumps(row, sort_keys=True, default=str)

    def ids(self, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        return [self.identity(r) for r in rows]

    # --- columns --------------------------------------------------------------------------------

    def text_columns(self) -> list[str]:
        """String columns with values in the sample (not the key: its values are opaque ids)."""
        out = []
        for c in self.table.columns:
            if c.filter_only or c.type != pa.string() or c.name == self.table.key:
                continue
            if any(isinstance(v, str) and v for v in self.sample.values(c.name)):
                out.append(c.name)
        return out

    def texts(self, column: str) -> list[str]:
        return [v for v in self.sample.values(column) if isinstance(v, str) and v]


def attempt(name: str, run: Callable[[], Finding]) -> Finding:
    """``run`` with the API's refusals as findings: a 4xx means the API does not take what the
    dialect would send (a typed error at query time: not a wrong answer, but not a pushdown either)."""
    try:
        return run()
    except Skip as e:
        return Finding(name, "skipped", str(e))
    except RequestRefused as e:
        return Finding(name, "skipped", str(e).split("] ", 1)[-1])
    except FetchError as e:
        text = str(e).split("] ", 1)[-1]
        if e.status is not None and 400 <= e.status < 500:
            return Finding(name, "differs", f"the API refused it: {text}"[:300])
        return Finding(name, "inconclusive", f"no answer: {text}"[:300])


def shown(value: Any, width: int = 40) -> str:
    text = value.isoformat() if isinstance(value, dt.date) else repr(value)
    return text if len(text) <= width else text[: width - 4] + "...'"


def rows(n: int, what: str = "row") -> str:
    return f"{n} {what}{'s' if n != 1 else ''}"
