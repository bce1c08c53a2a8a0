"""CoreData filtering and ordering: tastypie ``build_filters``/``check_filtering``/
``filter_value_to_python`` and ``apply_sorting`` over a resource, with Django's lookups on PostgreSQL
(seed "Filtering"; notes date table and "What remains unknown").
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lowcode_sql.sandbox._base import Request
from lowcode_sql.sandbox.coredata.values import _MISMATCH, _BadRequest, _parse_datetime, _parse_uuid

if TYPE_CHECKING:
    from lowcode_sql.sandbox.coredata.data import _Resource

# Parameters that are never filters (tastypie paginator/sorting/auth/serializer parameters).
_RESERVED = frozenset({"limit", "offset", "order_by", "format", "username", "api_key"})

# Django's lookup names (``QUERY_TERMS`` in the Django versions tastypie supports).
_QUERY_TERMS = frozenset(
    {
        "exact", "iexact", "contains", "icontains", "gt", "gte", "lt", "lte", "in", "startswith",
        "istartswith", "endswith", "iendswith", "range", "year", "month", "day", "week_day", "hour",
        "minute", "second", "isnull", "search", "regex", "iregex", "date", "time", "quarter",
        "week", "iso_year", "iso_week_day",
    }
)  # fmt: skip

_DATE_LOOKUPS = frozenset({"exact", "gt", "gte", "lt", "lte", "range"})
_TITLE_LOOKUPS = frozenset({"exact", "startswith"})

# Per-resource whitelists (seed "Filtering"; notes).
_FILTERING: dict[str, dict[str, frozenset[str]]] = {
    "projects": {
        "title": _TITLE_LOOKUPS,
        # The notes response example shows projects carry an identifier ("2014-16").
        "identifier": _TITLE_LOOKUPS,
        "associated_contacts_id": frozenset({"exact"}),
        "created": _DATE_LOOKUPS,
        "modified": _DATE_LOOKUPS,
    },
    "files": {
        "title": _TITLE_LOOKUPS,
        "parent": frozenset({"exact"}),  # seed "Filtering by parent"
        "associated_contacts_id": frozenset({"exact"}),  # seed "Filtering by Contact" [1] for files
        "created": _DATE_LOOKUPS,
        "modified": _DATE_LOOKUPS,
    },
    "tasks": {
        "title": _TITLE_LOOKUPS,
        "associated_contacts_id": frozenset({"exact"}),  # seed "Filtering by Contact" [2] for tasks
        "created": _DATE_LOOKUPS,
        "modified": _DATE_LOOKUPS,
    },
    "contacts": {
        "title": _TITLE_LOOKUPS,
        "identifier": _TITLE_LOOKUPS,  # seed: ?identifier=$SSN / ?identifier__startswith=$SSN_PREFIX
        "created": _DATE_LOOKUPS,
        "modified": _DATE_LOOKUPS,
    },
    "spaces": {},
}
_ORDERING_FIELDS = ("title", "identifier", "created", "modified")


def _build_filters(res: _Resource, request: Request, strict: bool) -> list[Callable[[int], bool]]:
    """tastypie ``build_filters`` + ``check_filtering`` + ``filter_value_to_python``."""
    last: dict[str, str] = {}
    for k, v in request.query:
        last[k] = v  # QueryDict.items(): the last value of each key
    preds: list[Callable[[int], bool]] = []
    for expr, raw in last.items():
        if expr in _RESERVED:
            continue
        bits = expr.split("__")
        fname = bits.pop(0)
        if fname not in res.fields:
            if strict:
                raise _BadRequest(f"The '{fname}' field does not allow filtering.")
            continue  # "It's not a field we know about. Move along citizen."
        ftype = "exact"
        if bits and bits[-1] in _QUERY_TERMS:
            ftype = bits.pop()
        if fname not in res.filtering:
            raise _BadRequest(f"The '{fname}' field does not allow filtering.")
        if ftype != "exact" and ftype not in res.filtering[fname]:
            raise _BadRequest(f"'{ftype}' is not an allowed filter on the '{fname}' field.")
        if bits:
            raise _BadRequest(f"The '{fname}' field does not support relations.")
        value: Any = raw
        if raw in ("true", "True"):
            value = True
        elif raw in ("false", "False"):
            value = False
        elif raw in ("nil", "none", "None"):
            value = None
        if ftype in ("in", "range") and isinstance(value, str) and len(value):
            value = [part for v in request.args(expr) for part in v.split(",")]
        preds.append(_predicate(res, fname, res.fields[fname], ftype, value))
    return preds


def _predicate(res: _Resource, fname: str, kind: str, ftype: str, value: Any) -> Callable[[int], bool]:
    def get(i: int) -> Any:
        return res.typed_value(i, fname)

    if ftype == "isnull":
        want = bool(value) if not isinstance(value, str) else value.lower() not in ("", "0", "false")
        return lambda i: (get(i) in (None, [])) == want
    if value is None:
        if ftype != "exact":
            raise _BadRequest(_MISMATCH)
        # Django: ``field=None`` is ``IS NULL`` (for M2M: no related row).
        return lambda i: get(i) in (None, [])
    if ftype in ("in", "range"):
        if not isinstance(value, list):
            raise _BadRequest(_MISMATCH)
        items = [_convert(kind, v) for v in value]
        if ftype == "range":
            if len(items) != 2:
                raise _BadRequest(f"'{fname}__range' needs exactly two comma-separated values.")
            lo, hi = items
            return _cmp(get, kind, lambda x: lo <= x <= hi)
        return _cmp(get, kind, lambda x: x in items)
    v = _convert(kind, value)
    ops: dict[str, Callable[[Any], bool]] = {
        "exact": lambda x: x == v,
        "gt": lambda x: x > v,
        "gte": lambda x: x >= v,
        "lt": lambda x: x < v,
        "lte": lambda x: x <= v,
    }
    if ftype in ops:
        return _cmp(get, kind, ops[ftype])
    if ftype in ("startswith", "endswith", "contains", "istartswith", "iendswith", "icontains", "iexact"):
        s = str(v)
        fold = ftype.startswith("i")
        base = ftype[1:] if fold else ftype

        def text_op(x: Any) -> bool:
            if not isinstance(x, str):
                x = str(x)
            a, b = (x.upper(), s.upper()) if fold else (x, s)  # PostgreSQL UPPER()
            if base == "startswith":
                return a.startswith(b)
            if base == "endswith":
                return a.endswith(b)
            if base == "contains":
                return b in a
            return a == b

        return _cmp(get, kind, text_op)
    raise _BadRequest(f"'{ftype}' is not an allowed filter on the '{fname}' field.")


def _cmp(get: Callable[[int], Any], kind: str, op: Callable[[Any], bool]) -> Callable[[int], bool]:
    """A predicate that never matches NULL; lists (M2M) match when any element does."""

    def pred(i: int) -> bool:
        x = get(i)
        if x is None:
            return False
        if kind in ("uuidlist", "list"):
            return any(e is not None and _safe(op, e) for e in x)
        return _safe(op, x)

    return pred


def _convert(kind: str, value: Any) -> Any:
    """A filter value as the field's Python type (Django ``get_prep_value``)."""
    if kind == "datetime":
        if not isinstance(value, str):
            raise _BadRequest(_MISMATCH)
        return _parse_datetime(value)
    if kind in ("uuid", "uuidlist"):
        if not isinstance(value, str):
            raise _BadRequest(_MISMATCH)
        return _parse_uuid(value)
    if kind == "int":
        try:
            return int(value)  # True -> 1, like IntegerField
        except ValueError:
            raise _BadRequest(_MISMATCH) from None
    if kind == "number":
        try:
            return decimal.Decimal(str(int(value)) if isinstance(value, bool) else value)
        except decimal.InvalidOperation:
            raise _BadRequest(_MISMATCH) from None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if value in ("1", "t"):
            return True
        if value in ("0", "f"):
            return False
        raise _BadRequest(f"\u201c{value}\u201d value must be either True or False.")
    if isinstance(value, bool):
        return str(value)  # CharField.to_python(True) == "True"
    return value


