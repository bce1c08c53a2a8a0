"""Auth: secret headers, logins, token reuse, proactive refresh, 401 -> re-login and replay once."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fetch_fakes import API_KEY, PASSWORD, TABLE, FakeAPI, FakeDialect, ids, offset_scan, rows

from dialect import AuthPlan, Secret, Token
from lowcode_sql.errors import AuthError, DialectError
from lowcode_sql.fetch import AuthSession, ScanStats, iter_pages, loop
from lowcode_sql.types import HttpRequest

REQ = HttpRequest("GET", "api/items", (("offset", "0"), ("limit", "5")))


def test_api_key_header_is_sent_and_never_shown(make_runtime) -> None:
    api = FakeAPI(rows(3), hook=lambda i, r: httpx.Response(401, json={"error": f"invalid key {API_KEY}"}))
    rt = make_runtime(api)
    with pytest.raises(AuthError) as info:
        loop.run(rt.send(REQ))
    assert api.requests[0].headers["x-api-key"] == API_KEY
    text = str(info.value)
    assert "invalid key ***" in text and API_KEY not in text
    for shown in (repr(rt), repr(rt.auth), repr(rt.auth.plan), str(rt.auth.plan)):
        assert API_KEY not in shown
    assert len(api.requests) == 1  # a static key cannot be refreshed: no replay


def test_login_once_and_reuse_token(make_runtime) -> None:
    api = FakeAPI(rows(45), tokens=set())
    rt = make_runtime(api, login=True)
    assert ids(iter_pages(rt, TABLE, offset_scan())) == list(range(45))
    assert ids(iter_pages(rt, TABLE, offset_scan())) == list(range(45))
    assert api.logins == 1  # five concurrent pages, two scans, one login
    login = api.requests[0]
    assert login.method == "POST" and login.url.path == "/x/auth/login"
    assert json.loads(login.content) == {"user": "ana", "password": PASSWORD}
    assert login.headers["x-client-secret"] == "cs-SECRET-42"
    assert "authorization" not in login.headers
    assert {r.headers["authorization"] for r in api.data_requests()} == {"Bearer tok-1"}


def test_401_mid_scan_relogs_once_and_replays(make_runtime) -> None:
    api = FakeAPI(rows(100), tokens=set())

    def expire_after_first_page(i: int, r: httpx.Request) -> None:
        if r.url.params.get("offset") == "27":  # the 4th page (later pages start one row early)
            api.tokens.discard("tok-1")  # the platform expires the token while pages are in flight

    api.hook = expire_after_first_page
    rt = make_runtime(api, login=True, concurrency=4)
    stats = ScanStats()
    assert ids(iter_pages(rt, TABLE, offset_scan(), stats=stats)) == list(range(100))
    assert api.logins == 2  # several pages got the 401 at once; the lock made it one re-login
    assert stats.logins == 2  # the first login and the re-login, both inside this scan
    assert stats.requests == len(api.requests)  # logins and replays are requests too
    statuses = [r.headers.get("authorization") for r in api.data_requests()]
    assert statuses.count("Bearer tok-2") >= 7  # pages from offset 27 on, replayed with the new token
    assert statuses.count("Bearer tok-1") >= 4  # the pages before it were served with the old one


def test_second_401_is_auth_error_with_platform_message(make_runtime) -> None:
    api = FakeAPI(rows(10), tokens=set())

    def reject_all_data(i: int, r: httpx.Request) -> httpx.Response | None:
        if r.url.path.endswith("/items"):
            return httpx.Response(401, json={"message": "account suspended"})
        return None

    api.hook = reject_all_data
    rt = make_runtime(api, login=True)
    with pytest.raises(AuthError, match=r"HTTP 401: account suspended") as info:
        loop.run(rt.send(REQ))
    assert info.value.status == 401
    assert api.logins == 2 and len(api.data_requests()) == 2  # one replay, no more


def test_failed_login_is_auth_error_without_secrets(make_runtime) -> None:
    def bad_password(i: int, r: httpx.Request) -> httpx.Response | None:
        if r.url.path.endswith("/login"):
            body = json.loads(r.content)
            return httpx.Response(400, json={"message": f"wrong password {body['password']}"})
        return None

    api = FakeAPI(rows(3), tokens=set(), hook=bad_password)
    with pytest.raises(AuthError, match="login failed: POST auth/login: HTTP 400: wrong password \\*\\*\\*") as info:
        loop.run(make_runtime(api, login=True).send(REQ))
    assert PASSWORD not in str(info.value)
    assert len(api.data_requests()) == 0


def test_unparseable_login_answer_is_auth_error(make_runtime) -> None:
    api = FakeAPI(rows(3), hook=lambda i, r: httpx.Response(200, json={"access": "tok"}))
    with pytest.raises(AuthError, match=r"unexpected answer to POST auth/login \(KeyError\)"):
        loop.run(make_runtime(api, login=True).send(REQ))


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _session(expires_in: float | None, margin: float = 60.0) -> tuple[AuthSession, list[Any], _Clock]:
    clock = _Clock()
    sent: list[Any] = []

    async def sender(req: HttpRequest, headers: Any, stats: Any) -> Any:
        sent.append((req, dict(headers)))
        return {"token": f"t{len(sent)}", "expires_at": None if expires_in is None else clock.now + expires_in}

    creds = {"password": Secret(PASSWORD), "client_secret": Secret("cs-SECRET-42")}
    session = AuthSession(FakeDialect(login=True, refresh_margin=margin), creds, sender=sender, clock=clock)
    return session, sent, clock


def test_proactive_refresh_before_expiry() -> None:
    session, sent, clock = _session(expires_in=600)
    headers, _ = loop.run(session.headers())
    assert headers == {"Authorization": "Bearer t1"} and len(sent) == 1
    clock.now += 500  # 100 s left, more than the 60 s margin: keep the token
    assert loop.run(session.headers())[0] == {"Authorization": "Bearer t1"}
    clock.now += 50  # 50 s left: refresh before the platform says no
    assert loop.run(session.headers())[0] == {"Authorization": "Bearer t2"}
    assert session.logins == 2


def test_short_lived_tokens_refresh_at_half_life() -> None:
    session, sent, clock = _session(expires_in=30)  # shorter than the 60 s margin
    loop.run(session.headers())
    clock.now += 10
    loop.run(session.headers())
    assert len(sent) == 1  # not a login per request
    clock.now += 6
    loop.run(session.headers())
    assert len(sent) == 2


def test_token_expired_on_arrival_relies_on_401() -> None:
    session, sent, _ = _session(expires_in=-5)  # clock skew with the platform
    for _ in range(3):
        loop.run(session.headers())
    assert len(sent) == 1


def test_invalidate_only_the_stale_token() -> None:
    session, sent, _ = _session(expires_in=None)
    _, old = loop.run(session.headers())
    session.invalidate(old)
    _, new = loop.run(session.headers())
    session.invalidate(old)  # a late 401 on the old token must not throw away the new one
    assert loop.run(session.headers())[1] is new
    assert isinstance(new, Token) and len(sent) == 2


def test_token_placeholder_without_login_is_a_dialect_bug() -> None:
    class Broken(FakeDialect):
        def auth(self, credentials: Any) -> AuthPlan:
            return AuthPlan(headers=(("Authorization", "Bearer {token}"),))

    async def sender(req: HttpRequest, headers: Any, stats: Any) -> Any:
        raise AssertionError

    with pytest.raises(DialectError, match="no login"):
        AuthSession(Broken(), {}, sender=sender)
