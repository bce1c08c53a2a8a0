"""Tables from files, for ``lowcode-sql sandbox serve PLATFORM --load NAME=FILE``: users serve
their own data over HTTP without writing Python (``Platform.load_table`` is the Python way)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

__all__ = ["SUFFIXES", "read_table_file"]

SUFFIXES = (".parquet", ".pq", ".csv", ".json", ".jsonl", ".ndjson")


def read_table_file(path: str | Path) -> pa.Table:
    """A Parquet, CSV, JSON (an array of objects) or JSON Lines file as an Arrow table, by its
    suffix. Raises ``ValueError`` (an unknown suffix, a file that does not parse) or ``OSError``."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return pq.read_table(p)
    if suffix == ".csv":
        import pyarrow.csv as pcsv

        return pcsv.read_csv(p)
    if suffix in (".json", ".jsonl", ".ndjson"):
        text = p.read_text(encoding="utf-8")
        if text.lstrip().startswith("["):  # one JSON document: an array of objects
            rows = json.loads(text)
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise ValueError(f"{p}: a JSON file must hold an array of objects (or one object per line)")
            return pa.Table.from_pylist(rows)
        import pyarrow.json as pjson

        return pjson.read_json(p)
    raise ValueError(f"{p}: unknown file type {suffix or '(none)'}; use one of {', '.join(SUFFIXES)}")
