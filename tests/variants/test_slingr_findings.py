"""Issue 13, section 4: Slingr tells a list answer from an aggregate answer by the request it sent.

``SlingrSandbox(variants=["list_without_offset"])`` answers lists as ``{total, items}`` without the
documented ``offset``; before the fix such a list was taken for an aggregate answer and a plain scan
failed with advice about ``aggregate_pushdown`` that did not help.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

import lowcode_sql
from lowcode_sql.sandbox.slingr import SlingrSandbox

N = 345


@pytest.fixture(scope="module")
def sandbox() -> SlingrSandbox:
    sb = SlingrSandbox(variants=["list_without_offset"])
    sb.load_table("big", pa.table({"n": list(range(N)), "grp": [i % 7 for i in range(N)]}))
    return sb


def connect(sb: SlingrSandbox, **options: object) -> lowcode_sql.Connection:
    con = lowcode_sql.connect()
    con.add_source("sl", "slingr", sandbox=sb, options={"entities": sorted(sb.entities), "page_size": 50, **options})
    return con


@pytest.mark.parametrize("keyset", [True, False])
def test_a_list_answer_without_offset_is_a_list(sandbox, keyset):
    with connect(sandbox, keyset=keyset) as con:
        got = con.sql("SELECT n FROM sl.big").fetchall()
        assert sorted(n for (n,) in got) == list(range(N))
        assert con.sql("SELECT n FROM sl.big WHERE grp = 3 ORDER BY n DESC LIMIT 2").fetchall() == [(339,), (332,)]


def test_aggregate_answers_are_still_read_as_aggregates(sandbox):
    with connect(sandbox) as con:
        got = dict(con.sql("SELECT grp, count(*) FROM sl.big GROUP BY 1").fetchall())
    assert got == {g: len(range(g, N, 7)) for g in range(7)}
    assert sandbox.stats.count("/aggregate$") >= 1
