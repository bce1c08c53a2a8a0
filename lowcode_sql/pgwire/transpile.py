"""PostgreSQL SQL from clients -> DuckDB SQL, with PostgreSQL's semantics where they differ.

sqlglot does the dialect translation; the passes here add what it cannot know without types or
PostgreSQL's naming rules (docs/notes/bi-bridge.md, pitfall 3):

* ``int / int`` divides and truncates in PostgreSQL but gives a DOUBLE in DuckDB, numeric
  division and ``avg(int)`` are numeric there, ``sum(bigint)`` numeric and ``sum(int)`` int8:
  DuckDB's binder types these on the served connections (``pgsemantics``: ``pg_div``,
  ``pg_avg``, ``pg_sum_result``, ``pg_numeric``, macros overloaded on their arguments' types),
  so every nesting is right, with no guess from the syntax;
* ``format('%s %I %L', ...)`` is rewritten to PostgreSQL's meaning (``pgsemantics``);
* ``ORDER BY x DESC`` puts NULLs first in PostgreSQL (sqlglot adds the explicit NULLS FIRST);
* unaliased output columns get PostgreSQL's names (``count``, ``sum``, ``?column?``, ``int4``)
  instead of DuckDB's (``count_star()``, ``sum(x)``, ``(1 + 2)``).

It also splits multi-statement strings and sorts statements into utility commands the session
answers itself (SET, SHOW, BEGIN, DECLARE, FETCH, ...) and queries.
"""

from __future__ import annotations

import functools
import posixpath
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa
import sqlglot

# sqlglot builds a dialect's tokenizer and parser tables when the dialect is first used
# (PostgreSQL's: ~15 ms of class building): with the server, not in a client's first query
import sqlglot.dialects.postgres
from sqlglot import exp
from sqlglot.errors import SqlglotError

from lowcode_sql.pgwire.errors import permission_denied
from lowcode_sql.pgwire.pgfuncs import rewrite_functions
from lowcode_sql.pgwire.pgsemantics import (
    duckdb_function_names,
    int4_results,
    rewrite_format,
    rewrite_sums,
    rewrite_types,
)
from lowcode_sql.pgwire.pgtochar import mark_to_char, rewrite_to_char

__all__ = ["Translated", "TranslationCache", "first_keyword", "prepare", "split_statements", "translate"]

