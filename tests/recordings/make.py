"""Regenerate the recordings under tests/recordings/ (``python tests/recordings/make.py``).

Each platform's folder is a recording (``lowcode_sql.fetch.record``) of a few queries against its
embedded emulator, plus ``queries.json``: each query with the rows it answered then. The tests
(``tests/fetch/test_record_replay.py``) replay them with no emulator and compare. Queries are
chosen to push filters, sorts, limits and counts with small pages, to keep the files small.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

QUERIES: dict[str, list[str]] = {
    "coredata": ["SELECT count(*) AS n FROM coredata.tasks WHERE title LIKE 'A%'",
                 "SELECT title FROM coredata.tasks WHERE title LIKE 'B%' LIMIT 2"],
    "entu": ["SELECT name, price FROM entu.book WHERE price > 45 ORDER BY price DESC, name LIMIT 3",
             "SELECT count(*) AS n FROM entu.person"],
    "totalum": ["SELECT _id FROM totalum.client ORDER BY _id LIMIT 3",
                "SELECT count(*) AS n FROM totalum.client"],
    "slingr": ["SELECT name, number_of_employees FROM slingr.companies WHERE is_customer "
               "ORDER BY number_of_employees DESC NULLS LAST, name LIMIT 3",
               "SELECT count(*) AS n FROM slingr.contacts"],
    "alumio": ["SELECT count(*) AS n FROM alumio.tasks WHERE status = 'failed'",
               "SELECT count(*) AS n FROM alumio.routes"],
}
#: source options that keep a recording small (discovery samples records to find the fields)
OPTIONS: dict[str, dict[str, Any]] = {"slingr": {"sample_size": 1},
                                      "entu": {"sample_size": 5, "types": ["book", "person"]}}


def plain(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows as JSON has them (what the test compares the replayed rows with)."""
    return json.loads(json.dumps([list(r) for r in rows], default=str))


def make(platform: str) -> None:
    from lowcode_sql import Connection
    from lowcode_sql.config import Config

    folder = HERE / platform
    shutil.rmtree(folder, ignore_errors=True)
    con = Connection(Config(), record=folder)
    try:
        con.add_source(platform, platform, sandbox=True, options=OPTIONS.get(platform, {}))
        answers = [{"sql": sql, "rows": plain(con.sql(sql).fetchall())} for sql in QUERIES[platform]]
    finally:
        con.close()
    (folder / "queries.json").write_text(json.dumps(answers, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    for name in sys.argv[1:] or sorted(QUERIES):
        make(name)
        print(f"{name}: {sum(p.stat().st_size for p in (HERE / name).iterdir()):,} bytes")
