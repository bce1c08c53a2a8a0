"""Conformance: every registered dialect against its own sandbox's sample data (DESIGN §5).

Parametrized over the platforms found by module name, so a sixth platform is covered the moment its
dialect and sandbox modules exist. For each table the reference is a full scan (nothing pushed)
loaded into DuckDB; then, per scalar column, leaf predicates, sorted LIMITs, counts and GROUP BYs
run through lowcode_sql must give DuckDB's answer over the reference, whatever the dialect declared
exact, superset or local. Capabilities are checked as declared: an exact COUNT(*) is one request,
a contradiction none; ``parse_page`` rejects malformed bodies with a typed error; no dialect module
does I/O; credentials never show in EXPLAIN.
"""

from __future__ import annotations

import ast
import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import dialect
import lowcode_sql
from lowcode_sql.errors import DialectError, LowcodeSQLError
from lowcode_sql.sandbox import get_sandbox
from lowcode_sql.sandbox import names as sandbox_names
from lowcode_sql.types import Cmp, Exactness, Op
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
