"""0 leaks against a server that echoes the request (headers, URL, body) in its error bodies.

For each platform, through its real auth path, the echo is padded so that the first secret in it
starts at every offset around the truncation points (300 characters of a platform message, 80 of
a malformed page's head). Everything a user can see is collected: the exception's ``str``,
``repr``, ``args`` and its whole ``__cause__``/``__context__`` chain (and the formatted traceback),
log records at DEBUG from every logger (lowcode_sql, httpx, httpcore), and EXPLAIN's text. A leak is
any form of any secret (raw, base64, URL-encoded, JSON-escaped, bytes-repr, base64 of a pair) or
any 8-character piece of one.
"""

from __future__ import annotations

import logging
import traceback
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from lowcode_sql.config import Config
from lowcode_sql.connection import Connection
from lowcode_sql.errors import AuthError, DiscoveryWarning, LowcodeSQLError
from lowcode_sql.fetch.retry import RetryPolicy
from tests.security.echo_fakes import CASES, PAD, Case, EchoServer, FakeSandbox, find_leaks, leak_needles


async def _no_sleep(_: float) -> None:
    return None


def connect(case: Case, server: EchoServer) -> Connection:
    con = Connection(Config())
    con.add_source("src", case.platform, sandbox=FakeSandbox(server), secrets=dict(case.credentials),
                   options=dict(case.options))
    con.catalog.source("src").runtime.retry = RetryPolicy(max_attempts=2, sleep=_no_sleep)
    return con


def exception_texts(exc: BaseException) -> list[str]:
    """str, repr and args of the error and of everything chained to it, and the traceback text."""
    out: list[str] = ["".join(traceback.format_exception(exc))]
    stack: list[BaseException | None] = [exc]
    seen: set[int] = set()
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        out += [str(e), repr(e), repr(e.args)]
        stack += [e.__cause__, e.__context__]
    return out


def log_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    out = [caplog.text]
    for r in caplog.records:
        out += [r.getMessage(), r.exc_text or "", r.stack_info or ""]
    return out


def first_secret_index(echo: str, case: Case) -> int:
    found = [echo.find(v) for v in case.secret_values if v in echo]
    assert found, "the echo must contain a secret, or the test tests nothing"
    return min(found)


