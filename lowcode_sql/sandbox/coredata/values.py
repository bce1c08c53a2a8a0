"""CoreData values: the API root and page size, the 400 error, and Django's value conversion
(``DateTimeField``/``UUIDField`` ``to_python``) and JSON shaping of stored values ("seed" = the
public "API v2" page, "notes" = docs/notes/coredata-api.md).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import re
import uuid
from typing import Any

BASE = "/api/v2/"
DEFAULT_LIMIT = 20  # seed "Limit and offset": "default is 20"

_KNOWN_KINDS = {
    "title": "str",
    "identifier": "str",
    "description": "str",
    "created": "datetime",
    "modified": "datetime",
    "parent": "uuid",
    "associated_contacts_id": "uuidlist",
}

# Django ``parse_datetime``/``parse_date`` (the regular-expression versions).
_DATETIME_RE = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"[T ](?P<hour>\d{1,2}):(?P<minute>\d{1,2})"
    r"(?::(?P<second>\d{1,2})(?:[.,](?P<microsecond>\d{1,6})\d{0,6})?)?"
    r"\s*(?P<tzinfo>Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_DATE_RE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})$")


class _BadRequest(Exception):
    """A tastypie ``BadRequest``/``InvalidFilterError``/Django ``ValidationError`` -> 400."""


_MISMATCH = "Invalid resource lookup data provided (mismatched type)."


# --------------------------------------------------------------------------------------------
# Value conversion (Django field semantics)
# --------------------------------------------------------------------------------------------


def _parse_datetime(value: str) -> dt.datetime:
    """Django ``DateTimeField.to_python`` for a string; aware values -> naive UTC."""
    m = _DATETIME_RE.match(value)
    bad = f"\u201c{value}\u201d value has an invalid format. It must be in YYYY-MM-DD HH:MM[:ss[.uuuuuu]][TZ] format."
    if m:
        tz, micro, second = m["tzinfo"], m["microsecond"], m["second"]
        try:
            out = dt.datetime(
                int(m["year"]), int(m["month"]), int(m["day"]), int(m["hour"]), int(m["minute"]),
                int(second) if second else 0,
                int(micro.ljust(6, "0")) if micro else 0,
            )
        except ValueError:
            raise _BadRequest(bad) from None
        if tz and tz != "Z":
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
            out -= sign * offset  # to UTC
        return out
    m = _DATE_RE.match(value)
    if m:
        try:
            return dt.datetime(int(m["year"]), int(m["month"]), int(m["day"]))
        except ValueError:
            raise _BadRequest(
                f"\u201c{value}\u201d value has the correct format (YYYY-MM-DD) but it is an invalid date."
            ) from None
    raise _BadRequest(bad)


def _parse_uuid(value: str) -> str:
    """Django ``UUIDField.to_python``: any ``uuid.UUID`` hex form -> canonical string."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise _BadRequest(f"\u201c{value}\u201d is not a valid UUID.") from None


def _norm_uuid(value: Any) -> Any:
    """Canonical form of a stored id/uuid (left alone when it is not a uuid)."""
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            return value
    return value


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


def _to_json(value: Any) -> Any:
    """An Arrow/Python value as a JSON value (timestamps as naive ISO strings)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)  # tastypie DecimalField serialises as a string
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if value and all(isinstance(x, tuple) and len(x) == 2 for x in value) and isinstance(value, list):
            # Arrow map type: list of (key, value) pairs.
            return {str(k): _to_json(v) for k, v in value}
        return [_to_json(v) for v in value]
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value



def _sort_keys(value: Any) -> Any:
    """tastypie serialises with ``json.dumps(..., sort_keys=True)``: keep objects in key order."""
    if isinstance(value, dict):
        return {k: _sort_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sort_keys(v) for v in value]
    return value

