"""``lowcode-sql probe SOURCE``: check what a dialect assumes about an API against the account itself.

Read-only and bounded (``max_requests``, 50 by default, counted at the transport: logins, discovery
and retries included). After discovery, the first table with rows is sampled with one large page;
then each check (``checks.CHECKS``: an impossible filter, ``=`` and LIKE case, ``IN``, sort in both
directions, NULL order, page cap, totals, paging, the answer's shape, API-side GROUP BY, every other
table's path) asks one question with requests the dialect renders, and judges the answer. A check
whose requests would pass the bound is listed as skipped. The report ends with the source options
the findings justify, as TOML (``Report.toml``), or everything as JSON (``Report.as_dict``).

>>> report = probe(source_from_mapping("t", {"platform": "totalum", "sandbox": True}))  # doctest: +SKIP
>>> print(report.text())                                                                # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lowcode_sql.config import SourceConfig
from lowcode_sql.errors import ConfigError, DialectError, FetchError, LowcodeSQLError, RequestRefused
from lowcode_sql.probe.checks import CHECKS
from lowcode_sql.probe.context import BIG_PAGE, Check, Context, Finding, Result, rows
from lowcode_sql.probe.platforms import hints_for
from lowcode_sql.probe.session import BOUND_SPENT, Session
from lowcode_sql.secrets import redact
from lowcode_sql.types import ScanSpec

__all__ = ["DEFAULT_MAX_REQUESTS", "Finding", "Report", "plan_text", "probe"]

DEFAULT_MAX_REQUESTS = 50
#: tables tried for the sample (the first with rows is probed)
TABLES_TRIED = 5


def plan_text(max_requests: int, checks: Sequence[Check] = CHECKS) -> str:
    """What the probe will send, before it sends anything."""
    lines = [f"probe will send at most {max_requests} requests (reads only):",
             "  discovery: the requests the dialect needs to list the tables",
             f"  sample: one {BIG_PAGE}-row page of the first table with rows (≤ {TABLES_TRIED} tables tried)"]
    lines += [f"  {c.name} ({c.cost}): {c.asks}" for c in checks]
    lines.append("  checks that would pass the bound are skipped")
    return "\n".join(lines)


@dataclass
class Report:
    source: str
    platform: str
    max_requests: int
    table: str | None = None
    requests: int = 0
    findings: list[Finding] = field(default_factory=list)
    user_local_filters: list[str] = field(default_factory=list)
    #: the checks as planned: name, what each asks, what it costs
    plan: list[dict[str, str]] = field(default_factory=list)

    def options(self) -> dict[str, Any]:
        """The source options the findings justify (``local_filters`` with the source's own)."""
        opts: dict[str, Any] = {}
        local: list[str] = []
        for f in self.findings:
            for k, v in f.options.items():
                if k == "local_filters":
                    local.extend(v)
                else:
                    opts[k] = v
        if local:
            opts["local_filters"] = sorted(set(self.user_local_filters) | set(local))
        return dict(sorted(opts.items()))

    def toml(self) -> str:
        opts = self.options()
        notes = [f.note for f in self.findings if f.note]
        lines = [f"# lowcode-sql probe: the options these findings justify (merge into [sources.{self.source}])"]
        skipped = sum(f.result == "skipped" for f in self.findings)
        if not opts and not notes:
            lines.append("# nothing to change for what was checked" +
                         (f" ({rows(skipped, 'check')} skipped)" if skipped else ""))
        lines.append(f"[sources.{self.source}.options]")
        lines += [f"{k} = {_toml(v)}" for k, v in opts.items()]
        lines += [f"# {n}" for n in notes]
        return "\n".join(lines) + "\n"

    def text(self) -> str:
        head = f"probe of source {self.source!r} ({self.platform})"
        head += f", table {self.table}" if self.table else ": no table sampled"
        rows = [(f.check, f.result, f.evidence) for f in self.findings]
        w0 = max([len("check")] + [len(r[0]) for r in rows])
        w1 = max([len("result")] + [len(r[1]) for r in rows])
        out = [head, "", f"{'check'.ljust(w0)} | {'result'.ljust(w1)} | evidence",
               f"{'-' * w0}-+-{'-' * w1}-+-{'-' * 8}"]
        out += [f"{a.ljust(w0)} | {b.ljust(w1)} | {c}" for a, b, c in rows]
        out += ["", f"{self.requests} of at most {self.max_requests} requests sent", "", self.toml()]
        return "\n".join(out)

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "platform": self.platform, "table": self.table,
                "max_requests": self.max_requests, "requests": self.requests, "plan": self.plan,
                "findings": [f.as_dict() for f in self.findings], "options": self.options(),
                "toml": self.toml()}

    def json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, default=str, ensure_ascii=False)

    def result(self, check: str) -> str | None:
        """The result of the finding named ``check`` (the first, for repeated names)."""
        return next((f.result for f in self.findings if f.check == check), None)


