"""One local SparkSession (``local[2]``) for the Spark tests, and the five emulators over real HTTP."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark")

from lowcode_sql.sandbox import get_sandbox
from lowcode_sql.sandbox.server import RunningServer, serve

PLATFORMS = ("coredata", "entu", "slingr", "totalum", "alumio")
# small pages, so a few dozen rows span several pages and several partitions
PAGE_SIZES: dict[str, dict[str, int]] = {
    "coredata": {"page_size": 10}, "entu": {"page_size": 25}, "alumio": {"page_size": 10},
}


def env_name(platform: str, cred: str) -> str:
    return f"LC_SPARK_TEST_{platform}_{cred}".upper()


@pytest.fixture(scope="session")
def servers() -> Iterator[dict[str, RunningServer]]:
    running = {p: serve(get_sandbox(p)).start() for p in PLATFORMS}
    try:
        yield running
    finally:
        for s in running.values():
            s.stop()


@pytest.fixture(scope="session")
def config_path(servers: dict[str, RunningServer], tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = []
    for p, server in servers.items():
        creds = server.platform.DEMO_CREDENTIALS
        for cred, value in creds.items():
            os.environ[env_name(p, cred)] = value  # before the SparkSession: its workers inherit it
        table = ", ".join(f'{c} = "{env_name(p, c)}"' for c in creds)
        options = {**server.platform.DEMO_OPTIONS, **PAGE_SIZES.get(p, {})}
        lines += [f"[sources.{p}]", f'platform = "{p}"', f'base_url = "{server.url}"', f"credentials = {{ {table} }}"]
        if options:  # JSON values are TOML inline values once ': ' becomes ' = '
            lines.append("options = " + json.dumps(options, separators=(", ", " = ")))
        lines.append("")
    path = tmp_path_factory.mktemp("spark") / "lowcode.toml"
    path.write_text("\n".join(lines))
    return path


@pytest.fixture(scope="session")
def spark(config_path: Path) -> Iterator[Any]:
    from pyspark.sql import SparkSession

    from lowcode_sql.spark import LowcodeDataSource

    session = (SparkSession.builder.master("local[2]").appName("lowcode_sql tests")
               .config("spark.sql.python.filterPushdown.enabled", "true")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    session.dataSource.register(LowcodeDataSource)
    try:
        yield session
    finally:
        session.stop()
