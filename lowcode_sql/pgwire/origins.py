"""Where a result column comes from: the table OID and column number RowDescription carries for a
column that is a plain column of a source table (``SELECT name, t.qty AS q FROM entu.item t``,
``SELECT *``), zero for computed ones, as PostgreSQL does. pgJDBC's ``getTableName`` /
``getColumnName`` and psqlODBC's SQLColAttribute read them (and then ``pg_class`` /
``pg_attribute`` by that OID); without them a JDBC tool's result grid shows no table names and
cannot offer editing or key lookups."""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

__all__ = ["column_origins"]

Origin = tuple[int, int]  # (table OID, attnum), (0, 0) for a computed column


def column_origins(sql: str, source_tables: Mapping[str, Mapping[str, pa.Schema]],
                   relations: Mapping[tuple[str, str], int]) -> list[Origin] | None:
    """One origin per output column of a single SELECT over source tables, or None (no origins:
    a set operation, a statement sqlglot cannot read)."""
    try:
        tree = sqlglot.parse_one(sql, read="postgres")
    except SqlglotError:
        return None
    if not isinstance(tree, exp.Select):
        return None
    tables: dict[str, tuple[str, str]] = {}
    order: list[tuple[str, str]] = []
    for t in tree.find_all(exp.Table):
        if t.parent_select is not tree or not t.db or t.name not in source_tables.get(t.db, {}):
            continue
        key = (t.db, t.name)
        tables[t.alias_or_name] = key
        order.append(key)
    out: list[Origin] = []
    for proj in tree.expressions:
        node = proj.this if isinstance(proj, exp.Alias) else proj
        if isinstance(node, exp.Star):
            for key in order:
                out.extend(_all(key, source_tables, relations))
        elif isinstance(node, exp.Column) and isinstance(node.this, exp.Star):
            found = tables.get(node.table)
            if found is None:
                return None
            out.extend(_all(found, source_tables, relations))
        elif isinstance(node, exp.Column):
            found = tables.get(node.table) if node.table else (order[0] if len(order) == 1 else None)
            names = source_tables[found[0]][found[1]].names if found else []
            out.append((relations.get(found, 0), names.index(node.name) + 1) if found and node.name in names
                       else (0, 0))
        else:
            out.append((0, 0))
    return out


def _all(key: tuple[str, str], source_tables: Mapping[str, Mapping[str, pa.Schema]],
         relations: Mapping[tuple[str, str], int]) -> list[Origin]:
    oid = relations.get(key, 0)
    return [(oid, i) for i in range(1, len(source_tables[key[0]][key[1]]) + 1)]
