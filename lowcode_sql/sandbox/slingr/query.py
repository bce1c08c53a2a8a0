"""Slingr query-language parsing (notes "Field filters"): comma lists, ``op(args)`` and ``_query``
trees.
"""

from __future__ import annotations

import re
from typing import Any

from lowcode_sql.sandbox.slingr.values import ALL_OPS, _bad

_OP_CALL = re.compile(r"^(" + "|".join(sorted(ALL_OPS)) + r"|near)\((.*)\)$", re.S)


# --------------------------------------------------------------------------------------------
# Query language parsing
# --------------------------------------------------------------------------------------------


def split_items(text: str) -> list[str]:
    """A comma list; ``"..."`` quotes an item (ASSUMED: no escape for a double quote inside)."""
    items: list[str] = []
    i, n = 0, len(text)
    while True:
        if i < n and text[i] == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise _bad(f"unterminated quote in value [{text}]")
            items.append(text[i + 1 : end])
            i = end + 1
            if i < n and text[i] != ",":
                raise _bad(f"unexpected character after a quoted value in [{text}]")
        else:
            end = text.find(",", i)
            end = n if end < 0 else end
            items.append(text[i:end])
            i = end
        if i >= n:
            return items
        i += 1  # the comma


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"' and '"' not in text[1:-1]:
        return text[1:-1]
    return text


def parse_expr(text: str) -> tuple[str, list[str]]:
    """``op(args)`` or a comma list (``equals`` with one or more values)."""
    m = _OP_CALL.match(text)
    if m is None:
        return "equals", split_items(text)
    op, arg = m.group(1), m.group(2)
    if op in ("empty", "notEmpty"):
        if arg.strip():
            raise _bad(f"{op}() takes no argument")
        return op, []
    if op == "between":
        args = split_items(arg)
        if len(args) != 2:
            raise _bad("between() needs two values: between(from,to)")
        return op, args
    if op == "near":
        raise _bad("near() is only valid on geo point fields")
    return op, [_unquote(arg)]  # one argument: the whole text (a like regex may hold commas)


class _QueryParser:
    """``and(...)``, ``or(...)``, ``filter('name','value')`` (ASSUMED: no escape for ``'``)."""

    def __init__(self, text: str) -> None:
        self.s, self.i = text, 0

    def parse(self) -> tuple[Any, ...]:
        node = self.node()
        self.ws()
        if self.i != len(self.s):
            raise _bad(f"invalid _query: unexpected text at position {self.i}")
        return node

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def expect(self, ch: str) -> None:
        self.ws()
        if not self.s.startswith(ch, self.i):
            raise _bad(f"invalid _query: expected {ch!r} at position {self.i}")
        self.i += 1

    def string(self) -> str:
        self.expect("'")
        end = self.s.find("'", self.i)
        if end < 0:
            raise _bad("invalid _query: unterminated string")
        out = self.s[self.i : end]
        self.i = end + 1
        return out

    def node(self) -> tuple[Any, ...]:
        self.ws()
        m = re.compile(r"(and|or|filter)\(").match(self.s, self.i)
        if m is None:
            raise _bad(f"invalid _query: expected and(, or( or filter( at position {self.i}")
        self.i = m.end()
        word = m.group(1)
        if word == "filter":
            name = self.string()
            self.expect(",")
            value = self.string()
            self.expect(")")
            return ("filter", name, value)
        items = [self.node()]
        while True:
            self.ws()
            if self.s.startswith(",", self.i):
                self.i += 1
                items.append(self.node())
                continue
            self.expect(")")
            return (word, items)

