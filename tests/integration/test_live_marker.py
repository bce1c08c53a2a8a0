"""The ``live`` marker (tests/live) does run the conformance checks against a source over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lowcode_sql.sandbox.coredata import CoreDataSandbox

ROOT = Path(__file__).resolve().parent.parent.parent


def _pytest_live(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-m", "live", "tests/live", "-n", "0", "-q", "-rs",
                           "-p", "no:cacheprovider"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=280)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_pytest_m_live_checks_the_configured_source(tmp_path: Path) -> None:
    sandbox = CoreDataSandbox(users={"live-user": "live-key-0123456789"})
    with sandbox.serve() as server:  # a "real" account: an emulator on 127.0.0.1, over HTTP
        config = tmp_path / "live.toml"
        config.write_text(f'[sources.mine]\nplatform = "coredata"\nbase_url = "{server.url}"\n'
                          'credentials = { user = "LIVE_USER", key = "LIVE_KEY" }\n')
        env = {**os.environ, "LOWCODE_SQL_LIVE_CONFIG": str(config), "LIVE_USER": "live-user",
               "LIVE_KEY": "live-key-0123456789"}
        ran = _pytest_live(env)
        served = sandbox.stats.requests
        writes = sum(1 for e in sandbox.stats.log if e.method != "GET")
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    assert "3 passed" in ran.stdout and "skipped" not in ran.stdout, ran.stdout[-2000:]
    assert served > 100  # the checks went over HTTP to the configured source
    assert writes == 0  # read-only

    env.pop("LOWCODE_SQL_LIVE_CONFIG")
    skipped = _pytest_live(env)
    assert skipped.returncode == 0 and "3 skipped" in skipped.stdout
    assert "LOWCODE_SQL_LIVE_CONFIG" in skipped.stdout  # the reason says what to set
