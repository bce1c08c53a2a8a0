"""Slingr's query language as text: the ``_query=and(filter('path','expr'), or(...))`` grammar, its
quoting and the LIKE-to-regex form (the rendering half of ``dialect/slingr.py``, kept apart so that
module stays readable; the query language is in docs/notes/slingr-api.md, "Field filters")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from dialect._render import case_class, like_to_regex
from lowcode_sql.errors import DialectError
from lowcode_sql.ir import LikePattern

Rendered = tuple[Any, ...]  # ("f", path, expr) | ("and", [...]) | ("or", [...])


class _NotSendable(Exception):
    """A predicate (or value) the query language cannot express exactly enough: keep it local."""


def snake(name: str) -> str:
    """``numberOfEmployees`` -> ``number_of_employees``: SQL folds unquoted identifiers to lower
    case, so camelCase field names would need quoting everywhere (and the planner resolves columns
    case-sensitively after that folding)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _flatten_and(trees: Sequence[Rendered]) -> list[Rendered]:
    out: list[Rendered] = []
    for t in trees:
        if t[0] == "and":
            out.extend(_flatten_and(t[1]))
        else:
            out.append(t)
    return out


_BOUND = re.compile(r"^(greaterOrEquals|lessOrEquals)\(([^(),'\"]*)\)$")


def _merge_between(leaves: list[Rendered]) -> list[Rendered]:
    """``f>=a`` AND ``f<=b`` as one ``between(a,b)`` (inclusive at both ends, docs/notes/slingr-api.md): one
    parameter, so a BETWEEN alone needs no ``_query``. Only plain numbers and dates are bounds."""
    bounds: dict[tuple[str, str], tuple[int, str]] = {}
    for i, t in enumerate(leaves):
        m = _BOUND.match(t[2]) if t[0] == "f" else None
        if m is not None:
            bounds.setdefault((t[1], m.group(1)), (i, m.group(2)))
    out = list(leaves)
    drop: set[int] = set()
    for (path, op), (i, lo) in bounds.items():
        high = bounds.get((path, "lessOrEquals"))
        if op == "greaterOrEquals" and high is not None:
            out[i] = ("f", path, f"between({lo},{high[1]})")
            drop.add(high[0])
    return [t for k, t in enumerate(out) if k not in drop]


def _text_of(tree: Rendered) -> str:
    if tree[0] == "f":
        return tree[1] + "\0" + tree[2]
    return "\0".join(_text_of(t) for t in tree[1])


def _query_text(tree: Rendered) -> str:
    if tree[0] == "f":
        if "'" in tree[1] or "'" in tree[2]:  # pragma: no cover - classify keeps these local
            raise DialectError("slingr: a quote cannot be sent inside _query")
        return f"filter('{tree[1]}','{tree[2]}')"
    return f"{tree[0]}({','.join(_query_text(t) for t in tree[1])})"


def _quote(value: str) -> str:
    """A value for ``field=value``: double-quoted when it could be read as a list or an operator.

    >>> _quote("ACME, Inc (US)")
    '"ACME, Inc (US)"'
    """
    if value == "":
        raise _NotSendable  # `field=` means nothing documented
    # any parenthesis, not just an `op(...)` shape: in a comma list `equals(b` + `c)` would join
    # into `equals(b,c)`
    needs = any(ch in value for ch in ",()") or value.startswith('"') or value != value.strip()
    if not needs:
        return value
    if '"' in value:
        raise _NotSendable  # no documented escape for a double quote inside quotes
    return f'"{value}"'


def _escape(ch: str, case_insensitive: bool) -> str:
    if case_insensitive and ch.isascii() and ch.isalpha():
        return case_class(ch)
    if ch.isascii() and not ch.isalnum():
        if ch == " ":
            return " "
        # \xhh for every other ASCII symbol: no comma, quote, parenthesis or slash reaches the
        # query-language parser, and the regex engine reads it as that literal character
        return f"\\x{ord(ch):02x}"
    return ch


def like_regex(pattern: LikePattern, case_insensitive: bool = False) -> str:
    """A regex (no flags) matching exactly the strings the LIKE pattern matches."""
    return like_to_regex(pattern, lambda ch: _escape(ch, case_insensitive))
