"""The MongoDB value model shared by the Entu and Totalum emulators (both platforms keep their data
in MongoDB, so filters and sorts must answer with MongoDB's rules).

Values: ``None`` (null), ``MISSING`` (an absent field), ``bool``, ``int``/``float`` (all numeric
BSON types, compared by value), ``str``, ``dict`` (a document, key order kept), ``list``/``tuple``
(an array), ``ObjectId``, ``BDate`` (a BSON Date), ``Timestamp``, ``Binary``, ``Regex``, ``MIN_KEY``,
``MAX_KEY``.

Comparison/sort order, from the MongoDB manual page "Comparison/Sort Order"
(https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/):

* Across types: MinKey < Null < Numbers < Symbol, String < Object < Array < BinData < ObjectId
  < Boolean < Date < Timestamp < Regular Expression < MaxKey. A non-existent field compares as null
  in a sort. Numeric types are converted before comparison (1 == 1.0, -0.0 == 0).
* Strings: the simple binary comparison (UTF-8 byte order, which is code point order).
* Objects: key/value pairs in the order they appear; per pair first the field types, then the field
  names, then the values; an object without further pairs is less than one with more.
* Arrays: element-wise as values; as a *sort key* (and for $lt/$gt against a field) an ascending
  sort uses the array's smallest element, a descending sort its largest; an empty array sorts below
  null and missing.
* BinData: by length, then the one-byte subtype, then byte by byte. Dates and Timestamps by time.
* NaN (not in the manual page): the server's ``compareDoubles`` treats NaN as equal to NaN and less
  than every other number (src/mongo/base/compare_numbers.h in github.com/mongodb/mongo).

Also here: the proleptic-Gregorian day arithmetic and ``Date.prototype.toISOString`` that both
emulators' JSON answers use, and the translation of MongoDB's PCRE patterns to Python ``re``.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ARRAY",
    "BINDATA",
    "BOOLEAN",
    "COMPARE_KEY",
    "DATE",
    "MAXKEY",
    "MAX_KEY",
    "MINKEY",
    "MIN_KEY",
    "MISSING",
    "NULL",
    "NUMBER",
    "OBJECT",
    "OBJECTID",
    "REGEX",
    "STRING",
    "TIMESTAMP",
    "UNDEFINED",
    "UNDEFINED_TYPE",
    "BDate",
    "Binary",
    "ObjectId",
    "Regex",
    "RegexSyntax",
    "Timestamp",
    "civil_from_days",
    "compare",
    "compile_mongo_regex",
    "days_from_civil",
    "field_sort_key",
    "is_nan",
    "iso_ms",
    "pcre_to_python",
    "sort_key",
    "type_order",
]


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


class _Missing:
    """A field that is absent from a document (distinct from a stored null)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class _Key:
    """MinKey / MaxKey / the sort key of an empty array: singletons that only order."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


MIN_KEY: Any = _Key("MinKey")
MAX_KEY: Any = _Key("MaxKey")
#: the sort key of an empty array ("less than a null value or a missing field value"); the server
#: uses BSON ``undefined`` for it, whose canonical type sits between MinKey and null
UNDEFINED: Any = _Key("undefined")


@dataclass(frozen=True, slots=True, order=True)
class ObjectId:
    """A Mongo ObjectId (24 lower-case hex digits). Serialised as its hex string."""

    hex: str

    def __str__(self) -> str:
        return self.hex


@dataclass(frozen=True, slots=True, order=True)
class BDate:
    """A BSON Date: signed epoch milliseconds (UTC)."""

    ms: int

    def iso(self) -> str:
        """``Date.prototype.toISOString`` (the JSON form of a BSON date)."""
        return iso_ms(self.ms)

    @classmethod
    def of(cls, value: dt.datetime | dt.date) -> BDate:
        """A date (UTC midnight) or datetime (naive = UTC), floored to the millisecond."""
        if not isinstance(value, dt.datetime):
            value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
        elif value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return cls(delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000)


@dataclass(frozen=True, slots=True)
class Timestamp:
    """A BSON Timestamp: seconds and an increment, compared in that order."""

    t: int
    i: int


@dataclass(frozen=True, slots=True)
class Binary:
    """BSON BinData: the bytes and their one-byte subtype."""

    data: bytes
    subtype: int = 0


@dataclass(frozen=True, slots=True)
class Regex:
    """A BSON regular expression: the PCRE source as MongoDB receives it, its options and the
    compiled Python translation."""

    source: str
    flags: str
    compiled: re.Pattern[str]


# --------------------------------------------------------------------------------------------
# Comparison/sort order
# --------------------------------------------------------------------------------------------

# The type brackets, lowest first (manual "Comparison/Sort Order"); Symbol shares String's.
MINKEY, UNDEFINED_TYPE, NULL, NUMBER, STRING, OBJECT, ARRAY = 1, 2, 3, 4, 5, 6, 7
BINDATA, OBJECTID, BOOLEAN, DATE, TIMESTAMP, REGEX, MAXKEY = 8, 9, 10, 11, 12, 13, 14


def type_order(v: Any) -> int:
    """The type bracket of a value: values compare across brackets by bracket alone. A missing
    field is null's bracket (a sort and ``{f: null}`` treat them alike)."""
    if v is None or v is MISSING:
        return NULL
    if isinstance(v, bool):
        return BOOLEAN
    if isinstance(v, int | float):
        return NUMBER
    if isinstance(v, str):
        return STRING
    if isinstance(v, dict):
        return OBJECT
    if isinstance(v, list | tuple):
        return ARRAY
    if isinstance(v, Binary):
        return BINDATA
    if isinstance(v, ObjectId):
        return OBJECTID
    if isinstance(v, BDate):
        return DATE
    if isinstance(v, Timestamp):
        return TIMESTAMP
    if isinstance(v, Regex):
        return REGEX
    if v is MIN_KEY:
        return MINKEY
    if v is MAX_KEY:
        return MAXKEY
    if v is UNDEFINED:
        return UNDEFINED_TYPE
    raise TypeError(f"not a BSON value: {v!r}")


