"""Totalum request decoding: qs bracket keys, strict JSON, pagination integers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from lowcode_sql.sandbox._base import Request
from lowcode_sql.sandbox.totalum.values import TotalumHTTPError

# --------------------------------------------------------------------------------------------
# Query-string decoding (qs bracket form, JSON strings)
# --------------------------------------------------------------------------------------------


def _qs_tree(query: Iterable[tuple[str, str]], name: str) -> Any:
    """``name[a][0][b]=v`` pairs as nested dicts/lists (qs); None when absent."""
    root: dict[str, Any] = {}
    found = False
    for key, value in query:
        if not key.startswith(name + "["):
            continue
        found = True
        parts = re.findall(r"\[([^\]]*)\]", key[len(name):])
        node = root
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    if not found:
        return None

    def listify(n: Any) -> Any:
        if isinstance(n, dict):
            n = {k: listify(v) for k, v in n.items()}
            if n and all(k.isdigit() for k in n):
                return [n[k] for k in sorted(n, key=int)]
        return n

    return listify(root)


def _json_or_qs(request: Request, name: str) -> tuple[Any, bool]:
    """A parameter sent as a JSON string or in qs bracket form: (value, came as bracket text)."""
    raw = request.arg(name)
    if raw is not None:
        try:
            return _strict_json(raw), False
        except ValueError:
            raise TotalumHTTPError(400, f"{name} is not valid JSON") from None
    return _qs_tree(request.query, name), True


def _no_constant(token: str) -> Any:
    raise ValueError(f"{token} is not JSON")


def _strict_json(text: str) -> Any:
    """``JSON.parse``: no NaN/Infinity tokens (Python's json module would accept them)."""
    return json.loads(text, parse_constant=_no_constant)


def _int(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise TotalumHTTPError(400, f"pagination.{name} must be an integer") from None
    if n < 0:
        raise TotalumHTTPError(400, f"pagination.{name} must not be negative")
    return n


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


# --------------------------------------------------------------------------------------------
# Strict mode: what the seed and the SDK's interfaces.d.ts document (docs/notes/totalum-api.md)
# --------------------------------------------------------------------------------------------

#: list query parameters: the seed's ``filter``, ``sort``, ``pagination`` (JSON or qs brackets),
#: ``returnCount`` and its pagination prose's ``page``/``limit``; the many-to-many endpoint lists no
#: ``returnCount`` (seed)
LIST_PARAMS = frozenset({"filter", "sort", "pagination", "returnCount", "page", "limit"})
#: ``FilterSearchQueryI`` (notes "Query shape"), the body of ``POST api/v1/crud/query/{table}``
BODY_KEYS = frozenset({"filter", "sort", "pagination", "returnCount"})
_PAGINATION_KEYS = frozenset({"limit", "page", "skip"})
#: ``Cond`` operators in interfaces.d.ts, and ``in``/``nin`` from the newer docs' operator index (notes)
_OPERATORS = frozenset({"regex", "options", "gte", "lte", "gt", "lt", "ne", "in", "nin"})


def undocumented_params(request: Request, allowed: frozenset[str]) -> str | None:
    """The first query parameter (by its name before any ``[``) strict mode rejects, or None."""
    for key, _ in request.query:
        if key.split("[", 1)[0] not in allowed:
            return key
    return None


def undocumented_query(flt: Any, sort: Any, pagination: Any) -> str | None:
    """What in a list query strict mode rejects (a description), or None."""
    if isinstance(pagination, dict):
        extra = sorted(set(pagination) - _PAGINATION_KEYS)
        if extra:
            return f"pagination.{extra[0]}"
    if isinstance(sort, dict):
        for field, direction in sort.items():
            if str(direction) not in ("1", "-1"):
                return f"sort.{field} = {direction!r} (1 or -1)"
    elements = flt if isinstance(flt, list) else [flt] if isinstance(flt, dict) else []
    return _undocumented_conds(elements)


def _undocumented_conds(conds: list[Any]) -> str | None:
    for cond in conds:
        if not isinstance(cond, dict):
            continue
        for field, value in cond.items():
            if field == "or" and isinstance(value, list):
                found = _undocumented_conds(value)
            elif isinstance(value, dict):
                extra = sorted(set(value) - _OPERATORS)
                found = f"filter operator {extra[0]!r} on {field!r}" if extra else None
            else:
                found = None
            if found:
                return found
    return None
