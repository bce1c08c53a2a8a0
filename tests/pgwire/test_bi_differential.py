"""Tableau's generated calculations (bi_corpus/tableau.sql) answer as on a real PostgreSQL: a tool
computes with the values, so running without error is not enough. The rows of
test_pg_differential.py, as ``entu.item`` (``ts`` named ``seen``) on both sides; each query's values
must be equal, or the query listed in bi_known_differences.txt with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import lowcode_sql
from lowcode_sql.pgwire import ServerThread, scram_hash
from tests.pgwire.test_bi_corpus import CORPUS, read_corpus
from tests.pgwire.test_pg_differential import PASSWORD, USER, _arrow_rows, _differences, read_known, real_pg

psycopg = pytest.importorskip("psycopg")

pytestmark = pytest.mark.slow

KNOWN = Path(__file__).with_name("bi_known_differences.txt")
QUERIES = {q.name: q.sql for q in read_corpus(CORPUS / "tableau.sql")}
__all__ = ["real_pg"]  # the fixture, imported to be used here


@pytest.fixture(scope="module")
def pg_item(real_pg: str) -> str:
    with psycopg.connect(real_pg, autocommit=True) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS entu")
        con.execute("CREATE OR REPLACE VIEW entu.item AS SELECT id, grp, qty, price, name, ok, day, ts AS seen FROM m")
    return real_pg


@pytest.fixture(scope="module")
def emulated_item() -> Iterator[str]:
    table = _arrow_rows().rename_columns(["id", "grp", "qty", "price", "name", "ok", "day", "seen"])
    con = lowcode_sql.connect_sandbox("entu", {"item": table})
    try:
        with ServerThread(con, port=0, users={USER: scram_hash(PASSWORD)}) as srv:
            yield f"host=127.0.0.1 port={srv.port} user={USER} password='{PASSWORD}' dbname=lowcode sslmode=disable"
    finally:
        con.close()


def test_tableau_calculations_answer_like_postgresql(pg_item: str, emulated_item: str):
    known = read_known(KNOWN)
    assert set(known) <= set(QUERIES), f"known differences not in tableau.sql: {set(known) - set(QUERIES)}"
    by_sql = {sql: name for name, sql in QUERIES.items()}
    diffs = {by_sql[q]: d for q, d in _differences(pg_item, emulated_item, list(QUERIES.values())).items()}
    unexpected = {n: d for n, d in diffs.items() if n not in known}
    fixed = sorted(set(known) - set(diffs))
    assert not unexpected, "Tableau calculations that differ from PostgreSQL:\n" + "\n".join(
        f"{n}\n    {d}" for n, d in unexpected.items())
    assert not fixed, "listed in bi_known_differences.txt but now answered like PostgreSQL:\n" + "\n".join(fixed)
