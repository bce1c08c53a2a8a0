"""Run the same SQL through lowcode_sql (against a sandbox) and directly in DuckDB; compare."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lowcode_sql
from lowcode_sql.errors import LowcodeSQLError
from tests.differential.querygen import Column, MultiRefGen, QueryGen, lit


def reference(tables: dict[str, pa.Table], schema: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE SCHEMA {schema}")
    for name, t in tables.items():
        con.register("__src", t)
        con.execute(f'CREATE TABLE {schema}."{name}" AS SELECT * FROM __src')
        con.unregister("__src")
    return con


def _norm(v: Any) -> Any:
    if isinstance(v, float):
        # + 0.0 turns -0.0 into 0.0: SQL holds them equal, and a group's shown key may be either
        return ("nan",) if math.isnan(v) else round(v, 9) + 0.0
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(dt.UTC)
    if isinstance(v, list):
        return tuple(_norm(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _norm(x)) for k, x in v.items()))
    return v


def _key(row: tuple[Any, ...]) -> Any:
    return tuple((x is None, repr(x)) for x in row)


def rows(table: pa.Table) -> list[tuple[Any, ...]]:
    cols = [c.to_pylist() for c in table.columns]
    return [tuple(_norm(v) for v in r) for r in zip(*cols, strict=True)] if cols else []


def compare(con: Any, ref: duckdb.DuckDBPyConnection, sql: str, ordered: bool) -> Any:
    """Assert both sides agree; returns the engine's Result (or None when both raise)."""
    try:
        expected = ref.sql(sql).to_arrow_table()
        ref_error = None
    except duckdb.Error as e:
        expected, ref_error = None, e
    try:
        result = con.sql(sql)
    except LowcodeSQLError as e:
        if ref_error is not None:
            return None  # DuckDB rejects it too (e.g. a bad cast): both fail, that agrees
        raise AssertionError(f"lowcode_sql failed where DuckDB did not:\n{sql}\n{type(e).__name__}: {e}") from e
    assert ref_error is None, f"DuckDB failed but lowcode_sql answered:\n{sql}\n{ref_error}"
    got, want = rows(result.arrow()), rows(expected)
    if not ordered:
        got, want = sorted(got, key=_key), sorted(want, key=_key)
    assert got == want, f"\n{sql}\n{con.explain(sql)}\nlowcode_sql: {got[:10]}\nduckdb:      {want[:10]}"
    return result


# --- the skeleton every platform's differential test shares ------------------------------------


class Env(tuple):  # type: ignore[type-arg]
    """One configuration's connection, reference and sandbox; unpacks as the platform's module wants
    it (``con, ref, sandbox = env``: see ``DifferentialSuite.env_fields``)."""

    con: lowcode_sql.Connection
    ref: duckdb.DuckDBPyConnection
    sandbox: Any
    config: str