def split_statements(sql: str) -> list[str]:
    """Split on top-level ``;`` (not inside quotes, dollar quotes or comments); drop empty ones."""
    out: list[str] = []
    start = i = 0
    n = len(sql)
    while i < n:
        c = sql[i]
        if c in ("'", '"'):
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                if c == "'" and sql[j] == "\\" and i > 0 and sql[i - 1] in "eE":
                    j += 1
                j += 1
            i = j + 1
        elif c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif c == "/" and sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "$":
            m = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", sql[i:])
            if m and not (i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_")):
                tag = m.group(0)
                j = sql.find(tag, i + len(tag))
                i = n if j < 0 else j + len(tag)
            else:
                i += 1
        elif c == ";":
            out.append(sql[start:i])
            start = i = i + 1
        else:
            i += 1
    out.append(sql[start:])
    return [s.strip() for s in out if _strip_comments(s).strip()]


def _strip_comments(s: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", s, flags=re.S)


def first_keyword(stmt: str) -> str:
    m = re.match(r"\s*([A-Za-z_]+)", _strip_comments(stmt))
    return m.group(1).upper() if m else ""


@dataclass
class Translated:
    sql: str  # DuckDB SQL
    target: str  # "engine" (source tables) or "catalog" (pg_catalog emulation / no tables)
    nparams: int
    names: list[str] | None = None  # PostgreSQL output names, by position (None: keep DuckDB's)


class TranslationCache:
    """The translations of recent statements, by their text and everything else ``translate``
    reads (the user, the session's settings, the catalog's table maps): a dashboard sends the same
    few statements again and again, and parsing and rewriting one costs milliseconds. An entry
    holds the catalog maps it was made with and is used only while they are still the catalog's
    (a rebuild replaces them); least recently used entries go first."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._lock = threading.Lock()  # sessions translate on the event loop, cursors in threads
        self._entries: OrderedDict[tuple[object, ...], tuple[object, object, Translated]] = OrderedDict()

    def get(self, key: tuple[object, ...], sources: object, catalog: object) -> Translated | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] is not sources or entry[1] is not catalog:
                return None
            self._entries.move_to_end(key)
        t = entry[2]
        return Translated(t.sql, t.target, t.nparams, None if t.names is None else list(t.names))

    def put(self, key: tuple[object, ...], sources: object, catalog: object, t: Translated) -> None:
        entry = (sources, catalog, Translated(t.sql, t.target, t.nparams, None if t.names is None else list(t.names)))
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


# pg_catalog spellings sqlglot cannot (or should not) parse: handled as text first
_PRE = [
    (re.compile(r"OPERATOR\s*\(\s*pg_catalog\s*\.\s*([~!=<>*]+)\s*\)", re.I), r"\1"),
    (re.compile(r"\s+COLLATE\s+(pg_catalog\s*\.\s*)?\"?(default|C|POSIX)\"?", re.I), ""),
    (re.compile(r"::\s*pg_catalog\s*\.\s*", re.I), "::"),
    # sqlglot 30 reads `interval '1 day 02:00:00'` as `INTERVAL '1' DAY`: keep the whole text as a cast
    (re.compile(r"\binterval\s*('(?:[^']|'')*')(?!\s*(?:year|month|day|hour|minute|second)s?\b)", re.I),
     r"CAST(\1 AS INTERVAL)"),
]
_PARAM = re.compile(r"\$(\d+)")


def translate(sql: str, *, source_tables: Mapping[str, Mapping[str, pa.Schema]], catalog_tables: frozenset[str],
              settings: Mapping[str, str], user: str, rewrite_catalog: Callable[[exp.Expr], None],
              allowed_directories: Sequence[str] = ()) -> Translated:
    """Translate one statement. ``source_tables`` maps schema (source) -> table -> Arrow schema;
    ``catalog_tables`` are the emulated catalog's table names (already flattened);
    ``allowed_directories`` (normalized, ending in ``/``) may be read with the file functions."""
    for pattern, repl in _PRE:
        sql = pattern.sub(repl, sql)
    sql = mark_to_char(sql)
    nparams = max((int(m) for m in _PARAM.findall(sql)), default=0)
    try:
        tree = sqlglot.parse_one(sql, read="postgres")
    except SqlglotError as e:
        _refuse_unparsed(sql)
        raise SyntaxError(str(e).splitlines()[0] if str(e) else "syntax error") from None
    if tree is None:
        raise SyntaxError("empty statement")
    target = _route(tree, source_tables, catalog_tables)
    _host_access(tree, source_tables, target, allowed_directories)
    names = _output_names(tree)  # before the passes below replace nodes PostgreSQL names by
    _order_by_output_names(tree)
    _session_values(tree, settings, user)
    rewrite_to_char(tree)
    if target == "catalog":
        rewrite_catalog(tree)
    _like_any(tree)
    _every(tree)
    source_type = functools.partial(_direct_source_type, sources=source_tables)
    rewrite_sums(tree, source_type)
    rewrite_format(tree)
    rewrite_functions(tree, source_type)
    rewrite_types(tree, source_type)
    _similar_to(tree)
    _like_escape(tree)
    _regexp_match_item(tree)
    _substring_start(tree)
    _extract_numeric(tree)
    _int4_series(tree)
    int4_results(tree)
    return Translated(tree.sql(dialect="duckdb"), target, nparams, names)


# Table functions a client's query may call: they compute rows from their arguments only. Every
# other one is refused (read_*, glob, sniff_csv, *_scan, query, duckdb_settings, which_secret, the
# table functions of extensions ...). This is the second wall: the first is DuckDB's own, external
# access off and a locked configuration (execute/duck.py), which holds even if this list is wrong.
ALLOWED_TABLE_FUNCTIONS = frozenset({
    "generate_series", "range", "unnest", "generate_subscripts", "repeat", "json_each", "json_tree",
    "pg_timezone_names", "pg_get_keywords",  # the catalog emulation's table macro (pgcatalog.py)
})
# DuckDB names that read the host (getenv exists in DuckDB's CLI and WASM builds) or its settings
# (current_setting over anything but a literal, which _session_values answers: the catalog has its
# own macro over pg_settings, an engine query would reach DuckDB's, whose values include paths);
# set_config is PostgreSQL's function form of SET
_DENIED_FUNCTIONS = frozenset({"getenv", "set_config", "current_setting"})
_PATH_LIKE = re.compile(r"[/\\]|://|\.(csv|tsv|txt|json|jsonl|ndjson|parquet|db|duckdb|gz|zst|xlsx?)$", re.I)


def prepare() -> None:
    """Look up, once per process, the DuckDB function names every translation checks against: the
    server does it as it starts, not in a client's first query."""
    duckdb_table_functions()
    duckdb_function_names("aggregate")


@functools.cache
def duckdb_table_functions() -> frozenset[str]:
    """Every table function and table macro DuckDB knows (the second wall refuses these outside
    ``ALLOWED_TABLE_FUNCTIONS`` wherever they appear)."""
    return duckdb_function_names("table", "table_macro")


def _refuse_unparsed(sql: str) -> None:
    """A statement sqlglot cannot parse that calls a refused table function (``glob('/etc/*')`` is
    PostgreSQL's syntax error, DuckDB's file listing): refuse it as such rather than as bad syntax."""
    text = re.sub(r"'(?:[^']|'')*'", "''", _strip_comments(sql))
    for m in re.finditer(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(", text):
        name = m.group(1).lower()
        if name in duckdb_table_functions() and name not in ALLOWED_TABLE_FUNCTIONS:
            raise permission_denied(f"function {name}() is not available on this server")


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def _host_access(tree: exp.Expr, sources: Mapping[str, Mapping[str, pa.Schema]], target: str,
                 allowed: Sequence[str]) -> None:
    """Refuse (42501) a query that names a route to the server's files, network or settings."""
    table_fns = duckdb_table_functions()
    for node in tree.find_all(exp.Func):
        name = _function_name(node)
        parent = node.parent
        in_from = isinstance(parent, exp.Table | exp.Lateral)
        if in_from and not isinstance(node, exp.Anonymous | exp.Unnest):
            # a typed sqlglot node (ReadCSV, ExplodingGenerateSeries): the name DuckDB will see
            name = node.sql(dialect="duckdb").split("(", 1)[0].strip().lower()
        if allowed and name in FILE_FUNCTIONS:
            _check_paths(name, node, allowed)
            continue
        if (in_from or name in table_fns) and name not in ALLOWED_TABLE_FUNCTIONS:
            raise permission_denied(f"function {name}() is not available on this server")
        if name in _DENIED_FUNCTIONS:
            literal = bool(node.expressions) and node.expressions[0].is_string
            if name == "current_setting" and (literal or target == "catalog"):
                continue  # answered from the session's settings (_session_values), never DuckDB's
            if name == "set_config":
                raise permission_denied("set_config() cannot change settings on this server (use SET)")
            raise permission_denied(f"function {name}() is not available on this server")
    known = {t for tables in sources.values() for t in tables}
    for t in tree.find_all(exp.Table):
        # DuckDB reads a table name that looks like a file (FROM '/data/x.csv', "s3://b/k.parquet")
        if isinstance(t.this, exp.Identifier) and t.name not in known and _PATH_LIKE.search(t.name) \
                and not (allowed and _inside(t.name, allowed)):
            raise permission_denied(f'"{t.name}" names a file outside the allowed directories'
                                    if allowed else f'"{t.name}" names a file: files are not available '
                                                    "on this server")


# With [serve] allowed_directories, these may read files there: their path arguments must be
# literals inside those directories (DuckDB's allowed_directories checks again, the first wall)
FILE_FUNCTIONS = frozenset({"read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json",
                            "read_json_auto", "read_ndjson", "read_ndjson_auto", "read_text", "read_blob"})


def _inside(path: str, allowed: Sequence[str]) -> bool:
    if "://" in path or not path.startswith("/"):
        return False  # URLs, and relative paths (resolved against the server's working directory)
    norm = posixpath.normpath(path) + ("/" if path.endswith("/") else "")
    return any(norm.startswith(d) or norm + "/" == d for d in allowed)


def _check_paths(name: str, node: exp.Func, allowed: Sequence[str]) -> None:
    # the path is the first argument: `this` of typed sqlglot nodes (ReadCSV), else the first one listed
    this = node.args.get("this")
    first = this if isinstance(this, exp.Expression) else (node.expressions[0] if node.expressions else None)
    paths = first.expressions if isinstance(first, exp.Array) else [first]
    for p in paths:
        if not (isinstance(p, exp.Literal) and p.is_string and _inside(p.name, allowed)):
            shown = p.name if isinstance(p, exp.Literal) else "a computed path"
            raise permission_denied(f"{name}(): {shown!r} is outside the allowed directories "
                                    f"({', '.join(allowed)}); paths must be absolute literals")


def _route(tree: exp.Expr, sources: Mapping[str, Mapping[str, pa.Schema]], catalog: frozenset[str]) -> str:
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    engine = catalog_ref = False
    unqualified = {t for tables in sources.values() for t in tables}
    for t in tree.find_all(exp.Table):
        db, name = t.db, t.name
        if not name or (not db and name.lower() in ctes):
            continue
        if db in sources or (not db and name in unqualified and name.lower() not in catalog):
            engine = True
        else:
            catalog_ref = True
    if engine and catalog_ref:
        raise NotImplementedError("a query cannot mix source tables with pg_catalog / information_schema tables")
    return "engine" if engine else "catalog"


def _session_values(tree: exp.Expr, settings: Mapping[str, str], user: str) -> None:
    """Values that belong to the session, not the shared catalog: current_setting(), the user."""
    for node in list(tree.find_all(exp.CurrentUser, exp.SessionUser, exp.Anonymous)):
        if isinstance(node, exp.CurrentUser | exp.SessionUser):
            node.replace(exp.Literal.string(user))
        elif node.name.lower() == "current_setting" and node.expressions and node.expressions[0].is_string:
            key = node.expressions[0].name.lower()
            node.replace(exp.Literal.string(settings[key]) if key in settings else exp.Null())
    path = [p.strip().strip('"') for p in settings.get("search_path", "").split(",")]
    schema = next((p for p in path if p and p != "$user"), None)
    if schema:
        # current_schema() follows the session's search_path (SET search_path = ...)
        for node in list(tree.find_all(exp.CurrentSchema)):
            node.replace(exp.Literal.string(schema))
    for col in list(tree.find_all(exp.Column)):
        # bare keywords PostgreSQL treats as functions: `SELECT current_user, session_user`
        if not col.table and col.name.lower() in ("current_user", "session_user", "user", "current_role") \
                and not col.this.quoted:
            col.replace(exp.Literal.string(user))


def _direct_source_type(col: exp.Column, sources: Mapping[str, Mapping[str, pa.Schema]]) -> pa.DataType | None:
    """The type of ``col`` if its SELECT reads one source table directly (no join, no subquery
    in between) and ``col`` is one of that table's columns; else None (DuckDB's binder decides)."""
    sel = col.find_ancestor(exp.Select)
    frm = sel.args.get("from_") if sel is not None else None
    if sel is None or frm is None or sel.args.get("joins") or not isinstance(frm.this, exp.Table):
        return None
    t = frm.this
    if not isinstance(t.this, exp.Identifier):
        return None  # a table function
    top = _root(sel)
    if not t.db and any(c.alias_or_name.lower() == t.name.lower() for c in top.find_all(exp.CTE)):
        return None  # a CTE of that name hides the source table
    unqualified = {name: s for s, tables in sources.items() for name in tables}
    schema = sources.get(t.db or unqualified.get(t.name, ""), {}).get(t.name)
    if schema is None or (col.table and col.table != t.alias_or_name) or col.name not in schema.names:
        return None
    return schema.field(col.name).type


def _root(node: exp.Expr) -> exp.Expr:
    while node.parent is not None:
        node = node.parent
    return node


def _similar_to(tree: exp.Expr) -> None:
    """``x SIMILAR TO 'a%'``: DuckDB reads the pattern as a plain regular expression, PostgreSQL as
    SQL's mix of LIKE wildcards and regex operators; translate literal patterns to a full regex."""
    for node in list(tree.find_all(exp.SimilarTo)):
        pattern = node.expression
        if not (isinstance(pattern, exp.Literal) and pattern.is_string) or node.args.get("escape"):
            continue
        out = []
        escaped = False
        for ch in pattern.this:
            if escaped:
                out.append(re.escape(ch))
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == "%":
                out.append(".*")
            elif ch == "_":
                out.append(".")
            elif ch in ".^$":
                out.append("\\" + ch)
            else:
                out.append(ch)
        node.replace(exp.func("regexp_full_match", node.this.copy(), exp.Literal.string("".join(out))))


def _like_any(tree: exp.Expr) -> None:
    """``x LIKE ANY (ARRAY['a%', 'b%'])`` (and ALL, ILIKE): DuckDB has no such form; an array
    constructor becomes ORs (ANDs) of single LIKEs."""
    for node in list(tree.find_all(exp.Like, exp.ILike)):
        quant = node.expression
        if not isinstance(quant, exp.Any | exp.All):
            continue
        arr = quant.this.this if isinstance(quant.this, exp.Paren) else quant.this
        if not isinstance(arr, exp.Array) or not arr.expressions:
            raise NotImplementedError("LIKE ANY/ALL needs an ARRAY[...] of patterns on this server")
        kind = type(node)
        parts: list[exp.Expr] = [kind(this=node.this.copy(), expression=p.copy()) for p in arr.expressions]
        if node.args.get("negate"):  # x NOT LIKE ANY (...): some pattern does not match
            parts = [exp.Not(this=p) for p in parts]
        joined = exp.or_(*parts) if isinstance(quant, exp.Any) else exp.and_(*parts)
        node.replace(exp.Paren(this=joined))


def _every(tree: exp.Expr) -> None:
    """``every(x)`` is PostgreSQL's SQL-standard name for ``bool_and(x)`` (an aggregate the planner
    must see as one)."""
    for node in list(tree.find_all(exp.Anonymous)):
        if node.name.lower() == "every" and len(node.expressions) == 1:
            node.replace(exp.LogicalAnd(this=node.expressions[0].copy()))


def _regexp_match_item(tree: exp.Expr) -> None:
    """``(regexp_matches(s, p))[n]`` (Tableau's REGEXP_EXTRACT): in PostgreSQL the set-returning
    function yields one text[] of the capture groups (the whole match without groups) or no row;
    DuckDB's ``regexp_matches`` is a boolean. Becomes ``CASE WHEN regexp_matches(s, p) THEN
    regexp_extract(s, p, n) END``: NULL without a match, as the empty set is in a scalar subquery."""
    for node in list(tree.find_all(exp.Bracket)):
        inner = node.this.unnest() if isinstance(node.this, exp.Paren) else node.this
        if not (isinstance(inner, exp.Anonymous) and inner.name.lower() == "regexp_matches"
                and len(inner.expressions) == 2 and len(node.expressions) == 1):
            continue
        index = node.expressions[0]
        if not (isinstance(index, exp.Literal) and not index.is_string and str(index.this).isdigit()):
            continue
        n = int(index.this) + 1  # sqlglot keeps PostgreSQL's 1-based literal subscripts 0-based
        text, pattern = inner.expressions
        group: int | None = n
        if isinstance(pattern, exp.Literal) and pattern.is_string:
            try:
                groups = re.compile(pattern.this).groups
            except re.error:
                groups = n  # an ARE construct Python's re lacks: trust the subscript
            group = (0 if n == 1 else None) if groups == 0 else (n if n <= groups else None)
        if group is None:  # past the last element of the array
            node.replace(exp.Null())
            continue
        extract = exp.RegexpExtract(this=text.copy(), expression=pattern.copy(), group=exp.Literal.number(group))
        matches = exp.RegexpLike(this=text.copy(), expression=pattern.copy())
        node.replace(exp.Paren(this=exp.Case().when(matches, extract)))


def _substring_start(tree: exp.Expr) -> None:
    """``substr(s, start[, n])`` with ``start < 1``: PostgreSQL counts the positions before the first
    character (``substr('abc', 0, 2)`` is ``'a'``, ``substr('abc', -3)`` the whole string), DuckDB
    counts a negative start from the end (Tableau's RIGHT(s, n) for n longer than s). A start that is
    not a positive literal is clamped to 1 and the length shortened by the positions cut off."""
    for node in list(tree.find_all(exp.Substring)):
        start = node.args.get("start")
        if start is None or (isinstance(start, exp.Literal) and not start.is_string and str(start.this).isdigit()
                             and int(start.this) >= 1):
            continue
        below = exp.LT(this=exp.Paren(this=start.copy()), expression=exp.Literal.number(1))
        node.set("start", exp.Case().when(below, exp.Literal.number(1)).else_(start.copy()))
        length = node.args.get("length")
        if length is not None:  # the positions start .. 0 count against the length
            cut = exp.Greatest(this=exp.Paren(this=exp.Sub(this=exp.Add(this=exp.Paren(this=start.copy()),
                                                                              expression=exp.Paren(this=length.copy())),
                                                              expression=exp.Literal.number(1))),
                               expressions=[exp.Literal.number(0)])
            node.set("length", exp.Case().when(below.copy(), cut).else_(length.copy()))


def _like_escape(tree: exp.Expr) -> None:
    """PostgreSQL's LIKE escapes with a backslash by default (``'a\\_b%'`` matches ``a_b...``);
    DuckDB's has no default escape: give literal patterns with a backslash an explicit one."""
    for node in list(tree.find_all(exp.Like, exp.ILike)):
        pattern = node.expression
        if isinstance(node.parent, exp.Escape) or not (isinstance(pattern, exp.Literal) and pattern.is_string):
            continue
        if "\\" in pattern.this:
            node.replace(exp.Escape(this=node.copy(), expression=exp.Literal.string("\\")))


# PostgreSQL 14+: extract() is numeric, with the fraction digits of the field (docs, "EXTRACT")
_EXTRACT_SCALE = {"EPOCH": 6, "SECOND": 6, "SECONDS": 6, "MILLISECONDS": 3, "MILLISECOND": 3}


def _extract_numeric(tree: exp.Expr) -> None:
    for node in list(tree.find_all(exp.Extract)):
        unit = node.this.name.upper() if isinstance(node.this, exp.Var | exp.Literal) else ""
        scale = _EXTRACT_SCALE.get(unit, 0)
        value: exp.Expr = node.copy()
        if unit in ("SECOND", "SECONDS"):
            # DuckDB's second is whole; PostgreSQL's has the microseconds as its fraction
            micros = exp.Extract(this=exp.var("MICROSECOND"), expression=node.expression.copy())
            value = exp.Div(this=exp.Cast(this=micros, to=exp.DataType.build("DECIMAL(38, 6)")),
                            expression=exp.Literal.number(1000000))
        node.replace(exp.Cast(this=value, to=exp.DataType.build(f"DECIMAL(38, {scale})")))


def _int_literal(node: exp.Expr | None) -> int | None:
    if isinstance(node, exp.Neg):
        inner = _int_literal(node.this)
        return None if inner is None else -inner
    if isinstance(node, exp.Literal) and node.is_int:
        return int(node.this)
    return None


def _int4_series(tree: exp.Expr) -> None:
    """``FROM generate_series(1, 10)``: PostgreSQL's column is int4 for int4 arguments (so
    ``sum(i) / count(*)`` divides as integers); DuckDB's is BIGINT. Integer literal arguments in
    int4's range get an int4 column (or an int4 value, in the select list)."""
    for series in list(tree.find_all(exp.ExplodingGenerateSeries)):
        args = [series.args.get(k) for k in ("start", "end", "step") if series.args.get(k) is not None]
        values = [_int_literal(a) for a in args]
        if not all(v is not None and -2**31 <= v < 2**31 for v in values):
            continue
        table = series.parent
        if not isinstance(table, exp.Table):  # in the select list: a set-returning function
            series.replace(exp.Cast(this=series.copy(), to=exp.DataType.build("INT")))
            continue
        fn = series
        inner = exp.select(exp.Cast(this=exp.column("generate_series"), to=exp.DataType.build("INT"))
                           .as_("generate_series")).from_(exp.Table(this=fn.copy()))
        alias = table.args.get("alias")
        alias = alias.copy() if alias is not None else exp.TableAlias(this=exp.to_identifier("generate_series"))
        if not alias.columns:  # PostgreSQL: a scalar function's table alias names its column too
            alias.set("columns", [alias.this.copy()])
        table.replace(exp.Subquery(this=inner, alias=alias))


_TYPE_NAMES = {"INT": "int4", "BIGINT": "int8", "SMALLINT": "int2", "DOUBLE": "float8", "FLOAT": "float4",
               "TEXT": "text", "VARCHAR": "varchar", "BOOLEAN": "bool", "DECIMAL": "numeric", "DATE": "date",
               "TIMESTAMP": "timestamp", "TIMESTAMPTZ": "timestamptz", "JSON": "json", "CHAR": "bpchar"}


# sqlglot's canonical function names that differ from what PostgreSQL calls the output column
_FUNC_NAMES = {"current_version": "version", "group_concat": "string_agg", "array_length": "array_length",
               "current_timestamp": "now", "str_position": "strpos", "lower": "lower", "length": "length",
               "variance_samp": "variance", "exploding_generate_series": "generate_series",
               "stddev_samp": "stddev", "currentschema": "current_schema", "__lc_to_char": "to_char"}


def _pg_name(node: exp.Expr) -> str:
    """The output column name PostgreSQL gives an unaliased select item (FigureColname)."""
    if isinstance(node, exp.Alias):
        return node.alias
    if isinstance(node, exp.Column):
        return node.name
    if isinstance(node, exp.Paren):
        return _pg_name(node.this)
    if isinstance(node, exp.Cast):
        inner = _pg_name(node.this)
        if inner != "?column?":
            return inner
        name = node.to.this.name if isinstance(node.to.this, exp.DType) else str(node.to.this)
        return _TYPE_NAMES.get(name, name.lower())
    if isinstance(node, exp.Case):
        return "case"
    if isinstance(node, exp.Window):
        return _pg_name(node.this)
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
        return _pg_name(node.expression)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "__lc_signal" and len(node.expressions) == 4:
        # pg_cancel_backend / pg_terminate_backend, rewritten with the caller's key (activity.py)
        terminate = node.expressions[2]
        return "pg_terminate_backend" if isinstance(terminate, exp.Boolean) and terminate.this else "pg_cancel_backend"
    if isinstance(node, exp.Anonymous):
        return _FUNC_NAMES.get(node.name.lower(), node.name.lower())
    if isinstance(node, exp.CurrentTimestamp):
        return "now"
    if isinstance(node, exp.Connector):
        # sqlglot's AND/OR are Funcs named "and"/"or"; PostgreSQL names any operator expression ?column?
        # (pgJDBC's result-set metadata query selects `a.attnotnull OR (...)` unaliased)
        return "?column?"
    if isinstance(node, exp.Func):
        name = node.sql_name().lower()
        return _FUNC_NAMES.get(name, name)
    if isinstance(node, exp.Subquery) and isinstance(node.this, exp.Select) and node.this.selects:
        return _pg_name(node.this.selects[0])
    if isinstance(node, exp.Exists):
        return "exists"
    if isinstance(node, exp.Array):
        return "array"
    return "?column?"


def _order_by_output_names(tree: exp.Expr) -> None:
    """``SELECT id::text FROM m ORDER BY id``: PostgreSQL matches a bare ORDER BY name against the
    output columns' names first, the implicit ones included (``id``, the cast's), so it sorts the
    text; DuckDB knows only explicit aliases and sorts the number. Such a name becomes the output
    column's position."""
    for select in tree.find_all(exp.Select):
        order = select.args.get("order")
        if order is None or any(isinstance(s, exp.Star) or (isinstance(s, exp.Column) and isinstance(s.this, exp.Star))
                                for s in select.selects):
            continue
        names = [_pg_name(s) for s in select.selects]
        for item in order.expressions:
            col = item.this
            if not (isinstance(col, exp.Column) and not col.table and isinstance(col.this, exp.Identifier)):
                continue
            matches = [i for i, n in enumerate(names) if n == col.name]
            if len(matches) != 1:
                continue  # no output column of that name (an input column), or PostgreSQL's ambiguity
            chosen = select.selects[matches[0]]
            if isinstance(chosen, exp.Alias) or (isinstance(chosen, exp.Column) and chosen.name == col.name):
                continue  # DuckDB resolves these the same way
            item.set("this", exp.Literal.number(matches[0] + 1))


def _output_names(tree: exp.Expr) -> list[str] | None:
    query = tree
    while isinstance(query, exp.SetOperation):
        query = query.left
    if not isinstance(query, exp.Select) or any(isinstance(s, exp.Star) for s in query.selects):
        return None
    if any(isinstance(s, exp.Column) and isinstance(s.this, exp.Star) for s in query.selects):
        return None
    return [_pg_name(s) for s in query.selects]
