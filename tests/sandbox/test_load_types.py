"""Users' own data in the emulators (issue 17 §4): every Arrow type a Parquet file gives is
accepted (or converted the way the platform stores it, with a warning where values change), a
table the platform cannot serve is refused with what it can serve, and `sandbox serve --load`
/ `--no-sample` serve files over HTTP without Python."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import subprocess
import sys
import textwrap

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lowcode_sql
from lowcode_sql.cli import main
from lowcode_sql.sandbox._base import SandboxLoadWarning
from lowcode_sql.sandbox._files import read_table_file
from lowcode_sql.sandbox.coredata import CoreDataSandbox

D = decimal.Decimal
ROWS = {
    "k": pa.array([1, 2, 3]),
    "ls": pa.array(["x", "y", None], pa.large_string()),
    "sv": pa.array(["p", None, "q"], pa.string_view()),
    "d": pa.array([D("1.25"), D("-3.50"), None], pa.decimal128(10, 2)),
    "wide": pa.array([D("12345678901234567890.12345"), None, D("-0.00001")], pa.decimal128(30, 5)),
}


def read(platform: str, table: str, sql_table: str, cols: dict[str, pa.Array]) -> pa.Table:
    con = lowcode_sql.connect_sandbox(platform, {table: pa.table(cols)})
    try:
        return con.sql(f"SELECT * FROM {platform}.{sql_table} ORDER BY k").arrow()
    finally:
        con.close()


@pytest.mark.parametrize("platform", ["entu", "totalum", "slingr"])
def test_string_types_and_decimals_come_back(platform):
    got = read(platform, "things", "things", ROWS)
    assert got.column("ls").to_pylist() == ["x", "y", None]
    assert got.column("sv").to_pylist() == ["p", None, "q"]
    # a DECIMAL(10,2) is a number on all three: a double holds every value exactly
    assert got.column("d").to_pylist() == [1.25, -3.5, None]


def test_slingr_keeps_every_digit_of_a_wide_decimal():
    """Slingr answers a decimal field as a JSON number; one with more digits than a double keeps is
    a big-number field (a string on the wire, VARCHAR in SQL), so no digit is lost."""
    got = read("slingr", "things", "things", ROWS)
    assert [None if v is None else D(v) for v in got.column("wide").to_pylist()] == ROWS["wide"].to_pylist()


def test_alumio_storage_with_decimals_is_listed_and_read():
    """A DECIMAL in a storage made the whole storage listing answer HTTP 500 (discovery lost every
    storage table)."""
    con = lowcode_sql.connect_sandbox("alumio", {"things": pa.table({"identifier": ["a", "b"],
                                                                     "d": pa.array([D("1.25"), None]),
                                                                     "wide": ROWS["wide"].slice(0, 2)})})
    try:
        rows = con.sql("SELECT identifier, value FROM alumio.storage_things ORDER BY identifier").fetchall()
    finally:
        con.close()
    values = [json.loads(v, parse_float=D) for _, v in rows]
    assert values[0] == {"d": D("1.25"), "wide": "12345678901234567890.12345"}
    assert values[1] == {"d": None, "wide": None}


@pytest.mark.parametrize("platform", ["entu", "totalum"])
def test_integers_beyond_doubles_warn(platform):
    cols = {"k": pa.array([1, 2, 3]), "big": pa.array([2**53 + 1, 5, None], pa.int64())}
    with pytest.warns(SandboxLoadWarning, match=r"things\.big has integers beyond 2\*\*53 \(e\.g\. 9007199254740993\)"):
        got = read(platform, "things", "things", cols)
    assert got.column("big").to_pylist() == [float(2**53), 5.0, None]  # what the platform stores
    # integers a double holds (2**53 itself included) load without a warning (the suite turns
    # warnings into errors)
    got = read(platform, "things", "things", {"k": pa.array([1, 2, 3]), "n": pa.array([2**53, -(2**53), 1])})
    assert got.column("n").to_pylist() == [2**53, -(2**53), 1]


def test_coredata_refuses_what_sql_would_never_see():
    s = CoreDataSandbox(sample_data=False)
    with pytest.raises(ValueError, match=r"fixed resources projects, tasks, files, contacts, spaces, not 'widgets'"):
        s.load_table("widgets", pa.table({"title": ["a"]}))
    with pytest.raises(ValueError, match=r"coredata projects has no field 'budget': its fields are .*identifier"):
        s.load_table("projects", pa.table({"title": ["a"], "budget": [1]}))
    s.load_table("projects", pa.table({"title": ["a"], "identifier": ["P-1"]}))
    con = lowcode_sql.connect_sandbox("coredata", {"projects": pa.table({"title": ["a"], "identifier": ["P-1"]})})
    try:
        assert con.sql("SELECT title, identifier FROM coredata.projects").fetchall() == [("a", "P-1")]
    finally:
        con.close()


def test_read_table_file_formats(tmp_path):
    want = pa.table({"name": ["a", "b"], "n": [1, None]})
    pq.write_table(want, tmp_path / "t.parquet")
    (tmp_path / "t.csv").write_text("name,n\na,1\nb,\n")
    (tmp_path / "t.json").write_text('[{"name": "a", "n": 1}, {"name": "b", "n": null}]')
    (tmp_path / "t.jsonl").write_text('{"name": "a", "n": 1}\n{"name": "b"}\n')
    for f in ("t.parquet", "t.csv", "t.json", "t.jsonl"):
        assert read_table_file(tmp_path / f).to_pylist() == want.to_pylist(), f
    (tmp_path / "t.txt").write_text("x")
    with pytest.raises(ValueError, match=r"unknown file type \.txt"):
        read_table_file(tmp_path / "t.txt")
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="array of objects"):
        read_table_file(tmp_path / "bad.json")


def test_serve_load_errors_are_one_line(tmp_path, capsys):
    pq.write_table(pa.table({"title": ["a"]}), tmp_path / "p.parquet")
    cases = [
        (["--load", "projects"], "write NAME=FILE"),
        (["--load", f"projects={tmp_path / 'missing.parquet'}"], "no such file"),
        (["--load", f"widgets={tmp_path / 'p.parquet'}"], "fixed resources"),
    ]
    for extra, text in cases:
        code = main(["sandbox", "serve", "coredata", *extra])
        err = capsys.readouterr().err
        assert code == 1 and len(err.strip().splitlines()) == 1 and text in err, err
        assert err.startswith("lowcode-sql: ConfigError: --load ")


@pytest.mark.slow
def test_serve_load_and_no_sample_over_http(tmp_path, monkeypatch):
    """`sandbox serve entu --no-sample --load book=FILE`: SQL over real HTTP reads the file's rows,
    and nothing else is there."""
    books = pa.table({"name": ["Dune", "Emma", None], "price": [9.5, None, 3.25],
                      "published": pa.array([dt.date(1965, 8, 1), None, dt.date(1815, 12, 23)])})
    pq.write_table(books, tmp_path / "books.parquet")
    with subprocess.Popen([sys.executable, "-m", "lowcode_sql.cli", "sandbox", "serve", "entu", "--no-sample",
                           "--load", f"book={tmp_path / 'books.parquet'}"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            _query_served_books(proc, tmp_path, books, monkeypatch)
        finally:
            proc.terminate()
            proc.wait(10)


def _query_served_books(proc: subprocess.Popen[str], tmp_path, books: pa.Table, monkeypatch) -> None:
    line = proc.stdout.readline()
    assert "sandbox on http://127.0.0.1:" in line, (line, proc.stderr.read() if proc.poll() is not None else "")
    url = line.split(" on ", 1)[1].split()[0]
    cfg = tmp_path / "c.toml"
    cfg.write_text(textwrap.dedent(f"""
        [sources.e]
        platform = "entu"
        base_url = "{url}"
        options = {{ db = "demo" }}
        credentials = {{ key = "ENTU_KEY" }}
    """))
    monkeypatch.setenv("ENTU_KEY", "demo-api-key")
    with lowcode_sql.connect(cfg) as con:
        got = con.sql("SELECT name, price, published FROM e.book ORDER BY name NULLS LAST").fetchall()
        types = [t for _, t, _ in con.tables("e")]
    want = duckdb.sql("SELECT name, price, published FROM books ORDER BY name NULLS LAST").fetchall()
    assert got == want
    assert "person" not in types and "book" in types  # --no-sample: none of the sample types
