"""Random SQL for differential tests: predicate trees, ORDER BY/LIMIT and GROUP BY shapes.

The generator knows each column's kind and a pool of values taken from the data itself plus edge
values (empty strings, wildcard and regex metacharacters, unicode case traps, extremes), so
predicates hit real rows, ties and NULLs.
"""

from __future__ import annotations

import datetime as dt
import math
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
        if isinstance(v, float) and not math.isfinite(v):
            return f"'{v}'::DOUBLE"  # 'nan', 'inf', '-inf'
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

    def leaf(self, col: Column | None = None) -> str:
        r = self.r
        col = col or r.choice(self.columns)
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


class ShapeGen(QueryGen):
    """Shapes that exercise the planner's pushdown *rules* rather than the predicate translation:
    operators that must keep LIMIT/ORDER BY local (DISTINCT, GROUP BY, HAVING, windows, subqueries in
    WHERE), several conditions on one column (one parameter or JSON key per field on most APIs),
    non-finite literals, and contradictions (answered without a request)."""

    def scalar(self) -> list[Column]:
        return [c for c in self.columns if not c.kind.startswith("list_")]

    def where(self, n_max: int = 1) -> str:
        return " AND ".join(self.predicate() for _ in range(self.r.randint(0, n_max)))

    def blocker_query(self, source: str) -> tuple[str, bool]:
        """A query whose LIMIT (or ORDER BY + LIMIT) sits above an operator the API cannot apply."""
        r = self.r
        t, k = f"{source}.{self.table}", self.key
        col = r.choice(self.scalar()).name
        w = self.where()
        and_w, where_w = (f"{w} AND ", f" WHERE {w}") if w else ("", "")
        n = r.choice([1, 2, 3, 5, 20])
        desc = r.choice(["", " DESC"])
        sub_w = self.where()
        sub_where = f" WHERE {sub_w}" if sub_w else ""
        shapes = [
            (f"SELECT DISTINCT {col} FROM {t}{where_w} ORDER BY {col}{desc} LIMIT {n}", True),
            (f"SELECT count(*) FROM (SELECT DISTINCT {col} FROM {t}{where_w} LIMIT {n})", True),
            (f"SELECT {col} FROM {t}{where_w} GROUP BY {col} ORDER BY {col}{desc} LIMIT {n}", True),
            (f"SELECT count(*) FROM (SELECT {col} FROM {t}{where_w} GROUP BY {col} LIMIT {n})", True),
            (f"SELECT {col}, count(*) AS n FROM {t}{where_w} GROUP BY {col} ORDER BY {col}{desc} LIMIT {n}", True),
            (f"SELECT {col} FROM {t}{where_w} GROUP BY {col} HAVING count(*) >= 1 ORDER BY {col} LIMIT {n}", True),
            (f"SELECT {k}, count(*) OVER () AS total FROM {t}{where_w} ORDER BY {k}{desc} LIMIT {n}", True),
            (f"SELECT count(*) FROM (SELECT {k} FROM {t} WHERE {and_w}{col} IN "
             f"(SELECT {col} FROM {t}{sub_where}) LIMIT {n})", True),
            (f"SELECT {k} FROM {t} WHERE {and_w}{col} IN (SELECT {col} FROM {t}{sub_where}) "
             f"ORDER BY {k}{desc} LIMIT {n}", True),
            (f"SELECT {k} FROM {t} WHERE {and_w}{col} NOT IN (SELECT {col} FROM {t}{sub_where}) "
             f"ORDER BY {k} LIMIT {n}", True),
            (f"SELECT count(*) FROM (SELECT o.{k} FROM {t} AS o WHERE {and_w}EXISTS (SELECT 1 FROM {t} AS s "
             f"WHERE s.{k} = o.{k}{' AND ' + sub_w if sub_w else ''}) LIMIT {n})", True),
            (f"SELECT o.{k} FROM {t} AS o WHERE {and_w}NOT EXISTS (SELECT 1 FROM {t} AS s "
             f"WHERE s.{k} = o.{k}{' AND ' + sub_w if sub_w else ''}) ORDER BY o.{k}{desc} LIMIT {n}", True),
            (f"SELECT {k} FROM {t} WHERE {and_w}{col} >= (SELECT min({col}) FROM {t}{sub_where}) "
             f"ORDER BY {k} LIMIT {n}", True),
        ]
        return r.choice(shapes)

    def column_leaf(self, col: Column) -> str:
        """One condition on ``col``, biased to the shapes APIs push (=, ranges, prefix LIKE, IN)."""
        r = self.r
        roll = r.random()
        if roll < 0.35:
            return self.leaf(col)
        if col.kind == "text" and roll < 0.6:
            v = self.value(col) or ""
            prefix = v[: r.randrange(len(v) + 1)].replace("%", "").replace("_", "").replace("'", "''")
            return f"{col.name} {r.choice(['LIKE', 'LIKE', 'ILIKE'])} '{prefix}%'"
        if col.kind == "bool":
            return f"{col.name} {r.choice(['=', '<>'])} {lit(r.random() < 0.5, 'bool')}"
        op = r.choice(["=", "<", "<=", ">", ">=", ">=", ">", "<>"])
        return f"{col.name} {op} {lit(self.value(col), col.kind)}"

    def same_column_query(self, source: str) -> tuple[str, bool]:
        """Two or three conditions on one column (plus, sometimes, one elsewhere)."""
        r = self.r
        t, k = f"{source}.{self.table}", self.key
        col = r.choice(self.scalar())
        conds = [self.column_leaf(col) for _ in range(r.randint(2, 3))]
        if r.random() < 0.3:
            conds.append(self.predicate())
        r.shuffle(conds)
        w = " AND ".join(conds)
        shape = r.random()
        if shape < 0.4:
            return f"SELECT count(*) FROM {t} WHERE {w}", True
        if shape < 0.7:
            return f"SELECT {k}, {col.name} FROM {t} WHERE {w}", False
        return f"SELECT {k} FROM {t} WHERE {w} ORDER BY {col.name}, {k} LIMIT {r.choice([1, 3, 10, 50])}", True


