"""Entu entities as stored (issue 15 item 7: at most 2 KB per simple row) and the Mongo-shaped
``private`` view the serving code reads, built from them on demand.

An entity keeps only its ``_id``, one tuple of its values and a *shape* (the ``(property, value
key)`` of each value) shared by every entity whose values have the same layout, plus the first
counter of its value ``_id``s. Everything else the old store kept per entity is derived when a
request needs it, exactly as ``_resolve`` used to compute it (utils/aggregate.js
``propertiesToEntity``): the value objects with their ``_id``, the enriched references, the
``_reference`` list and the ``search`` words. Nothing of an entity changes after it is added and
every write ends with a ``_resolve``, so deriving late gives what precomputing gave.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from lowcode_sql.sandbox._mongo import MISSING, ObjectId
from lowcode_sql.sandbox.entu.paths import _sort_values
from lowcode_sql.sandbox.entu.values import _jsonify

#: a property's values: [(value key, value)] in value order
Values = list[tuple[str, Any]]
Shape = tuple[tuple[str, str], ...]

_SEARCH_SPLIT = re.compile(r"[\s,;]+")
#: the keys a reference value gains when its target exists (private_view)
_ENRICHED = ("property_type", "string", "entity_type")


def oid_at(process: int, counter: int) -> ObjectId:
    """The ObjectId the sandbox issues as its ``counter``-th: 4-byte time, 5-byte 'process' value,
    3-byte counter (so entity ids and value ids come from one increasing sequence)."""
    return ObjectId(_oid_hex(process, counter))


def _oid_hex(process: int, counter: int) -> str:
    return f"{1_700_000_000 + counter:08x}{process:010x}{counter & 0xFFFFFF:06x}"


class Entity:
    """One stored entity. ``values[i]`` is a value of property ``shape[i][0]`` under the key
    ``shape[i][1]`` (``string``, ``number``, ``reference``...); the values of one property are
    consecutive, properties in their stored order. ``vbase`` is the counter of the first value's
    ``_id`` (value ``i`` has ``vbase + i``), set by the first ``_resolve`` that sees the entity."""

    __slots__ = ("oid", "search_props", "shape", "values", "vbase")

    def __init__(self, oid: ObjectId, shape: Shape, values: tuple[Any, ...], search_props: tuple[str, ...]) -> None:
        self.oid = oid
        self.shape = shape
        self.values = values
        self.search_props = search_props
        self.vbase: int | None = None

    def get(self, prop: str) -> Values:
        """The ``(value key, value)`` pairs of one property (empty if it has none)."""
        return [(key, v) for (p, key), v in zip(self.shape, self.values) if p == prop]

    def first(self, prop: str, key: str) -> Any:
        """The first value of ``prop`` stored under ``key``, or None."""
        for (p, k), v in zip(self.shape, self.values):
            if p == prop and k == key:
                return v
        return None

    def property_count(self) -> int:
        """The value objects of the ``private`` view: each value once, a non-system reference twice
        (it is listed under ``_reference`` too)."""
        return sum(2 if key == "reference" and not prop.startswith("_") else 1 for prop, key in self.shape)


def pack(props: Mapping[str, Values], shapes: dict[Shape, Shape]) -> tuple[Shape, tuple[Any, ...]]:
    """``props`` as a shape (the one in ``shapes`` if an equal one is there: shared) and values."""
    shape = tuple((prop, key) for prop, values in props.items() for key, _ in values)
    values = tuple(v for vs in props.values() for _, v in vs)
    return shapes.setdefault(shape, shape), values


#: a reference target's ``(string, entity_type)``, or None if it does not exist
RefInfo = Callable[[ObjectId], "tuple[Any, Any] | None"]


def ref_info(entities: Mapping[ObjectId, Entity], oid: ObjectId) -> tuple[Any, Any] | None:
    """What a reference to ``oid`` gains: the target's first name and its first ``_type``'s name."""
    target = entities.get(oid)
    if target is None:
        return None
    type_ref = target.first("_type", "reference")
    type_ = None if type_ref is None else entities.get(type_ref)
    return target.first("name", "string"), None if type_ is None else type_.first("name", "string")


def private_view(e: Entity, refs: RefInfo, process: int, only: Collection[str] | None = None, *,
                 as_json: bool = False) -> dict[str, list[dict[str, Any]]]:
    """The entity's ``private`` document (property -> value objects), or only its ``only`` keys;
    ``as_json``: with every value as ``_jsonify`` makes it (what a response sends: built once
    instead of built and then converted; a projection only looks at the documents' structure).

    Reference values gain ``property_type``, ``string`` (the target's first name, null if it has
    none) and ``entity_type`` (the target's first ``_type``'s name) when the target exists;
    non-system references are also collected in ``_reference`` (placed after the first such
    property, as the loop below inserts keys)."""
    assert e.vbase is not None, "an entity is served only after _resolve"
    private: dict[str, list[dict[str, Any]]] = {}
    with_refs = only is None or "_reference" in only
    for n, ((prop, key), val) in enumerate(zip(e.shape, e.values)):
        wanted = only is None or prop in only
        shared_ref = key == "reference" and not prop.startswith("_") and with_refs
        if not (wanted or shared_ref):
            continue
        obj: dict[str, Any] = (
            {"_id": _oid_hex(process, e.vbase + n), key: _jsonify(val)} if as_json
            else {"_id": oid_at(process, e.vbase + n), key: val}
        )  # fmt: skip
        if wanted:
            private.setdefault(prop, [])
        if key == "reference":
            info = refs(val)
            if info is not None:  # two names (strings or null) and a property name: JSON as they are
                obj |= {"property_type": prop, "string": info[0], "entity_type": info[1]}
            if shared_ref:
                private.setdefault("_reference", []).append(obj)
        if wanted:
            private[prop].append(obj)
    return private


def _field(e: Entity, refs: RefInfo, process: int, prop: str, key: str) -> list[Any]:
    """Per value object of ``private.<prop>`` (in order): its ``key``, or MISSING if it has none."""
    assert e.vbase is not None, "an entity is served only after _resolve"
    out: list[Any] = []
    for n, ((p, k), val) in enumerate(zip(e.shape, e.values)):
        if p != prop and not (prop == "_reference" and k == "reference" and not p.startswith("_")):
            continue
        if key == "_id":
            out.append(oid_at(process, e.vbase + n))
        elif key == k:
            out.append(val)
        elif k == "reference" and key in _ENRICHED and (info := refs(val)) is not None:
            out.append(p if key == "property_type" else info[0] if key == "string" else info[1])
        else:
            out.append(MISSING)
    return out


def field_values(e: Entity, refs: RefInfo, process: int, prop: str, key: str) -> tuple[bool, list[Any]]:
    """``filters._candidates(private_view(e, ...), prop, key)`` without building the view: the
    values under ``key`` of the value objects of ``prop`` (whether there are any, and them)."""
    vals = [v for v in _field(e, refs, process, prop, key) if v is not MISSING]
    return bool(vals), vals


def sort_values(e: Entity, refs: RefInfo, process: int, parts: list[str]) -> list[Any]:
    """``paths._sort_values(private_view(e, ...), parts)``; for the usual ``<prop>.<key>`` without
    building the view: each value object's ``key`` (null where it has none), or [null] if the
    property has no values. (Stored values are never arrays.)"""
    if len(parts) != 2:
        return _sort_values(private_view(e, refs, process, parts[:1]), parts)
    keys = _field(e, refs, process, parts[0], parts[1])
    return [None if v is MISSING else v for v in keys] if keys else [None]


def search_words(e: Entity, refs: RefInfo, process: int) -> list[str]:
    """``makeSearchArray`` over the searchable properties: their strings (a reference's is its
    target's name) and numbers, lower-cased, split on ``/[\\s,;]+/``."""
    if not e.search_props:
        return []
    private = private_view(e, refs, process, e.search_props)
    words: list[str] = []
    for prop in e.search_props:
        for v in private.get(prop, []):
            text = v.get("string")
            if text is None and "number" in v:
                text = str(_jsonify(v["number"]))
            if isinstance(text, str):
                words.extend(w for w in _SEARCH_SPLIT.split(text.lower()) if w)
    return words
