"""The wire server against a real PostgreSQL: the same rows, the same queries, the same answers.

A throw-away PostgreSQL cluster (Debian's ``postgresql``, found under /usr/lib/postgresql) is
started on a free 127.0.0.1 port; the same rows are loaded into it and into an Entu emulator
source served by the wire server. Every query of ``pg_corpus.sql`` runs through both with
psycopg 3, in text and in binary format, and the result column type OIDs and the values are
compared. A query that differs must be listed in ``pg_known_differences.txt`` with the reason
(README, "Known differences from PostgreSQL"); the test asserts that list is exactly what differs,
so a fix (or a regression) shows up as a change to it.
"""

from __future__ import annotations

import datetime as dt
import glob
import math
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import lowcode_sql
from lowcode_sql.pgwire import ServerThread, scram_hash

psycopg = pytest.importorskip("psycopg")

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
CORPUS = HERE / "pg_corpus.sql"
KNOWN = HERE / "pg_known_differences.txt"
USER, PASSWORD = "diff", "diff pass"

_UTC = dt.UTC
ROWS: list[tuple[Any, ...]] = [
    # id, grp, qty, price, name, ok, day, ts
    (1, "a", 3, 1.5, "alpha", True, dt.date(2024, 1, 1), dt.datetime(2024, 1, 1, 12, 0, 0, 500000, _UTC)),
    (2, "a", 10, -2.25, "Beta", False, dt.date(2024, 2, 29), dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=_UTC)),
    (3, "b", None, 3.25, None, None, dt.date(2024, 3, 1), None),
    (4, "b", 7, 10.0, "Straße", True, dt.date(2023, 12, 31), dt.datetime(2023, 12, 31, 0, 0, tzinfo=_UTC)),
    (5, "c", 0, 0.1, "gamma ray", False, None, dt.datetime(2022, 7, 4, 6, 30, 15, 250000, _UTC)),
    (6, None, -4, 99.99, "delta", True, dt.date(2021, 6, 15), dt.datetime(2021, 6, 15, 18, 45, tzinfo=_UTC)),
    (7, "c", 2299, 1e6, "it's", None, dt.date(2020, 1, 1), dt.datetime(2020, 1, 1, 0, 0, 1, tzinfo=_UTC)),
    (8, "a", 1, -0.5, "ALPHA", True, dt.date(2024, 12, 31), dt.datetime(2024, 12, 31, 23, 0, tzinfo=_UTC)),
    (9, "b", 12, 7.125, "a_b%c", False, dt.date(2025, 5, 5), dt.datetime(2025, 5, 5, 5, 5, 5, tzinfo=_UTC)),
    (10, None, None, None, "", None, None, None),
    (11, "c", 5, 2.5, "x-y-z", True, dt.date(2024, 7, 1), dt.datetime(2024, 7, 1, 0, 0, tzinfo=_UTC)),
    (12, "a", 8, 12.75, "omega", False, dt.date(2024, 1, 15), dt.datetime(2024, 1, 15, 9, 30, tzinfo=_UTC)),
]
# The emulator stores numbers as JSON numbers: they come back as double precision, so the
# PostgreSQL table uses double precision too and the corpus casts to the other types it needs.
PG_DDL = ("CREATE TABLE m (id double precision, grp text, qty double precision, price double precision, "
          "name text, ok boolean, day date, ts timestamptz)")


def _arrow_rows() -> pa.Table:
    cols = list(zip(*ROWS, strict=True))
    return pa.table({
        "id": pa.array([float(v) for v in cols[0]], pa.float64()),
        "grp": pa.array(cols[1], pa.string()),
        "qty": pa.array([None if v is None else float(v) for v in cols[2]], pa.float64()),
        "price": pa.array(cols[3], pa.float64()),
        "name": pa.array(cols[4], pa.string()),
        "ok": pa.array(cols[5], pa.bool_()),
        "day": pa.array(cols[6], pa.date32()),
        "ts": pa.array(cols[7], pa.timestamp("us", tz="UTC")),
    })


