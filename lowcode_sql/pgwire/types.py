"""Arrow <-> PostgreSQL types: OIDs, text and binary encoders for results, parameter decoders.

OIDs are PostgreSQL's own (``src/include/catalog/pg_type.dat``): clients such as psqlODBC,
pgJDBC and psycopg choose their converters by OID, so these must be the real values.
Encoders work a whole Arrow column at a time (``pyarrow.compute`` casts), which is several
times faster than formatting value by value in Python (docs/notes/bi-bridge.md, pitfall 7).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "PG_TYPES",
    "PGType",
    "binary_fixed_values",
    "decode_param",
    "encode_binary_column",
    "encode_text_column",
    "pg_type_for_arrow",
]


@dataclass(frozen=True)
class PGType:
    oid: int
    name: str
    typlen: int  # bytes, -1 variable
    array_oid: int = 0
    category: str = "U"  # pg_type.typcategory


PG_TYPES: tuple[PGType, ...] = (
    PGType(16, "bool", 1, 1000, "B"),
    PGType(17, "bytea", -1, 1001, "U"),
    PGType(18, "char", 1, 1002, "Z"),
    PGType(19, "name", 64, 1003, "S"),
    PGType(20, "int8", 8, 1016, "N"),
    PGType(21, "int2", 2, 1005, "N"),
    PGType(23, "int4", 4, 1007, "N"),
    PGType(24, "regproc", 4, 1008, "N"),
    PGType(25, "text", -1, 1009, "S"),
    PGType(26, "oid", 4, 1028, "N"),
    PGType(27, "tid", 6, 1010, "U"),  # ctid's type: pgJDBC's getVersionColumns looks it up by name
    PGType(114, "json", -1, 199, "U"),
    PGType(700, "float4", 4, 1021, "N"),
    PGType(701, "float8", 8, 1022, "N"),
    PGType(705, "unknown", -2, 0, "X"),
    PGType(1042, "bpchar", -1, 1014, "S"),
    PGType(1043, "varchar", -1, 1015, "S"),
    PGType(1082, "date", 4, 1182, "D"),
    PGType(1083, "time", 8, 1183, "D"),
    PGType(1114, "timestamp", 8, 1115, "D"),
    PGType(1184, "timestamptz", 8, 1185, "D"),
    PGType(1186, "interval", 16, 1187, "T"),
    PGType(1700, "numeric", -1, 1231, "N"),
    PGType(2205, "regclass", 4, 2210, "N"),
    PGType(2206, "regtype", 4, 2211, "N"),
    PGType(2950, "uuid", 16, 2951, "U"),
    PGType(3802, "jsonb", -1, 3807, "U"),
)
INTEGER_OIDS = frozenset({20, 21, 23, 26})


def pg_type_for_arrow(t: pa.DataType) -> tuple[int, int, int]:
    """(type OID, typlen, typmod) describing an Arrow type to clients."""
    if pa.types.is_boolean(t):
        return 16, 1, -1
    if pa.types.is_int8(t) or pa.types.is_int16(t) or pa.types.is_uint8(t):
        return 21, 2, -1
    if pa.types.is_int32(t) or pa.types.is_uint16(t):
        return 23, 4, -1
    if pa.types.is_int64(t) or pa.types.is_uint32(t):
        return 20, 8, -1
    if pa.types.is_uint64(t):
        return 1700, -1, -1
    if pa.types.is_float16(t) or pa.types.is_float32(t):
        return 700, 4, -1
    if pa.types.is_float64(t):
        return 701, 8, -1
    if pa.types.is_decimal(t):
        return 1700, -1, ((t.precision << 16) | t.scale) + 4  # PG's numeric typmod encoding
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return 25, -1, -1
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return 17, -1, -1
    if pa.types.is_date(t):
        return 1082, 4, -1
    if pa.types.is_timestamp(t):
        return (1184 if t.tz else 1114), 8, -1
    if pa.types.is_time(t):
        return 1083, 8, -1
    if pa.types.is_duration(t) or pa.types.is_interval(t):
        return 1186, 16, -1
    if pa.types.is_dictionary(t):
        return pg_type_for_arrow(t.value_type)
    if pa.types.is_nested(t):
        return 114, -1, -1  # lists, structs, maps: JSON text
    return 25, -1, -1  # null type and anything exotic: text


# --- text format ---------------------------------------------------------------------------------

def _json_default(v: Any) -> Any:
    if isinstance(v, bytes):
        return "\\x" + v.hex()
    return str(v)


def _py_text(v: Any) -> bytes:
    if isinstance(v, bool):
        return b"t" if v else b"f"
    if isinstance(v, list | dict):
        return json.dumps(v, default=_json_default, ensure_ascii=False).encode()
    if isinstance(v, bytes):
        return b"\\x" + v.hex().encode()
    if isinstance(v, dt.timedelta) or type(v).__name__ == "MonthDayNano":
        return _interval_text(*_interval_parts(v)).encode()
    return str(v).encode()


def _interval_text(months: int, days: int, micros: int) -> str:
    """PostgreSQL's default (``IntervalStyle = postgres``) interval output."""
    parts = []
    years, mons = divmod(abs(months), 12)
    sign = "-" if months < 0 else ""
    if years:
        parts.append(f"{sign}{years} year{'s' if years != 1 else ''}")
    if mons:
        parts.append(f"{sign}{mons} mon{'s' if mons != 1 else ''}")
    if days:
        parts.append(f"{days} day{'s' if abs(days) != 1 else ''}")
    if micros or not parts:
        neg, micros = micros < 0, abs(micros)
        secs, frac = divmod(micros, 1_000_000)
        h, rem = divmod(secs, 3600)
        m, sec = divmod(rem, 60)
        fraction = f".{frac:06d}".rstrip("0") if frac else ""
        parts.append(f"{'-' if neg else ''}{h:02d}:{m:02d}:{sec:02d}{fraction}")
    return " ".join(parts)


