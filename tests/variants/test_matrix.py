"""Issue 13 §2: the assumption matrix. Every emulator variant (a plausible real behaviour the docs
leave open, ``Platform.VARIANTS``) runs a bounded, seeded subset of the conformance queries; each
query must give DuckDB's answer over the default emulator's data, or a typed error (a ``FetchError``:
``AssumptionFailed``, ``InconsistentScan``, an API's 4xx) - never a different answer.

Bounded for CI: ``QUERIES`` queries per variant (a few seconds each)."""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from typing import Any

import pytest

import lowcode_sql
from lowcode_sql.errors import FetchError, LowcodeSQLError
from lowcode_sql.sandbox import get_sandbox
from lowcode_sql.sandbox.totalum import TotalumSandbox
from tests.conformance.test_conformance import PLATFORMS, Env
from tests.differential.harness import compare

QUERIES = 40
MATRIX = [(p, v) for p in PLATFORMS for v in sorted(type(get_sandbox(p, sample_data=False)).VARIANTS)]
_ENVS: dict[str, Env] = {}


@pytest.fixture(scope="module")
def envs() -> Iterator[dict[str, Env]]:
    yield _ENVS
    for env in _ENVS.values():
        env.con.close()
        env.ref.close()
    _ENVS.clear()


def _env(envs: dict[str, Env], platform: str) -> Env:
    if platform not in envs:
        envs[platform] = Env(platform)  # the reference: the default emulator's data, read in full
    return envs[platform]


def test_every_platform_has_variants():
    assert {p for p, _ in MATRIX} >= {"totalum", "alumio", "coredata", "slingr"}


@pytest.mark.filterwarnings("ignore::lowcode_sql.errors.DiscoveryWarning")  # storages_404/403: expected
@pytest.mark.parametrize("platform,variant", MATRIX)
def test_a_variant_gives_duckdbs_answer_or_a_typed_error(envs, platform, variant):
    env = _env(envs, platform)
    queries = list(env.queries(seed=7))
    picked = random.Random(f"{platform}:{variant}").sample(queries, min(QUERIES, len(queries)))
    con = lowcode_sql.connect_sandbox(platform, variants=[variant])
    different, typed = [], []
    try:
        for sql, ordered in picked:
            try:
                compare(con, env.ref, sql, ordered)
            except AssertionError as e:
                cause = e.__cause__
                if isinstance(cause, FetchError):
                    typed.append(f"{type(cause).__name__}: {cause}")
                elif isinstance(cause, LowcodeSQLError):
                    different.append(f"untyped failure {type(cause).__name__}: {cause}\n{sql}")
                else:
                    different.append(str(e)[:1500])
    finally:
        con.close()
    print(f"\n{platform}[{variant}]: {len(picked) - len(typed)} answers, {len(typed)} typed errors",
          *sorted({t.split(':')[0] + ': ' + t.split('] ', 1)[-1][:110] for t in typed})[:3], sep="\n  ")
    assert not different, f"{platform}[{variant}]: {len(different)} of {len(picked)} queries answered " \
                          "differently:\n\n" + "\n\n".join(different[:3])


DIFF_QUERIES = 25


@pytest.mark.parametrize("variant", sorted(TotalumSandbox.VARIANTS))
def test_totalum_differential_queries_under_a_variant(monkeypatch, variant):
    """The differential suite's Totalum data (NULL vs missing, regex metacharacters, unicode case
    traps) under each variant: generated queries and the edge cases, bounded."""
    from tests.differential import test_totalum_diff as tl
    from tests.differential.harness import reference
    from tests.differential.querygen import QueryGen

    monkeypatch.setattr(tl, "TotalumSandbox", functools.partial(TotalumSandbox, variants=[variant]))
    con, _ = tl.connect("get")
    ref = reference({"item": tl.arrow_table()}, "tl")
    r = random.Random(f"diff:{variant}")
    gen: QueryGen = tl.QueryGen("item", "_id", tl.columns(), r)
    picked = [gen.sorted_query("tl") if r.random() < 0.3 else gen.query("tl") for _ in range(DIFF_QUERIES)]
    picked += [(sql, False) for sql in r.sample(tl.EDGE_CASES, 10)]
    different = []
    try:
        for sql, ordered in picked:
            try:
                compare(con, ref, sql, ordered)
            except AssertionError as e:
                if isinstance(e.__cause__, FetchError):
                    continue
                different.append(str(e)[:1500])
    finally:
        con.close()
        ref.close()
    assert not different, f"totalum[{variant}]: {len(different)} different answers:\n\n" + "\n\n".join(different[:3])


