"""Random SQL for differential tests: predicate trees, ORDER BY/LIMIT and GROUP BY shapes.

The generator knows each column's kind and a pool of values taken from the data itself plus edge
values (empty strings, wildcard and regex metacharacters, unicode case traps, extremes), so
predicates hit real rows, ties and NULLs.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

TEXT_EDGES = ["", "a", "A", "%", "_", "\\", "'", "a%b", "a_b", "İ", "i", "ß", "SS", "é", "É", "/", ".", "*",
              "(", "[", "^", "$", "|", "?", "+", "\n", " "]


def lit(v: Any, kind: str) -> str:
    if v is None:
        return "NULL"
    if kind == "text":
        return "'" + str(v).replace("'", "''") + "'"
    if kind == "bool":
        return "TRUE" if v else "FALSE"
    if kind == "ts":
        return f"TIMESTAMP '{v.isoformat(sep=' ')}'"
    if kind == "tstz":
        return f"TIMESTAMPTZ '{v.isoformat(sep=' ')}'"
    if kind == "date":
        return f"DATE '{v.isoformat()}'"
    if kind == "num":
        return repr(v)
    if kind == "int":
        return str(int(v))
    raise AssertionError(kind)


@dataclass
class Column:
    name: str
    kind: str  # text | num | int | bool | ts | tstz | date | list_text | list_num
    values: list[Any] = field(default_factory=list)
    unique: bool = False  # no two rows share a value (so ORDER BY it alone is a total order)


class QueryGen:
    def __init__(self, table: str, key: str, columns: Sequence[Column], rng: random.Random) -> None:
        self.table, self.key, self.columns, self.r = table, key, list(columns), rng

    def value(self, col: Column) -> Any:
        r = self.r
        kind = col.kind.removeprefix("list_")
        pool = [v for v in col.values if v is not None]
        if kind == "text":
            if pool and r.random() < 0.6:
                return r.choice(pool)
            if pool and r.random() < 0.5:
                s = r.choice(pool)
                i = r.randrange(len(s) + 1)
                return s[:i]
            return r.choice(TEXT_EDGES)
        if kind == "bool":
            return r.random() < 0.5
        if pool and r.random() < 0.7:
            v = r.choice(pool)
            if kind == "num" and r.random() < 0.2:
                return v + r.choice([-0.5, 0.5, 1])
            if kind in ("ts", "tstz") and r.random() < 0.2:
                return v + dt.timedelta(milliseconds=r.choice([-1, 1, 1000]))
            return v
        if kind in ("num", "int"):
            return r.choice([0, -1, 1, 10**9, -(10**9), 2.5])
        if kind == "date":
            return dt.date(2020, 1, 1) + dt.timedelta(days=r.randrange(-2000, 2000))
        if kind == "ts":
            return dt.datetime(2020, 1, 1) + dt.timedelta(seconds=r.randrange(-10**8, 10**8))
        if kind == "tstz":
            return dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=r.randrange(-10**11, 10**11))
        raise AssertionError(kind)

    def like_pattern(self, col: Column) -> str:
        r = self.r
        base = self.value(col) or "a"
        chars = list(base)
        out = []
        shape = r.random()
        if shape < 0.35:  # prefix
            return "".join(chars[: r.randrange(len(chars) + 1)]).replace("%", "").replace("_", "") + "%"
        for ch in chars:
            roll = r.random()
            if roll < 0.15:
                out.append("%")
            elif roll < 0.25:
                out.append("_")
            else:
                out.append(ch)
        if shape < 0.7:
            out = ["%", *out, "%"]
        return "".join(out)

    def leaf(self) -> str:
        r = self.r
        col = r.choice(self.columns)
        name, kind = col.name, col.kind
        if kind.startswith("list_"):
            v = self.value(col)
            item_kind = kind.removeprefix("list_")
            form = r.random()
            if form < 0.6:
                return f"list_contains({name}, {lit(v, item_kind)})"
            if form < 0.8:
                return f"NOT list_contains({name}, {lit(v, item_kind)})"
            return f"{name} IS {'NOT ' if r.random() < 0.5 else ''}NULL"
        roll = r.random()
        if roll < 0.1:
            return f"{name} IS {'NOT ' if r.random() < 0.5 else ''}NULL"
        if kind == "bool":
            return r.choice([name, f"NOT {name}", f"{name} = {lit(self.value(col), kind)}",
                             f"{name} <> {lit(self.value(col), kind)}"])
        if kind == "text" and roll < 0.45:
            op = r.choice(["LIKE", "LIKE", "NOT LIKE", "ILIKE", "NOT ILIKE"])
            pat = self.like_pattern(col)
            if "\\" in pat or r.random() < 0.1:
                pat2 = pat.replace("!", "!!")
                return f"{name} {op} {lit(pat2, 'text')} ESCAPE '!'"
            return f"{name} {op} {lit(pat, 'text')}"
        if roll < 0.6:
            vals = [self.value(col) for _ in range(r.randint(1, 4))]
            if r.random() < 0.1:
                vals.append(None)
            neg = "NOT " if r.random() < 0.3 else ""
            return f"{name} {neg}IN ({', '.join(lit(v, kind) for v in vals)})"
        if roll < 0.7 and kind != "text":
            a, b = sorted([self.value(col), self.value(col)], key=_sort_key)
            return f"{name} BETWEEN {lit(a, kind)} AND {lit(b, kind)}"
        op = r.choice(["=", "=", "<>", "<", "<=", ">", ">="])
        return f"{name} {op} {lit(self.value(col), kind)}"

    def predicate(self, depth: int = 0) -> str:
        r = self.r
        roll = r.random()
        if depth >= 2 or roll < 0.45:
            return self.leaf()
        if roll < 0.75:
            return f"({self.predicate(depth + 1)} AND {self.predicate(depth + 1)})"
        if roll < 0.92:
            return f"({self.predicate(depth + 1)} OR {self.predicate(depth + 1)})"
        return f"NOT ({self.predicate(depth + 1)})"

    def query(self, source: str) -> tuple[str, bool]:
        """A query and whether its row order is fully determined."""
        r = self.r
        where = " AND ".join(self.predicate() for _ in range(r.randint(0, 3)))
        where_sql = f" WHERE {where}" if where else ""
        t = f"{source}.{self.table}"
        shape = r.random()
        scalar = [c for c in self.columns if not c.kind.startswith("list_")]
        if shape < 0.25:
            return f"SELECT count(*) FROM {t}{where_sql}", True
        if shape < 0.45:
            col = r.choice(scalar)
            desc = r.choice(["", " DESC"])
            nulls = r.choice(["", " NULLS FIRST", " NULLS LAST"])
            limit = r.choice([1, 3, 10, 50])
            offset = r.choice(["", "", f" OFFSET {r.randint(1, 20)}"])
            return (f"SELECT {self.key}, {col.name} FROM {t}{where_sql} ORDER BY {col.name}{desc}{nulls}, "
                    f"{self.key} LIMIT {limit}{offset}", True)
        if shape < 0.6:
            col = r.choice(scalar)
            return (f"SELECT {col.name}, count(*) AS n FROM {t}{where_sql} GROUP BY {col.name}", False)
        if shape < 0.7:
            return f"SELECT {self.key} FROM {t}{where_sql} LIMIT {r.choice([1, 5, 1000])}", False
        cols = r.sample([c.name for c in self.columns], k=min(len(self.columns), r.randint(1, 3)))
        return f"SELECT {self.key}, {', '.join(cols)} FROM {t}{where_sql}", False

    def sorted_query(self, source: str) -> tuple[str, bool]:
        """ORDER BY/LIMIT over columns left out of the SELECT list (a selected column is referenced
        through its alias, which keeps the sort local), so sort pushdown is exercised too."""
        r = self.r
        where = " AND ".join(self.predicate() for _ in range(r.randint(0, 2)))
        where_sql = f" WHERE {where}" if where else ""
        scalar = [c for c in self.columns if not c.kind.startswith("list_")]
        col = r.choice(scalar)
        shown = [c.name for c in self.columns if c.name != col.name] or ["1"]
        cols = r.sample(shown, k=min(len(shown), r.randint(1, 2)))
        desc = r.choice(["", " DESC"])
        nulls = r.choice(["", " NULLS FIRST", " NULLS LAST"])
        limit = r.choice([1, 3, 10, 50])
        offset = r.choice(["", "", f" OFFSET {r.randint(1, 20)}"])
        tie = "" if col.unique and r.random() < 0.7 else f", {self.key}"
        return (f"SELECT {', '.join(cols)} FROM {source}.{self.table}{where_sql} ORDER BY {col.name}{desc}{nulls}"
                f"{tie} LIMIT {limit}{offset}", True)


def _sort_key(v: Any) -> Any:
    return (v is None, v)
