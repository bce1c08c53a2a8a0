"""Conformance: every registered dialect against its own sandbox's sample data (DESIGN §5).

Parametrized over the platforms found by module name, so a sixth platform is covered the moment its
dialect and sandbox modules exist. For each table the reference is a full scan (nothing pushed)
loaded into DuckDB; then, per scalar column, leaf predicates, sorted LIMITs, counts and GROUP BYs
run through lowcode_sql must give DuckDB's answer over the reference, whatever the dialect declared
exact, superset or local. Capabilities are checked as declared: each table's ``pushable`` operators
are exactly the ones ``classify`` sends (for some sample value) and give DuckDB's answer, its
``required_filters`` are required; an exact COUNT(*) is one request, a contradiction none;
``parse_page`` rejects malformed bodies with a typed error; no dialect module does I/O; credentials
never show in EXPLAIN.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import dialect
import lowcode_sql
from dialect import PUSH_OPS, Dialect, TableDef, push_op
from lowcode_sql.errors import DialectError, LowcodeSQLError, MissingRequiredFilter
from lowcode_sql.sandbox import get_sandbox
from lowcode_sql.sandbox import names as sandbox_names
from lowcode_sql.types import Cmp, Exactness, InList, IsNull, Like, LikePattern, ListContains, Op, Pred
from tests.differential.harness import compare

PLATFORMS = sorted(set(dialect.names()) & set(sandbox_names()))
MAX_TABLES = 2  # per platform: the ones with the most columns the API filters on
MAX_COLUMNS = 6  # per table
SCALAR = (pa.types.is_string, pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean,
          pa.types.is_date, pa.types.is_timestamp)


def _lit(value: Any, typ: pa.DataType) -> str:
    if pa.types.is_string(typ):
        return "'" + str(value).replace("'", "''") + "'"
    if pa.types.is_boolean(typ):
        return "TRUE" if value else "FALSE"
    if pa.types.is_date(typ):
        return f"DATE '{value.isoformat()}'"
    if pa.types.is_timestamp(typ):
        if typ.tz:
            return f"TIMESTAMPTZ '{value.astimezone(dt.UTC).isoformat()}'"
        return f"TIMESTAMP '{value.isoformat()}'"
    return repr(value) if isinstance(value, int) else repr(float(value))


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Env:
    """One source's tables read whole into a DuckDB reference, and the queries to check against it.

    ``con``/``source``: a connection of one's own (tests/live: a real account); by default the
    platform's embedded emulator. Tables of more than ``max_rows`` rows (one COUNT request each
    to find out) are left out: the reference reads every row."""

    def __init__(self, platform: str, con: lowcode_sql.Connection | None = None, source: str | None = None,
                 max_rows: int | None = None) -> None:
        self.platform = source or platform  # the schema the queries name
        self.con = con if con is not None else lowcode_sql.connect_sandbox(platform)
        self.ref = duckdb.connect()
        self.ref.execute("SET TimeZone = 'UTC'")
        self.ref.execute(f"CREATE SCHEMA {_ident(self.platform)}")
        self.tables: dict[str, list[tuple[str, pa.DataType, list[Any]]]] = {}
        self.scans: dict[str, tuple[TableDef, pa.Table]] = {}  # every table a full scan can read
        candidates = []
        for _, name, _ in self.con.tables(self.platform):
            table = f"{_ident(self.platform)}.{_ident(name)}"
            try:
                if max_rows is not None and self.con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0] > max_rows:
                    continue
                data = self.con.sql(f"SELECT * FROM {table}").arrow()
            except LowcodeSQLError:
                continue  # e.g. a table that needs a filter (a many-to-many link by source id)
            if data.num_rows == 0:
                continue
            source = self.con.engine.catalog.source(self.platform)
            tdef = source.tables()[name]
            self.scans[name] = (tdef, data)
            cols, pushable = [], 0
            for field in data.schema:
                if any(check(field.type) for check in SCALAR):
                    values = [v for v in data.column(field.name).to_pylist() if v is not None]
                    if values:
                        # columns whose equality the API takes first: they exercise the pushdown
                        sent = source.dialect.classify(tdef, [Cmp(field.name, Op.EQ, values[0])])
                        rank = 0 if sent[0] is not Exactness.LOCAL else 1
                        pushable += 1 - rank
                        cols.append((rank, field.name, field.type, values))
            cols = [c[1:] for c in sorted(cols, key=lambda c: c[0])]
            candidates.append((pushable, len(cols), name, data, cols))
        ranked = sorted(candidates, key=lambda c: (-c[0], -c[1], c[2]))[:MAX_TABLES]
        for _, _, name, data, cols in ranked:
            self.ref.register("__src", data)
            self.ref.execute(f"CREATE TABLE {_ident(self.platform)}.{_ident(name)} AS SELECT * FROM __src")
            self.ref.unregister("__src")
            self.tables[name] = cols[:MAX_COLUMNS]

    def close(self) -> None:
        self.con.close()
        self.ref.close()

    def queries(self, seed: int) -> Iterator[tuple[str, bool]]:
        r = random.Random(seed)
        for table, cols in self.tables.items():
            t = f"{_ident(self.platform)}.{_ident(table)}"
            for name, typ, values in cols:
                c = _ident(name)
                v1, v2 = (_lit(r.choice(values), typ) for _ in range(2))
                for pred in (f"{c} = {v1}", f"{c} <> {v1}", f"{c} < {v1}", f"{c} >= {v2}",
                             f"{c} IN ({v1}, {v2})", f"{c} NOT IN ({v1}, {v2})", f"{c} IS NULL",
                             f"{c} IS NOT NULL", f"NOT ({c} = {v1}) OR {c} IS NULL",
                             f"{c} = {v1} OR {c} = {v2}", f"{c} > {v1} AND {c} <= {v2}"):
                    yield f"SELECT {c} FROM {t} WHERE {pred}", False
                    yield f"SELECT count(*) FROM {t} WHERE {pred}", False
                if pa.types.is_string(typ):
                    word = str(r.choice(values))
                    prefix = word[: max(1, len(word) // 2)].replace("%", "").replace("_", "")
                    yield f"SELECT {c} FROM {t} WHERE {c} LIKE {_lit(prefix + '%', typ)}", False
                    yield f"SELECT {c} FROM {t} WHERE {c} ILIKE {_lit('%' + prefix[-2:] + '%', typ)}", False
                for direction in ("", " DESC"):
                    for nulls in ("", " NULLS FIRST", " NULLS LAST"):
                        yield f"SELECT {c} FROM {t} ORDER BY {c}{direction}{nulls} LIMIT 7", True
                yield f"SELECT {c} FROM {t} ORDER BY {c} LIMIT 3 OFFSET 2", True
                yield f"SELECT {c}, count(*) FROM {t} GROUP BY {c}", False
                yield f"SELECT min({c}), max({c}), count({c}), count(*) FROM {t} WHERE {c} IS NOT NULL", False


@pytest.fixture(scope="module", params=PLATFORMS)
def env(request: pytest.FixtureRequest) -> Iterator[Env]:
    e = Env(request.param)
    assert e.tables, f"{request.param}: no table of the sample data could be read"
    yield e
    e.close()


def test_every_declared_capability_gives_duckdbs_answer(env: Env) -> None:
    check_capabilities(env)


def check_capabilities(env: Env) -> None:
    """Every query of ``env.queries`` gives DuckDB's answer over the reference (also tests/live)."""
    failures = []
    n = 0
    for sql, ordered in env.queries(seed=7):
        n += 1
        try:
            compare(env.con, env.ref, sql, ordered)
        except AssertionError as e:
            failures.append(str(e)[:1500])
    assert n >= 100, n
    assert not failures, f"{len(failures)} of {n} queries disagree:\n\n" + "\n\n".join(failures[:5])