# --------------------------------------------------------------------------------------------
# Ordering (tastypie ``apply_sorting``)
# --------------------------------------------------------------------------------------------


def _apply_sorting(res: _Resource, request: Request, rows: list[int], ordering: bool) -> list[int]:
    """tastypie ``apply_sorting`` with PostgreSQL NULL placement; stable (insertion order ties)."""
    specs = request.args("order_by")
    if not specs:
        return rows
    keys: list[tuple[str, bool]] = []
    for spec in specs:
        bits = spec.split("__")
        fname, desc = bits[0], False
        if fname.startswith("-"):
            fname, desc = fname[1:], True
        if fname not in res.fields:
            raise _BadRequest(f"No matching '{fname}' field for ordering on.")
        if not ordering or fname not in res.ordering:
            raise _BadRequest(f"The '{fname}' field does not allow ordering.")
        if len(bits) > 1:
            raise _BadRequest(f"The '{fname}' field does not support relations.")
        keys.append((fname, desc))
    out = list(rows)
    for fname, desc in reversed(keys):

        def key(i: int, fname: str = fname) -> tuple[Any, ...]:
            v = res.typed_value(i, fname)
            return (1,) if v is None else (0, v)

        # Ascending: NULLS LAST; descending (reverse=True, still stable): NULLS FIRST.
        out.sort(key=key, reverse=desc)
    return out


def _safe(op: Callable[[Any], bool], x: Any) -> bool:
    try:
        return op(x)
    except TypeError:  # e.g. a str column compared with a datetime value
        return False

