"""Apache Superset end to end, on both routes: the wire server (``postgresql+psycopg2://``) and the
``lowcode://`` dialect with its engine spec (issue 14, item 4).

Superset lives in its own environment (tests/cached_venv.py: ``$LOWCODE_SUPERSET_PYTHON``, or built
once under the cache directory) with this checkout installed; tests/interfaces/superset_driver.py
runs there: it sets Superset up on a SQLite metadata DB and, through Superset's REST API, adds each
database, syncs a dataset, runs a SQL Lab query, renders chart data (GROUP BY + COUNT, a time series
at a day and at a year grain) and stops a running SQL Lab query (the Stop button). Both routes
read the same Entu emulator: the wire server in this process, the dialect over HTTP.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import lowcode_sql
from lowcode_sql.pgwire import ServerThread, md5_hash
from tests.cached_venv import ROOT, cached_python, engine_requirements

# Flask-Caching 2.4+ breaks Superset 6.1 at start (its memoize passes `timeout` on): the release
# Superset's own requirements pin. cachetools: a built-in engine spec imports it, undeclared.
SUPERSET = ["apache-superset==6.1.0", "flask-caching==2.3.1", "cachetools>=5", "psycopg2-binary>=2.9"]
USER, PASSWORD = "superset", "wire-pass"
CATS = ["north", "south", "east"]
START = dt.datetime(2022, 11, 30, 6, tzinfo=dt.UTC)
EVENTS = [(CATS[i % 3], START + dt.timedelta(days=(i * 37) % 800, hours=i % 24)) for i in range(45)]
# every one of the 80 pages (4000 rows, 50 a page) of its table: length() is not pushed to Entu
SLOW = "SELECT count(*) FROM entu.{big} b1, entu.ev WHERE length(b1.label) > 5"
BIG_PAGES = 80


def _python() -> str:
    # wheels only, as Superset's own pins (pandas 2.1, numpy < 2.3) have them for this Python; but
    # odfpy (pandas[excel], which Superset requires) is published as a pure-Python sdist only
    return cached_python("superset", [*engine_requirements(), *SUPERSET],
                         pip_options=["--only-binary=:all:", "--no-binary=odfpy"])


@pytest.fixture(scope="module")
def emulator():  # type: ignore[no-untyped-def]
    ev = pa.table({"cat": [c for c, _ in EVENTS], "ts": pa.array([t for _, t in EVENTS], pa.timestamp("ms", "UTC"))})
    big = pa.table({"label": [f"row {i}" for i in range(4000)]})
    # the same rows under two names: Superset on SQLite keeps dataset names unique across databases
    # and one slow table per route, so the pages each route's stopped query read can be counted
    con = lowcode_sql.connect_sandbox("entu", {"ev": ev, "ev2": ev, "big": big, "big2": big},
                                      options={"page_size": 50})
    yield con
    con.close()


def _expected_grain(unit: str) -> Counter[str]:
    def trunc(t: dt.datetime) -> dt.datetime:
        return t.replace(hour=0) if unit == "day" else t.replace(month=1, day=1, hour=0)
    return Counter(trunc(t).strftime("%Y-%m-%d") for _, t in EVENTS)


def _by_day(rows: list[dict[str, Any]]) -> Counter[str]:
    out: Counter[str] = Counter()
    for r in rows:
        v = r["ts"]
        day = (dt.datetime.fromtimestamp(v / 1000, dt.UTC) if isinstance(v, int | float) else
               dt.datetime.fromisoformat(str(v)))
        out[day.strftime("%Y-%m-%d")] += r["count"]
    return out


@pytest.mark.slow
@pytest.mark.timeout(2400)  # the first run builds Superset's environment (minutes)
def test_superset_on_both_routes(emulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    python = _python()
    sandbox = emulator.sandbox("entu")
    (tmp_path / "lowcode.toml").write_text("")
    with ServerThread(emulator, port=0, users={USER: md5_hash(USER, PASSWORD)}, auth="md5") as wire, \
            sandbox.serve() as http:
        (tmp_path / "lowcode.toml").write_text(
            f'[sources.entu]\nplatform = "entu"\nbase_url = "{http.url}"\noptions = {{ db = "demo", page_size = 50 }}\n'
            'credentials = { key = "ENTU_KEY" }\n')
        # the migrated metadata DB is kept beside the environment: later runs skip 2 min of migrations
        args = {"workdir": str(tmp_path), "template": str(Path(python).parents[1] / "superset-metadata.db"),
                "databases": {
            "wire": {"uri": f"postgresql+psycopg2://{USER}:{PASSWORD}@127.0.0.1:{wire.port}/lowcode",
                     "schema": "entu", "table": "ev", "slow_sql": SLOW.format(big="big")},
            "dialect": {"uri": f"lowcode:///{tmp_path / 'lowcode.toml'}", "schema": "entu", "table": "ev2",
                        "slow_sql": SLOW.format(big="big2")},
        }}
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env["ENTU_KEY"] = sandbox.DEMO_CREDENTIALS["key"]
        sandbox.latency = 0.5  # the slow query is still running when Stop is pressed
        t0 = time.monotonic()
        done = subprocess.run([python, str(ROOT / "tests/interfaces/superset_driver.py"), json.dumps(args)],
                              capture_output=True, text=True, timeout=1200, env=env, cwd=tmp_path)
        sandbox.latency = 0.0
    out = done.stdout[-6000:] + done.stderr[-4000:]
    assert done.returncode == 0, out
    report = json.loads(done.stdout.split("@@REPORT@@", 1)[1])
    print(f"Superset run: {time.monotonic() - t0:.0f} s")
    assert report["lowcode_spec"] == "lowcode_sql.superset_spec.LowcodeEngineSpec", report
    for route in ("wire", "dialect"):
        r = report[route]
        assert r["add_database"] == 201 and r["add_dataset"] == 201, json.dumps(r, indent=1)
        assert "entu" in r["schemas"], (route, r["schemas"])
        assert r["columns"]["ts"][1] is True, (route, r["columns"])  # synced as a time column
        status, data = r["sqllab"]
        assert status == 200, (route, data)
        assert [(d["cat"], d["n"]) for d in data] == sorted(Counter(c for c, _ in EVENTS).items()), (route, data)
        status, chart = r["chart_group"]
        assert status == 200, (route, chart)
        assert {d["cat"]: d["count"] for d in chart["data"]} == Counter(c for c, _ in EVENTS), (route, chart)
        for grain, unit in (("chart_day", "day"), ("chart_year", "year")):
            status, chart = r[grain]
            assert status == 200, (route, grain, chart)
            assert _by_day(chart["data"]) == _expected_grain(unit), (route, grain, chart)
    for route, big in (("wire", "big"), ("dialect", "big2")):
        # wire: Superset's Postgres spec sends pg_terminate_backend for the pid it read with
        # pg_backend_pid(); dialect: lowcode_sql's spec interrupts the DB-API connection
        cancel = report[route]["cancel"]
        said = f"{route}: {json.dumps(cancel, default=str)}"
        # 200 while the query ran: the spec's cancel_query returned True (False is a 422, "Could not
        # cancel query"; Superset stores the id it cancels with in the query's extra, and rewrites
        # that extra later, so the 200 is the proof)
        assert cancel["stop"][0] == 200 and not cancel["alive"], said
        # stopped while it ran: its scan stopped before the last of its 80 pages (0.5 s each, 8 at
        # a time: 5 s and more to read them all)
        pages = sum(1 for e in sandbox.stats.log if ("_type.string", big) in e.query)
        assert 0 < pages < BIG_PAGES, (pages, said)
        assert cancel["answer"]["status"] != "success", said
        # Superset's own race: the Stop request sets STOPPED after cancel_query returns, while the
        # query's thread, on the error the cancel caused, reads the status and records FAILED if
        # STOPPED is not there yet (superset/sql_lab.py, execute_sql_statement's `except Exception`)
        assert cancel["query_status"] in ("stopped", "failed"), said
        print(f"Stop ({route}): the query ended {cancel['seconds']:.1f} s after it started, "
              f"{pages} of {BIG_PAGES} pages read, recorded as {cancel['query_status']}")