def is_nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _cmp_num(a: float, b: float) -> int:
    # compare_numbers.h compareDoubles: NaN equals NaN and is below every other number.
    an, bn = is_nan(a), is_nan(b)
    if an or bn:
        return 0 if an and bn else (-1 if an else 1)
    return (a > b) - (a < b)


def _cmp(a: Any, b: Any) -> int:
    return (a > b) - (a < b)


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1: MongoDB's total order of values (``woCompare``)."""
    ta, tb = type_order(a), type_order(b)
    if ta != tb:
        return -1 if ta < tb else 1
    if ta in (NULL, MINKEY, MAXKEY, UNDEFINED_TYPE):
        return 0
    if ta == NUMBER:
        return _cmp_num(a, b)
    if ta == OBJECT:
        items_a, items_b = list(a.items()), list(b.items())
        for (ka, va), (kb, vb) in zip(items_a, items_b):
            c = type_order(va) - type_order(vb)
            if c:
                return -1 if c < 0 else 1
            if ka != kb:
                return -1 if ka < kb else 1
            c = compare(va, vb)
            if c:
                return c
        return _cmp(len(items_a), len(items_b))
    if ta == ARRAY:
        for x, y in zip(a, b):
            c = compare(x, y)
            if c:
                return c
        return _cmp(len(a), len(b))
    if ta == BINDATA:
        return _cmp((len(a.data), a.subtype, a.data), (len(b.data), b.subtype, b.data))
    if ta == OBJECTID:
        return _cmp(a.hex, b.hex)
    if ta == DATE:
        return _cmp(a.ms, b.ms)
    if ta == TIMESTAMP:
        return _cmp((a.t, a.i), (b.t, b.i))
    if ta == REGEX:
        return _cmp((a.source, a.flags), (b.source, b.flags))
    return _cmp(a, b)  # str (code points == UTF-8 byte order), bool (false < true)


