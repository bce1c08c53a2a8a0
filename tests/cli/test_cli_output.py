"""The CLI's writers stream the answer batch by batch, write -o files atomically, and give the same
bytes as writing the whole table at once (the code before streaming)."""

from __future__ import annotations

import gc
import io
import json
import math
import weakref
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from lowcode_sql import cli_output
from lowcode_sql.cli_output import format_table, write_batches

SCHEMA = pa.schema([
    ("id", pa.int64()),
    ("name", pa.string()),
    ("score", pa.float64()),
    ("tags", pa.list_(pa.string())),
    ("ref", pa.struct([("id", pa.string()), ("n", pa.int32())])),
])


def table(n: int) -> pa.Table:
    return pa.table({
        "id": list(range(n)),
        "name": [None if i % 7 == 3 else f"näme, \"{i}\"\n" for i in range(n)],
        "score": [math.nan if i % 5 == 1 else (math.inf if i % 11 == 2 else i / 3) for i in range(n)],
        "tags": [None if i % 4 == 0 else [f"t{i}", None] for i in range(n)],
        "ref": [None if i % 6 == 0 else {"id": f"r{i}", "n": i} for i in range(n)],
    }, schema=SCHEMA)


# the whole-table writers as they were before streaming (lowcode_sql/cli.py, _write)
def _old_csv(t: pa.Table) -> str:
    def safe(col: pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
        if pa.types.is_nested(col.type):
            return pa.array([None if v is None else json.dumps(v, default=str, ensure_ascii=False)
                             for v in col.to_pylist()], pa.string())
        return col

    buf = io.BytesIO()
    pcsv.write_csv(pa.table({n: safe(c) for n, c in zip(t.column_names, t.columns, strict=True)}), buf)
    return buf.getvalue().decode()


def _safe(v: object) -> object:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _safe(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_safe(x) for x in v]
    return v


def _old_json(t: pa.Table, lines: bool) -> str:
    rows = [json.dumps(_safe(r), default=str, ensure_ascii=False, allow_nan=False) for r in t.to_pylist()]
    if lines:
        return "".join(r + "\n" for r in rows)
    return "[" + ",\n ".join(rows) + "]\n"


@pytest.mark.parametrize("slice_rows", [3, 8_192])  # batches cut into slices (cli_output.SLICE_ROWS), or not
@pytest.mark.parametrize("n", [0, 1, 9, 50])
@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_streamed_text_equals_the_whole_table_written_at_once(tmp_path: Path, fmt: str, n: int, slice_rows: int,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_output, "SLICE_ROWS", slice_rows)
    t = table(n)
    path = tmp_path / f"x.{fmt}"
    write_batches(fmt, SCHEMA, t.to_batches(max_chunksize=4), str(path), 100)
    expected = _old_csv(t) if fmt == "csv" else _old_json(t, fmt == "jsonl")
    assert path.read_text(encoding="utf-8") == expected


@pytest.mark.parametrize("n", [0, 50])
def test_streamed_parquet_holds_the_same_table(tmp_path: Path, n: int) -> None:
    t = table(n)
    path = tmp_path / "x.parquet"
    write_batches("parquet", SCHEMA, t.to_batches(max_chunksize=4), str(path), 100)
    pq.write_table(t, tmp_path / "old.parquet")  # as before streaming
    got, old = pq.read_table(path), pq.read_table(tmp_path / "old.parquet")
    assert got.schema.equals(old.schema)
    assert repr(got.to_pylist()) == repr(old.to_pylist()) == repr(t.to_pylist())  # repr: NaN equals NaN


def test_stdout_gets_the_same_text(capsys: pytest.CaptureFixture[str]) -> None:
    t = table(20)
    write_batches("jsonl", SCHEMA, t.to_batches(max_chunksize=3), None, 100)
    assert capsys.readouterr().out == _old_json(t, True)


def test_table_format_keeps_the_first_rows_and_counts_the_rest(capsys: pytest.CaptureFixture[str]) -> None:
    t = table(30)
    write_batches("table", SCHEMA, t.to_batches(max_chunksize=4), None, 5)
    out = capsys.readouterr().out
    assert out == format_table(t, 5) + "\n"
    assert out.rstrip().endswith("(30 rows, 25 not shown: use -f csv or -o)")


def _tracked(t: pa.Table, alive: list[int], fail_at: int | None = None) -> Iterator[pa.RecordBatch]:
    """Yields ``t``'s batches; before each, records how many earlier batches are still alive."""
    refs: list[weakref.ref[pa.RecordBatch]] = []
    for i, offset in enumerate(range(0, t.num_rows, 5)):
        batch = t.slice(offset, 5).combine_chunks().to_batches()[0]  # made here: only we hold it
        gc.collect()
        alive.append(sum(r() is not None for r in refs))
        if fail_at is not None and i == fail_at:
            raise RuntimeError("the scan broke half way")
        refs.append(weakref.ref(batch))
        yield batch
        del batch


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "parquet"])
def test_files_are_written_batch_by_batch(tmp_path: Path, fmt: str) -> None:
    # no earlier batch is kept while the next one is read: a 1M-row export holds a batch, not the answer
    alive: list[int] = []
    write_batches(fmt, SCHEMA, _tracked(table(60), alive), str(tmp_path / f"x.{fmt}"), 100)
    assert len(alive) == 12 and max(alive) <= 1


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_failure_half_way_leaves_no_file_and_keeps_the_old_one(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"x.{fmt}"
    with pytest.raises(RuntimeError, match="half way"):
        write_batches(fmt, SCHEMA, _tracked(table(60), [], fail_at=3), str(path), 100)
    assert list(tmp_path.iterdir()) == []  # neither a partial answer nor a temporary file
    path.write_text("the previous answer")
    with pytest.raises(RuntimeError, match="half way"):
        write_batches(fmt, SCHEMA, _tracked(table(60), [], fail_at=3), str(path), 100)
    assert path.read_text() == "the previous answer" and list(tmp_path.iterdir()) == [path]


def test_the_written_file_gets_the_usual_mode(tmp_path: Path) -> None:
    import os

    path = tmp_path / "x.csv"
    umask = os.umask(0o022)
    try:
        write_batches("csv", SCHEMA, table(3).to_batches(), str(path), 100)
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644
