"""Slingr values: field types (slingr-docs data/types/*.yml, via docs/notes/slingr-api.md), the error
answer (seed "General error codes"), field definitions, dotted paths and typed query values, and
MongoDB's cross-type order (the aggregate docs name MongoDB as the engine).
"""

from __future__ import annotations

import decimal
import math
import re
from dataclasses import dataclass, field
from typing import Any

from lowcode_sql.sandbox._index import Memo, Stamp, stamp

TEXT_TYPES = frozenset({"text", "email", "url", "phone", "html", "longText", "maskedText", "qr"})
# slingr-docs data/types/*.yml: big number reads as a string of up to 34 significant digits and
# compares as a number; time duration is milliseconds
NUMBER_TYPES = frozenset({"integer", "decimal", "money", "percentage", "bigNumber", "autoIncrement", "timeDuration"})
INTEGER_TYPES = frozenset({"integer", "autoIncrement", "timeDuration"})
EPOCH_MS_TYPES = frozenset({"dateTime", "dateRecordCreated", "dateRecordModified"})
# notes "Value formats in queries": text formats of the other date/time types
TEXT_DATE_FORMATS = {"date": r"\d{4}-\d{2}-\d{2}", "dateTimeNoTimezone": r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}",
                     "time": r"\d{2}:\d{2}", "monthDay": r"\d{2}-\d{2}", "yearMonth": r"\d{4}-\d{2}"}
DATE_TYPES = EPOCH_MS_TYPES | frozenset(TEXT_DATE_FORMATS)
ALL_OPS = frozenset({"equals", "notEquals", "like", "between", "greater", "greaterOrEquals", "less",
                     "lessOrEquals", "empty", "notEmpty"})
_SYSTEM = ("id", "version", "label")


class SlingrError(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors


def _bad(message: str, field_name: str | None = None) -> SlingrError:
    errors = [{"code": "invalid", "field": field_name, "message": message}] if field_name else None
    return SlingrError(400, "badRequest", message, errors)


@dataclass
class FieldDef:
    """One field of an entity: a Slingr type name, multiplicity and, for nested fields, sub-fields."""

    name: str
    type: str
    multiple: bool = False
    fields: dict[str, FieldDef] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        if self.type in TEXT_TYPES:
            return "text"
        if self.type in NUMBER_TYPES:
            return "number"
        if self.type in DATE_TYPES:
            return "date"
        return self.type


@dataclass
class _Entity:
    fields: dict[str, FieldDef]
    records: list[dict[str, Any]] = field(default_factory=list)  # wire format, in insertion order
    version: int = 0  # bumped by every added record; see stamp()
    memo: Memo[Any] = field(default_factory=Memo)

    def stamp(self) -> Stamp:
        return stamp(self.version, self.records)


# --------------------------------------------------------------------------------------------
# Paths and typed values
# --------------------------------------------------------------------------------------------


def _field(entity: _Entity, path: str) -> FieldDef:
    """The field a dotted path names (system fields are text/integer)."""
    parts = path.split(".")
    fields = entity.fields
    fd: FieldDef | None = None
    for i, part in enumerate(parts):
        if part in ("id", "label"):
            fd = FieldDef(part, "text")
        elif part == "version" and i == 0:
            fd = FieldDef(part, "integer")
        elif fd is not None and fd.type == "relationship":
            raise _bad(f"Field [{path}] does not exist", path)
        else:
            fd = fields.get(part)
            if fd is None:
                raise _bad(f"Field [{path}] does not exist", path)
        if i < len(parts) - 1:
            if fd.type not in ("nestedFields", "relationship"):
                raise _bad(f"Field [{path}] does not exist", path)
            fields = fd.fields
    assert fd is not None
    return fd


def _values(record: Any, path: list[str]) -> list[Any]:
    """Every value at ``path``, descending into arrays (any-element semantics)."""
    nodes = [record]
    for part in path:
        nxt = []
        for node in nodes:
            if isinstance(node, dict) and part in node:
                v = node[part]
                nxt.extend(v if isinstance(v, list) else [v])
        nodes = nxt
    out = []
    for v in nodes:
        if isinstance(v, list):
            out.extend(v)
        elif v is not None:
            out.append(v)
    return out


def _typed(fd: FieldDef, text: str, path: str) -> Any:
    kind = fd.kind
    try:
        if fd.type in INTEGER_TYPES:
            return int(text)
        if fd.type == "bigNumber":
            v = decimal.Decimal(text)
            if not v.is_finite():
                raise ValueError(text)
            return v
        if kind == "number":
            f = float(text)
            if not math.isfinite(f):
                raise ValueError(text)
            return f
        if fd.type in EPOCH_MS_TYPES:
            return int(text)  # notes "Value formats": epoch milliseconds (UTC)
    except (ValueError, decimal.InvalidOperation):
        raise _bad(f"Invalid value [{text}] for field [{path}] of type {fd.type}", path) from None
    if fd.type == "boolean":
        if text not in ("true", "false"):
            raise _bad(f"Invalid value [{text}] for boolean field [{path}]", path)
        return text == "true"
    fmt = TEXT_DATE_FORMATS.get(fd.type)
    if fmt is not None and not re.fullmatch(fmt, text):
        raise _bad(f"Invalid value [{text}] for field [{path}] of type {fd.type}", path)
    return text


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float | decimal.Decimal) and not isinstance(v, bool)


def _bracket(v: Any) -> int:
    """MongoDB's cross-type sort order: null < numbers < strings < objects < arrays < booleans."""
    if v is None:
        return 0
    if _is_num(v):
        return 1
    if isinstance(v, str):
        return 2
    if isinstance(v, dict):
        return 3
    if isinstance(v, list):
        return 4
    return 5


def _same(v: Any, w: Any) -> bool:
    if _is_num(v) and _is_num(w):
        return bool(v == w)
    return type(v) is type(w) and v == w


def _cmp(v: Any, w: Any) -> int | None:
    """Compare within one type bracket (MongoDB never compares across brackets in a filter)."""
    if _bracket(v) != _bracket(w) or isinstance(v, dict | list):
        return None
    return (v > w) - (v < w)


def _get(doc: Any, path: str) -> Any:
    node = doc
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _freeze(v: Any) -> Any:
    if isinstance(v, dict):
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    return (type(v).__name__, v)


def _json_value(v: Any) -> str:
    """A match value: JSON scalars are written as the query language would."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)

