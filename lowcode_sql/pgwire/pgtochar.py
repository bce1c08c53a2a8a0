"""PostgreSQL's ``to_char(timestamp|date, format)`` on DuckDB.

sqlglot maps the format to strftime when it parses, and knows only some of PostgreSQL's template
patterns: ``FMMonth`` became ``F%month``, ``Q`` and ``ID`` stayed literal (Tableau's DATENAME sends
all of them: bi_corpus/tableau.sql). The statement text therefore calls ``to_char`` by another name
(``mark_to_char``) so the format reaches :func:`rewrite_to_char` as written, which builds the value
from strftime pieces and date parts. A format with a pattern this table lacks (or a numeric
format) gets sqlglot's own translation, as before.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

from lowcode_sql.pgwire.pgsemantics import _NoProbe, _probe
from lowcode_sql.pgwire.pgtonumchar import numeric_to_char

__all__ = ["mark_to_char", "rewrite_to_char"]

_MARK = "__lc_to_char"
_CALL = re.compile(r"\b(to_char|date_part)\s*\(", re.I)
_STRING = re.compile(r"'(?:[^']|'')*'")

# template pattern -> (strftime piece, or a DuckDB expression over {x}) without and with FM;
# longest patterns first. PostgreSQL pads Month/Day names to 9 characters unless FM is given.
_PATTERNS: list[tuple[str, str, str]] = [
    ("MONTH", "upper(rpad(strftime({x}, '%B'), 9, ' '))", "upper(strftime({x}, '%B'))"),
    ("Month", "rpad(strftime({x}, '%B'), 9, ' ')", "%B"),
    ("month", "lower(rpad(strftime({x}, '%B'), 9, ' '))", "lower(strftime({x}, '%B'))"),
    ("DAY", "upper(rpad(strftime({x}, '%A'), 9, ' '))", "upper(strftime({x}, '%A'))"),
    ("Day", "rpad(strftime({x}, '%A'), 9, ' ')", "%A"),
    ("day", "lower(rpad(strftime({x}, '%A'), 9, ' '))", "lower(strftime({x}, '%A'))"),
    ("YYYY", "%Y", "%Y"), ("IYYY", "%G", "%G"), ("HH24", "%H", "%-H"), ("HH12", "%I", "%-I"),
    ("MON", "upper(strftime({x}, '%b'))", "upper(strftime({x}, '%b'))"), ("Mon", "%b", "%b"),
    ("mon", "lower(strftime({x}, '%b'))", "lower(strftime({x}, '%b'))"),
    ("DDD", "%j", "%-j"), ("IDDD", "lpad(CAST((isodow({x}) + 7 * (weekofyear({x}) - 1)) AS VARCHAR), 3, '0')",
                             "CAST((isodow({x}) + 7 * (weekofyear({x}) - 1)) AS VARCHAR)"),
    ("Dy", "%a", "%a"), ("DY", "upper(strftime({x}, '%a'))", "upper(strftime({x}, '%a'))"),
    ("dy", "lower(strftime({x}, '%a'))", "lower(strftime({x}, '%a'))"),
    ("YY", "%y", "%-y"), ("IW", "%V", "%-V"), ("ID", "CAST(isodow({x}) AS VARCHAR)", "CAST(isodow({x}) AS VARCHAR)"),
    ("DD", "%d", "%-d"), ("MM", "%m", "%-m"), ("MI", "%M", "%-M"), ("SS", "%S", "%-S"), ("HH", "%I", "%-I"),
    ("MS", "%g", "%g"), ("US", "%f", "%f"), ("AM", "%p", "%p"), ("PM", "%p", "%p"),
    ("Q", "CAST(quarter({x}) AS VARCHAR)", "CAST(quarter({x}) AS VARCHAR)"),
    ("D", "CAST(dayofweek({x}) + 1 AS VARCHAR)", "CAST(dayofweek({x}) + 1 AS VARCHAR)"),
]


def _marked(m: re.Match[str]) -> str:
    return f"__lc_{m.group(1).lower()}("


def mark_to_char(sql: str) -> str:
    """Rename ``to_char(`` calls outside string literals, so sqlglot keeps their format text, and
    ``date_part(`` calls, which sqlglot would read as ``extract`` (PostgreSQL: float8, not numeric:
    ``pgfuncs``)."""
    out, last = [], 0
    for m in _STRING.finditer(sql):
        out.append(_CALL.sub(_marked, sql[last:m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(_CALL.sub(_marked, sql[last:]))
    return "".join(out)


def _pieces(fmt: str) -> list[tuple[str, str]] | None:
    """(kind, text) pieces: ``strftime`` pieces, ``expr`` templates over {x}; None if a pattern is unknown."""
    pieces: list[tuple[str, str]] = []
    i, dated = 0, False
    while i < len(fmt):
        if fmt[i] == '"':  # quoted literal text
            j = fmt.find('"', i + 1)
            j = len(fmt) if j < 0 else j
            pieces.append(("strftime", fmt[i + 1:j].replace("%", "%%")))
            i = j + 1
            continue
        fm = fmt.startswith("FM", i)
        k = i + 2 if fm else i
        for pat, plain, filled in _PATTERNS:
            if fmt.startswith(pat, k):
                piece = filled if fm else plain
                pieces.append(("expr" if "{x}" in piece else "strftime", piece))
                i, dated = k + len(pat), True
                break
        else:
            if fmt[i].isalpha() or fmt[i] == "9":
                return None  # a pattern not in the table (or a numeric format)
            pieces.append(("strftime", fmt[i].replace("%", "%%")))
            i += 1
    return pieces if dated else None


def _convert(value: exp.Expr, fmt: str) -> exp.Expr | None:
    pieces = _pieces(fmt)
    if pieces is None:
        return None
    x = value.sql(dialect="duckdb")
    parts: list[str] = []
    for kind, text in pieces:
        if kind == "strftime" and parts and parts[-1].startswith("strftime(") and parts[-1].endswith("')"):
            parts[-1] = parts[-1][:-2] + text.replace("'", "''") + "')"
        elif kind == "strftime":
            parts.append(f"strftime({x}, '{text.replace(chr(39), chr(39) * 2)}')")
        else:
            parts.append("(" + text.format(x=x) + ")")
    return exp.Paren(this=sqlglot.parse_one(" || ".join(parts), read="duckdb"))


def rewrite_to_char(tree: exp.Expr) -> None:
    """Marked ``to_char`` calls: a date/time format as PostgreSQL means it, else sqlglot's mapping."""
    for node in list(tree.find_all(exp.Anonymous)):
        if node.name.lower() != _MARK:
            continue
        args = node.expressions
        fmt = args[1] if len(args) == 2 else None
        literal = isinstance(fmt, exp.Literal) and fmt.is_string
        new = _convert(args[0], fmt.this) if literal and isinstance(fmt, exp.Literal) else None
        if new is None and literal and isinstance(fmt, exp.Literal):
            # a number's template (9, 0, FM, S, ...): PostgreSQL's layout, any other is refused
            try:
                probe = _probe(args[0])
            except _NoProbe:
                probe = args[0].copy()
            new = numeric_to_char(args[0].copy(), probe, fmt.this)
        if new is None:  # sqlglot's own reading of to_char, from the original spelling
            call = exp.Anonymous(this="TO_CHAR", expressions=[a.copy() for a in args])
            new = sqlglot.parse_one(call.sql(dialect="postgres"), read="postgres")
        node.replace(new)