def test_exact_count_is_one_request_and_a_contradiction_none(env: Env) -> None:
    check_counts(env, env.con.sandbox(env.platform))


def check_counts(env: Env, sandbox: Any = None) -> None:
    """An exact COUNT(*) is one request; a contradiction none (the emulator's own counter agrees)."""
    for table, cols in env.tables.items():
        t = f"{_ident(env.platform)}.{_ident(table)}"
        total = env.ref.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0]
        result = env.con.sql(f"SELECT count(*) FROM {t}")
        assert result.fetchall() == [(total,)]
        if result.scans[0].mode == "count":
            assert result.requests == 1, (table, result.requests)
        name, typ, values = next((c for c in cols if pa.types.is_integer(c[1]) or pa.types.is_floating(c[1])),
                                 cols[0])
        v = _lit(values[0], typ)
        if sandbox is not None:
            sandbox.reset_stats()
        empty = env.con.sql(f"SELECT {_ident(name)} FROM {t} WHERE {_ident(name)} = {v} AND {_ident(name)} <> {v}")
        assert empty.fetchall() == [] and empty.requests == 0
        assert sandbox is None or sandbox.stats.requests == 0


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("body", [None, [], {}, "text", 42, {"data": "x"}, {"results": None}, [[1]]])
def test_malformed_pages_are_typed_errors(platform: str, body: Any) -> None:
    con = lowcode_sql.connect_sandbox(platform)
    try:
        src = con.engine.catalog.source(platform)
        for table in list(src.tables().values())[:3]:
            try:
                page = src.dialect.parse_page(table, body)
            except DialectError:
                continue
            # accepted: then it must be a plain, empty-or-listed page, never garbage passed on
            assert isinstance(page.records, list), (table.name, body)
    finally:
        con.close()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_dialect_modules_do_no_io(platform: str) -> None:
    path = Path(dialect.__file__).parent / f"{platform}.py"
    banned = {"httpx", "requests", "socket", "urllib.request", "asyncio", "aiohttp", "http.client"}
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert not imported & banned, f"{path.name} imports {imported & banned}: a dialect renders requests, no I/O"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_credentials_never_show_in_explain_or_errors(platform: str) -> None:
    demo = type(get_sandbox(platform, sample_data=False)).DEMO_CREDENTIALS
    secrets = [str(v) for v in demo.values() if len(str(v)) >= 6]  # "demo" would match innocent text
    assert secrets, f"{platform}: the sandbox declares no demo credentials to look for"
    con = lowcode_sql.connect_sandbox(platform)
    try:
        table = con.tables()[0][1]
        text = con.explain(f"SELECT * FROM {_ident(platform)}.{_ident(table)} LIMIT 3")
        text += repr(con.engine.catalog.source(platform))
        try:
            con.sql(f"SELECT no_such_column FROM {_ident(platform)}.{_ident(table)}")
        except LowcodeSQLError as e:
            text += str(e) + repr(e)
        for secret in secrets:
            assert secret not in text
    finally:
        con.close()


