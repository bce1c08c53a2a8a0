"""Totalum values: the HTTP error, dates (``new Date``), Mongo equality, regex operands and the
table schema.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lowcode_sql.sandbox._index import Memo, Stamp, stamp
from lowcode_sql.sandbox._mongo import MISSING, BDate, Regex, RegexSyntax, compare, pcre_to_python
from lowcode_sql.sandbox._mongo import type_order as _bracket

API = "/api/v1"
_OPS = ("gt", "gte", "lt", "lte", "ne", "regex", "options", "in", "nin", "exists")
_RANGE = ("gt", "gte", "lt", "lte")
_RANGE_TYPES = ("number", "date")
_DATE_PROPS = ("createdAt", "updatedAt")
_HEX24 = re.compile(r"^[0-9a-f]{24}$")


class TotalumHTTPError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


# --------------------------------------------------------------------------------------------
# BSON-ish values and comparison
# --------------------------------------------------------------------------------------------


_ISO = re.compile(
    r"^([+-]\d{6}|\d{4})(?:-(\d{2})(?:-(\d{2}))?)?"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)


def parse_date(value: Any) -> BDate | None:
    """``new Date(value)`` for ISO-8601 text and epoch-millisecond numbers; None when invalid.

    Date-only text is UTC midnight and zone-less date-times are local time, which is UTC on the
    server (JS ``Date`` rules)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return None if math.isnan(value) or math.isinf(value) else BDate(int(value))
    if not isinstance(value, str):
        return None
    m = _ISO.match(value.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac, zone = m.groups()
    try:
        base = dt.datetime(int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(s or 0), tzinfo=dt.UTC)
    except ValueError:
        return None
    ms = BDate.of(base).ms + (int((frac or "0")[:3].ljust(3, "0")))
    if zone and zone.upper() != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        ms -= sign * (int(digits[:2]) * 60 + int(digits[2:])) * 60_000
    return BDate(ms)


def _eq(a: Any, b: Any) -> bool:
    """Mongo equality of a stored value with an operand (null operand: null or missing)."""
    if b is None:
        return a is None or a is MISSING
    if a is MISSING or a is None or _bracket(a) != _bracket(b):
        return False
    return compare(a, b) == 0


# --------------------------------------------------------------------------------------------
# Regex: PCRE2 semantics on top of Python ``re``
# --------------------------------------------------------------------------------------------

# PCRE2 (no Turkish casing) has no caseless partner for U+0130 and U+0131, whereas Python's re.I
# pairs them with i/I. Mapping both to private-use code points (no case) on both sides removes
# that difference; every other pair (K/KELVIN SIGN, S/LONG S, sigma forms, ß/ẞ) agrees.
_TURKIC = str.maketrans({"\u0130": "\ue130", "\u0131": "\ue131"})


@dataclass(frozen=True, slots=True)
class _Regex(Regex):
    """A ``regex`` operand (``flags`` are Totalum's ``options``)."""

    def search(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False  # a regex never matches a number, date, boolean, null or missing field
        subject = value.translate(_TURKIC) if "i" in self.flags else value
        return self.compiled.search(subject) is not None


@functools.lru_cache(maxsize=1024)
def compile_regex(source: str, options: str) -> _Regex:
    if not isinstance(source, str) or not isinstance(options, str) or set(options) - set("imsx"):
        raise TotalumHTTPError(400, f"invalid regex options {options!r}: expected a combination of i, m, s, x")
    flags = 0
    for ch, f in (("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL), ("x", re.VERBOSE)):
        if ch in options:
            flags |= f
    try:
        py, _ = pcre_to_python(source)
        if "i" in options:
            py = py.translate(_TURKIC)
        return _Regex(source, options, re.compile(py, flags))
    except (RegexSyntax, re.error) as exc:
        raise TotalumHTTPError(400, f"invalid regular expression {source!r}: {exc}") from exc


# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------


@dataclass
class _Prop:
    name: str
    type: str  # text | number | date | boolean | options | file | many-to-one | one-to-many | many-to-many
    label: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()  # options
    target: str | None = None  # reference types: the referenced table
    reverse: str | None = None  # many-to-many: the property on the target table


@dataclass
class _Table:
    name: str
    label: str
    props: dict[str, _Prop] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    oid: str = ""
    version: int = 0  # bumped by every added row; see stamp()
    memo: Memo[Any] = field(default_factory=Memo)

    def stamp(self) -> Stamp:
        return stamp(self.version, self.rows)

    def by_id(self, oid: str) -> dict[str, Any] | None:
        for r in self.rows:
            if r["_id"] == oid:
                return r
        return None


def _ptype(table: _Table, name: str) -> str | None:
    if name in _DATE_PROPS:
        return "date"
    if name == "_id":
        return "id"
    p = table.props.get(name)
    return p.type if p else None


def _get(doc: Mapping[str, Any], path: str) -> Any:
    node: Any = doc
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return MISSING
    return node