def _interval_parts(v: Any) -> tuple[int, int, int]:
    """(months, days, microseconds) of a timedelta or an Arrow MonthDayNano value."""
    if isinstance(v, dt.timedelta):
        return 0, v.days, v.seconds * 1_000_000 + v.microseconds
    return v.months, v.days, v.nanoseconds // 1000


def _float_text(arr: pa.Array) -> pa.Array:
    s = pc.cast(arr, pa.string())
    if pc.all(pc.is_finite(arr)).as_py() is not False:
        return s  # no NaN or infinity (the usual case): no need for three passes of regex
    # PG spells the special values NaN / Infinity / -Infinity (float8out)
    s = pc.replace_substring_regex(s, "^nan$", "NaN")
    s = pc.replace_substring_regex(s, "^inf$", "Infinity")
    return pc.replace_substring_regex(s, "^-inf$", "-Infinity")


def _trim_fraction(s: pa.Array, unit: str) -> pa.Array:
    """Trim a time's fraction like PG does (``00:00:00.500000`` -> ``00:00:00.5``,
    ``00:00:00.000`` -> ``00:00:00``). Arrow writes a fraction of fixed width for ms/us/ns and none
    for seconds, whose trailing zeros are no fraction's (``00:00:10`` stays)."""
    if unit == "s":
        return s
    return pc.utf8_rtrim(pc.utf8_rtrim(s, "0"), ".")


def text_array(arr: pa.Array) -> pa.Array | list[bytes | None]:
    """The PG text representation of every value (a string array, or a list for odd types)."""
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.dictionary_decode()
        t = arr.type
    if pa.types.is_boolean(t):
        return pc.if_else(arr, "t", "f")
    if pa.types.is_floating(t):
        return _float_text(arr)
    if pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_date(t) or pa.types.is_string(t) \
            or pa.types.is_large_string(t):
        return pc.cast(arr, pa.string()) if not pa.types.is_string(t) else arr
    if pa.types.is_timestamp(t):
        if t.tz:
            arr = pc.cast(arr, pa.timestamp(t.unit, "UTC")).cast(pa.timestamp(t.unit))
        s = _trim_fraction(pc.cast(arr, pa.string()), t.unit)
        return pc.binary_join_element_wise(s, "+00", "") if t.tz else s
    if pa.types.is_time(t):
        return _trim_fraction(pc.cast(arr, pa.string()), t.unit)
    return [None if v is None else _py_text(v) for v in arr.to_pylist()]


def encode_text_column(arr: pa.Array) -> list[bytes | None]:
    """Encoded values (``None`` for NULL) of one column in text format."""
    out = text_array(arr)
    if isinstance(out, list):
        return out
    return pc.cast(out, pa.binary()).to_pylist()


def text_binary_array(arr: pa.Array) -> pa.Array:
    """The text format of one column as an Arrow binary array (nulls stay null)."""
    out = text_array(arr)
    return pa.array(out, pa.binary()) if isinstance(out, list) else pc.cast(out, pa.binary())


# --- binary format -------------------------------------------------------------------------------

_EPOCH_DATE = dt.date(2000, 1, 1)
_PG_EPOCH_US = 946684800 * 1_000_000  # 2000-01-01 in Unix microseconds
_I16, _I32, _I64 = struct.Struct("!h"), struct.Struct("!i"), struct.Struct("!q")
_F32, _F64 = struct.Struct("!f"), struct.Struct("!d")


