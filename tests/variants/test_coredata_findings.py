"""Issue 13, section 4: CoreData ``identifier`` on projects is confirmed only by an example response;
tastypie ignores a filter on a field it does not know, so a real instance may answer every project.
``CoreDataSandbox(variants=["ignore_unknown_filters"])`` does exactly that."""

from __future__ import annotations

import pytest

import lowcode_sql
from lowcode_sql.sandbox.coredata import CoreDataSandbox


def connect(sb: CoreDataSandbox, **options: object) -> lowcode_sql.Connection:
    con = lowcode_sql.connect()
    con.add_source("cd", "coredata", sandbox=sb, options=options)
    return con


@pytest.mark.parametrize("variants", [(), ("ignore_unknown_filters",)])
def test_identifier_on_projects_gives_the_matching_rows_either_way(variants):
    sb = CoreDataSandbox(variants=variants)
    with connect(sb) as con:
        ident = con.sql("SELECT identifier FROM cd.projects WHERE identifier IS NOT NULL LIMIT 1").fetchall()[0][0]
        assert con.sql(f"SELECT identifier FROM cd.projects WHERE identifier = '{ident}'").fetchall() == [(ident,)]
        assert con.sql(f"SELECT count(*) FROM cd.projects WHERE identifier = '{ident}'").fetchall() == [(1,)]
        assert con.sql(f"SELECT count(*) FROM cd.projects WHERE identifier LIKE '{ident[:3]}%'").fetchall()[0][0] < 60
        assert "identifier" in con.explain(f"SELECT title FROM cd.projects WHERE identifier = '{ident}'")


def test_the_option_makes_it_exact_again():
    sb = CoreDataSandbox()
    # count_from_total: a COUNT with a text condition is answered from the total only when the user
    # says the API compares text as SQL does (plan/scans.py)
    with connect(sb, project_identifier=True, count_from_total=True) as con:
        ident = con.sql("SELECT identifier FROM cd.projects WHERE identifier IS NOT NULL LIMIT 1").fetchall()[0][0]
        sb.reset_stats()
        assert con.sql(f"SELECT count(*) FROM cd.projects WHERE identifier = '{ident}'").fetchall() == [(1,)]
        [req] = sb.stats.log
        assert ("limit", "1") in req.query  # a COUNT from the total: one one-row request
