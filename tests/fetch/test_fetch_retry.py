"""Retries: backoff, Retry-After, transport faults, truncated pages, and the typed errors after."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
from fetch_fakes import API_KEY, TABLE, FakeAPI, Sleeper, ids, offset_scan, rows

from lowcode_sql.errors import APIError, AuthError, ConnectionFailed, RequestTimeout
from lowcode_sql.fetch import RetryPolicy, ScanStats, iter_pages, loop
from lowcode_sql.fetch.retry import parse_retry_after, platform_message
from lowcode_sql.types import HttpRequest

REQ = HttpRequest("GET", "api/items", (("offset", "0"), ("limit", "5")))


def faults(*answers: Any):
    """A hook answering the first requests with ``answers`` (a Response, or an exception to raise)."""

    def hook(index: int, request: httpx.Request) -> httpx.Response | None:
        if index < len(answers):
            answer = answers[index]
            if isinstance(answer, Exception):
                raise answer
            return answer
        return None

    return hook


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0.25 ") == 0.25
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:02:00 GMT", now=60.0) == 60.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", now=60.0) == 0.0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("nan") is None


def test_platform_message_shapes() -> None:
    assert platform_message(b'{"error": "bad filter"}') == "bad filter"
    assert platform_message(b'{"error": true, "message": "quota exceeded"}') == "quota exceeded"
    assert platform_message(b'{"errors": [{"detail": "a"}, {"title": "b"}]}') == "a; b"
    assert platform_message(b'{"code": 9}') == '{"code":9}'
    assert platform_message(b"<html>\n <b>Bad Gateway</b></html>") == "<html> <b>Bad Gateway</b></html>"
    long = platform_message(b'{"detail": "' + b"x" * 1000 + b'"}')
    assert len(long) == 300 and long.endswith("…")


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, rng=random.Random(1))
    for attempt in range(1, 8):
        cap = min(3.0, 0.5 * 2 ** (attempt - 1))
        delays = [policy.backoff(attempt) for _ in range(50)]
        assert all(0 <= d <= cap for d in delays)
        assert max(delays) > cap / 2  # jitter spans the range, not a fixed delay
    one, two = (RetryPolicy(rng=random.Random(5)) for _ in range(2))
    assert [one.backoff(n) for n in range(1, 5)] == [two.backoff(n) for n in range(1, 5)]  # seeded: reproducible


def test_429_retry_after_then_success(make_runtime, sleeper: Sleeper) -> None:
    api = FakeAPI(
        rows(5),
        hook=faults(
            httpx.Response(429, headers={"Retry-After": "2"}, json={"message": "slow down"}),
            httpx.Response(429, headers={"Retry-After": "0.5"}),
        ),
    )
    rt = make_runtime(api)
    stats = ScanStats()
    body = loop.run(rt.send(REQ, stats=stats))
    assert [r["id"] for r in body["items"]] == [0, 1, 2, 3, 4]
    assert sleeper.calls == [2.0, 0.5]  # exactly what the platform asked, no jitter added
    assert (stats.requests, stats.retries, stats.throttled) == (3, 2, 2)


def test_transient_faults_then_success(make_runtime, sleeper: Sleeper) -> None:
    api = FakeAPI(
        rows(30),
        hook=faults(
            httpx.Response(503, text="unavailable"),
            httpx.ConnectError("connection refused"),
            httpx.Response(200, content=b'{"items": [{"id": 0}, {"id"'),  # truncated body
            httpx.ReadError("connection reset by peer"),
        ),
    )
    rt = make_runtime(api)
    assert ids(iter_pages(rt, TABLE, offset_scan())) == list(range(30))
    assert len(sleeper.calls) == 4
    caps = [0.2, 0.4, 0.8, 1.6]  # base_delay * 2**(n-1)
    assert all(0 <= d <= cap for d, cap in zip(sleeper.calls, caps))


def test_remote_protocol_error_and_timeout_are_retried(make_runtime, sleeper: Sleeper) -> None:
    api = FakeAPI(
        rows(3),
        hook=faults(
            httpx.RemoteProtocolError("server disconnected without sending a response"),
            httpx.ReadTimeout("read timed out"),
        ),
    )
    assert len(loop.run(make_runtime(api).send(REQ))["items"]) == 3
    assert len(sleeper.calls) == 2


def test_exhausted_5xx_is_api_error_with_platform_message(make_runtime, sleeper: Sleeper) -> None:
    api = FakeAPI(rows(5), hook=lambda i, r: httpx.Response(503, json={"error": {"message": "maintenance window"}}))
    with pytest.raises(APIError) as info:
        loop.run(make_runtime(api).send(REQ))
    err = info.value
    assert err.status == 503 and err.source == "fake"
    text = str(err)
    assert text.startswith("[fake] GET api/items?offset=0&limit=5: HTTP 503: maintenance window")
    assert "after 5 attempts" in text
    assert len(api.requests) == 5 and len(sleeper.calls) == 4


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (httpx.ConnectTimeout("connect timed out"), RequestTimeout),
        (httpx.ConnectError("[Errno 111] Connection refused"), ConnectionFailed),
        (httpx.ReadError("reset"), ConnectionFailed),
    ],
)
def test_exhausted_transport_errors_are_typed(make_runtime, fault: Exception, kind: type) -> None:
    def hook(i: int, r: httpx.Request) -> None:
        raise fault

    api = FakeAPI(rows(5), hook=hook)
    with pytest.raises(kind, match=r"^\[fake\] GET api/items\?offset=0&limit=5: .*after 5 attempts") as info:
        loop.run(make_runtime(api).send(REQ))
    assert API_KEY not in str(info.value)


def test_exhausted_malformed_json(make_runtime) -> None:
    api = FakeAPI(rows(5), hook=lambda i, r: httpx.Response(200, content=b'{"items": [1, 2'))
    with pytest.raises(APIError, match="malformed JSON page"):
        loop.run(make_runtime(api).send(REQ))
    assert len(api.requests) == 5


def test_retry_after_beyond_limit_fails_at_once(make_runtime, sleeper: Sleeper) -> None:
    api = FakeAPI(rows(5), hook=lambda i, r: httpx.Response(429, headers={"Retry-After": "120"}))
    with pytest.raises(APIError, match="asked to wait 120 s") as info:
        loop.run(make_runtime(api).send(REQ))
    assert info.value.status == 429
    assert len(api.requests) == 1 and sleeper.calls == []


def test_total_retry_time_is_bounded(make_runtime, sleeper: Sleeper) -> None:
    policy = RetryPolicy(max_attempts=10, max_total=1.0, sleep=sleeper, clock=sleeper.clock)
    api = FakeAPI(rows(5), hook=lambda i, r: httpx.Response(429, headers={"Retry-After": "0.6"}))
    with pytest.raises(APIError, match="after 2 attempts"):
        loop.run(make_runtime(api, retry=policy).send(REQ))
    assert sleeper.calls == [0.6]


def test_client_errors_are_not_retried(make_runtime, sleeper: Sleeper) -> None:
    api = FakeAPI(rows(5), hook=lambda i, r: httpx.Response(400, json={"errors": [{"detail": "unknown field 'x'"}]}))
    with pytest.raises(APIError, match=r"HTTP 400: unknown field 'x'$") as info:
        loop.run(make_runtime(api).send(REQ))
    assert info.value.status == 400
    assert len(api.requests) == 1 and sleeper.calls == []


@pytest.mark.parametrize("status", [401, 403])
def test_auth_statuses_are_auth_errors(make_runtime, status: int) -> None:
    api = FakeAPI(rows(5), hook=lambda i, r: httpx.Response(status, json={"message": "key revoked"}))
    with pytest.raises(AuthError, match="key revoked") as info:
        loop.run(make_runtime(api).send(REQ))
    assert info.value.status == status and len(api.requests) == 1


def test_unsupported_scheme_fails_without_retry(make_runtime) -> None:
    def hook(i: int, r: httpx.Request) -> None:
        raise httpx.UnsupportedProtocol("no handler for 'ftp'")

    api = FakeAPI(rows(1), hook=hook)
    with pytest.raises(ConnectionFailed, match="UnsupportedProtocol"):
        loop.run(make_runtime(api).send(REQ))
    assert len(api.requests) == 1


def test_decoding_a_page_sets_off_no_gc_collection():
    # A page of 2,000 nested records allocates ~20,000 containers: ~30 young collections with the
    # GC on, which promoted the page and led to full-heap collections (13% of a nested scan's CPU).
    import gc

    import orjson

    from lowcode_sql.fetch.retry import _decode

    body = orjson.dumps({"objects": [{"id": i, "tags": [{"name": "t"}], "space": {"id": i}} for i in range(2000)]})
    response = httpx.Response(200, content=body)
    started: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    assert gc.isenabled()
    gc.collect()
    gc.callbacks.append(note)
    try:
        page = _decode(response)
    finally:
        gc.callbacks.remove(note)
    assert len(page["objects"]) == 2000
    assert started in ([], [0])  # at most the one young collection when the GC is back on (12 before)
    assert gc.isenabled()  # and it is on again afterwards