# --- declared pushdown (TableDef.pushable, TableDef.required_filters) -------------------------------

SAMPLES = 8  # distinct sample values tried per column: an operator is "sent" if one of them is


def _samples(tdef: TableDef, data: pa.Table, column: str) -> list[Any]:
    """Distinct non-NULL values of ``column``; for a filter-only column (no values in the records)
    the table key's values, which is what such a column is compared with (an id)."""
    source = tdef.key if tdef.column(column).filter_only and tdef.key else column
    values = [v for v in data.column(source).to_pylist() if v is not None]
    distinct = list({repr(v): v for v in values}.values())
    return sorted(distinct, key=repr)[:SAMPLES]


def _preds(op: str, column: str, typ: pa.DataType, values: list[Any]) -> list[Pred]:
    """Leaf predicates with operator ``op`` over the sample values (none where ``op`` does not apply
    to the column's type)."""
    is_list = pa.types.is_list(typ) or pa.types.is_large_list(typ)
    if op in ("CONTAINS", "NOT CONTAINS"):
        elems = [e for v in values if isinstance(v, list) for e in v if e is not None]
        return [ListContains(column, e, op == "NOT CONTAINS") for e in elems[:SAMPLES]]
    if is_list or pa.types.is_struct(typ):
        return [IsNull(column, op == "IS NOT NULL")] if op in ("IS NULL", "IS NOT NULL") else []
    if op in ("IS NULL", "IS NOT NULL"):
        return [IsNull(column, op == "IS NOT NULL")]
    if op in ("IN", "NOT IN"):
        return [InList(column, tuple(values[i:i + 2]), op == "NOT IN") for i in range(0, len(values), 2)]
    if "LIKE" in op:
        if not pa.types.is_string(typ):
            return []
        words = [str(v) for v in values]
        patterns = [w.replace("%", "").replace("_", "") for w in words]
        patterns += [p[: max(1, len(p) // 2)] + "%" for p in patterns]
        # a plain word: an API matching LIKE as a regex takes only such literals (Alumio)
        patterns += [m.group() + "%" for w in words if (m := re.search(r"[A-Za-z0-9]+", w))]
        return [Like(column, LikePattern.parse(p), case_insensitive="ILIKE" in op, negated=op.startswith("NOT"))
                for p in patterns if p.strip("%")]
    return [Cmp(column, Op(op), v) for v in values]


def declaration_mismatches(dia: Dialect, tdef: TableDef, data: pa.Table) -> list[str]:
    """Where ``tdef.pushable`` and ``dia.classify`` disagree: a declared operator that no sample value
    sends, or an undeclared one that some sample value does."""
    out = []
    for col in tdef.columns:
        values = _samples(tdef, data, col.name)
        if not values:
            continue  # nothing to try it with
        declared = tdef.pushable.get(col.name, frozenset())
        for op in sorted(PUSH_OPS):
            preds = _preds(op, col.name, col.type, values)
            if not preds:
                assert op not in declared, f"{tdef.name}.{col.name}: {op} declared on a column of type {col.type}"
                continue
            assert {push_op(p) for p in preds} == {op}, (op, preds[0])  # the vocabulary's one definition
            sent = [p for p in preds if dia.classify(tdef, [p])[0] is not Exactness.LOCAL]
            if op in declared and not sent:
                out.append(f"{tdef.name}.{col.name}: {op} is declared pushable, but classify keeps "
                           f"{preds[0]} (and every other sample) local")
            elif op not in declared and sent:
                out.append(f"{tdef.name}.{col.name}: {op} is not declared pushable, but classify sends {sent[0]}")
    return out


def _declared_sql(op: str, c: str, lit: str) -> str:
    if op in ("IS NULL", "IS NOT NULL"):
        return f"{c} {op}"
    if op in ("IN", "NOT IN"):
        return f"{c} {op} ({lit})"
    if op == "CONTAINS":
        return f"list_contains({c}, {lit})"
    if op == "NOT CONTAINS":
        return f"NOT list_contains({c}, {lit})"
    return f"{c} {op} {lit}"


def test_declared_pushable_operators_are_the_ones_classify_sends(env: Env) -> None:
    dia = env.con.engine.catalog.source(env.platform).dialect
    mismatches = [m for tdef, data in env.scans.values() for m in declaration_mismatches(dia, tdef, data)]
    assert not mismatches, "\n".join(mismatches[:20])
    assert any(t.pushable for t, _ in env.scans.values()), f"{env.platform}: no table declares a pushable operator"


def test_every_declared_operator_gives_duckdbs_answer(env: Env) -> None:
    failures, n = [], 0
    for table in env.tables:
        tdef, data = env.scans[table]
        t = f"{_ident(env.platform)}.{_ident(table)}"
        for col, ops in sorted(tdef.pushable.items()):
            if col not in data.column_names or tdef.column(col).filter_only:
                continue
            values = _samples(tdef, data, col)
            typ = tdef.column(col).type
            for op in sorted(ops):
                if not values or "LIKE" in op:  # LIKE/ILIKE: test_every_declared_capability_gives_duckdbs_answer
                    continue
                if op in ("IS NULL", "IS NOT NULL"):
                    lit = ""
                elif "CONTAINS" in op:
                    elems = [e for v in values for e in v if e is not None]
                    if not elems:
                        continue
                    lit = _lit(elems[0], typ.value_type)
                elif op in ("IN", "NOT IN"):
                    lit = ", ".join(_lit(v, typ) for v in values[:2])
                else:
                    lit = _lit(values[len(values) // 2], typ)
                n += 1
                try:
                    where = _declared_sql(op, _ident(col), lit)
                    compare(env.con, env.ref, f"SELECT {_ident(col)} FROM {t} WHERE {where}", False)
                except AssertionError as e:
                    failures.append(str(e)[:1500])
    assert n > 0, f"{env.platform}: no declared operator on the tables under test"
    assert not failures, f"{len(failures)} of {n} declared operators disagree:\n\n" + "\n\n".join(failures[:5])


def test_a_wrong_declaration_is_caught(env: Env) -> None:
    # the check is only worth having if a declaration that does not match classify fails it, both ways
    dia = env.con.engine.catalog.source(env.platform).dialect
    tdef, data = next((t, d) for t, d in env.scans.values()
                      if any(_samples(t, d, c) and not t.column(c).filter_only for c in t.pushable))
    col = next(c for c in sorted(tdef.pushable) if _samples(tdef, data, c) and not tdef.column(c).filter_only)
    dropped = {**tdef.pushable, col: frozenset()}  # an operator classify sends, not declared
    assert declaration_mismatches(dia, dataclasses.replace(tdef, pushable=dropped), data)
    never = next(c for c in tdef.columns if not c.filter_only and pa.types.is_string(c.type)
                 and "<" not in tdef.pushable.get(c.name, ()) and _samples(tdef, data, c.name))
    # text ranges follow the server's collation: no platform sends them
    added = {**tdef.pushable, never.name: tdef.pushable.get(never.name, frozenset()) | {"<"}}
    assert declaration_mismatches(dia, dataclasses.replace(tdef, pushable=added), data)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_required_filters_are_required(platform: str) -> None:
    con = lowcode_sql.connect_sandbox(platform)
    try:
        source = con.engine.catalog.source(platform)
        for tdef in source.tables().values():
            t = f"{_ident(platform)}.{_ident(tdef.name)}"
            if not tdef.required_filters:
                con.explain(f"SELECT * FROM {t}")  # plans without any filter
                continue
            assert tdef.required_filters <= set(tdef.pushable), tdef.name
            with pytest.raises(MissingRequiredFilter):
                con.sql(f"SELECT * FROM {t}").fetchall()
    finally:
        con.close()


# options that change what a dialect sends: the declarations must follow them
OPTION_VARIANTS = [
    ("alumio", {"loopback_operators": True}),
    ("alumio", {"loopback_operators": True, "case_insensitive_text": True}),
    ("entu", {"single_valued": {"book": ["isbn", "pages", "in_stock", "author"], "invoice": ["amount", "issued"]}}),
    ("coredata", {"case_sensitive_text": False, "project_identifier": True}),
    ("totalum", {"in_operator": True}),
]


@pytest.mark.parametrize("platform, options", [v for v in OPTION_VARIANTS if v[0] in PLATFORMS],
                         ids=lambda v: v if isinstance(v, str) else ",".join(v))
def test_declarations_follow_the_options(platform: str, options: dict[str, Any]) -> None:
    con = lowcode_sql.connect_sandbox(platform, options=options)
    try:
        source = con.engine.catalog.source(platform)
        mismatches, read = [], 0
        for name, tdef in source.tables().items():
            try:
                data = con.sql(f"SELECT * FROM {_ident(platform)}.{_ident(name)}").arrow()
            except LowcodeSQLError:
                continue
            read += 1
            mismatches += declaration_mismatches(source.dialect, tdef, data)
        assert read and not mismatches, "\n".join(mismatches[:20])
    finally:
        con.close()
