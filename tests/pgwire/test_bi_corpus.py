"""BI tools' own introspection and query SQL (``bi_corpus/<tool>.sql``, each query naming the
repository, path and commit it comes from) runs through the wire server with psycopg and returns
what the tool reads: no error, the expected column names, and rows naming the sandbox's tables and
columns where the query lists them (issue 14, item 2).

Block format: ``-- query: <name>`` starts a query; ``-- from:`` says where in the source it is;
``-- columns: a, b`` are the result's column names in order; ``-- rows: x, y`` are values that
each appear in some cell of the result; ``-- has-columns: a, b`` are among the result's columns (for ``c.*``
lists); ``-- status: SET`` is the command tag for a statement without rows; ``-- bind: <query>``
gives the values of the query's ``?`` (JDBC) parameters, sent as bind parameters; ``-- render:
name=<query>`` gives the value a template engine writes for ``{{ name }}``. Every other line
(comments included) is the query, as the tool sends it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).parent / "bi_corpus"
_META = re.compile(r"--\s*(from|columns|has-columns|rows|status|bind|render):\s*(.*)$")


@dataclass
class CorpusQuery:
    tool: str
    name: str
    sql: str
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.tool}: {self.name}"


def read_corpus(path: Path) -> list[CorpusQuery]:
    out: list[CorpusQuery] = []
    current: CorpusQuery | None = None
    body: list[str] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), "-- query: <end>"]:
        m = re.match(r"--\s*query:\s*(.*)$", line.strip())
        if m:
            if current is not None:
                current.sql = "\n".join(body).strip().rstrip(";").strip()
                out.append(current)
            current, body = CorpusQuery(path.stem, m.group(1).strip(), ""), []
            continue
        if current is None:
            continue
        meta = _META.match(line.strip())
        if meta and not body:
            current.meta[meta.group(1)] = meta.group(2).strip()
        else:
            body.append(line)
    return out


QUERIES = [q for p in sorted(CORPUS.glob("*.sql")) for q in read_corpus(p)]


def test_corpus_names_its_sources():
    tools = {q.tool for q in QUERIES}
    assert {"metabase", "grafana", "superset", "npgsql", "dbeaver", "pgadmin", "pgjdbc", "psqlodbc", "tableau"} <= tools
    assert len({q.id for q in QUERIES}) == len(QUERIES), "a query name is used twice in one file"
    for q in QUERIES:
        assert q.meta.get("from"), f"{q.id} does not say where in the tool's source it comes from"
        assert q.sql, f"{q.id} is empty"
        assert {"columns", "has-columns", "status"} & set(q.meta), f"{q.id} says nothing about its result"
    for p in CORPUS.glob("*.sql"):
        assert re.search(r"@ [0-9a-f]{40}|\bversion\b", p.read_text(encoding="utf-8")[:800]), \
            f"{p.name} does not name the commit or version it was taken from"


@pytest.mark.parametrize("q", QUERIES, ids=lambda q: q.id)
def test_tool_query_runs_and_answers_what_the_tool_reads(dsn, q: CorpusQuery):
    with psycopg.connect(dsn, autocommit=True) as c, c.cursor() as cur:
        sql, params = q.sql, None
        if "render" in q.meta:
            name, query = q.meta["render"].split("=", 1)
            value = c.execute(query.encode()).fetchone()[0]
            sql = re.sub(r"\{\{\s*" + re.escape(name.strip()) + r"\s*\}\}", str(value), sql)
        if "bind" in q.meta:
            params = list(c.execute(q.meta["bind"].encode()).fetchone())
            assert "%" not in sql, q.id
            sql = sql.replace("?", "%s")
            assert sql.count("%s") == len(params), q.id
        cur.execute(sql.encode() if params is None else sql, params)
        if "status" in q.meta:
            assert (cur.statusmessage or "").startswith(q.meta["status"]), q.id
        if "columns" in q.meta:
            assert cur.description is not None, q.id
            want = [s.strip() for s in q.meta["columns"].split(",")]
            assert [d.name for d in cur.description] == want, q.id
        if "has-columns" in q.meta:
            assert cur.description is not None, q.id
            want = {s.strip() for s in q.meta["has-columns"].split(",")}
            assert want <= {d.name for d in cur.description}, (q.id, want - {d.name for d in cur.description})
        if "columns" in q.meta or "has-columns" in q.meta:
            rows = cur.fetchall()
            cells = {str(v) for r in rows for v in r}
            missing = [v.strip() for v in q.meta.get("rows", "").split(",") if v.strip() and v.strip() not in cells]
            assert not missing, f"{q.id}: no row has {missing}; rows: {rows[:20]}"