#: ``sorted(values, key=COMPARE_KEY)`` sorts in MongoDB's order
COMPARE_KEY = functools.cmp_to_key(compare)


def sort_key(candidates: Sequence[Any], direction: int) -> Any:
    """The value a field contributes to a sort, given the values its path reaches (an array's
    elements): the smallest for an ascending sort, the largest for a descending one; none: null."""
    if not candidates:
        return None
    pick = min if direction > 0 else max
    return pick(candidates, key=COMPARE_KEY)


def field_sort_key(value: Any, direction: int) -> Any:
    """The sort key of one field value: an array sorts by its smallest (ascending) or largest
    (descending) element, an empty array below null, a missing field as null."""
    if value is MISSING:
        return None
    if isinstance(value, list | tuple):
        return sort_key(value, direction) if value else UNDEFINED
    return value


def group_key(v: Any) -> Any:
    """A hashable key with MongoDB's equality, for ``$group``: 1 == 1.0, NaN == NaN, brackets stay
    apart, and documents compare field by field *in their order* ({a: 1, b: 2} != {b: 2, a: 1}), as
    BSON comparison does (manual "Comparison/Sort Order", "Objects"). Missing is null."""
    b = type_order(v)
    if b == NUMBER:
        return (NUMBER, "nan" if is_nan(v) else float(v) if abs(v) < 2**53 else v)
    if b == OBJECT:
        return (OBJECT, tuple((k, group_key(x)) for k, x in v.items()))
    if b == ARRAY:
        return (ARRAY, tuple(group_key(x) for x in v))
    if b == NULL:
        return (NULL,)
    return (b, v)


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------


def days_from_civil(y: int, m: int, d: int) -> int:
    # Howard Hinnant's algorithm; proleptic Gregorian, any year. His C++ writes the era as
    # ``(y >= 0 ? y : y - 399) / 400`` to turn C's truncating division into a floor; Python's ``//``
    # already floors, so the era is plainly ``y // 400`` (the C form floored twice before year 0).
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z: int) -> tuple[int, int, int]:
    z += 719468
    era = z // 146097  # floor division, as in days_from_civil
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return y + (m <= 2), m, d


def iso_ms(ms: int) -> str:
    """``Date.prototype.toISOString`` (JSON form of a BSON date)."""
    days, rem = divmod(ms, 86_400_000)
    y, m, d = civil_from_days(days)
    hh, rem = divmod(rem, 3_600_000)
    mi, rem = divmod(rem, 60_000)
    ss, mss = divmod(rem, 1000)
    ys = f"{y:04d}" if 0 <= y <= 9999 else f"{'+' if y > 0 else '-'}{abs(y):06d}"
    return f"{ys}-{m:02d}-{d:02d}T{hh:02d}:{mi:02d}:{ss:02d}.{mss:03d}Z"


# --------------------------------------------------------------------------------------------
# Regular expressions: PCRE (MongoDB) -> Python ``re``
# --------------------------------------------------------------------------------------------


class RegexSyntax(Exception):
    """A pattern Python cannot express or PCRE rejects."""

    def __init__(self, message: str, *, js_ok: bool) -> None:
        super().__init__(message)
        self.js_ok = js_ok  # the JS RegExp constructor would have accepted it (so: Mongo's 500, not 400)


