"""Token logins per Spark executor, not per partition (issue 16): each Python worker keeps its
authenticated sources (lowcode_sql/spark/sessions.py) and the partitions it runs reuse them;
an expired or revoked token is refreshed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lowcode_sql.config import SourceConfig
from lowcode_sql.sandbox.server import RunningServer
from lowcode_sql.spark import sessions

from .conftest import env_name

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

LOGIN = r"^/?api/auth"  # Entu: GET /api/auth (key -> JWT) and /api/auth/refresh


def logins(platform: Any) -> int:
    return int(platform.stats.count(LOGIN))


def test_four_partitions_on_two_cores_log_in_per_worker(spark: Any, config_path: Path,
                                                         servers: dict[str, RunningServer]) -> None:
    platform = servers["entu"].platform
    df = (spark.read.format("lowcode").option("config", str(config_path)).option("table", "entu.book")
          .option("partitions", "4").load())
    assert df.rdd.getNumPartitions() == 4
    platform.reset_stats()
    total = df.count()
    first = logins(platform)  # the workers' first logins (and the planning worker's)
    assert total > 3 * 25, "the rows must span the four partitions (25-row pages)"
    platform.reset_stats()
    assert df.count() == total
    data = platform.stats.requests - logins(platform)
    assert data >= 4, "every partition reads its own pages"
    # local[2]: at most two Python workers read the four partitions at a time and are reused
    # (spark.python.worker.reuse, the default): a login per worker, not per partition (4 per count
    # before), and the workers that logged in for the first count() still hold their tokens
    print(f"logins for 4 partitions on local[2]: first count {first}, second {logins(platform)}; "
          f"data requests {data}")
    assert first <= 3  # two task workers and the planning worker, at most
    assert logins(platform) <= 2


def test_partitions_in_one_process_share_one_login_and_refresh_it(config_path: Path,
                                                                    servers: dict[str, RunningServer]) -> None:
    """Partitions read one after the other in this process, as in one reused Python worker."""
    from lowcode_sql.spark.source import PushdownReader, Range, _target, spark_schema

    platform = servers["entu"].platform
    sessions.clear()
    target = _target({"config": str(config_path), "table": "entu.book", "partitions": "4"})
    assert target.table is not None
    reader = PushdownReader(target, spark_schema(target.table.schema(), "t"))
    parts = reader.partitions()
    assert len(parts) == 4
    platform.reset_stats()
    got = 0
    for part in parts:
        assert isinstance(part, Range)
        got += sum(b.num_rows for b in reader.read(part))
    # one login for the four (their budget share differs from the driver's, so not the driver's session)
    assert logins(platform) == 1
    first = parts[0]
    assert isinstance(first, Range) and first.total == got
    platform.expire_tokens()  # the token is revoked server-side: the next request gets a 401
    platform.reset_stats()
    assert sum(b.num_rows for p in parts for b in reader.read(p)) == got
    assert logins(platform) == 1  # one re-login, then the fresh token serves every partition
    assert platform.stats.by_status[401] == 1


def test_the_key_names_no_secret_and_follows_the_credentials(config_path: Path, monkeypatch: Any,
                                                              servers: dict[str, RunningServer]) -> None:
    from lowcode_sql.config import load_config

    sc: SourceConfig = load_config(str(config_path)).source("entu")
    key = sessions.session_key(sc)
    value = servers["entu"].platform.DEMO_CREDENTIALS
    assert all(v not in key for v in value.values())
    assert sessions.session_key(sc) == key
    cred = next(iter(sc.credentials))
    monkeypatch.setenv(env_name("entu", cred), "another-key-value")
    assert sessions.session_key(sc) != key  # a rotated credential opens a new session
