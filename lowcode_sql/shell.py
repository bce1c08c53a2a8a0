"""``lowcode-sql shell``: an interactive SQL prompt over a connection's sources.

    lowcode-sql shell --demo             # the embedded sandboxes
    lowcode-sql shell -c lowcode.toml    # your own sources
    echo "SELECT 1;" | lowcode-sql shell --demo   # not a terminal: statements from stdin

A statement ends at a ``;`` outside quotes and comments, so it may span lines (Enter inside one
adds a line). Commands start with a dot and take one line: ``.tables``, ``.describe``,
``.explain``, ``.maxrows``, ``.timer``, ``.help``, ``.quit``. Completion (Tab) offers SQL keywords,
``source.table`` names and the columns of the tables the statement names. History is kept in
``$LOWCODE_SQL_HISTORY`` (default ``~/.lowcode_sql_history``).

Errors are printed as the one-shot commands print them (one line, a caret under a syntax error,
never a traceback) and the prompt comes back. Ctrl-C while a query runs stops its scans (no
request after it) and returns to the prompt; at the prompt it clears the line; Ctrl-D or
``.quit`` leaves. The line editor is prompt_toolkit (maintained, pure Python, what IPython,
pgcli and litecli use); it is imported only when the shell runs on a terminal.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

__all__ = ["Shell", "complete_statement", "format_table", "run", "split_statements"]

HELP = """\
Statements end with ';' and may span lines. Commands (one line, no ';' needed):
  .tables [source]          list tables
  .describe source.table    columns and types
  .explain [analyze] SQL    the pushdown split and requests (analyze: run it and show what it cost)
  .maxrows N                rows shown per result (now {maxrows})
  .timer on|off             print each statement's time (now {timer})
  .help                     this text
  .quit                     leave (also Ctrl-D)
