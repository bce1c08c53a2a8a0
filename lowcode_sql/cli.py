"""The ``lowcode-sql`` command line.

    lowcode-sql demo                                 # sample queries against the embedded sandboxes
    lowcode-sql query "SELECT ..." [-c config.toml] [--demo] [-f table|csv|json|jsonl|parquet] [-o file]
    lowcode-sql explain "SELECT ..."                 # what is pushed, what stays local, the requests
    lowcode-sql explain --analyze "SELECT ..."       # ... and what running it actually cost
    lowcode-sql shell [-c config.toml | --demo]     # interactive: history, multi-line, completion
    lowcode-sql tables [source]  /  lowcode-sql describe source.table
    lowcode-sql platforms                            # platforms, their credentials and options
    lowcode-sql sandbox serve coredata --port 8001   # an emulator over real HTTP on 127.0.0.1
    lowcode-sql sandbox serve totalum --variant bare_array --variant page_cap_50   # as a real server may
    lowcode-sql probe crm -c config.toml             # check the dialect's assumptions against an account
    lowcode-sql serve -c config.toml                 # PostgreSQL wire protocol on 127.0.0.1:5433 (BI, ODBC, JDBC)
    lowcode-sql verify "SELECT ..." [--max-requests N]   # the answer with and without pushdown, compared
    lowcode-sql query "SELECT ..." --record DIR      # ... saving the HTTP exchanges, credentials redacted
    lowcode-sql query "SELECT ..." --replay DIR      # ... answered from such a recording

Exit status: 0 on success, 1 for any error (one line on stderr, ``lowcode-sql: <Type>: <message>``,
never a traceback; ``--debug``, anywhere on the line, shows one; a syntax error adds the SQL line and
a caret) and for verify's "different answers" (the report on stdout, nothing on stderr), 2 for bad
command-line usage, 130 on Ctrl-C (the scans are cancelled: no request after it), 141 (quietly) when
the reader of stdout leaves (``| head``).
Everything printed about an error (the line, and the traceback with ``--debug``) passes
``lowcode_sql.secrets.redact``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from lowcode_sql.verify_query import DEFAULT_MAX_REQUESTS  # stdlib only: --help stays quick

__all__ = ["main"]

DEMO_QUERIES = (
    ("Projects per status (CoreData)",
     "SELECT status, count(*) AS projects FROM coredata.projects GROUP BY status ORDER BY projects DESC"),
    ("COUNT(*) of a filtered table: one request",
     "SELECT count(*) AS n FROM coredata.tasks WHERE status = 'space_status:active:'"),
    ("Entu: a multi-valued property as a LIST column, filtered exactly by the API",
     "SELECT name, price, tags__all FROM entu.product WHERE list_contains(tags__all, 'ergonomic') "
     "ORDER BY price DESC NULLS LAST, name LIMIT 5"),
    ("Entu: references joined (invoice.customer -> person._id)",
     "SELECT p.company, count(*) AS invoices, round(sum(i.amount), 2) AS invoiced "
     "FROM entu.invoice i JOIN entu.person p ON i.customer = p._id GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT 5"),
    ("Totalum: revenue per order status in 2026, aggregated by the API in one request",
     "SELECT status, count(*) AS orders, round(sum(total), 2) AS revenue FROM totalum.\"order\" "
     "WHERE ordered >= TIMESTAMPTZ '2026-01-01 00:00:00+00' GROUP BY status ORDER BY revenue DESC"),
    ("Slingr: the largest customers, sorted and limited by the API",
     "SELECT name, type, number_of_employees FROM slingr.companies WHERE is_customer "
     "ORDER BY number_of_employees DESC NULLS LAST LIMIT 5"),
    ("Alumio: failed tasks per route (the filter goes in the LoopBack `filter` JSON)",
     "SELECT route, count(*) AS failed FROM alumio.tasks WHERE status = 'failed' GROUP BY route "
     "ORDER BY failed DESC, route LIMIT 5"),
    ("Across platforms: Totalum's orders against Entu's invoices, by order number",
     "SELECT o.status, count(*) AS orders, count(i.number) AS invoiced, round(sum(i.amount), 2) AS amount "
     "FROM totalum.\"order\" o LEFT JOIN entu.invoice i ON i.number = o.number GROUP BY 1 ORDER BY 2 DESC"),
    ("Across platforms: the CRM's companies (Slingr) with their revenue in the shop (Totalum)",
     "SELECT s.name, s.number_of_employees AS employees, count(*) AS orders, round(sum(o.total), 2) AS revenue "
     "FROM slingr.companies s JOIN totalum.client c ON c.name = s.name JOIN totalum.\"order\" o ON o.client = c._id "
     "GROUP BY 1, 2 ORDER BY revenue DESC LIMIT 5"),
)


FORMATS = ("table", "csv", "json", "jsonl", "parquet")
_BY_EXTENSION = {".parquet": "parquet", ".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def _count(text: str) -> int:
    """A non-negative integer option (argparse turns the ValueError into a usage error, exit 2)."""
    n = int(text)
    if n < 0:
        raise ValueError(text)
    return n


_COMMANDS = ("query", "explain", "tables", "describe", "platforms", "demo", "sandbox", "daemon")


def _command(argv: Sequence[str]) -> str | None:
    """The command word of ``argv`` when it is one of ``_COMMANDS`` (the options before it take no
    value), else None (``serve``, ``--help``, a typo: the full parser then)."""
    from lowcode_sql.daemon.client import command_word  # (stdlib only)

    word = command_word(argv)
    return word if word in _COMMANDS else None


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lowcode-sql",
        description="Query low-code platforms (CoreData, Entu, Totalum, Slingr, Alumio) with SQL (DuckDB syntax).",
        epilog="Sources come from a TOML config (-c, or $LOWCODE_SQL_CONFIG); --demo uses the embedded "
               "sandboxes with sample data. Tables are named <source>.<table>.",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = p.add_subparsers(dest="command", metavar="command")

    def with_sources(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("-c", "--config", help="TOML file declaring the sources")
        sp.add_argument("--demo", action="store_true", help="use the embedded sandboxes (no account needed)")
        add_recording_arguments(sp)

    q = sub.add_parser("query", help="run a query and print or save the result")
    q.add_argument("sql", help="the query; '-' reads it from stdin")
    with_sources(q)
    q.add_argument("-f", "--format", choices=FORMATS, default=None,
                   help="output format: json is one array, jsonl one object per line (default: from the -o "
                        "extension, else table on a terminal and csv otherwise; parquet needs -o)")
    q.add_argument("-o", "--output", help="write the result to this file (.parquet, .csv, .json, .jsonl pick "
                                          "the format unless -f says otherwise)")
    q.add_argument("-p", "--param", action="append", default=[], metavar="VALUE",
                   help="a value for the next ? / $n placeholder (JSON if it parses, else text)")
    q.add_argument("--max-rows", type=_count, default=100, help="rows shown in table format (default 100)")
    q.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show scan progress on stderr (default: when stderr is a terminal)")
    q.add_argument("--stats", action="store_true", help="print requests and rows per scan to stderr")

    v = sub.add_parser("verify", help="run a query with pushdown and with nothing pushed, compare the answers "
                                      "and show the rows that differ (exit 0: the same, 1: different)")
    v.add_argument("sql", help="the query; '-' reads it from stdin")
    with_sources(v)
    v.add_argument("-p", "--param", action="append", default=[], metavar="VALUE")
    v.add_argument("--max-requests", type=_count, default=DEFAULT_MAX_REQUESTS, metavar="N",
                   help=f"requests each run may send (default {DEFAULT_MAX_REQUESTS}): the run without pushdown "
                        "reads whole tables; past N it stops with an error instead of comparing part of them")

    e = sub.add_parser("explain", help="show the pushdown split and the requests a query would send "
                                       "(explain --analyze: run it and show what it cost)")
    e.add_argument("sql")
    with_sources(e)
    e.add_argument("-p", "--param", action="append", default=[], metavar="VALUE")
    e.add_argument("--count", action="store_true",
                   help="make one COUNT request per scan to predict the number of page requests exactly")
    e.add_argument("--analyze", action="store_true",
                   help="run the query and show, per scan, the requests predicted and made, rows, bytes and time")
    e.add_argument("--format", choices=("text", "json"), default="text", help="json (with --analyze) for tools")

    sh = sub.add_parser("shell", help="an interactive SQL prompt: history, multi-line statements, completion "
                                      "of table and column names, .tables/.describe/.explain",
                        description="Statements end with ';'. Commands: .tables, .describe, .explain, .maxrows, "
                                    ".timer, .help, .quit. Not on a terminal, statements are read from stdin.")
    with_sources(sh)

    t = sub.add_parser("tables", help="list tables")
    t.add_argument("source", nargs="?")
    with_sources(t)

    d = sub.add_parser("describe", help="columns and types of a table")
    d.add_argument("table", help="source.table")
    with_sources(d)

    sub.add_parser("platforms", help="supported platforms, their credentials and options")

    demo = sub.add_parser("demo", help="run sample queries against the embedded sandboxes")
    demo.add_argument("--explain", action="store_true", help="also show each query's plan")

    sb = sub.add_parser("sandbox", help="run a platform emulator over HTTP on 127.0.0.1")
    sbsub = sb.add_subparsers(dest="sandbox_command", metavar="action")
    serve = sbsub.add_parser("serve", help="serve an emulator until interrupted")
    serve.add_argument("platform")
    serve.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    serve.add_argument("--latency", type=float, default=0.0, help="seconds of latency per request")
    serve.add_argument("--rate-limit", type=float, default=None, help="requests per second before 429")
    serve.add_argument("--load", action="append", default=[], metavar="NAME=FILE",
                       help="serve the rows of a Parquet, CSV, JSON (array) or JSON Lines file as table NAME "
                            "(repeatable; replaces a sample table of that name)")
    serve.add_argument("--no-sample", action="store_true", help="start without the sample data")
    serve.add_argument("--variant", action="append", default=[], metavar="NAME",
                       help="answer the way a real service plausibly may where the docs leave it open "
                            "(repeatable; --variant list shows the platform's)")
    serve.add_argument("--strict", action="store_const", const=True, default=None,
                       help="reject request parameters, filter operators and body keys the platform's docs do not "
                            "document (default: accept them, as the real services do)")

    dm = sub.add_parser("daemon", help="keep the libraries imported in a resident process, so that each command "
                                       "starts in ~0.1 s instead of ~0.5 s (lowcode_sql.daemon)",
                        description="The daemon imports DuckDB, pyarrow, sqlglot and the engine once and forks a "
                                    "child for each one-shot command (query, explain, verify, tables, describe, "
                                    "platforms, demo, probe), which runs with the caller's streams, arguments, "
                                    "directory and environment. Commands run without it when none is running, or "
                                    "with LOWCODE_SQL_NO_DAEMON=1.")
    dmsub = dm.add_subparsers(dest="daemon_command", metavar="action")
    dstart = dmsub.add_parser("start", help="start it for this environment (or say it runs already)")
    from lowcode_sql.daemon import DEFAULT_IDLE  # (stdlib only)

    dstart.add_argument("--idle", type=float, default=DEFAULT_IDLE, metavar="SECONDS",
                        help=f"exit after this long with no command (default {DEFAULT_IDLE:g})")
    dmsub.add_parser("stop", help="stop every daemon of this user (running commands finish first)")
    dmsub.add_parser("status", help="list the daemons; exit status 3 when none serves this environment")

    if command is None:  # probe, serve, help or a typo only: the other commands never import the
        # prober (its checks import the whole engine and execute.verify) nor the wire server
        from lowcode_sql.probe import cli as probe_cli

        pr = sub.add_parser("probe", help="check what the dialect assumes about the API against an account "
                                          "(read-only, at most 50 requests)",
                            description=probe_cli.DESCRIPTION, epilog=probe_cli.EPILOG)
        probe_cli.add_arguments(pr, _count)

        from lowcode_sql.pgwire.cli import add_parser as add_serve_parser

        add_recording_arguments(add_serve_parser(sub))
    return p


def add_recording_arguments(parser: argparse.ArgumentParser) -> None:
    """``--record DIR`` / ``--replay DIR`` (``lowcode_sql.fetch.record``) for a command that connects."""
    parser.add_argument("--record", metavar="DIR", help="save every HTTP request and response to DIR (one JSON "
                        "file each), credentials redacted: attach it to a bug report")
    parser.add_argument("--replay", metavar="DIR", help="answer every request from a recording made with --record "
                        "(no platform, credentials or config needed)")


class _StartUpGC:
    """The cyclic GC held off while the process starts. Importing DuckDB, pyarrow, sqlglot and the
    engine, and connecting, allocate some 500,000 objects that live as long as the process and
    leave next to no garbage cycles; the collector's passes over them (a full collection among
    ~150) cost 0.1-0.2 s of a ~1 s ``lowcode-sql query`` (issue 15, item 5). Once connected,
    ``end`` moves them all to the permanent generation (``gc.freeze``: later collections never
    scan them again, the shell's and the wire server's included) and turns the GC back on, before
    any query runs. Only when ``main`` owns the process (``argv`` not given): a caller's own
    process (tests calling ``main([...])``) keeps its GC untouched."""

    def __init__(self) -> None:
        self.paused = False

    def pause(self) -> None:
        if gc.isenabled():
            gc.disable()
            self.paused = True

    def end(self) -> None:
        if self.paused:
            self.paused = False
            gc.freeze()
            gc.enable()


_START_UP_GC = _StartUpGC()


class _Process:
    """Whether ``main`` runs as the ``lowcode-sql`` command (``argv`` not given), not for a caller."""

    ours = False


_PROCESS = _Process()


def _connect(args: argparse.Namespace) -> Any:
    import lowcode_sql

    if _PROCESS.ours:
        # as the wire server does: Arrow's mimalloc keeps pages decoded in one thread and freed in
        # another resident, and glibc gives every thread an arena (procmem); before the threads
        # exist. A caller's own process keeps its allocators. 1M-row exports: 250-270 -> 240-243 MB
        from lowcode_sql.procmem import limit_malloc_arenas, use_system_arrow_pool

        limit_malloc_arenas()
        use_system_arrow_pool()
    recording = {k: v for k in ("record", "replay") if (v := getattr(args, k, None)) is not None}
    # a one-shot command runs its statement right away: warming would only move the work
    # (lowcode_sql.warm); the shell and the server wait for theirs
    kw = {**recording, "warm": args.command in ("shell", "serve")}
    con = lowcode_sql.demo(**kw) if getattr(args, "demo", False) else lowcode_sql.connect(args.config, **kw)
    _START_UP_GC.end()
    _INTERRUPT.connection = con
    if not con.catalog.sources:
        con.close()
        from lowcode_sql.errors import ConfigError

        raise ConfigError("no sources configured: pass -c config.toml, set LOWCODE_SQL_CONFIG, or use --demo")
    return con


def _params(values: Sequence[str]) -> list[Any] | None:
    if not values:
        return None
    out: list[Any] = []
    for v in values:
        try:
            out.append(json.loads(v))
        except ValueError:
            out.append(v)
    return out


class _Progress:
    """One self-overwriting stderr line per scan: pages, rows, expected total."""

    def __init__(self) -> None:
        self.last = 0.0
        self.shown = False

    def __call__(self, label: str, stats: Any, total: int | None) -> None:
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        of = f" of {total:,}" if total is not None else ""
        sys.stderr.write(f"\r{label}: {stats.rows:,}{of} rows, {stats.requests} requests")
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _output_format(args: argparse.Namespace) -> str:
    """-f wins; else the -o extension (writing CSV into x.parquet surprised users); else table on a
    terminal, CSV otherwise."""
    if args.format:
        return str(args.format)
    if args.output:
        return _BY_EXTENSION.get(os.path.splitext(args.output)[1].lower(), "csv")
    return "table" if sys.stdout.isatty() else "csv"


def _check_output(args: argparse.Namespace) -> None:
    """Refuse an unwritable -o before the query spends requests on a result that cannot be saved."""
    from lowcode_sql.errors import ConfigError

    if args.output is None:
        if _output_format(args) == "parquet":
            raise ConfigError("parquet output needs -o FILE")
        return
    parent = os.path.dirname(os.path.abspath(args.output))
    if os.path.isdir(args.output):
        raise ConfigError(f"-o {args.output!r} is a directory: give a file name")
    if not os.path.isdir(parent):
        raise ConfigError(f"-o {args.output!r}: the directory {parent!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise ConfigError(f"-o {args.output!r}: the directory {parent!r} is not writable")


def _cmd_query(args: argparse.Namespace) -> int:
    sql = sys.stdin.read() if args.sql == "-" else args.sql
    args.sql_text = sql
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    progress = _Progress() if show else None
    _check_output(args)
    from lowcode_sql.cli_output import write_batches

    with _connect(args) as con:
        started = time.perf_counter()
        # streamed: the answer is written batch by batch as the pages arrive (cli_output)
        try:
            with con.stream(sql, _params(args.param), progress=progress) as result:
                write_batches(_output_format(args), result.schema, result.batches(), args.output, args.max_rows)
        finally:
            if progress:
                progress.done()
        if args.stats:
            for s in result.scans:
                sys.stderr.write(f"{s.source}.{s.table}: {s.mode}, {s.requests} requests, {s.rows} rows\n")
            sys.stderr.write(f"{time.perf_counter() - started:.3f} s\n")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    args.sql_text = sys.stdin.read() if args.sql == "-" else args.sql
    with _connect(args) as con:
        report = con.verify(args.sql_text, _params(args.param), max_requests=args.max_requests)
    print(report)
    return 0 if report.equal else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    import lowcode_sql
    from lowcode_sql.cli_output import format_table

    with lowcode_sql.demo(warm=False) as con:  # its queries run at once (_connect)
        _START_UP_GC.end()
        platforms = ", ".join(sorted({s for s, _, _ in con.tables()}))
        print(f"lowcode_sql demo: the embedded sandboxes ({platforms}) with sample data\n")
        for title, sql in DEMO_QUERIES:
            print(f"-- {title}\n{sql}")
            if args.explain:
                print(con.explain(sql))
            result = con.sql(sql)
            print(format_table(result.arrow(), 20))
            print(f"[{result.requests} request{'s' if result.requests != 1 else ''}, {result.elapsed:.2f} s]\n")
    return 0


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from lowcode_sql.sandbox import get_sandbox

    if args.sandbox_command != "serve":
        raise SystemExit("usage: lowcode-sql sandbox serve PLATFORM [--port N]")
    from lowcode_sql.errors import ConfigError

    if "list" in args.variant:
        cls = type(get_sandbox(args.platform, sample_data=False))
        for name, doc in sorted(cls.VARIANTS.items()):
            print(f"{name}: {doc}")
        if not cls.VARIANTS:
            print(f"{args.platform}: no variants")
        return 0
    loads = [_load_arg(a) for a in args.load]
    try:
        platform = get_sandbox(args.platform, latency=args.latency, rate_limit=args.rate_limit,
                               variants=args.variant, sample_data=not args.no_sample, strict=args.strict)
    except (KeyError, ValueError) as e:  # an unknown platform or variant: the message lists the known ones
        raise ConfigError(str(e).strip("'\"")) from None
    from pyarrow import ArrowException

    from lowcode_sql.sandbox._files import read_table_file

    for name, path in loads:
        try:
            platform.load_table(name, read_table_file(path))
        except (ValueError, NotImplementedError, ArrowException) as e:  # what the user's file or name got wrong
            raise ConfigError(f"--load {name}={path}: {' '.join(str(e).split())}") from None
    try:
        running = platform.serve(port=args.port)
    except (OSError, RuntimeError) as e:  # the port is taken: say so, not 43 lines of asyncio
        cause = e if isinstance(e, OSError) else e.__cause__
        reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(e)
        raise ConfigError(f"cannot listen on 127.0.0.1:{args.port}: {reason}") from None
    with running as server:
        creds = platform.DEMO_CREDENTIALS
        shown = f", variants: {', '.join(sorted(platform.variants))}" if platform.variants else ""
        print(f"{args.platform} sandbox on {server.url}  (demo credentials: {creds}{shown}); Ctrl-C stops it",
              flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


def _load_arg(text: str) -> tuple[str, str]:
    from lowcode_sql.errors import ConfigError

    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise ConfigError(f"--load {text!r}: write NAME=FILE (e.g. --load projects=projects.parquet)")
    if not os.path.isfile(path):
        raise ConfigError(f"--load {name}={path}: no such file")
    return name, path


def _cmd_probe(args: argparse.Namespace) -> int:
    from lowcode_sql.probe.cli import run

    return run(args)


def _cmd_platforms(_: argparse.Namespace) -> int:
    import dialect

    for name in dialect.names():
        cls = dialect.get(name)
        print(f"{name}: {cls.title}")
        for cred, help_ in cls.CREDENTIALS.items():
            print(f"  credential {cred}: {help_}")
        for opt, (default, help_) in cls.OPTIONS.items():
            print(f"  option {opt} (default {default!r}): {help_}")
    return 0


def _print_traceback(exc: BaseException) -> None:
    """The traceback (causes included), redacted: the default hook would print foreign exceptions'
    text (httpx quoting a header) verbatim."""
    import traceback

    from lowcode_sql.secrets import redact

    sys.stderr.write(redact("".join(traceback.format_exception(exc))))


_SQLGLOT_CLASS = re.compile(r"Required keyword: '\w+' missing for <class '[\w.]*?(\w+)'>")


def _syntax_lines(e: Any, sql: str | None) -> list[str]:
    """A syntax error as the user wrote it: where, near what, the line and a caret under the token.
    ``plan.parse`` raises ``from None``, which keeps sqlglot's error as ``__context__``."""
    info: dict[str, Any] = {}
    ctx = e.__context__
    if ctx is not None and getattr(ctx, "errors", None):
        info = ctx.errors[0]
    line, col = info.get("line", e.line), info.get("col", e.col)
    if line is None or col is None or not sql:
        return [str(e)]
    token = str(info.get("highlight") or "")
    what = str(info.get("description") or "")
    what = _SQLGLOT_CLASS.sub(lambda m: f"incomplete {m.group(1).upper()}", what) or "invalid syntax"
    start = max(1, col - len(token) + 1) if token else col
    near = f" near {token!r}" if token else ""
    text_lines = sql.splitlines() or [""]
    src = text_lines[min(line, len(text_lines)) - 1]
    return [f"syntax error at line {line}, column {start}{near}: {what}",
            "  " + src.replace("\t", " "), "  " + " " * (start - 1) + "^" * max(1, len(token))]


