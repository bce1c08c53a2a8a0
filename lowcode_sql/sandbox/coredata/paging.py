"""CoreData paging: tastypie ``Paginator`` (``limit``/``offset`` parsing and the ``next``/``previous``
links; seed "Limit and offset").
"""

from __future__ import annotations

from urllib.parse import quote_plus

from lowcode_sql.sandbox._base import Request
from lowcode_sql.sandbox.coredata.values import DEFAULT_LIMIT, _BadRequest


def _limit(request: Request, max_limit: int) -> int:
    """tastypie ``Paginator.get_limit``."""
    raw = request.arg("limit")
    if raw is None:
        limit = DEFAULT_LIMIT
    else:
        try:
            limit = int(raw)
        except ValueError:
            raise _BadRequest(f"Invalid limit '{raw}' provided. Please provide a positive integer.") from None
        if limit < 0:
            raise _BadRequest(f"Invalid limit '{raw}' provided. Please provide a positive integer >= 0.")
    if max_limit and (not limit or limit > max_limit):
        return max_limit
    return limit


def _offset(request: Request) -> int:
    """tastypie ``Paginator.get_offset``."""
    raw = request.arg("offset")
    if raw is None:
        return 0
    try:
        offset = int(raw)
    except ValueError:
        raise _BadRequest(f"Invalid offset '{raw}' provided. Please provide an integer.") from None
    if offset < 0:
        raise _BadRequest(f"Invalid offset '{raw}' provided. Please provide a positive integer >= 0.")
    return offset


def _page_uri(uri: str, request: Request, limit: int, offset: int) -> str:
    """tastypie ``Paginator._generate_uri`` over a ``QueryDict`` (keys grouped, limit/offset last)."""
    grouped: dict[str, list[str]] = {}
    for k, v in request.query:
        if k not in ("limit", "offset"):
            grouped.setdefault(k, []).append(v)
    grouped["limit"] = [str(limit)]
    grouped["offset"] = [str(offset)]
    qs = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, vs in grouped.items() for v in vs)
    return f"{uri}?{qs}"
