"""Issue 13 §2: the assumption matrix. Every emulator variant (a plausible real behaviour the docs
leave open, ``Platform.VARIANTS``) runs a bounded, seeded subset of the conformance queries; each
query must give DuckDB's answer over the default emulator's data, or a typed error (a ``FetchError``:
``AssumptionFailed``, ``InconsistentScan``, an API's 4xx) - never a different answer.

Bounded for CI: ``QUERIES`` queries per variant (a few seconds each)."""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator

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
#: Different answers the run-time checks cannot see, by variant (README "Trust, but verify"; the
#: probe of issue 13 §3 is the remedy): an API ignoring the sort of a sorted LIMIT returns rows in
#: its natural order, and when those happen to be in the asked order (always so for one row) nothing
#: shows that they are not the first ones. Only that query shape is excused, and only there.
KNOWN_GAPS = {"sort_ignored": lambda sql: " ORDER BY " in sql and " LIMIT " in sql}


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
    different, gap = [], []
    try:
        for sql, ordered in picked:
            try:
                compare(con, ref, sql, ordered)
            except AssertionError as e:
                if isinstance(e.__cause__, FetchError):
                    continue
                if variant in KNOWN_GAPS and KNOWN_GAPS[variant](sql):
                    gap.append(sql)
                    continue
                different.append(str(e)[:1500])
    finally:
        con.close()
        ref.close()
    if gap:
        print(f"\ntotalum[{variant}]: {len(gap)} known-gap answers (see KNOWN_GAPS):", *gap[:3], sep="\n  ")
    assert not different, f"totalum[{variant}]: {len(different)} different answers:\n\n" + "\n\n".join(different[:3])