DIFF_OTHER = 20  # generated queries per variant, plus EDGE_OTHER edge cases: ~4 s a variant in CI
EDGE_OTHER = 6


def _diff_target(platform: str, variant: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, Any, list[str]]:
    """(connection, reference, query maker, edge cases) of a platform's differential suite, its emulator
    under ``variant``: the suite's own data (NULL vs missing, regex metacharacters, case traps)."""
    from tests.differential.harness import reference
    from tests.differential.querygen import QueryGen

    if platform == "entu":
        from tests.differential import test_entu_diff as m

        monkeypatch.setattr(m, "EntuSandbox", functools.partial(m.EntuSandbox, variants=[variant]))
        con, _ = m.connect("single")
        ref = reference({"item": m.reference_table(m.CONFIGS["single"][0])}, "en")
        return con, ref, lambda r: QueryGen("item", "_id", m.columns("single"), r), m.EDGE_CASES
    if platform == "slingr":
        from tests.differential import test_slingr_diff as m

        monkeypatch.setattr(m, "SlingrSandbox", functools.partial(m.SlingrSandbox, variants=[variant]))
        con, _ = m.connect("keyset")
        return con, reference({"item": m.reference_table()}, "sl"), lambda r: QueryGen("item", "id", m.COLUMNS, r), \
            m.EDGE_CASES
    if platform == "alumio":
        from tests.differential import test_alumio_diff as m

        monkeypatch.setattr(m, "AlumioSandbox", functools.partial(m.AlumioSandbox, variants=[variant]))
        con, _ = m.connect("confirmed")

        def alumio_gen(r: random.Random) -> QueryGen:
            name = r.choices(list(m.SOURCES), weights=(6, 2, 2))[0]
            return QueryGen(name, *m.columns(name), r)

        return con, reference(m.reference_tables(), "al"), alumio_gen, m.EDGE_CASES
    assert platform == "coredata"
    from lowcode_sql.sandbox.coredata import CoreDataSandbox
    from tests.differential import test_coredata_diff as m

    sandbox = CoreDataSandbox(sample_data=False, variants=[variant])
    sandbox.load_table("projects", m.PROJECTS)
    con = lowcode_sql.connect()
    con.add_source("cd", "coredata", sandbox=sandbox, options={"page_size": 40})
    return con, reference({"projects": m.PROJECTS}, "cd"), lambda r: QueryGen("projects", "id", m.columns(), r), []


OTHER_MATRIX = [(p, v) for p, v in MATRIX if p != "totalum"]


@pytest.mark.filterwarnings("ignore::lowcode_sql.errors.DiscoveryWarning")  # storages_404/403: expected
@pytest.mark.parametrize("platform,variant", OTHER_MATRIX)
def test_differential_queries_under_a_variant(monkeypatch, platform, variant):
    """Every other platform's differential data under each of its variants: generated queries (a third
    sorted) and a few edge cases, bounded. DuckDB's answer or a typed error (``FetchError``: the run-time
    checks' ``AssumptionFailed``, an API's 4xx), never a different answer."""
    con, ref, make, edges = _diff_target(platform, variant, monkeypatch)
    source = {"entu": "en", "slingr": "sl", "alumio": "al", "coredata": "cd"}[platform]
    r = random.Random(f"diff:{platform}:{variant}")
    picked = []
    for _ in range(DIFF_OTHER):
        gen = make(r)
        picked.append(gen.sorted_query(source) if r.random() < 0.3 else gen.query(source))
    picked += [(sql, False) for sql in r.sample(edges, min(EDGE_OTHER, len(edges)))]
    different, typed = [], 0
    try:
        for sql, ordered in picked:
            try:
                compare(con, ref, sql, ordered)
            except AssertionError as e:
                if isinstance(e.__cause__, FetchError):
                    typed += 1
                    continue
                different.append(str(e)[:1500])
    finally:
        con.close()
        ref.close()
    print(f"\n{platform}[{variant}]: {len(picked) - typed} answers, {typed} typed errors")
    assert not different, f"{platform}[{variant}]: {len(different)} different answers:\n\n" + "\n\n".join(different[:3])
