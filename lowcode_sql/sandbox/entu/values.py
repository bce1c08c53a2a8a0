"""Entu values: the HTTP error, the JavaScript conversions the real server applies to query
text (``Number``, ``parseInt``, ``new Date``, ``new ObjectId``) and the JSON form of stored values.
"""

from __future__ import annotations

import math
import re
from typing import Any

from lowcode_sql.sandbox._mongo import (
    BDate,
    ObjectId,
    days_from_civil,
    iso_ms,
)

# --------------------------------------------------------------------------------------------
# BSON-ish values
# --------------------------------------------------------------------------------------------


# Aggregation operand that is a JS array (a query key given twice: h3's getQuery makes it an array).
_JSArray = tuple


class _Ops(dict[str, Any]):
    """A Mongo operator object ``{$gte: .., $lte: ..}`` (keys without the ``$``)."""

    literal = False  # True: the object also had non-operator keys -> a literal document (never matches)


class EntuHTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason: str | None = None  # a 500's hidden cause (_server_error)


def _server_error(reason: str) -> EntuHTTPError:
    # An unhandled exception in Nitro becomes a 500 whose message hides the cause; keep it for debugging.
    err = EntuHTTPError(500, "Server Error")
    err.reason = reason
    return err


# --------------------------------------------------------------------------------------------
# JavaScript conversions used by the real server
# --------------------------------------------------------------------------------------------

_JS_WS = " \t\n\v\f\r\u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(map(chr, range(0x2000, 0x200B)))
_JS_DECIMAL = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|Infinity)")
_JS_RADIX = re.compile(r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+")


def js_string(v: str | tuple[str, ...]) -> str:
    """``String(v)``: an array joins with commas."""
    return ",".join(v) if isinstance(v, tuple) else v


def js_number(v: str | tuple[str, ...]) -> float:
    """``Number(v)`` for a string (StringToNumber)."""
    s = js_string(v).strip(_JS_WS)
    if s == "":
        return 0
    if _JS_RADIX.fullmatch(s):
        return int(s[2:], {"x": 16, "o": 8, "b": 2}[s[1].lower()])
    if _JS_DECIMAL.fullmatch(s):
        if s.endswith("Infinity"):
            return -math.inf if s.startswith("-") else math.inf
        f = float(s)
        return int(f) if f.is_integer() and abs(f) < 2**53 and not (f == 0 and s.startswith("-")) else f
    return math.nan


def js_parse_int(v: str | tuple[str, ...] | None) -> float:
    """``Number.parseInt(v)`` (no radix): leading sign, ``0x`` prefix, digits up to the first non-digit."""
    if v is None:
        return math.nan
    s = js_string(v).lstrip(_JS_WS)
    m = re.match(r"([+-]?)(0[xX][0-9a-fA-F]+|[0-9]+)", s)
    if not m:
        return math.nan
    digits = m.group(2)
    n = int(digits[2:], 16) if digits[:2] in ("0x", "0X") else int(digits)
    return -n if m.group(1) == "-" else n


def _js_or(x: float, default: int) -> Any:
    """``x || default`` for a number."""
    return default if x == 0 or (isinstance(x, float) and math.isnan(x)) else x


def _js_lower(v: str | tuple[str, ...]) -> str:
    if isinstance(v, tuple):
        raise _server_error("TypeError: v.toLowerCase is not a function")
    return v.lower()


def _js_split(v: str | tuple[str, ...]) -> list[str]:
    if isinstance(v, tuple):
        raise _server_error("TypeError: v.split is not a function")
    return v.split(",")


_HEX24 = re.compile(r"[0-9a-fA-F]{24}")


def object_id(v: str | tuple[str, ...]) -> ObjectId:
    """``new ObjectId(v)`` (bson 6): only a 24-hex string; anything else throws (-> 500)."""
    if isinstance(v, str) and _HEX24.fullmatch(v):
        return ObjectId(v.lower())
    raise _server_error("BSONError: input must be a 24 character hex string, 12 byte Uint8Array, or an integer")


_MAX_MS = 8.64e15
_ISO = re.compile(
    r"(?P<y>[+-]\d{6}|\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2}))?)?"
    r"(?:[T ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?(?P<z>Z|[+-]\d{2}:?\d{2})?)?"
)
_SLASH_DATE = re.compile(
    r"(?P<y>\d{4})/(?P<mo>\d{1,2})/(?P<d>\d{1,2})(?: (?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?)?"
)


def _date_from_string(s: str) -> float:
    """``new Date(string)`` for the ISO forms (and V8's ``YYYY/MM/DD``); NaN when unparseable."""
    s = s.strip()
    m = _ISO.fullmatch(s) or _SLASH_DATE.fullmatch(s)
    if not m:
        return math.nan
    g = m.groupdict()
    y = int(g["y"])
    mo, d = int(g.get("mo") or 1), int(g.get("d") or 1)
    h, mi, sec = int(g.get("h") or 0), int(g.get("mi") or 0), int(g.get("s") or 0)
    frac = g.get("f") or ""
    ms = int((frac + "000")[:3]) if frac else 0
    if not (1 <= mo <= 12 and 1 <= d <= 31 and mi <= 59 and sec <= 59):
        return math.nan
    if h > 24 or (h == 24 and (mi or sec or ms)):
        return math.nan
    offset = 0
    z = g.get("z")
    if z and z != "Z":
        zz = z.replace(":", "")
        offset = (int(zz[1:3]) * 60 + int(zz[3:5])) * (1 if zz[0] == "+" else -1)
    # V8 lets the day overflow into the next month (2019-02-31 -> 2019-03-03).
    t = ((days_from_civil(y, mo, 1) + d - 1) * 86400 + h * 3600 + mi * 60 + sec - offset * 60) * 1000 + ms
    return t if abs(t) <= _MAX_MS else math.nan


def parse_date(v: str | tuple[str, ...]) -> BDate:
    """``parseDate`` of routes/[db]/entity/index.get.js: a numeric string is epoch ms, otherwise
    ``new Date(v)``. MONGO: an Invalid Date reaches MongoDB as epoch 0 (js-bson ``Long.fromNumber(NaN)``)."""
    n = js_number(v)
    if isinstance(n, float) and math.isnan(n):
        t = _date_from_string(js_string(v))
    else:
        t = math.trunc(n) if math.isfinite(n) and abs(n) <= _MAX_MS else math.nan  # TimeClip
    return BDate(0 if isinstance(t, float) and math.isnan(t) else int(t))


def _js_slice_utf16(s: str, n: int) -> str:
    """``s.slice(0, n)`` counted in UTF-16 code units (a cut emoji leaves a lone surrogate)."""
    units = s.encode("utf-16-le", "surrogatepass")
    if len(units) <= 2 * n:
        return s
    return units[: 2 * n].decode("utf-16-le", "surrogatepass")


def _jsonify(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _jsonify(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonify(x) for x in v]
    if isinstance(v, ObjectId):
        return v.hex
    if isinstance(v, BDate):
        return iso_ms(v.ms)
    if isinstance(v, float):
        if not math.isfinite(v):
            return None  # JSON.stringify(NaN) === 'null'
        return int(v) if v.is_integer() and abs(v) < 2**53 else v
    return v