_W = "A-Za-z0-9_"
_D = "0-9"
_S = "\\t\\n\\x0b\\x0c\\r "  # PCRE2 \s (includes VT since Perl 5.18)
_H = "\\t \\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000"
_V = "\\n\\x0b\\x0c\\r\\x85\\u2028\\u2029"
_NOT_W = "\\x00-/:-@\\[-^`{-\\U0010ffff"
_NOT_D = "\\x00-/:-\\U0010ffff"
_NOT_S = "\\x00-\\x08\\x0e-\\x1f!-\\U0010ffff"
_POSIX = {
    "alpha": "A-Za-z", "digit": "0-9", "alnum": "A-Za-z0-9", "upper": "A-Z", "lower": "a-z",
    "space": _S, "blank": "\\t ", "xdigit": "0-9A-Fa-f", "word": _W, "punct": "!-/:-@\\[-`{-~",
    "cntrl": "\\x00-\\x1f\\x7f", "print": " -~", "graph": "!-~", "ascii": "\\x00-\\x7f",
}  # fmt: skip
_CLASS_ESC = {"d": _D, "w": _W, "s": _S, "h": _H, "v": _V, "D": _NOT_D, "W": _NOT_W, "S": _NOT_S}
_WB = f"(?:(?<=[{_W}])(?![{_W}])|(?<![{_W}])(?=[{_W}]))"
_NWB = f"(?:(?<=[{_W}])(?=[{_W}])|(?<![{_W}])(?![{_W}]))"
_OUT_ESC = {
    "d": f"[{_D}]", "D": f"[{_NOT_D}]", "w": f"[{_W}]", "W": f"[{_NOT_W}]", "s": f"[{_S}]", "S": f"[{_NOT_S}]",
    "h": f"[{_H}]", "H": f"[^{_H}]", "v": f"[{_V}]", "V": f"[^{_V}]", "N": "[^\\n]", "b": _WB, "B": _NWB,
    "A": "\\A", "z": "\\Z", "Z": "(?=\\n?\\Z)", "R": "(?:\\r\\n|[\\n\\x0b\\x0c\\r\\x85\\u2028\\u2029])",
    "e": "\\x1b", "G": "\\A",
}  # fmt: skip


def _class_literal(ch: str) -> str:
    return "\\" + ch if ch in "\\]^-[&~|" else ch


def pcre_to_python(src: str) -> tuple[str, bool]:
    """Translate a PCRE pattern (MongoDB, UTF mode, no UCP) to Python ``re`` syntax.

    ``\\d \\w \\s \\b`` are ASCII as in PCRE without UCP, while case-insensitive matching stays Unicode
    (PCRE's UTF caseless). Returns the Python pattern and whether JavaScript's ``RegExp`` would accept
    the source too. Raises ``RegexSyntax`` for constructs Python cannot express.
    """
    out: list[str] = []
    i, n = 0, len(src)
    close_at_group_end: list[int] = [0]  # per open group: how many "(?flags:" wrappers to close
    js_ok = True  # tracks whether JavaScript's RegExp would accept the same source

    def fail(msg: str, *, js: bool | None = None) -> RegexSyntax:
        return RegexSyntax(msg, js_ok=js_ok if js is None else js)

    while i < n:
        c = src[i]
        if c == "\\":
            if i + 1 >= n:
                raise fail("\\ at end of pattern", js=False)
            e = src[i + 1]
            if e == "Q":
                end = src.find("\\E", i + 2)
                lit = src[i + 2 :] if end < 0 else src[i + 2 : end]
                out.append(re.escape(lit))
                i = n if end < 0 else end + 2
                continue
            if e == "E":
                i += 2
                continue
            if e in _OUT_ESC:
                out.append(_OUT_ESC[e])
                i += 2
                continue
            if e == "x" and i + 2 < n and src[i + 2] == "{":
                end = src.find("}", i + 3)
                if end < 0:
                    raise fail("bad \\x{")
                out.append(f"\\U{int(src[i + 3 : end], 16):08x}")
                i = end + 1
                continue
            if e == "k" and i + 2 < n and src[i + 2] in "<'{":
                close = {"<": ">", "'": "'", "{": "}"}[src[i + 2]]
                end = src.find(close, i + 3)
                if end < 0:
                    raise fail("bad \\k")
                out.append(f"(?P={src[i + 3 : end]})")
                i = end + 1
                continue
            if e in "pPXKCgu":
                raise fail(f"unsupported escape \\{e}")
            out.append(src[i : i + 2])
            i += 2
            continue
        if c == "[":
            i = _translate_class(src, i, out, fail)
            continue
        if c == "(":
            if src.startswith("(*", i):
                raise fail("backtracking verbs are not supported", js=False)
            if src.startswith("(?", i):
                rest = src[i + 2 :]
                m = re.match(r"([imsx-]*)\)", rest)
                if m:  # (?i) inline flags: JS has no such syntax (400); Python needs them scoped
                    js_ok = False
                    flags = m.group(1)
                    i += 3 + len(flags)
                    if not flags:
                        continue
                    out.append(f"(?{flags}:")
                    close_at_group_end[-1] += 1
                    continue
                if rest.startswith("<") and not rest.startswith(("<=", "<!")):
                    out.append("(?P<")
                    i += 3
                    close_at_group_end.append(0)
                    continue
                if rest.startswith("'"):
                    js_ok = False
                    end = src.find("'", i + 3)
                    out.append(f"(?P<{src[i + 3 : end]}>")
                    i = end + 1
                    close_at_group_end.append(0)
                    continue
                if not rest.startswith((":", "=", "!", "<=", "<!")):
                    js_ok = False  # (?>, (?P<, (?i: ... are not JavaScript
            out.append("(")
            close_at_group_end.append(0)
            i += 1
            continue
        if c == ")":
            if len(close_at_group_end) == 1:
                raise fail("unmatched )", js=False)
            out.append(")" * close_at_group_end.pop())
            out.append(")")
            i += 1
            continue
        if c in "*+?}" and i + 1 < n and src[i + 1] == "+":
            js_ok = False  # possessive quantifier: "Nothing to repeat" in JS
        out.append(c)
        i += 1
    if len(close_at_group_end) > 1:
        raise fail("missing )", js=False)
    out.append(")" * close_at_group_end[0])
    return "".join(out), js_ok


