"""DB-API connections of one config share discovered tables and login tokens (shared_catalog.py):
Superset opens a connection per chart, and each one logged in and rediscovered every table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lowcode_sql import dbapi
from lowcode_sql.sandbox import get_sandbox
from lowcode_sql.shared_catalog import shared

pytestmark = pytest.mark.slow  # an emulator over real HTTP, as a platform would be

ENV = {"SL_EMAIL": "user@test.com", "SL_PASSWORD": "abcdefgh"}  # the emulator's demo account


@pytest.fixture()
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, dict[str, Any]]]:
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    now = [1000.0]
    monkeypatch.setattr(shared, "clock", lambda: now[0])
    shared.clear()
    platform = get_sandbox("slingr")
    with platform.serve() as server:
        config = {"sources": {"app": {"platform": "slingr", "base_url": server.url, "options": platform.DEMO_OPTIONS,
                                      "credentials": {"email": "SL_EMAIL", "password": "SL_PASSWORD"}}}}
        platform.now = now  # type: ignore[attr-defined]  # the test's clock, beside the platform
        yield platform, config
    shared.clear()


def _chart(config: dict[str, Any], **kw: Any) -> list[tuple[Any, ...]]:
    """What Superset does per chart: a new connection, one query, close."""
    con = dbapi.connect(config, **kw)
    try:
        return con.cursor().execute("SELECT COUNT(*) FROM app.companies").fetchall()
    finally:
        con.close()


def _non_data(platform: Any) -> int:
    """Login and discovery requests (everything but the data pages of companies)."""
    return sum(1 for e in platform.stats.log if "/data/companies" not in e.path)


def test_second_connection_sends_no_login_or_discovery(served: tuple[Any, dict[str, Any]]) -> None:
    platform, config = served
    first = _chart(config)
    logins, overhead = platform.logins, _non_data(platform)
    assert logins == 1 and overhead >= 2  # a login and at least one discovery request
    platform.stats.clear()
    assert _chart(config) == first
    assert platform.logins == logins and _non_data(platform) == 0, [e.path for e in platform.stats.log]
    assert platform.stats.requests >= 1  # the data itself is still read


def test_after_the_ttl_it_logs_in_and_discovers_again(served: tuple[Any, dict[str, Any]]) -> None:
    platform, config = served
    _chart(config)
    overhead = _non_data(platform)
    platform.now[0] += 299  # reuse within the TTL does not extend it
    platform.stats.clear()
    _chart(config)
    assert _non_data(platform) == 0
    platform.now[0] += 2  # 301 s after the discovery
    platform.stats.clear()
    _chart(config)
    assert _non_data(platform) == overhead and platform.logins == 2


def test_another_account_or_no_sharing_is_not_served_from_the_cache(served: tuple[Any, dict[str, Any]],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    platform, config = served
    _chart(config)
    platform.stats.clear()
    _chart(config, catalog_ttl=0)  # sharing off: its own login and discovery
    assert _non_data(platform) >= 2 and platform.logins == 2
    monkeypatch.setenv("SL_PASSWORD", "wrong-password")  # same config file, other credential value
    with pytest.raises(dbapi.OperationalError, match="login failed"):
        _chart(config)


def test_a_refused_shared_token_leads_to_one_new_login(served: tuple[Any, dict[str, Any]]) -> None:
    platform, config = served
    first = _chart(config)
    platform.expire_tokens()  # the platform forgets every session: the shared token is refused
    assert _chart(config) == first
    assert platform.logins == 2
    platform.stats.clear()
    _chart(config)  # the new token is the shared one from then on
    assert platform.logins == 2


def test_the_key_holds_no_secret(served: tuple[Any, dict[str, Any]]) -> None:
    _platform, config = served
    _chart(config)
    keys = list(shared._entries)
    assert len(keys) == 1 and all(v not in keys[0] for v in ENV.values())
    assert len(shared) == 1