NON_FINITE = ["'nan'::DOUBLE", "'inf'::DOUBLE", "'-inf'::DOUBLE", "-0.0", "0.0", "'-0.0'::DOUBLE"]


def non_finite_conditions(col: str) -> list[str]:
    """NaN, ±infinity and -0.0 literals against a numeric column, in every pushable shape."""
    out = [f"{col} {op} {v}" for v in NON_FINITE for op in ("=", "<>", "<", "<=", ">", ">=")]
    out += [f"{col} IN (0, 'nan'::DOUBLE)", f"{col} NOT IN ('inf'::DOUBLE, -0.0)", f"{col} IN (-0.0, 1)",
            f"{col} BETWEEN '-inf'::DOUBLE AND 'inf'::DOUBLE", f"{col} BETWEEN -0.0 AND 'inf'::DOUBLE",
            f"{col} < 'inf'::DOUBLE AND {col} > '-inf'::DOUBLE", f"NOT ({col} >= 'nan'::DOUBLE)"]
    return out


def contradictions(col: Column) -> list[str]:
    """Unsatisfiable WHERE clauses on ``col``, one of every kind ``plan/contradiction.py`` detects."""
    n = col.name
    if col.kind.startswith("list_"):
        v = lit(next(iter(col.values), "x"), col.kind.removeprefix("list_"))
        return [f"list_contains({n}, {v}) AND {n} IS NULL", f"{n} IS NULL AND {n} IS NOT NULL"]
    out = [f"{n} IS NULL AND {n} IS NOT NULL", f"{n} = NULL", f"{n} NOT IN (NULL)",
           f"{n} IN (NULL) AND {n} IS NOT NULL"]
    if col.kind == "bool":
        return [*out, f"{n} AND NOT {n}", f"{n} = TRUE AND {n} = FALSE", f"{n} IS NULL AND {n}",
                f"{n} = TRUE AND {n} <> TRUE"]
    values = sorted({v for v in col.values if v is not None}, key=_sort_key)
    lo, hi = (values[0], values[-1]) if len(values) >= 2 and values[0] != values[-1] else (None, None)
    if lo is None:
        return out
    a, b = lit(lo, col.kind), lit(hi, col.kind)
    out += [
        f"{n} IS NULL AND {n} = {a}", f"{n} > {a} AND {n} IS NULL", f"{n} IS NULL AND {n} IN ({a}, {b})",
        f"{n} = {a} AND {n} = {b}", f"{n} = {a} AND {n} <> {a}", f"{n} > {b} AND {n} < {a}",
        f"{n} >= {b} AND {n} <= {a}", f"{n} >= {a} AND {n} < {a}", f"{n} > {a} AND {n} <= {a}",
        f"{n} > {a} AND {n} < {a}", f"{n} = {b} AND {n} < {b}", f"{n} IN ({a}) AND {n} IN ({b})",
        f"{n} IN ({a}, {b}) AND {n} NOT IN ({b}, {a})", f"{n} IN ({a}, {b}) AND {n} > {b}",
        f"{n} BETWEEN {b} AND {a}", f"({n} = {a} OR {n} = {b}) AND {n} <> {a} AND {n} <> {b}",
        f"NOT ({n} IS NULL OR {n} <> {a}) AND {n} <> {a}", f"{n} NOT IN ({a}, NULL)",
    ]
    if col.kind == "text":
        out.append(f"{n} IS NULL AND {n} LIKE {lit(str(lo)[:1] + '%', 'text')}")
    return out