Tab completes keywords, source.table names and the columns of the tables a statement names.
Ctrl-C stops a running query."""

KEYWORDS = (
    "SELECT", "FROM", "WHERE", "GROUP BY", "ORDER BY", "HAVING", "LIMIT", "OFFSET", "JOIN", "LEFT JOIN",
    "INNER JOIN", "ON", "USING", "AS", "AND", "OR", "NOT", "IN", "IS NULL", "IS NOT NULL", "LIKE", "ILIKE",
    "BETWEEN", "DISTINCT", "COUNT", "SUM", "AVG", "MIN", "MAX", "CASE", "WHEN", "THEN", "ELSE", "END",
    "WITH", "UNION ALL", "DESC", "ASC", "NULLS LAST", "NULLS FIRST", "CAST", "EXPLAIN",
)

# ' and " strings (doubled quote inside), E'' is not special here: DuckDB has no backslash escapes
_TOKEN = re.compile(r"'(?:[^']|'')*'?|\"(?:[^\"]|\"\")*\"?|--[^\n]*|/\*.*?(?:\*/|\Z)|;", re.S)


def split_statements(text: str) -> tuple[list[str], str]:
    """The complete statements in ``text`` (each without its ``;``, blank ones dropped) and the
    unfinished rest. A ``;`` inside a string, a quoted name or a comment does not end one."""
    done: list[str] = []
    start = 0
    for m in _TOKEN.finditer(text):
        if m.group() == ";":
            stmt = text[start:m.start()].strip()
            if stmt:
                done.append(stmt)
            start = m.end()
    return done, text[start:]


def complete_statement(text: str) -> bool:
    """Whether Enter should run ``text``: a dot command, nothing at all, or ending in a ``;``."""
    stripped = text.strip()
    if not stripped or stripped.startswith("."):
        return True
    done, rest = split_statements(text)
    return bool(done) and not _has_code(rest)


def _has_code(rest: str) -> bool:
    # a trailing comment after the last ';' does not make a new statement
    return bool(re.sub(r"--[^\n]*|/\*.*?(?:\*/|\Z)", "", rest, flags=re.S).strip())


# --- result tables ----------------------------------------------------------------------------

def _cell(v: Any) -> str:
    from lowcode_sql.cli_output import _cell as cli_cell

    return cli_cell(v).replace("\n", "\\n").replace("\t", " ")


def format_table(table: Any, max_rows: int, width: int) -> str:
    """``table`` (pyarrow) as aligned text no wider than ``width``: columns are narrowed, widest
    first, to at least 3 characters, and a cut value ends in ``…``. Only the rows shown are
    converted to Python, so a large result costs no more than ``max_rows`` rows here."""
    cols = list(table.column_names)
    rows = table.slice(0, max_rows).to_pylist()
    cells = [[_cell(r[c]) for c in cols] for r in rows] if cols else []
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    sep = 3  # " | "
    while widths and sum(widths) + sep * (len(widths) - 1) > width:
        widest = max(range(len(widths)), key=widths.__getitem__)
        if widths[widest] <= 3:
            break  # too many columns for the terminal: lines wrap rather than show nothing
        widths[widest] -= 1

    def fit(v: str, w: int) -> str:
        return v.ljust(w) if len(v) <= w else v[: w - 1] + "…"

    out = [" | ".join(fit(c, w) for c, w in zip(cols, widths, strict=True)),
           "-+-".join("-" * w for w in widths)]
    out += [" | ".join(fit(v, w) for v, w in zip(row, widths, strict=True)) for row in cells]
    n = table.num_rows
    more = n - len(rows)
    out.append(f"({n:,} row{'s' if n != 1 else ''}" + (f", {more:,} not shown: .maxrows N" if more > 0 else "") + ")")
    return "\n".join(out)


# --- completion -------------------------------------------------------------------------------

_NAME = re.compile(r'(?:"[^"]+"|\w+)(?:\.(?:"[^"]+"|\w+))+|\w+')


@dataclass
class Names:
    """What completion offers, read from the connection's catalog once and columns per table on
    first need (a table's columns may cost a discovery request on some platforms)."""

    con: Any
    _tables: list[tuple[str, str]] | None = None
    _columns: dict[str, list[str]] = field(default_factory=dict)

    def tables(self) -> list[tuple[str, str]]:
        if self._tables is None:
            try:
                self._tables = [(s, t) for s, t, _ in self.con.tables()]
            except Exception:  # completion must never break the prompt
                self._tables = []
        return self._tables

    def columns(self, qualified: str) -> list[str]:
        if qualified not in self._columns:
            try:
                self._columns[qualified] = [c for c, _, _ in self.con.describe(qualified)]
            except Exception:
                self._columns[qualified] = []
        return self._columns[qualified]

    def candidates(self, text: str, word: str) -> list[str]:
        """Completions of ``word`` (the text before the cursor ends with it) in statement ``text``."""
        tables = self.tables()
        qualified = [f"{s}.{t}" for s, t in tables]
        out: list[str] = []
        low = word.lower()
        if "." in word:
            out += [q for q in qualified if q.lower().startswith(low)]
            # alias.column or table.column: the columns of the tables named in the statement
            prefix, _, part = word.rpartition(".")
            for q in self._named(text, qualified):
                names = {q.lower(), q.split(".", 1)[1].lower(), *self._aliases(text, q)}
                if prefix.lower() in names:
                    out += [f"{prefix}.{c}" for c in self.columns(q) if c.lower().startswith(part.lower())]
            return _unique(out)
        for q in self._named(text, qualified):
            out += [c for c in self.columns(q) if c.lower().startswith(low)]
        out += [q for q in qualified if q.lower().startswith(low)]
        out += [s for s in sorted({s for s, _ in tables}) if s.lower().startswith(low)]
        out += [k for k in KEYWORDS if k.lower().startswith(low)]
        return _unique(out)

    @staticmethod
    def _named(text: str, qualified: list[str]) -> list[str]:
        words = {m.group().replace('"', "").lower() for m in _NAME.finditer(text)}
        return [q for q in qualified if q.lower() in words]

    @staticmethod
    def _aliases(text: str, q: str) -> set[str]:
        pattern = re.escape(q).replace(r"\.", r'"?\."?') + r'"?\s+(?:AS\s+)?(\w+)'
        return {m.group(1).lower() for m in re.finditer(pattern, text, re.I)}


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --- the shell --------------------------------------------------------------------------------

class Shell:
    """Runs statements and dot commands on ``con`` and writes what they print to ``out``. The
    loop (a terminal prompt or stdin) is separate, so both, and the tests, share this."""

    def __init__(self, con: Any, out: TextIO, *, width: Callable[[], int] | None = None,
                 max_rows: int = 40, interrupt: Any = None) -> None:
        self.con = con
        self.out = out
        self.width = width or (lambda: shutil.get_terminal_size((100, 24)).columns)
        self.max_rows = max_rows
        self.timer = False
        self.names = Names(con)
        self.errors = 0
        # the CLI's Ctrl-C handler (scans cancelled, DuckDB interrupted), installed for each
        # statement (its watcher is one-shot); None where signals are not ours (tests, threads).
        # Passed in, not imported: under ``python -m lowcode_sql.cli`` the CLI module is __main__
        self._interrupt = interrupt

    def write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def run_text(self, text: str) -> bool:
        """Run a dot command or every complete statement in ``text``; False once the user quits."""
        stripped = text.strip()
        if stripped.startswith("."):
            return self.command(stripped)
        done, rest = split_statements(text)
        if _has_code(rest):
            done.append(rest.strip())  # the last statement of a file or a prompt may omit its ';'
        for stmt in done:
            self.statement(stmt)
        return True

    def statement(self, sql: str) -> None:
        self._guarded(lambda: self._query(sql), sql)

    def _query(self, sql: str) -> None:
        t0 = time.perf_counter()
        result = self.con.sql(sql)
        self.write(format_table(result.arrow(), self.max_rows, self.width()))
        if self.timer:
            self.write(f"time: {time.perf_counter() - t0:.3f} s")

    def command(self, line: str) -> bool:
        name, _, arg = line.partition(" ")
        name, arg = name.lower(), arg.strip()
        if name in (".quit", ".exit", ".q"):
            return False
        if name == ".help":
            self.write(HELP.format(maxrows=self.max_rows, timer="on" if self.timer else "off"))
        elif name == ".tables":
            self._guarded(lambda: self.write("\n".join(f"{s}.{t}" for s, t, _ in self.con.tables(arg or None))), None)
        elif name == ".describe" and arg:
            self._guarded(lambda: self.write(self._describe(arg)), None)
        elif name == ".explain" and arg:
            analyze = arg.lower().startswith("analyze ")
            sql = arg[len("analyze "):] if analyze else arg
            sql = sql.strip().rstrip(";")
            self._guarded(lambda: self.write(self.con.explain(sql, analyze=analyze)), sql)
        elif name == ".maxrows" and arg.isdigit():
            self.max_rows = int(arg)
        elif name == ".timer" and arg.lower() in ("on", "off"):
            self.timer = arg.lower() == "on"
        else:
            self.errors += 1
            self.write(f"lowcode-sql: unknown or incomplete command {line!r}: .help lists them")
        return True

    def _describe(self, table: str) -> str:
        rows = self.con.describe(table)
        w = max([len("column")] + [len(c) for c, _, _ in rows])
        t = max([len("type")] + [len(ty) for _, ty, _ in rows])
        return "\n".join([f"{'column'.ljust(w)}  {'type'.ljust(t)}  description"]
                         + [f"{c.ljust(w)}  {ty.ljust(t)}  {d}".rstrip() for c, ty, d in rows])

    def _guarded(self, action: Callable[[], None], sql: str | None) -> None:
        """Run ``action``; an error or Ctrl-C is printed as the CLI prints it and the shell goes on."""
        from lowcode_sql.cli import _message_lines
        from lowcode_sql.secrets import redact

        guard = self._interrupt
        remove = guard.install() if guard is not None else None
        if guard is not None:
            guard.hit = False
        try:
            action()
        except BaseException as e:  # the shell's one place errors become lines
            self.errors += 1
            # whatever the interrupted layer raised (DuckDB's InterruptException wrapped in an
            # ExecutionError, a KeyboardInterrupt) is the user's Ctrl-C
            if (guard is not None and guard.hit) or isinstance(e, KeyboardInterrupt):
                self.write("lowcode-sql: interrupted")
            elif isinstance(e, SystemExit):
                raise
            else:
                for line in _message_lines(e, sql):
                    self.write(redact(line))
        finally:
            if guard is not None:
                guard.hit = False
            if remove is not None:
                remove()


def _history_path() -> str:
    return os.environ.get("LOWCODE_SQL_HISTORY") or os.path.join(os.path.expanduser("~"), ".lowcode_sql_history")


def _stdin_chunks(stream: TextIO) -> Iterator[str]:
    """Statements (and dot commands) from a non-terminal stdin, as a script would give them."""
    buf = ""
    for line in stream:
        if not buf.strip() and line.strip().startswith("."):
            yield line
            continue
        buf += line
        done, rest = split_statements(buf)
        if done:
            yield ";".join(done) + ";"
            buf = rest
        if buf.strip().startswith("."):  # a command after the last ';' of a line is a line of its own
            yield buf
            buf = ""
    if _has_code(buf):
        yield buf


def prompt_session(shell: Shell, *, input: Any = None, output: Any = None, history: str | None = None) -> Any:
    """The prompt_toolkit session: multi-line until a statement is complete, history, completion."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import CompleteEvent, Completer, Completion
    from prompt_toolkit.document import Document
    from prompt_toolkit.history import FileHistory, InMemoryHistory
    from prompt_toolkit.key_binding import KeyBindings

    class SQLCompleter(Completer):
        def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
            word = document.get_word_before_cursor(pattern=re.compile(r'[\w."]+'))
            if not word:
                return
            for cand in shell.names.candidates(document.text, word):
                yield Completion(cand, start_position=-len(word))

    keys = KeyBindings()

    @keys.add("enter")
    def _(event: Any) -> None:
        buffer = event.current_buffer
        if complete_statement(buffer.text):
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    return PromptSession(
        message="lowcode> ", multiline=True, key_bindings=keys, completer=SQLCompleter(),
        complete_while_typing=False, prompt_continuation=lambda width, line, wrap: "...> ".rjust(width),
        history=FileHistory(history) if history else InMemoryHistory(), input=input, output=output,
    )


def run(con: Any, *, stdin: TextIO | None = None, stdout: TextIO | None = None,
        interrupt: Any = None, session: Any = None) -> int:
    """The shell's loop; 0 when every statement ran, 1 when one failed (stdin only: a script's
    caller wants to know), 0 always for an interactive session that ends normally."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    shell = Shell(con, stdout, interrupt=interrupt)
    if session is None and not stdin.isatty():
        for chunk in _stdin_chunks(stdin):
            if not shell.run_text(chunk):
                break
        return 1 if shell.errors else 0
    session = session or prompt_session(shell, history=_history_path())
    shell.write("lowcode-sql shell: statements end with ';', .help for commands, Ctrl-D to leave")
    while True:
        try:
            text = session.prompt()
        except KeyboardInterrupt:  # Ctrl-C at the prompt clears the line
            continue
        except EOFError:
            return 0
        if not shell.run_text(text):
            return 0