def pads(echo: str, case: Case, cut: int, dense: bool = True) -> list[int]:
    """Paddings that put the first secret ``k`` characters before ``cut``: every offset from just
    after its start to just past its end where it is short (a quarter of the offsets inside a
    long token); ``dense=False``: its first and last few characters only."""
    i = first_secret_index(echo, case)
    length = len(case.primary)
    near = set(range(-2, 4)) | set(range(length - 3, length + 3)) | {length // 2}
    ks = (near | set(range(0, length, 1 if length <= 32 else 4))) if dense else near
    return sorted({cut - i - k for k in ks if cut - i - k >= 0})


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    for name in ("lowcode_sql", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog


def run_sweep(case: Case, server: EchoServer, cut: int, caplog: pytest.LogCaptureFixture,
              sql: str | None = None, dense: bool = True) -> int:
    """Query once to learn the echo, then once per padding; return the number of errors checked."""
    needles = leak_needles(case)
    con = connect(case, server)
    sql = sql or f"SELECT * FROM src.{case.table}"
    # a discovery that leaves part of a source out warns (Alumio's storage listing failing): the
    # warning's text quotes the error, so it is checked for leaks like the errors themselves
    seen = warnings.catch_warnings(record=True)
    warned = seen.__enter__()
    warnings.simplefilter("always", DiscoveryWarning)
    try:
        with pytest.raises(LowcodeSQLError):
            con.sql(sql)
        echo = server.last_echo
        assert echo and find_leaks(echo, needles), "the fake must echo the secrets"
        checked = 0
        for pad in pads(echo, case, cut, dense):
            server.pad = pad
            with pytest.raises(LowcodeSQLError) as info:
                con.sql(sql)
            leaks = [(t, find_leaks(t, needles)) for t in exception_texts(info.value)]
            assert not [hit for _, hit in leaks if hit], f"pad {pad}: {[t for t, hit in leaks if hit][:1]}"
            checked += 1
        assert not find_leaks("\n".join(log_texts(caplog)), needles)
        assert not find_leaks("\n".join(str(w.message) for w in warned), needles)
        return checked
    finally:
        seen.__exit__(None, None, None)
        con.close()


@pytest.mark.parametrize("platform", sorted(CASES))
@pytest.mark.parametrize("shape", ["json", "text"])
def test_error_bodies_echoing_the_request_at_the_300_character_cut(platform: str, shape: str, debug_logs: Any) -> None:
    case = CASES[platform]
    assert run_sweep(case, EchoServer(case, status=400, shape=shape), 300, debug_logs) >= 10


@pytest.mark.parametrize("platform", sorted(CASES))
def test_malformed_page_head_echoing_the_request_at_the_80_character_cut(platform: str, debug_logs: Any) -> None:
    case = CASES[platform]
    assert run_sweep(case, EchoServer(case, shape="page"), 80, debug_logs) >= 10


@pytest.mark.parametrize("platform", sorted(CASES))
def test_transport_errors_quoting_the_request(platform: str, debug_logs: Any) -> None:
    """A transport exception whose text quotes the request (as h11's do): message and chain clean."""
    case = CASES[platform]
    assert run_sweep(case, EchoServer(case, shape="raise"), 300, debug_logs, dense=False) >= 10


@pytest.mark.parametrize("platform", sorted(CASES))
@pytest.mark.parametrize("status", [401, 403, 500])
def test_other_statuses(platform: str, status: int, debug_logs: Any) -> None:
    case = CASES[platform]
    server = EchoServer(case, status=status)
    run_sweep(case, server, 300, debug_logs, dense=False)
    if status == 401 and case.login_path:
        assert server.requests > 3  # the 401 made it log in again and replay (the token path ran)


@pytest.mark.parametrize("platform", ["entu", "slingr"])
@pytest.mark.parametrize("status", [401, 422])
def test_login_exchange_errors_echoing_the_credentials(platform: str, status: int, debug_logs: Any) -> None:
    case = CASES[platform]
    server = EchoServer(case, login_status=status)
    run_sweep(case, server, 300, debug_logs, dense=status == 401)
    con = connect(case, server)
    try:
        with pytest.raises(AuthError, match="login failed"):
            con.sql(f"SELECT * FROM src.{case.table}")
    finally:
        con.close()


@pytest.mark.parametrize("platform", sorted(CASES))
def test_explain_with_count_and_with_a_secret_in_the_sql(platform: str, debug_logs: Any) -> None:
    case = CASES[platform]
    needles = leak_needles(case)
    server = EchoServer(case, status=400, pad=250)
    con = connect(case, server)
    try:
        with pytest.raises(LowcodeSQLError) as info:  # the COUNT request (or discovery) meets the echo
            con.explain(f"SELECT * FROM src.{case.table}", count=True)
        assert not find_leaks("\n".join(exception_texts(info.value)), needles)
        if platform == "coredata":  # no discovery request: EXPLAIN renders without the server
            # A secret pasted into the SQL is masked in EXPLAIN's text.
            text = con.explain(f"SELECT id FROM src.projects WHERE title = '{case.credentials['key']}'")
            assert "scan src.projects" in text and "***" in text and not find_leaks(text, needles)
    finally:
        con.close()
    assert not find_leaks("\n".join(log_texts(debug_logs)), needles)


def test_plain_explain_is_left_alone() -> None:
    import lowcode_sql

    with lowcode_sql.demo() as demo:
        text = demo.explain("SELECT id FROM coredata.projects WHERE title = 'demo'")
    assert "***" not in text and "title = 'demo'" in text


def test_the_sweep_reaches_the_cut() -> None:
    """The paddings really move the first secret across the cut (the test is not vacuous)."""
    case = CASES["coredata"]
    echo = "authorization: apikey ana.rvq7-ops:cdk_live_4f9aQ7xZ2mB8nK3pL6wR1tY5 | GET /x"
    starts = {p + first_secret_index(echo, case) for p in pads(echo, case, 300)}
    assert {300, 299, 301, 300 - len(case.primary) + 1} <= starts
    assert PAD not in "".join(case.secret_values)
