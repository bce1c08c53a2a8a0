"""Rendering helpers the dialects share: which literal values an API can be sent faithfully, how a
number goes out as JSON, and LIKE patterns as regexes (Entu, Slingr, Totalum filter with a regex).

Each platform escapes literal characters its own way (what its parser splits on, which case
classes DuckDB's ILIKE needs); the pattern's structure is the same everywhere: anchored at the
start, ``[\\s\\S]`` for the wildcards (``.`` would not match a newline) and ``(?![\\s\\S])`` as the end
anchor (``$`` also matches before a final newline).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

from lowcode_sql.ir import LikePattern, Op

__all__ = ["ascii_cased", "case_class", "finite_number", "int_if_whole", "like_to_regex", "ms_instant",
           "object_id", "plain_date", "sendable"]


def finite_number(value: Any) -> bool:
    """A number JSON can carry and every platform orders as DuckDB does: NaN and infinities have no
    JSON form and order differently (Mongo puts NaN below every number, DuckDB above)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def plain_date(value: Any) -> bool:
    """A DATE literal (a ``datetime`` is a ``date`` too in Python, but not in SQL)."""
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def ms_instant(value: Any) -> bool:
    """An instant (a TIMESTAMPTZ literal) in whole milliseconds: the APIs store dates in milliseconds
    (BSON, epoch ms, ISO text with ``.000``), so a finer literal would be rounded by the server."""
    return isinstance(value, dt.datetime) and value.tzinfo is not None and value.microsecond % 1000 == 0


_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


def object_id(value: Any) -> bool:
    """A MongoDB ObjectId in its lower-case hex form (the server casts the text; other text would be a
    cast error, not "no match")."""
    return isinstance(value, str) and bool(_OBJECT_ID.match(value))


# what a literal must be to be sent to a field stored as ...
_STORED: dict[str, Callable[[Any], bool]] = {
    "number": finite_number, "boolean": lambda v: isinstance(v, bool), "date": plain_date, "instant": ms_instant,
    "objectid": object_id, "text": lambda v: isinstance(v, str),
}


def sendable(value: Any, stored: str, op: Op, *, text_ranges: bool = True) -> bool:
    """Whether ``field op value`` can be sent for a field stored as ``stored`` (number, boolean, date,
    instant, objectid, text; anything else never): the value has that type and a faithful wire form,
    and ``op`` is ``=``/``<>`` or the stored type is ordered as SQL orders it (never booleans or
    ObjectIds; text only where ``text_ranges``)."""
    check = _STORED.get(stored)
    if check is None or not check(value):
        return False
    return op in (Op.EQ, Op.NE) or (stored not in ("boolean", "objectid") and (text_ranges or stored != "text"))


def int_if_whole(value: Any) -> Any:
    """``2.0`` as ``2`` in JSON: a server comparing an integer field with ``2.0`` may not match it,
    and every float below 2**53 with no fraction is that integer exactly."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def ascii_cased(pattern: LikePattern) -> bool:
    """Every literal character either has no case or is an ASCII letter: an ILIKE pattern whose case
    classes (``case_class``) a regex can spell without Unicode case folding."""
    return all(ch.isascii() or (ch.lower() == ch and ch.upper() == ch)
               for part in pattern.parts if isinstance(part, str) for ch in part)


# Characters outside ASCII whose lowercase (DuckDB's simple mapping) is an ASCII letter.
_EXTRA_CASE = {"i": "\u0130", "k": "\u212a"}


def case_class(letter: str) -> str:
    """The regex class an ASCII letter matches under DuckDB's ILIKE: both cases, and the non-ASCII
    letters whose lowercase is this letter (``İ`` for i, the Kelvin sign for k)."""
    low = letter.lower()
    return "[" + low + low.upper() + _EXTRA_CASE.get(low, "") + "]"


def like_to_regex(pattern: LikePattern, escape: Callable[[str], str], *, trim: bool = False) -> str:
    """A regex (no flags) matching exactly the strings ``pattern`` matches; ``escape`` renders one
    literal character. ``trim``: a leading (trailing) ``%`` drops the start (end) anchor instead of
    being written as ``[\\s\\S]*``, the same match in a shorter regex."""
    parts = list(pattern.parts)
    start = not (trim and parts and parts[0] is LikePattern.ANY)
    end = not (trim and parts and parts[-1] is LikePattern.ANY)
    out = ["^"] if start else []
    for part in parts[(0 if start else 1):(len(parts) if end else -1)]:
        if part is LikePattern.ANY:
            out.append(r"[\s\S]*")
        elif part is LikePattern.ONE:
            out.append(r"[\s\S]")
        else:
            out.extend(escape(ch) for ch in part)
    if end:
        out.append(r"(?![\s\S])")
    return "".join(out)
