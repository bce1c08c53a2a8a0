"""pg_backend_pid(), pg_stat_activity and pg_cancel_backend / pg_terminate_backend: what a BI tool's
Stop button uses (Superset's PostgresEngineSpec.cancel_query runs ``SELECT pg_terminate_backend(pid)
FROM pg_stat_activity WHERE pid='<the pid pg_backend_pid() gave>'``) (issue 14)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from tests.pgwire.conftest import USER

pytestmark = pytest.mark.slow

SLOW = "SELECT count(*) FROM entu.big b1, entu.item WHERE b1.label LIKE '%9%'"


@contextmanager
def slow_pages(sandbox_con) -> Iterator[None]:
    sandbox = sandbox_con.sandbox("entu")
    old = getattr(sandbox, "latency", 0.0)
    sandbox.latency = 0.5  # every page takes half a second: the scan is running when signalled
    try:
        yield
    finally:
        sandbox.latency = old


def _wait_active(admin: psycopg.Connection, pid: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        row = admin.execute("SELECT state, query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
        if row == ("active", SLOW):
            return
        time.sleep(0.1)
    raise AssertionError(f"session {pid} never showed its query as active")


def _run_in_thread(con: psycopg.Connection) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            con.execute(SLOW)
        except BaseException as e:  # the test inspects it
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    return t, errors


def test_backend_pid_and_activity(dsn):
    with psycopg.connect(dsn, autocommit=True, application_name="victim") as victim, \
            psycopg.connect(dsn, autocommit=True) as admin:
        pid = victim.execute("SELECT pg_backend_pid()").fetchone()[0]
        assert pid == victim.info.backend_pid  # the pid of BackendKeyData, not a constant
        assert admin.execute("SELECT pg_backend_pid()").fetchone()[0] == admin.info.backend_pid != pid
        rows = admin.execute("SELECT pid, usename, application_name, state, query, backend_type "
                             "FROM pg_catalog.pg_stat_activity ORDER BY pid").fetchall()
        by_pid = {r[0]: r for r in rows}
        assert by_pid[pid] == (pid, USER, "victim", "idle", "SELECT pg_backend_pid()", "client backend")
        assert by_pid[admin.info.backend_pid][3] == "active"
        assert admin.execute("SELECT pg_cancel_backend(12345), pg_terminate_backend(NULL)").fetchone() == \
            (False, None)
        # the function behind them will not act for another session without that session's cancel key
        assert admin.execute(f"SELECT __lc_signal({pid}, 1, true, {pid})").fetchone() == (False,)
        assert victim.execute("SELECT 1").fetchone() == (1,)


def test_cancel_backend_stops_the_query(dsn, sandbox_con):
    with slow_pages(sandbox_con), psycopg.connect(dsn, autocommit=True) as victim, \
            psycopg.connect(dsn, autocommit=True) as admin:
        pid = victim.info.backend_pid
        t, errors = _run_in_thread(victim)
        try:
            _wait_active(admin, pid)
            started = time.monotonic()
            assert admin.execute("SELECT pg_cancel_backend(%s)", [pid]).fetchone() == (True,)
        finally:
            t.join(30)
        assert len(errors) == 1 and isinstance(errors[0], psycopg.errors.QueryCanceled)
        assert time.monotonic() - started < 10
        assert victim.execute("SELECT 1").fetchone() == (1,)  # cancel leaves the session usable


def test_superset_stop_terminates_the_backend(dsn, sandbox_con):
    with slow_pages(sandbox_con), psycopg.connect(dsn, autocommit=True) as victim, \
            psycopg.connect(dsn, autocommit=True) as admin:
        pid = victim.execute("SELECT pg_backend_pid()").fetchone()[0]
        t, errors = _run_in_thread(victim)
        try:
            _wait_active(admin, pid)
            # superset/db_engine_specs/postgres.py, PostgresEngineSpec.cancel_query
            cur = admin.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid='{pid}'")
            assert cur.fetchall() == [(True,)]
        finally:
            t.join(30)
        assert not t.is_alive() and len(errors) == 1 and isinstance(errors[0], psycopg.OperationalError)
        assert victim.closed or victim.broken
        deadline = time.monotonic() + 10
        while admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]:
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_a_cancel_between_two_spans_of_one_statement_is_kept():
    # A source query is one statement in two spans: its stream is opened, then its rows are sent. A
    # cancel (or pg_cancel_backend, once pg_stat_activity shows the query active) that lands while
    # the stream is being opened must still stop the rows: the second span may not clear it (it did,
    # and under load test_cancel_backend_stops_the_query then saw the query run to its end).
    from lowcode_sql.pgwire.errors import PGError
    from lowcode_sql.pgwire.session import Session

    s = Session.__new__(Session)
    s.busy, s.cancelled = False, False
    with s.cancellable():  # the statement (session.simple_query / execute)
        with s.cancellable():  # opening the stream
            s.cancelled = True  # what Server.cancel / Server.signal do while the session is busy
        assert s.busy  # between the spans the session still counts as running the query
        with s.cancellable(), pytest.raises(PGError) as info:  # sending the rows
            s.check_cancel()
        assert info.value.code == "57014"
    assert not s.busy