def _toml(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + " }"
    return json.dumps(str(v), ensure_ascii=False)


def probe(sc: SourceConfig, sandbox: Any = None, *, max_requests: int = DEFAULT_MAX_REQUESTS,
          checks: Sequence[Check] = CHECKS) -> Report:
    """Probe one source (``sandbox``: an emulator instance for a sandbox source)."""
    if max_requests < 1:
        raise ConfigError("probe: --max-requests must be at least 1")
    session = Session(sc, sandbox, limit=max_requests)
    report = Report(sc.name, sc.platform, max_requests,
                    user_local_filters=list(session.user_dialect.options.get("local_filters") or ()),
                    plan=[{"check": c.name, "asks": c.asks, "requests": c.cost} for c in checks])
    try:
        _run(session, report, checks)
    finally:
        report.requests = session.used
        session.close()
    for f in report.findings:
        f.evidence = redact(session.redact(f.evidence))
        f.note = redact(session.redact(f.note)) if f.note else None
    return report


def _run(session: Session, report: Report, checks: Sequence[Check]) -> None:
    found = report.findings
    try:
        tables = session.tables()
    except RequestRefused as e:  # the bound is below what discovery needs: say so, send nothing more
        found.append(Finding("discovery", "skipped", str(e).split("] ", 1)[-1]))
        return
    shown = f"{rows(len(tables), 'table')} with {rows(session.used, 'request')}"
    warned = session.discovery_warnings
    # a listing the dialect could do without (it warned) was refused by the bound, not the API
    verdict: Result = "skipped" if any(BOUND_SPENT in w for w in warned) else "differs" if warned else "confirmed"
    found.append(Finding("discovery", verdict, "; ".join([shown, *warned])[:400]))
    ctx = _sample(session, tables, found)
    if ctx is None:
        return
    report.table = ctx.table.name
    for check in checks:
        try:
            found.extend(check.run(ctx))
        except (DialectError, LowcodeSQLError) as e:  # an answer the dialect cannot read
            found.append(Finding(check.name, "inconclusive", f"{type(e).__name__}: {e}"[:300]))


def _sample(session: Session, tables: dict[str, Any], found: list[Finding]) -> Context | None:
    hints = hints_for(session.platform)
    for table in list(tables.values())[:TABLES_TRIED]:
        spec = ScanSpec(session.name, table.name, tuple(c.name for c in table.columns if not c.filter_only))
        try:
            session.dialect.render_scan(table, spec)
        except LowcodeSQLError:
            continue  # read per key only: nothing to sample without a filter
        if session.left < 1:
            found.append(Finding("sample", "skipped", "over the bound: no request left to sample a table"))
            return None
        try:
            answer = session.fetch(table, spec, 0, BIG_PAGE)
        except RequestRefused as e:
            found.append(Finding("sample", "skipped", str(e).split("] ", 1)[-1]))
            return None
        except FetchError as e:
            found.append(Finding(f"table {table.name}", "differs", str(e).split("] ", 1)[-1][:300]))
            continue
        if not answer.rows:
            continue
        found.append(Finding("sample", "confirmed", f"{table.name}: {rows(len(answer.rows))} in one answer"))
        extra = {"local_filters": [], "sort_pushdown": True, **hints.probe_options(table, answer.rows)}
        try:
            session.with_options(extra)
        except LowcodeSQLError:
            session.with_options({"local_filters": [], "sort_pushdown": True})
        return Context(session, hints.probe_table(table, answer.rows), answer, hints, user_table=table, findings=found)
    found.append(Finding("sample", "inconclusive", "no table with rows found: nothing to check against"))
    return None
