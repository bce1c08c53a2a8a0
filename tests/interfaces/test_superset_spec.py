"""The Superset engine spec (lowcode_sql/superset_spec.py) without Superset: every grain Superset
offers is there, and each truncates as Superset means it when the engine runs it over an emulator's
TIMESTAMP WITH TIME ZONE, TIMESTAMP and DATE columns; the epoch and literal helpers give the
instants they name. The Superset end-to-end test (test_superset.py) runs the same spec in Superset."""

from __future__ import annotations

import datetime as dt
import importlib.metadata

import pyarrow as pa
import pytest

import lowcode_sql
from lowcode_sql.superset_spec import EPOCH_MS_TO_DTTM, EPOCH_TO_DTTM, TIME_GRAINS, LowcodeEngineSpec, convert_dttm

# superset/constants.py TimeGrain (Superset 6.1), copied: the spec must answer each of them
SUPERSET_GRAINS = ["PT1S", "PT5S", "PT30S", "PT1M", "PT5M", "PT10M", "PT15M", "PT30M", "PT0.5H", "PT1H", "PT6H",
                   "P1D", "P1W", "1969-12-28T00:00:00Z/P1W", "1969-12-29T00:00:00Z/P1W", "P1W/1970-01-03T00:00:00Z",
                   "P1W/1970-01-04T00:00:00Z", "P1M", "P3M", "P0.25Y", "P1Y"]

_SECONDS = {"PT1S": 1, "PT5S": 5, "PT30S": 30, "PT1M": 60, "PT5M": 300, "PT10M": 600, "PT15M": 900, "PT30M": 1800,
            "PT0.5H": 1800, "PT1H": 3600, "PT6H": 6 * 3600, "P1D": 86400}


