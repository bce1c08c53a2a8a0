"""Issue 13, section 4: Totalum answers the way the real service plausibly may, and the engine still
gives the right rows or a loud error, never fewer rows.

Each test runs the emulator with a variant (``TotalumSandbox(variants=[...])``, documented in
``lowcode_sql/sandbox/totalum``); on the code before the fix, each lost rows silently.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

import lowcode_sql
from lowcode_sql.errors import InconsistentScan
from lowcode_sql.sandbox.totalum import TotalumSandbox

N = 1234


def sandbox(*variants: str) -> TotalumSandbox:
    sb = TotalumSandbox(variants=variants)
    sb.load_table("big", pa.table({
        "name": [f"n{i:04d}" for i in range(N)],
        "grp": [f"g{i % 37:02d}" for i in range(N)],
        "v": [float(i) for i in range(N)],
    }))
    return sb


def connect(sb: TotalumSandbox, **options: object) -> lowcode_sql.Connection:
    con = lowcode_sql.connect()
    con.add_source("tl", "totalum", sandbox=sb, options=options)
    return con


@pytest.mark.parametrize("variants", [("bare_array",), ("bare_array", "page_cap_50"), ("bare_array", "page_cap_20"),
                                      ("page_cap_20",)])
@pytest.mark.parametrize("drift_check", [True, False])
def test_a_full_scan_of_bare_array_answers_under_a_page_cap_returns_every_row(variants, drift_check):
    """The seed's example answer is a bare array (no count); with a server cap below our 200-row
    page, a short page is not the end. Before: 50 (or 20) of 1234 rows, no error."""
    sb = sandbox(*variants)
    with connect(sb, drift_check=drift_check) as con:
        got = con.sql("SELECT name FROM tl.big").fetchall()
        assert sorted(n for (n,) in got) == [f"n{i:04d}" for i in range(N)]
        assert con.sql("SELECT count(*) FROM tl.big WHERE v >= 100").fetchall() == [(N - 100,)]
        assert con.sql("SELECT name FROM tl.big ORDER BY v DESC LIMIT 3 OFFSET 60").fetchall() == [
            ("n1173",), ("n1172",), ("n1171",)]


def test_bare_array_pages_after_the_first_ask_at_most_the_documented_default():
    sb = sandbox("bare_array")
    with connect(sb) as con:
        con.tables()
        sb.reset_stats()
        assert len(con.sql("SELECT name FROM tl.big")) == N
    limits = [dict(e.query)["pagination[limit]"] for e in sb.stats.log]
    assert limits[0] == "200" and set(limits[1:]) == {"50"}


@pytest.mark.parametrize("variants", [("bare_array", "ignore_pagination"), ("ignore_pagination",)])
@pytest.mark.parametrize("drift_check", [True, False])
def test_a_server_ignoring_pagination_is_a_loud_error(variants, drift_check):
    """Every answer is page 0 of 50 rows: never a 50-row answer presented as the table."""
    with connect(sandbox(*variants), drift_check=drift_check) as con, pytest.raises(InconsistentScan):
        con.sql("SELECT name FROM tl.big").fetchall()


def test_group_by_does_not_use_the_aggregation_endpoint_by_default():
    """Its answer has no total, so a server cap (here 20 documents) dropped groups unseen."""
    sb = sandbox("aggregation_cap_20")
    with connect(sb) as con:
        got = con.sql("SELECT grp, count(*) FROM tl.big GROUP BY 1").fetchall()
        assert len(got) == 37 and sum(n for _, n in got) == N
        assert con.sql("SELECT name FROM tl.big ORDER BY v LIMIT 30 OFFSET 41").fetchall() == [
            (f"n{i:04d}",) for i in range(41, 71)]
    assert sb.stats.count("custom-mongo-aggregation-query") == 0


def test_the_aggregation_endpoint_stays_available_as_an_option():
    sb = sandbox()
    with connect(sb, aggregate=True) as con:
        assert len(con.sql("SELECT grp, count(*) FROM tl.big GROUP BY 1").fetchall()) == 37
    assert sb.stats.count("custom-mongo-aggregation-query") == 1