def _translate_class(src: str, i: int, out: list[str], fail: Callable[..., RegexSyntax]) -> int:
    n = len(src)
    j = i + 1
    parts = ["["]
    if j < n and src[j] == "^":
        parts.append("^")
        j += 1
    first = True
    while True:
        if j >= n:
            raise fail("missing terminating ] for character class", js=False)
        c = src[j]
        if c == "]" and not first:
            j += 1
            break
        first = False
        if c == "[" and src.startswith("[:", j):
            end = src.find(":]", j + 2)
            name = src[j + 2 : end] if end > 0 else ""
            neg = name.startswith("^")
            if end > 0 and name.lstrip("^") in _POSIX and not neg:
                parts.append(_POSIX[name])
                j = end + 2
                continue
        if c == "\\" and j + 1 < n:
            e = src[j + 1]
            if e in _CLASS_ESC:
                parts.append(_CLASS_ESC[e])
                j += 2
                continue
            if e == "Q":
                end = src.find("\\E", j + 2)
                lit = src[j + 2 :] if end < 0 else src[j + 2 : end]
                parts.extend(_class_literal(ch) for ch in lit)
                j = n if end < 0 else end + 2
                continue
            if e == "b":
                parts.append("\\x08")
                j += 2
                continue
            if e in "pPX":
                raise fail(f"unsupported escape \\{e}")
            parts.append(src[j : j + 2])
            j += 2
            continue
        if c == "-" and j + 1 < n and src[j + 1] != "]" and len(parts) > 1 and parts[-1] != "^":
            parts.append("-")
            j += 1
            continue
        parts.append(_class_literal(c))
        j += 1
    out.append("".join(parts) + "]")
    return j


def compile_mongo_regex(source: str, flags: str) -> tuple[re.Pattern[str], bool]:
    """(compiled pattern, JavaScript would accept the source)."""
    py_flags = (re.IGNORECASE if "i" in flags else 0) | (re.MULTILINE if "m" in flags else 0)
    py, js_ok = pcre_to_python(source)
    try:
        return re.compile(py, py_flags), js_ok
    except re.error as exc:
        js_ok = js_ok and "bad escape" in str(exc)  # JS accepts identity escapes like \y; PCRE does not
        raise RegexSyntax(str(exc), js_ok=js_ok) from exc