def expected(grain: str, t: dt.datetime) -> dt.datetime:
    """What Superset means by ``grain``: the start of the bucket holding ``t`` (the week's last
    day for the "week ending" grains), buckets under a day aligned to the clock."""
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    if grain in _SECONDS:
        step = _SECONDS[grain]
        return day + dt.timedelta(seconds=int((t - day).total_seconds()) // step * step)
    monday = day - dt.timedelta(days=t.weekday())
    sunday = day - dt.timedelta(days=(t.weekday() + 1) % 7)
    return {
        "P1W": monday,
        "1969-12-29T00:00:00Z/P1W": monday,
        "1969-12-28T00:00:00Z/P1W": sunday,
        "P1W/1970-01-03T00:00:00Z": sunday + dt.timedelta(days=6),
        "P1W/1970-01-04T00:00:00Z": monday + dt.timedelta(days=6),
        "P1M": day.replace(day=1),
        "P3M": day.replace(month=(t.month - 1) // 3 * 3 + 1, day=1),
        "P0.25Y": day.replace(month=(t.month - 1) // 3 * 3 + 1, day=1),
        "P1Y": day.replace(month=1, day=1),
    }[grain]


def _instants() -> list[dt.datetime]:
    # week and year edges (2023-12-31 is a Sunday, 2024-01-06 a Saturday), leap day, and a spread
    out = [dt.datetime(2023, 12, 31, 23, 59, 59, 999_999), dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 6, 12),
           dt.datetime(2024, 1, 7, 0, 0, 1), dt.datetime(2024, 2, 29, 5, 59, 59), dt.datetime(2024, 3, 31, 18)]
    t = dt.datetime(2021, 5, 3, 1, 2, 3, 456_000)
    for i in range(60):
        out.append(t)
        t += dt.timedelta(days=i % 17, hours=i % 7, minutes=(i * 7) % 60, seconds=(i * 13) % 60)
    return out


def _naive(v: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.UTC).replace(tzinfo=None) if v.tzinfo is not None else v
    return dt.datetime(v.year, v.month, v.day)


@pytest.fixture(scope="module")
def con():  # type: ignore[no-untyped-def]
    ts = _instants()
    table = pa.table({"n": pa.array(range(len(ts)), pa.int64()),
                      "ts": pa.array([t.replace(tzinfo=dt.UTC) for t in ts], pa.timestamp("us", "UTC")),
                      "d": pa.array([t.date() for t in ts], pa.date32())})
    c = lowcode_sql.connect_sandbox("slingr", {"ev": table})
    yield c, ts
    c.close()


def test_every_superset_grain_has_an_expression() -> None:
    assert set(LowcodeEngineSpec._time_grain_expressions) == {None, *SUPERSET_GRAINS}
    assert LowcodeEngineSpec.engine == "lowcode"


def test_the_spec_is_registered_for_superset() -> None:
    eps = importlib.metadata.entry_points(group="superset.db_engine_specs")
    assert [e.value for e in eps if e.name == "lowcode"] == ["lowcode_sql.superset_spec:LowcodeEngineSpec"]


@pytest.mark.parametrize("grain", SUPERSET_GRAINS)
def test_grain_truncates_as_superset_means(con, grain: str) -> None:  # type: ignore[no-untyped-def]
    c, ts = con
    expr = TIME_GRAINS[grain]
    # the grain on a TIMESTAMPTZ column, on a naive TIMESTAMP and on a DATE, GROUP BY as a chart does
    got = c.sql(f"SELECT n, {expr.format(col='ts')}, {expr.format(col='CAST(ts AS TIMESTAMP)')}, "
                f"{expr.format(col='d')} FROM slingr.ev ORDER BY n").fetchall()
    assert len(got) == len(ts)
    for (n, tz, naive, on_date), t in zip(got, ts, strict=True):
        assert _naive(tz) == expected(grain, t), (grain, n, t, tz)
        assert _naive(naive) == expected(grain, t), (grain, n, t, naive)
        # a date has no time of day: grains under a day leave it as it is
        want = expected(grain, t) if grain not in _SECONDS else _naive(t.date())
        assert _naive(on_date) == want, (grain, n, t, on_date)
    grouped = c.sql(f"SELECT {expr.format(col='ts')} AS g, COUNT(*) FROM slingr.ev GROUP BY 1").fetchall()
    want_groups: dict[dt.datetime, int] = {}
    for t in ts:
        want_groups[expected(grain, t)] = want_groups.get(expected(grain, t), 0) + 1
    assert {_naive(g): k for g, k in grouped} == want_groups


def test_epoch_expressions(con) -> None:  # type: ignore[no-untyped-def]
    c, _ = con
    row = c.sql(f"SELECT {EPOCH_TO_DTTM.format(col='1700000000.25')}, {EPOCH_MS_TO_DTTM.format(col='1700000000250')}, "
                f"{LowcodeEngineSpec.epoch_to_dttm().format(col='n')} FROM slingr.ev WHERE n = 3").fetchall()
    want = dt.datetime(2023, 11, 14, 22, 13, 20, 250_000)
    assert row == [(want, want, dt.datetime(1970, 1, 1, 0, 0, 3))]


@pytest.mark.parametrize("target", ["TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ", "DATETIME", "TIMESTAMP", "DATE"])
def test_convert_dttm_filters_like_the_instant(con, target: str) -> None:  # type: ignore[no-untyped-def]
    c, ts = con
    cut = dt.datetime(2024, 1, 6, 12)
    literal = LowcodeEngineSpec.convert_dttm(target, cut)
    assert literal is not None
    aware = "TIME ZONE" in target or target.endswith("TZ")
    column = "d" if target == "DATE" else "ts" if aware else "CAST(ts AS TIMESTAMP)"
    got = c.sql(f"SELECT COUNT(*) FROM slingr.ev WHERE {column} >= {literal}").fetchall()[0][0]
    bound = cut.date() if target == "DATE" else cut
    assert got == sum(1 for t in ts if (t.date() if target == "DATE" else t) >= bound)


def test_convert_dttm_leaves_other_types_to_superset() -> None:
    assert convert_dttm("VARCHAR", dt.datetime(2024, 1, 1)) is None
    assert convert_dttm("BIGINT", dt.datetime(2024, 1, 1)) is None


def test_stop_button_interrupts_the_running_query() -> None:
    """SQL Lab's Stop on the ``lowcode://`` route: the id Superset stores before the query runs
    names its DB-API connection; cancelling with it ends the query within a second, where it
    would otherwise read all 80 pages of its table (0.3 s each, 8 at a time: 3 s and more),
    and the connection still answers the next query. An id this process does not hold: False."""
    import threading
    import time

    from lowcode_sql import dbapi
    from lowcode_sql.superset_spec import cancel_query, cancel_query_id

    big = pa.table({"label": [f"row {i}" for i in range(4000)]})
    engine = lowcode_sql.connect_sandbox("entu", {"big": big}, options={"page_size": 50})
    try:
        conn = dbapi.connect(connection=engine)
        cursor = conn.cursor()
        key = cancel_query_id(cursor)
        assert key is not None
        # tables discovered first, as Superset's dataset sync has done before anyone runs a query
        assert cursor.execute("SELECT count(*) FROM entu.big").fetchall() == [(4000,)]
        sandbox = engine.sandbox("entu")
        sandbox.stats.clear()
        sandbox.latency = 0.3
        outcome: dict[str, object] = {}

        def run() -> None:
            t0 = time.monotonic()
            try:
                # length() is not sent to Entu: every page is needed
                cursor.execute("SELECT count(*) FROM entu.big b1, entu.big b2 WHERE length(b1.label) > 5")
                outcome["rows"] = cursor.fetchall()
            except dbapi.Error as e:
                outcome["error"] = e
            outcome["seconds"] = time.monotonic() - t0

        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.8)  # its scans are under way
        t_cancel = time.monotonic()
        assert cancel_query(key) is True
        t.join(30)
        assert not t.is_alive()
        assert isinstance(outcome.get("error"), dbapi.OperationalError), outcome
        assert time.monotonic() - t_cancel < 1.5, outcome
        pages = sandbox.stats.count("/entity$")
        assert 0 < pages < 80, pages  # the scan stopped sending requests
        sandbox.latency = 0.0
        assert conn.cursor().execute("SELECT count(*) FROM entu.big").fetchall() == [(4000,)]
        assert cancel_query(key) is False  # used up: Superset asks once per Stop
        assert cancel_query("not-a-query-of-this-process") is False
        assert cancel_query_id(object()) is None  # not a lowcode_sql cursor
    finally:
        engine.close()
