"""Parameter decoding (``types.decode_param``): the date/timestamp text forms pgJDBC sends
(org/postgresql/jdbc/TimestampUtils.java: ``toString`` writes the zone as ``+00`` / ``+05:30`` after the
date or time, and `` BC``), untyped (oid 0, ``setDate``) and typed; each must reach DuckDB in a form it
casts with PostgreSQL's meaning (issue 14)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from lowcode_sql.pgwire.types import decode_param

UTC = dt.UTC


@pytest.mark.parametrize(("text", "oid", "value"), [
    ("1950-01-01 +00", 1082, dt.date(1950, 1, 1)),
    ("1950-01-01 +05:30", 1082, dt.date(1950, 1, 1)),  # date_in ignores the zone
    ("2024-01-01 12:00:00.5+05:30", 1114, dt.datetime(2024, 1, 1, 12, 0, 0, 500000)),  # so does timestamp_in
    ("2024-01-01 12:00:00.5+05:30", 1184,
     dt.datetime(2024, 1, 1, 6, 30, 0, 500000, tzinfo=UTC)),
    ("2024-01-01 12:00:00-03:30:15", 1184, dt.datetime(2024, 1, 1, 15, 30, 15, tzinfo=UTC)),
    ("2024-01-01 12:00:00+00", 1184, dt.datetime(2024, 1, 1, 12, tzinfo=UTC)),
    ("2024-01-01", 1184, dt.datetime(2024, 1, 1, tzinfo=UTC)),
    ("2024-01-01 12:00", 1114, dt.datetime(2024, 1, 1, 12)),
])
def test_typed_date_and_timestamp_text(text, oid, value):
    assert decode_param(text.encode(), oid, 0) == value


@pytest.mark.parametrize(("text", "cast", "expected"), [
    ("1950-01-01 +00", "DATE", "1950-01-01"),  # pgJDBC setDate, untyped
    ("1950-01-01 +05:30", "DATE", "1950-01-01"),
    ("1950-01-01 00:00:00+05:30", "TIMESTAMPTZ", "1949-12-31 18:30:00+00"),
    ("1950-01-01 23:00:00-05", "TIMESTAMP", "1950-01-01 23:00:00"),
    ("0044-03-15 BC", "DATE", "0044-03-15 (BC)"),  # setDate of a date before year 1
    ("0044-03-15 12:00:00+00 BC", "TIMESTAMP", "0044-03-15 (BC) 12:00:00"),
])
def test_untyped_date_text_casts_in_duckdb(text, cast, expected):
    value = decode_param(text.encode(), 0, 0)
    assert duckdb.connect().execute(f"SELECT CAST(? AS {cast})::VARCHAR", [value]).fetchone()[0] == expected


def test_bc_dates_typed_and_other_text_unchanged():
    assert duckdb.connect().execute("SELECT CAST(? AS DATE)::VARCHAR",
                                    [decode_param(b"0001-12-31 BC", 1082, 0)]).fetchone()[0] == "0001-12-31 (BC)"
    for text in ("hello +00", "2024-01-01", "12 +05", ""):  # not date text with a zone: untouched
        assert decode_param(text.encode(), 0, 0) == text
    with pytest.raises(ValueError, match="date"):
        decode_param(b"yesterday-ish", 1082, 0)