class MultiRefGen(QueryGen):
    """Queries reading one table through several references (issue 15, scan sharing): self-joins of
    filtered derived tables, correlated and uncorrelated subqueries, EXISTS / NOT EXISTS, IN, UNION
    ALL branches and a CTE used twice. Each condition sits in a scope with one table, so its bare
    column names are that reference's; a third of the second conditions repeat the first (the
    references then send identical requests)."""

    def multi_reference_query(self, source: str) -> tuple[str, bool]:
        r = self.r
        t, k = f"{source}.{self.table}", self.key
        scalar = [c for c in self.columns if not c.kind.startswith("list_")]
        col = r.choice(scalar).name
        p1 = self.predicate() if r.random() < 0.8 else "TRUE"
        p2 = p1 if r.random() < 0.35 else (self.predicate() if r.random() < 0.8 else "TRUE")
        n = r.choice([1, 3, 10])
        shapes = [
            (f"SELECT count(*) FROM (SELECT {k}, {col} FROM {t} WHERE {p1}) AS a "
             f"JOIN (SELECT {k}, {col} FROM {t} WHERE {p2}) AS b ON a.{col} = b.{col}", False),
            (f"SELECT a.{k}, b.{k} FROM (SELECT {k}, {col} FROM {t} WHERE {p1}) AS a "
             f"LEFT JOIN (SELECT {k}, {col} FROM {t} WHERE {p2}) AS b ON a.{k} = b.{k}", False),
            (f"SELECT o.{k} FROM {t} AS o WHERE {p1} AND EXISTS (SELECT 1 FROM {t} AS s "
             f"WHERE s.{col} = o.{col} AND s.{k} <> o.{k} AND {p2})", False),
            (f"SELECT o.{k} FROM {t} AS o WHERE {p1} AND NOT EXISTS (SELECT 1 FROM {t} AS s "
             f"WHERE s.{col} = o.{col} AND s.{k} <> o.{k} AND {p2})", False),
            (f"SELECT o.{k} FROM {t} AS o WHERE {p1} AND (SELECT count(*) FROM {t} AS s "
             f"WHERE s.{col} = o.{col} AND {p2}) > 1", False),
            (f"SELECT {k} FROM {t} WHERE {p1} AND {col} >= (SELECT min({col}) FROM {t} WHERE {p2})", False),
            (f"SELECT {k} FROM {t} WHERE {p1} AND {col} IN (SELECT {col} FROM {t} WHERE {p2})", False),
            (f"SELECT {k} FROM {t} WHERE {p1} AND {col} IN (SELECT {col} FROM {t} WHERE {p2} "
             f"ORDER BY {k} LIMIT {n})", False),
            (f"SELECT {k}, {col} FROM {t} WHERE {p1} UNION ALL SELECT {k}, {col} FROM {t} WHERE {p2}", False),
            (f"SELECT {k} FROM {t} WHERE {p1} UNION SELECT {k} FROM {t} WHERE {p2} ORDER BY {k} LIMIT {n}", True),
            (f"SELECT (SELECT count(*) FROM {t} WHERE {p2}) AS n, count(*) AS m FROM {t} WHERE {p1}", True),
            (f"WITH c AS (SELECT {k}, {col} FROM {t} WHERE {p1}) "
             f"SELECT count(*) FROM c AS x JOIN c AS y ON x.{col} = y.{col}", True),
            (f"SELECT o.{k} FROM {t} AS o WHERE {p1} AND EXISTS (SELECT 1 FROM {t} AS s WHERE s.{k} = o.{k} "
             f"AND {p2}) ORDER BY o.{k} LIMIT {n}", True),
        ]
        return r.choice(shapes)