def read_corpus(path: Path = CORPUS) -> list[str]:
    """One query per line; blank lines and ``--`` comment lines are skipped."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if s and not s.startswith("--"):
            out.append(s)
    return out


def read_known(path: Path = KNOWN) -> dict[str, str]:
    """``# reason`` lines, each followed by the queries (one per line) that differ for it."""
    known: dict[str, str] = {}
    reason = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if s.startswith("#"):
            reason = s.lstrip("# ")
        elif s:
            assert reason, f"known difference without a reason: {s}"
            known[s] = reason
    return known


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def real_pg() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on 127.0.0.1 with the rows loaded; yields its DSN."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL server binaries not installed (Debian package postgresql; .ci/run installs it)")
    bindir = Path(found[-1]).parent
    as_root = os.geteuid() == 0
    if as_root and not (shutil.which("runuser") and _has_user("postgres")):
        pytest.skip("running as root without runuser or a postgres user: initdb refuses to run as root")
    base = Path(tempfile.mkdtemp(prefix="lowcode-pgdiff-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
    port = _free_port()

    def run(*cmd: str) -> None:
        subprocess.run([*prefix, *cmd], check=True, capture_output=True, timeout=120)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
        "--locale=C", "--no-sync")
    opts = (f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c TimeZone=UTC "
            "-c synchronous_commit=off -c full_page_writes=off")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-o", opts, "-w", "start")
    try:
        dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres sslmode=disable"
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute(PG_DDL)
            with con.cursor() as cur:
                cur.executemany("INSERT INTO m VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", ROWS)
        yield dsn
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="module")
def emulated() -> Iterator[str]:
    con = lowcode_sql.connect_sandbox("entu", {"m": _arrow_rows()})
    try:
        with ServerThread(con, port=0, users={USER: scram_hash(PASSWORD)}) as srv:
            yield f"host=127.0.0.1 port={srv.port} user={USER} password='{PASSWORD}' dbname=lowcode sslmode=disable"
    finally:
        con.close()


def _norm(v: Any) -> Any:
    """Values as a client compares them: floats to 12 significant digits, numerics by value."""
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return repr(v)
        return float(f"{v:.12g}")
    if isinstance(v, Decimal):
        return Decimal(f"{v:.12g}") if v == v else "NaN"
    if isinstance(v, list | tuple):
        return tuple(_norm(x) for x in v)
    return v


_ORDERED = re.compile(r"\border\s+by\b[^()]*$", re.I | re.S)


def _answer(con: Any, sql: str, binary: bool) -> tuple[Any, ...]:
    try:
        with con.cursor(binary=binary) as cur:
            cur.execute(sql)
            oids = tuple(d.type_code for d in cur.description or ())
            rows = [tuple(_norm(v) for v in r) for r in cur.fetchall()]
    except psycopg.Error as e:
        return ("error", type(e).__name__ if e.sqlstate is None else e.sqlstate[:2])
    if not _ORDERED.search(sql):
        rows.sort(key=repr)
    return ("ok", oids, rows)


def _differences(pg_dsn: str, emu_dsn: str, queries: list[str]) -> dict[str, str]:
    diffs: dict[str, str] = {}
    with psycopg.connect(pg_dsn, autocommit=True) as pg, psycopg.connect(emu_dsn, autocommit=True) as emu:
        for q in queries:
            for binary in (False, True):
                want, got = _answer(pg, q, binary), _answer(emu, q, binary)
                if want[0] == "error" and got[0] == "error":
                    break  # both refuse it (the SQLSTATE class may differ)
                if want != got:
                    diffs[q] = f"{'binary' if binary else 'text'}: postgresql {want!r} != server {got!r}"
                    break
    return diffs


def test_corpus_is_large_and_unique():
    queries = read_corpus()
    assert len(queries) >= 150
    assert len(set(queries)) == len(queries), "a query is listed twice"
    known = read_known()
    assert set(known) <= set(queries), f"known differences not in the corpus: {set(known) - set(queries)}"


def test_server_answers_like_postgresql(real_pg: str, emulated: str):
    queries = read_corpus()
    known = read_known()
    diffs = _differences(real_pg, emulated, queries)
    unexpected = {q: d for q, d in diffs.items() if q not in known}
    fixed = sorted(set(known) - set(diffs))
    assert not unexpected, "differences from PostgreSQL not in pg_known_differences.txt:\n" + "\n".join(
        f"{q}\n    {d}" for q, d in unexpected.items())
    assert not fixed, "listed as known differences but now answered like PostgreSQL (remove them):\n" + \
        "\n".join(fixed)
