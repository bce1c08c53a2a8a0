"""Issue 13, section 4: Alumio's inferred paths and string-compared timestamps.

The seed lists no paths; discovery listed the storages always, and a 404 there failed every query
of the source. ``AlumioSandbox(variants=[...])`` answers the way a real deployment may.
"""

from __future__ import annotations

import datetime as dt

import pytest

import lowcode_sql
from lowcode_sql.errors import APIError, DiscoveryWarning
from lowcode_sql.sandbox.alumio import AlumioSandbox


def connect(sb: AlumioSandbox, **options: object) -> lowcode_sql.Connection:
    con = lowcode_sql.connect()
    con.add_source("al", "alumio", sandbox=sb, options=options)
    return con


@pytest.mark.parametrize("variant", ["storages_404", "storages_403"])
def test_a_failed_storage_listing_leaves_out_the_storage_tables_with_a_warning(variant):
    sb = AlumioSandbox(variants=[variant])
    with connect(sb) as con:
        with pytest.warns(DiscoveryWarning, match=r"storages = \[\]") as caught:
            names = [t for _, t, _ in con.tables()]
        assert "tasks" in names and not [n for n in names if n.startswith("storage_")]
        assert "storages" in str(caught[0].message)
        assert con.sql("SELECT count(*) FROM al.tasks").fetchall() == [(len(sb.rows["tasks"]),)]


def test_storages_empty_sends_no_listing():
    sb = AlumioSandbox(variants=["storages_404"])
    with connect(sb, storages=[]) as con:
        assert con.sql("SELECT count(*) FROM al.tasks").fetchall() == [(len(sb.rows["tasks"]),)]
    assert sb.stats.count("storages") == 0


def test_a_bad_token_still_fails_discovery():
    sb = AlumioSandbox(variants=["storages_404"])
    con = lowcode_sql.connect()
    con.add_source("al", "alumio", sandbox=sb, secrets={"token": "wrong-token"})
    with pytest.raises(lowcode_sql.errors.AuthError):
        con.tables()
    con.close()


def test_paths_sets_one_tables_path():
    sb = AlumioSandbox(variants=["queue_path_dashed"])
    with connect(sb) as con, pytest.raises(APIError, match="404"):
        con.sql("SELECT count(*) FROM al.queue_processes").fetchall()
    with connect(sb, paths={"queue_processes": "api/v1/queue-processes"}) as con:
        assert con.sql("SELECT count(*) FROM al.queue_processes").fetchall() == [(len(sb.rows["queue_processes"]),)]
        assert "api/v1/queue-processes" in con.explain("SELECT identifier FROM al.queue_processes")
        assert con.sql("SELECT count(*) FROM al.tasks").fetchall() == [(len(sb.rows["tasks"]),)]


def test_paths_must_be_paths():
    with pytest.raises(lowcode_sql.errors.LowcodeSQLError, match="paths"):
        connect(AlumioSandbox(), paths={"tasks": ""}).tables()


_OPS = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
        "=": lambda a, b: a == b, "<>": lambda a, b: a != b}


@pytest.mark.parametrize("loopback", [False, True])
def test_timestamp_filters_give_the_same_rows_when_the_server_compares_text(loopback):
    """API-NOTES §2: dates are compared as strings. Whatever the server does, the rows are DuckDB's."""
    for sb in (AlumioSandbox(loopback_operators=loopback),
               AlumioSandbox(loopback_operators=loopback, variants=["timestamps_as_strings"])):
        rows = sb.rows["tasks"]
        stamps = sorted(t["createdAt"] for t in rows)
        cut = stamps[len(stamps) // 2]
        lits = [cut, cut + dt.timedelta(milliseconds=500), cut + dt.timedelta(microseconds=1500),
                cut.replace(microsecond=0) + dt.timedelta(seconds=1)]
        with connect(sb, loopback_operators=loopback, storages=[]) as con:
            for lit in lits:
                for op, test in _OPS.items():
                    sql = f"SELECT identifier FROM al.tasks WHERE created_at {op} TIMESTAMPTZ '{lit.isoformat()}'"
                    want = sorted(t["identifier"] for t in rows if test(t["createdAt"], lit))
                    assert sorted(i for (i,) in con.sql(sql).fetchall()) == want, (sb.variants, sql)