def _numeric_binary(v: Decimal) -> bytes:
    """PG's binary numeric: base-10000 digits (numeric.c, numeric_send)."""
    if v.is_nan():
        return struct.pack("!hhHh", 0, 0, 0xC000, 0)
    sign, digits, exp = v.as_tuple()
    assert isinstance(exp, int)
    dscale = max(-exp, 0)
    s = "".join(map(str, digits))
    # pad so the decimal point falls on a 4-digit boundary
    int_len = len(s) + exp
    frac = s[int_len:] if int_len >= 0 else "0" * -int_len + s
    ip = s[:int_len] if int_len > 0 else ""
    if exp > 0:
        ip, frac = s + "0" * exp, ""
    ip = ip.lstrip("0")
    ip = "0" * (-len(ip) % 4) + ip
    frac = frac + "0" * (-len(frac) % 4)
    groups = [int(ip[i:i + 4]) for i in range(0, len(ip), 4)] + [int(frac[i:i + 4]) for i in range(0, len(frac), 4)]
    weight = len(ip) // 4 - 1
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        weight = 0
    return struct.pack(f"!hhHh{len(groups)}H", len(groups), weight, 0x4000 if sign else 0, dscale, *groups)


_FIXED = {16: "u1", 21: ">i2", 23: ">i4", 20: ">i8", 700: ">f4", 701: ">f8", 1082: ">i4", 1114: ">i8",
          1184: ">i8", 26: ">i4"}


def _fixed_numbers(arr: pa.Array, oid: int) -> pa.Array:
    """The numbers PG's binary format sends for a fixed-width ``oid`` (days and microseconds
    since 2000-01-01 for dates and timestamps), in an Arrow array of the column's length."""
    if oid == 1082:
        return pc.subtract(pc.cast(arr, pa.int32()), 10957)  # days since 2000-01-01
    if oid in (1114, 1184):
        us = arr.cast(pa.timestamp("us", arr.type.tz))
        return pc.subtract(pc.cast(us, pa.int64()), _PG_EPOCH_US)
    if oid == 16:
        return pc.cast(arr, pa.uint8())
    return arr


def _fixed_ok(arr: pa.Array, oid: int) -> bool:
    return oid in _FIXED and not (oid == 20 and pa.types.is_uint64(arr.type))


def binary_fixed_values(arr: pa.Array, oid: int) -> Any:
    """A column's binary-format values as a numpy array of big-endian fixed-width values, where
    ``oid`` is fixed-width and the column has no NULL (``protocol.data_rows_arrow`` lays these out
    without Arrow's join); None otherwise (use ``encode_binary_column``)."""
    import numpy as np

    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if arr.null_count or not _fixed_ok(arr, oid):
        return None
    values = _fixed_numbers(arr, oid).to_numpy(zero_copy_only=False)
    return values.astype(np.dtype(_FIXED[oid]))


def _fixed_width(arr: pa.Array, oid: int) -> pa.Array:
    """Big-endian fixed-width values for a whole column at once (numpy), nulls kept."""
    import numpy as np

    values = _fixed_numbers(arr, oid).fill_null(0).to_numpy(zero_copy_only=False)
    dtype = np.dtype(_FIXED[oid])
    out = pa.FixedSizeBinaryArray.from_buffers(pa.binary(dtype.itemsize), len(arr),
                                               [None, pa.py_buffer(values.astype(dtype).tobytes())])
    out = out.cast(pa.binary())
    if arr.null_count:
        out = pc.if_else(arr.is_valid(), out, pa.scalar(None, pa.binary()))
    return out