def _message_lines(e: BaseException, sql: str | None) -> list[str]:
    from lowcode_sql.errors import ExecutionError, LowcodeSQLError, SQLSyntaxError

    if isinstance(e, SQLSyntaxError):
        lines = _syntax_lines(e, sql)
        return [f"lowcode-sql: SQLSyntaxError: {lines[0]}", *lines[1:]]
    text = str(e).strip()
    if isinstance(e, ExecutionError):
        # DuckDB appends candidate lists and a "LINE 1:" excerpt of the rewritten SQL: the first
        # lines say what is wrong (55 lines for `title + 1` before)
        kept: list[str] = []
        for line in text.splitlines():
            if line.strip().startswith(("Candidate functions", "LINE ")) or not line.strip():
                break
            kept.append(line.strip())
        text = " ".join(kept) or text
    else:
        text = " ".join(text.split())
    if isinstance(e, LowcodeSQLError):
        return [f"lowcode-sql: {type(e).__name__}: {text}"]
    if isinstance(e, OSError):  # a file the user named (-o, sandbox serve's port, ...)
        return [f"lowcode-sql: {type(e).__name__}: {text}"]
    return [f"lowcode-sql: internal error: {type(e).__name__}: {text} (run with --debug for the traceback)"]


class _Interrupt:
    """Ctrl-C, acted on the moment it arrives. Python runs a signal handler only when the main
    thread executes bytecode, and during a query the main thread sits in DuckDB's C code (1.4 s and
    more requests went by before it did). So the signal also wakes a watcher thread through
    ``signal.set_wakeup_fd`` (written by the C-level handler at once): it stops the I/O loop (every
    request in flight is cancelled and its clients closed: nothing is sent after it) and DuckDB;
    the Python handler then raises KeyboardInterrupt in the main thread."""

    def __init__(self) -> None:
        self.hit = False
        self.connection: Any = None

    def __call__(self, signum: int, frame: Any) -> None:
        self.hit = True
        raise KeyboardInterrupt

    def stop_everything(self) -> None:
        self.hit = True
        from lowcode_sql.fetch import loop

        loop.shutdown(timeout=2.0)  # a one-shot process: the next use (closing) starts a fresh loop
        engine = getattr(self.connection, "engine", None)
        if engine is not None:
            try:
                engine.interrupt()
            except Exception:  # closed already: nothing left to stop
                pass

    def install(self) -> Any:
        """Install the handler and the watcher; returns the function that removes them."""
        import socket

        previous = signal.signal(signal.SIGINT, self)
        rsock, wsock = socket.socketpair()
        wsock.setblocking(False)
        old_fd = signal.set_wakeup_fd(wsock.fileno(), warn_on_full_buffer=False)

        def watch() -> None:
            while True:
                try:
                    data = rsock.recv(16)
                except OSError:
                    return
                if not data:
                    return
                if signal.SIGINT in data:
                    self.stop_everything()
                    return

        watcher = threading.Thread(target=watch, name="lowcode-sql-sigint", daemon=True)
        watcher.start()

        def remove() -> None:
            signal.set_wakeup_fd(old_fd)
            signal.signal(signal.SIGINT, previous)
            wsock.close()  # the watcher's recv returns b"": it ends
            watcher.join(1.0)
            rsock.close()

        return remove


