"""The conformance checks, read-only, against your own account: ``pytest -m live``.

``LOWCODE_SQL_LIVE_CONFIG`` names a config file (the usual TOML; credentials in the environment
variables it names). Every source in it is checked as tests/conformance checks the emulators:
per table (at most 2 per source, of at most ``LOWCODE_SQL_LIVE_MAX_ROWS`` rows, default 5000),
filters, sorted LIMITs, counts and GROUP BYs must give DuckDB's answer over the table read whole,
an exact COUNT(*) must be one request and a contradiction none. Only SELECTs are sent (lowcode_sql
never writes); expect a few hundred requests per source. Without the variable every test here is
skipped. README: "Testing against your own account".
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import lowcode_sql
from lowcode_sql.config import load_config
from tests.conformance.test_conformance import Env, check_capabilities, check_counts

pytestmark = pytest.mark.live

CONFIG_ENV = "LOWCODE_SQL_LIVE_CONFIG"
MAX_ROWS_ENV = "LOWCODE_SQL_LIVE_MAX_ROWS"
_UNSET = "(LOWCODE_SQL_LIVE_CONFIG unset)"


def _sources() -> list[str]:
    path = os.environ.get(CONFIG_ENV)
    if not path:
        return [_UNSET]
    return [s.name for s in load_config(path).sources]


@pytest.fixture(scope="module", params=_sources())
def env(request: pytest.FixtureRequest) -> Iterator[Env]:
    if request.param == _UNSET:
        pytest.skip(f"set {CONFIG_ENV} to a config file to check its sources (README: Testing against your own "
                    "account)")
    path = os.environ[CONFIG_ENV]
    con = lowcode_sql.connect(path)
    source = con.catalog.source(request.param)
    e = Env(source.config.platform, con=con, source=request.param,
            max_rows=int(os.environ.get(MAX_ROWS_ENV, "5000")))
    if not e.tables:
        e.close()
        pytest.skip(f"{request.param}: no table with rows (and at most the {MAX_ROWS_ENV} limit) to check")
    yield e
    e.close()


def test_every_declared_capability_gives_duckdbs_answer(env: Env) -> None:
    check_capabilities(env)


def test_exact_count_is_one_request_and_a_contradiction_none(env: Env) -> None:
    check_counts(env)


def test_pushdown_changes_no_answer(env: Env) -> None:
    # con.verify on one query per column kind: the same answer with nothing pushed
    for table, cols in env.tables.items():
        name = cols[0][0]
        t = f'"{env.platform}"."{table}"'
        for sql in (f'SELECT "{name}", count(*) FROM {t} GROUP BY 1',
                    f'SELECT "{name}" FROM {t} WHERE "{name}" IS NOT NULL ORDER BY 1 LIMIT 5'):
            report = env.con.verify(sql)
            assert report.equal, str(report)