def encode_binary_column(arr: pa.Array, oid: int) -> pa.Array:
    """Encoded values of one column in PG binary format for ``oid`` (as ``pg_type_for_arrow`` chose),
    as an Arrow binary array (nulls stay null)."""
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if _fixed_ok(arr, oid):
        return _fixed_width(arr, oid)
    enc: Callable[[Any], bytes]
    if oid == 1700:
        enc = lambda v: _numeric_binary(Decimal(v))  # noqa: E731
    elif oid == 17:
        enc = bytes
    elif oid == 1083:
        enc = lambda v: _I64.pack(((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond)  # noqa: E731
    elif oid == 1186:
        def enc(v: Any) -> bytes:
            months, days, micros = _interval_parts(v)
            return struct.pack("!qii", micros, days, months)
    else:  # text, json and anything else: the text bytes are the binary form
        return text_binary_array(arr)
    return pa.array([None if v is None else enc(v) for v in arr.to_pylist()], pa.binary())


# --- parameters ----------------------------------------------------------------------------------

def _parse_bool(s: str) -> bool:
    low = s.strip().lower()
    if low in ("t", "true", "y", "yes", "on", "1"):
        return True
    if low in ("f", "false", "n", "no", "off", "0"):
        return False
    raise ValueError(f"invalid input syntax for type boolean: {s!r}")


def decode_param(data: bytes | None, oid: int, fmt: int) -> Any:
    """A bound parameter as a Python value. Unknown OIDs (0, psycopg's choice for ``str``) stay
    text and DuckDB casts them where they are compared (docs/notes/bi-bridge.md, pitfall 9)."""
    if data is None:
        return None
    if fmt == 1:
        return _decode_binary(data, oid)
    s = data.decode()
    if oid in INTEGER_OIDS:
        return int(s)
    if oid in (700, 701):
        return float(s)
    if oid == 1700:
        return Decimal(s)
    if oid == 16:
        return _parse_bool(s)
    if oid in (1082, 1114, 1184):
        return _datetime_param(s, oid)
    if oid == 17:
        return bytes.fromhex(s[2:]) if s.startswith("\\x") else s.encode()
    if oid == 0:
        # pgJDBC sends setDate / setTimestamp untyped ("1950-01-01 +00"): the text DuckDB would cast
        # must be in a form DuckDB parses, or the comparison with a date column fails
        return _duckdb_datetime_text(s) or s
    return s


# PostgreSQL's ISO date/time input as pgJDBC writes it (org/postgresql/jdbc/TimestampUtils.java:
# toString appends the zone as "+00", "+05:30" or "-03:30:15" after the date or the time, and
# " BC" for dates before year 1)
_PG_DATETIME = re.compile(r"(?P<date>\d{4,}-\d{2}-\d{2})(?:[ T](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?"
                          r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2}){0,2})?(?P<bc>\s+BC)?")


def _tz_iso(tz: str) -> str:
    """A zone offset as Python's fromisoformat reads it: ``+05``, ``+0530`` -> ``+05:00``, ``+05:30``."""
    if tz == "Z":
        return "+00:00"
    digits = tz[1:].replace(":", "")
    return tz[0] + ":".join(digits[i:i + 2] for i in range(0, len(digits), 2)) + (":00" if len(digits) == 2 else "")


def _duckdb_datetime_text(s: str) -> str | None:
    """PostgreSQL date/timestamp text in the form DuckDB's casts read (``1950-01-01 +00`` ->
    ``1950-01-01 00:00:00+00:00``, ``0044-03-15 BC`` -> ``0044-03-15 (BC)``), or None if ``s`` is
    not date/time text. DATE reads a timestamp's text, taking its date, as PostgreSQL's date_in does."""
    m = _PG_DATETIME.fullmatch(s.strip())
    if m is None or (m["tz"] is None and m["bc"] is None):
        return None  # plain ISO text: DuckDB reads it as it is
    out = m["date"] + (" (BC)" if m["bc"] else "")
    if m["time"] or m["tz"]:
        out += " " + (m["time"] or "00:00:00")
    return out + (_tz_iso(m["tz"]) if m["tz"] else "")


def _datetime_param(s: str, oid: int) -> Any:
    """A date (1082), timestamp (1114) or timestamptz (1184) parameter's text: every ISO form
    PostgreSQL accepts from clients, with a zone (ignored for date and timestamp, as PostgreSQL does)
    and ``BC`` (kept as DuckDB text: Python's dates start at year 1)."""
    m = _PG_DATETIME.fullmatch(s.strip())
    if m is None:
        raise ValueError(f"invalid input syntax for type {'date' if oid == 1082 else 'timestamp'}: {s!r}")
    if m["bc"]:
        return _duckdb_datetime_text(s)
    day = dt.date.fromisoformat(m["date"])
    if oid == 1082:
        return day
    stamp = dt.datetime.fromisoformat(f"{m['date']}T{m['time'] or '00:00:00'}")
    if oid == 1114:
        return stamp
    tz = _tz_iso(m["tz"]) if m["tz"] else "+00:00"  # the session's TimeZone is UTC
    return dt.datetime.fromisoformat(stamp.isoformat() + tz)


def _decode_binary(data: bytes, oid: int) -> Any:
    if oid == 21:
        return _I16.unpack(data)[0]
    if oid in (23, 26):
        return _I32.unpack(data)[0]
    if oid == 20:
        return _I64.unpack(data)[0]
    if oid == 700:
        return _F32.unpack(data)[0]
    if oid == 701:
        return _F64.unpack(data)[0]
    if oid == 16:
        return data != b"\x00"
    if oid == 17:
        return bytes(data)
    if oid == 1082:
        return _EPOCH_DATE + dt.timedelta(days=_I32.unpack(data)[0])
    if oid in (1114, 1184):
        us = _I64.unpack(data)[0]
        base = dt.datetime(2000, 1, 1, tzinfo=dt.UTC if oid == 1184 else None)
        return base + dt.timedelta(microseconds=us)
    return data.decode()
