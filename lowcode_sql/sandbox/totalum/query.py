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
