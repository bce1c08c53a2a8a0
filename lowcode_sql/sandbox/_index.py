"""Indexes and remembered answers that let an emulator serve a page without testing every stored
row (issue 15 item 7: a page of a 1M-row table must cost about what a page of a 10k-row one does).

Nothing here knows a platform's rules. An emulator keeps computing its answers exactly as before
and uses these only to avoid recomputing them:

* ``Stamp``: a value that changes whenever the emulator's data may have changed: its own write
  counter together with the identity and length of the stored containers, so that a test replacing
  a list by hand (``res.objects = res.objects[:100]``) is noticed as well as a ``load_table``.
* ``Memo``: a few recent list answers (the matching rows in their final order), keyed by the
  query without its paging parameters. A scan that pages through one query pays for filtering and
  sorting once; every later page is a slice. Only for answers that are a pure function of the data
  and the query (an emulator whose tie order depends on the page asked for must not use it).
* ``HashIndex``: value -> the rows holding it, in a given order, built on first use per field and
  dropped with the stamp: an equality filter on a large table reads its bucket, not the table.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

class Stamp:
    """The version counter with each store's identity and length (see the module docstring).

    It holds the stores themselves and compares them with ``is``: an ``id()`` could be reused by a
    new list once the old one is freed, and ``==`` would compare every row."""

    __slots__ = ("lengths", "stores", "version")

    def __init__(self, version: int, stores: tuple[Any, ...]) -> None:
        self.version = version
        self.stores = stores
        self.lengths = tuple(len(s) for s in stores)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Stamp) and self.version == other.version and self.lengths == other.lengths
                and len(self.stores) == len(other.stores)
                and all(a is b for a, b in zip(self.stores, other.stores, strict=True)))

    __hash__ = None  # type: ignore[assignment]


def stamp(version: int, *stores: Any) -> Stamp:
    return Stamp(version, stores)


class Memo(Generic[T]):
    """The last ``size`` answers computed under one stamp; a new stamp forgets them all."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._stamp: Stamp | None = None
        self._answers: OrderedDict[Hashable, T] = OrderedDict()
        self.hits = self.misses = 0

    def get(self, current: Stamp, key: Hashable, compute: Callable[[], T]) -> T:
        if current != self._stamp:
            self._answers.clear()
            self._stamp = current
        try:
            answer = self._answers[key]
        except KeyError:
            self.misses += 1
            answer = compute()  # an exception (a 400) is not remembered: the next call raises again
            self._answers[key] = answer
            if len(self._answers) > self.size:
                self._answers.popitem(last=False)
        else:
            self.hits += 1
            self._answers.move_to_end(key)
        return answer

    def clear(self) -> None:
        self._stamp = None
        self._answers.clear()


class HashIndex(Generic[K, T]):
    """Per field, ``value -> [rows]`` in the order the rows were given, built lazily under a stamp.

    ``values(row)`` yields the hashable values a row holds for the field (several for a multi-valued
    field; a row is listed once per distinct value).
    """

    def __init__(self) -> None:
        self._stamp: Stamp | None = None
        self._fields: dict[Hashable, dict[K, list[T]]] = {}

    def lookup(self, current: Stamp, field: Hashable, rows: Callable[[], Iterable[T]],
               values: Callable[[T], Iterable[K]], value: K) -> list[T]:
        if current != self._stamp:
            self._fields.clear()
            self._stamp = current
        index = self._fields.get(field)
        if index is None:
            index = {}
            for row in rows():
                seen: set[K] = set()
                for v in values(row):
                    if v not in seen:
                        seen.add(v)
                        index.setdefault(v, []).append(row)
            self._fields[field] = index
        return index.get(value, [])

    def clear(self) -> None:
        self._stamp = None
        self._fields.clear()
