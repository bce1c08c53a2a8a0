"""One wire server for the module's tests, over an Entu sandbox with known rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pyarrow as pa
import pytest

import lowcode_sql
from lowcode_sql.pgwire import ServerThread, md5_hash, scram_hash

USER, PASSWORD = "alice", "s3cret pass"
MD5_USER, MD5_PASSWORD = "bob", "md5 pass"

ITEMS = pa.table({
    "name": ["alpha", "beta", None, "Straße"],
    "qty": [3, 10, None, 7],
    "price": [1.5, None, 3.25, 10.0],
    "ok": [True, False, None, True],
    "day": [dt.date(2024, 1, 1), None, dt.date(2024, 3, 1), dt.date(2023, 12, 31)],
    "seen": pa.array([dt.datetime(2024, 1, 1, 12, 0, 0, 500000, tzinfo=dt.UTC), None, None,
                      dt.datetime(2024, 5, 1, tzinfo=dt.UTC)], pa.timestamp("ms", tz="UTC")),
    "tags": [["x", "y"], [], ["y"], None],
})
BIG_ROWS = 2500
BIG = pa.table({"n": [float(i) for i in range(BIG_ROWS)], "label": [f"row {i}" for i in range(BIG_ROWS)]})
MID_ROWS = 300  # full scans in the functional tests (the emulator's page cost grows with the table)
MID = BIG.slice(0, MID_ROWS)


def users() -> dict[str, str]:
    return {USER: scram_hash(PASSWORD), MD5_USER: md5_hash(MD5_USER, MD5_PASSWORD)}


@pytest.fixture(scope="session")
def sandbox_con() -> Iterator[lowcode_sql.Connection]:
    # small pages: scans of `big` take many requests, so cancel/disconnect tests can see them stop
    con = lowcode_sql.connect_sandbox("entu", {"item": ITEMS, "big": BIG, "mid": MID},
                                       options={"page_size": 50})
    yield con
    con.close()


@pytest.fixture(scope="session")
def server(sandbox_con: lowcode_sql.Connection) -> Iterator[ServerThread]:
    with ServerThread(sandbox_con, port=0, users=users(), auth="md5") as srv:
        yield srv


@pytest.fixture(scope="session")
def dsn(server: ServerThread) -> str:
    return f"host=127.0.0.1 port={server.port} user={USER} password='{PASSWORD}' dbname=lowcode sslmode=disable"