class DifferentialSuite:
    """The same SQL through lowcode_sql (over a platform's sandbox) and through DuckDB (over the
    same rows), for every configuration of the platform.

    A platform's test module fills a subclass in with its tables and generators (``schema``,
    ``configs``, ``connect``, ``reference_tables``, ``columns`` or ``query``, ``edge_cases``,
    ``leaf_cases``) and takes from an instance the fixtures and tests it wants, under the names
    pytest collects::

        SUITE = TotalumSuite()
        env = SUITE.env_fixture()
        test_generated_queries_agree = SUITE.generated_test(max_examples=150)
        test_edge_cases_agree = SUITE.edge_test()
        leaf_envs = SUITE.leaf_envs_fixture()
        test_each_leaf_agrees = SUITE.leaf_test()
    """

    schema: ClassVar[str]  # the source name, also the reference's schema
    configs: ClassVar[Sequence[str]]  # sandbox + dialect configurations, each a fixture param
    edge_cases: ClassVar[Sequence[str]] = ()  # or given to ``edge_test``
    leaf_configs: ClassVar[Sequence[str] | None] = None  # the configurations leaves run on (None: all)
    env_fields: ClassVar[tuple[str, ...]] = ("con", "ref", "sandbox")  # how ``env`` unpacks
    table: ClassVar[str] = "item"  # the generated queries' table and its key
    key: ClassVar[str] = "id"
    sorted_share: ClassVar[float] = 0.25  # of the generated queries, this share sorted (ORDER BY + LIMIT)

    def connect(self, config: str) -> tuple[lowcode_sql.Connection, Any]:
        """The connection and the sandbox it reads, for one configuration."""
        raise NotImplementedError

    def reference_tables(self, config: str) -> dict[str, pa.Table]:
        raise NotImplementedError

    def columns(self, config: str) -> list[Column]:
        """The generated queries' columns, with values from the data."""
        raise NotImplementedError

    def query(self, env: Env, r: random.Random) -> tuple[str, bool]:
        """One generated query, and whether its rows' order is determined."""
        gen = QueryGen(self.table, self.key, self.columns(env.config), r)
        return gen.sorted_query(self.schema) if r.random() < self.sorted_share else gen.query(self.schema)

    def leaf_cases(self, config: str) -> list[str]:
        return []

    def multi_reference_query(self, env: Env, r: random.Random) -> tuple[str, bool]:
        """One query reading the table through several references (``MultiRefGen``)."""
        return MultiRefGen(self.table, self.key, self.columns(env.config), r).multi_reference_query(self.schema)

    def ordered(self, sql: str) -> bool:
        """Whether an edge case's order is determined (compared as a list, not as a multiset)."""
        return "ORDER BY" in sql and "LIMIT" in sql and "IN (SELECT" not in sql

    def after(self, env: Env, sql: str) -> None:
        """Checks of the sandbox after each compared query (none by default)."""

    # --- what a module takes -------------------------------------------------------------------

    def open(self, config: str) -> Env:
        con, sandbox = self.connect(config)
        ref = reference(self.reference_tables(config), self.schema)
        values = {"con": con, "ref": ref, "sandbox": sandbox, "config": config}
        env = Env(values[f] for f in self.env_fields)
        env.con, env.ref, env.sandbox, env.config = con, ref, sandbox, config
        return env

    def env_fixture(self, ids: Sequence[str] | None = None) -> Any:
        """``env``: module-scoped, once per configuration."""

        @pytest.fixture(scope="module", name="env", params=list(self.configs), ids=ids)
        def env(request: pytest.FixtureRequest) -> Iterator[Env]:
            opened = self.open(request.param)
            yield opened
            _close(opened)

        return env

    def leaf_envs_fixture(self) -> Any:
        """``leaf_envs``: one ``Env`` per configuration the leaves run on, opened on first use."""

        @pytest.fixture(scope="module", name="leaf_envs")
        def leaf_envs() -> Iterator[dict[str, Env]]:
            out: dict[str, Env] = {}
            yield _Lazy(out, self.open)
            for opened in out.values():
                _close(opened)

        return leaf_envs

    def generated_test(self, max_examples: int) -> Any:
        @settings(max_examples=max_examples, derandomize=True, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(seed=st.integers(0, 2**32 - 1))
        def test(env: Env, seed: int) -> None:
            sql, ordered = self.query(env, random.Random(seed))
            compare(env.con, env.ref, sql, ordered)
            self.after(env, sql)

        return test

    def multi_reference_test(self, max_examples: int) -> Any:
        """Multi-reference queries agree with DuckDB, and (without a LIMIT, where DuckDB reads every
        scan to its end) send no more requests than one scan per reference would: the planner's
        scan sharing (``plan/sharing.py``) is switched off for the comparison run."""

        @settings(max_examples=max_examples, derandomize=True, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(seed=st.integers(0, 2**32 - 1))
        def test(env: Env, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
            sql, ordered = self.multi_reference_query(env, random.Random(seed))
            shared = compare(env.con, env.ref, sql, ordered)
            self.after(env, sql)
            if shared is None or "LIMIT" in sql:
                return
            with monkeypatch.context() as m:
                m.setattr(lowcode_sql.plan, "share_scans", lambda *a, **k: [])
                separate = env.con.sql(sql)
            assert shared.requests <= separate.requests, f"{sql}\n{env.con.explain(sql)}"

        return test

    def edge_test(self, cases: Sequence[str] | None = None) -> Any:
        """Each hand-written case (``cases``, else ``edge_cases``) in every configuration."""

        @pytest.mark.parametrize("sql", list(self.edge_cases if cases is None else cases))
        def test(env: Env, sql: str) -> None:
            compare(env.con, env.ref, sql, self.ordered(sql))
            self.after(env, sql)

        return test

    def leaf_test(self) -> Any:
        """Every leaf case of every leaf configuration, one test each."""
        cases = [(c, sql) for c in (self.leaf_configs or self.configs) for sql in self.leaf_cases(c)]

        @pytest.mark.parametrize("config,sql", cases)
        def test(leaf_envs: dict[str, Env], config: str, sql: str) -> None:
            compare(leaf_envs[config].con, leaf_envs[config].ref, sql, False)

        return test


class _Lazy(dict):  # type: ignore[type-arg]
    def __init__(self, store: dict[str, Env], make: Any) -> None:
        super().__init__()
        self._store, self._make = store, make

    def __getitem__(self, config: str) -> Env:
        if config not in self._store:
            self._store[config] = self._make(config)
        return self._store[config]


def _close(env: Env) -> None:
    env.con.close()
    env.ref.close()


def leaf_cases(target: str, key: str, columns: Sequence[Column], *, seed: int = 5, repeat: Sequence[str] = ("=",),
               like: dict[str, int] | None = None) -> list[str]:
    """Every operator on every column, one conjunct at a time, with values from the data:
    comparisons (those in ``repeat`` twice), IN / NOT IN, IS [NOT] NULL, ``list_contains`` on
    list columns, and on text each LIKE form of ``like`` (form -> how many patterns)."""
    r = random.Random(seed)
    gen = QueryGen(target.rpartition(".")[2], key, [], r)
    out = []
    select = f"SELECT {key} FROM {target} WHERE"
    for col in columns:
        name, kind = col.name, col.kind
        if kind.startswith("list_"):
            item = kind.removeprefix("list_")
            for _ in range(4):
                v = lit(gen.value(col), item)
                out.append(f"{select} list_contains({name}, {v})")
                out.append(f"{select} NOT list_contains({name}, {v})")
            out.append(f"{select} {name} IS NULL")
            out.append(f"{select} {name} IS NOT NULL")
            continue
        for op in ("=", "<>", "<", "<=", ">", ">="):
            for _ in range(2 if op in repeat and kind != "bool" else 1):
                out.append(f"{select} {name} {op} {lit(gen.value(col), kind)}")
        for neg in ("", "NOT "):
            vals = ", ".join(lit(gen.value(col), kind) for _ in range(3))
            out.append(f"{select} {name} {neg}IN ({vals})")
        out.append(f"{select} {name} IS NULL")
        out.append(f"{select} {name} IS NOT NULL")
        if kind == "text":
            for op, n in (like or {}).items():
                for _ in range(n):
                    out.append(f"{select} {name} {op} {lit(gen.like_pattern(col), 'text')}")
    return out