_INTERRUPT = _Interrupt()


def _drop_stdout() -> None:
    """Point fd 1 at /dev/null, so that Python's flush of stdout at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _split_debug(argv: Sequence[str]) -> tuple[list[str], bool]:
    """``--debug`` anywhere before a ``--`` (argparse only takes it before the command)."""
    out: list[str] = []
    debug = False
    for i, a in enumerate(argv):
        if a == "--":
            out.extend(argv[i:])
            break
        if a == "--debug":
            debug = True
        else:
            out.append(a)
    return out, debug


# the commands that start by connecting (``_connect``, ``_cmd_demo``): the others run with the GC on
_CONNECTING = ("query", "verify", "explain", "shell", "tables", "describe", "demo", "serve")


def _dispatch(args: argparse.Namespace) -> int | None:
    if args.command not in _CONNECTING:
        _START_UP_GC.end()
    if args.command == "query":
        return _cmd_query(args)
    if args.command == "verify":
        return _cmd_verify(args)
    if args.command == "explain":
        with _connect(args) as con:
            if args.format == "json" and not args.analyze:
                from lowcode_sql.errors import ConfigError

                raise ConfigError("explain --format json needs --analyze")
            print(con.explain(args.sql, _params(args.param), count=args.count, analyze=args.analyze,
                              format=args.format))
        return 0
    if args.command == "shell":
        from lowcode_sql import shell

        in_main = threading.current_thread() is threading.main_thread()
        with _connect(args) as con:
            return shell.run(con, interrupt=_INTERRUPT if in_main else None)
    if args.command == "tables":
        with _connect(args) as con:
            for source, table, doc in con.tables(args.source):
                print(f"{source}.{table}\t{doc}")
        return 0
    if args.command == "describe":
        with _connect(args) as con:
            for name, typ, doc in con.describe(args.table):
                print(f"{name}\t{typ}\t{doc}")
        return 0
    if args.command == "platforms":
        return _cmd_platforms(args)
    if args.command == "demo":
        return _cmd_demo(args)
    if args.command == "sandbox":
        return _cmd_sandbox(args)
    if args.command == "daemon":
        from lowcode_sql.daemon import control

        if args.daemon_command == "start":
            return control.start(args.idle)
        if args.daemon_command == "stop":
            return control.stop()
        if args.daemon_command == "status":
            return control.status()
        print("usage: lowcode-sql daemon start|stop|status", file=sys.stderr)
        return 2
    if args.command == "probe":
        return _cmd_probe(args)
    if args.command == "serve":
        from lowcode_sql.pgwire.cli import run as run_serve

        return int(run_serve(args, _connect))
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (``argv``: the process's own when not given)."""
    _PROCESS.ours = argv is None
    if argv is None:  # the process is ours: start it without GC passes (_StartUpGC)
        _START_UP_GC.pause()
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    finally:
        _START_UP_GC.end()


