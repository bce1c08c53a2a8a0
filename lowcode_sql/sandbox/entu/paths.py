"""Entu result shaping: dotted paths, the ``props`` projection and ``sort`` keys (``group`` keys are
``_mongo.group_key``), with MongoDB's semantics (arrays map over their documents).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lowcode_sql.sandbox._mongo import (
    MISSING,
)
from lowcode_sql.sandbox.entu.values import _server_error

# --------------------------------------------------------------------------------------------
# Paths, projection, sort keys
# --------------------------------------------------------------------------------------------


def _sort_values(node: Any, parts: list[str]) -> list[Any]:
    """Sort-key candidates of a dotted path (Mongo key generation: array elements without the field
    contribute null; a terminal array contributes its elements)."""
    if not parts:
        return list(node) if isinstance(node, list) else [node]
    if isinstance(node, list):
        out: list[Any] = []
        for el in node:
            out.extend(_sort_values(el, parts) if isinstance(el, dict) else [None])
        return out
    # MONGO: a path that ends early (a document without the field, or a scalar with path left) is
    # null, also for a document inside an array: [{string: "a"}, {}] sorts ascending by null, not "a"
    # (bson-type-comparison-order: a missing field sorts as null). At the top level [None] and []
    # give the same key (null).
    if isinstance(node, dict) and parts[0] in node:
        return _sort_values(node[parts[0]], parts[1:])
    return [None]


def _agg_path(node: Any, parts: list[str]) -> Any:
    """An aggregation field path (``$private.a.b``): arrays map over their documents."""
    if not parts:
        return node
    if isinstance(node, dict):
        return _agg_path(node[parts[0]], parts[1:]) if parts[0] in node else MISSING
    if isinstance(node, list):
        out = []
        for el in node:
            if isinstance(el, dict | list):
                r = _agg_path(el, parts)
                if r is not MISSING:
                    out.append(r)
        return out
    return MISSING


def _projection_tree(props: list[str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for p in props:
        parts = p.split(".")
        node = tree
        for k, part in enumerate(parts):
            last = k == len(parts) - 1
            cur = node.get(part)
            if cur is True or (last and isinstance(cur, dict)):
                if cur is True and last:
                    break
                raise _server_error(f"MongoServerError: Path collision at {p}")
            if last:
                node[part] = True
            else:
                node = node.setdefault(part, {})
    return tree


def _project(node: Any, tree: Mapping[str, Any]) -> Any:
    """Mongo inclusion projection (document order kept; array elements that are not documents dropped)."""
    if isinstance(node, list):
        return [_project(el, tree) for el in node if isinstance(el, dict | list)]
    out: dict[str, Any] = {}
    for k, v in node.items():
        sub = tree.get(k)
        if sub is True:
            out[k] = v
        elif isinstance(sub, dict) and isinstance(v, dict | list):
            out[k] = _project(v, sub)
    return out


def _set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        doc = doc.setdefault(part, {})
    doc[parts[-1]] = value