def _main(argv: Sequence[str]) -> int:
    argv, debug = _split_debug(argv)
    parser = _parser(_command(argv))
    args = parser.parse_args(argv)
    args.debug = debug
    if not args.command:
        parser.print_help()
        return 2
    from lowcode_sql.secrets import redact

    _INTERRUPT.hit, _INTERRUPT.connection = False, None
    in_main = threading.current_thread() is threading.main_thread()
    remove = _INTERRUPT.install() if in_main else None
    try:
        code = _dispatch(args)
    except BaseException as e:  # the one place errors become a line and an exit status
        if _INTERRUPT.hit or isinstance(e, KeyboardInterrupt):
            # whatever the interrupted layer raised (DuckDB's InterruptException, a scan's
            # ExecutionError wrapping the KeyboardInterrupt) is the user's Ctrl-C
            print("lowcode-sql: interrupted", file=sys.stderr)
            return 130
        if isinstance(e, BrokenPipeError) and _PROCESS.ours:
            # the reader of stdout left (`lowcode-sql query ... | head`): end quietly, with the status
            # a shell shows for a command SIGPIPE ended (128 + 13), as `cat` and `yes` do
            _drop_stdout()
            return 141
        if isinstance(e, SystemExit):
            raise
        if debug:
            _print_traceback(e)
        sql = getattr(args, "sql", None)
        for line in _message_lines(e, sql if sql != "-" else getattr(args, "sql_text", None)):
            print(redact(line), file=sys.stderr)
        return 1
    finally:
        if remove is not None:
            remove()
        _INTERRUPT.connection = None
    if code is None:
        parser.print_help()
        return 2
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
