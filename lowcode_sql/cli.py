"""The ``lowcode-sql`` command line.

    lowcode-sql demo                                 # sample queries against the embedded sandboxes
    lowcode-sql query "SELECT ..." [-c config.toml] [--demo] [-f table|csv|json|parquet] [-o file]
    lowcode-sql explain "SELECT ..."                 # what is pushed, what stays local, the requests
    lowcode-sql tables [source]  /  lowcode-sql describe source.table
    lowcode-sql platforms                            # platforms, their credentials and options
    lowcode-sql sandbox serve coredata --port 8001   # an emulator over real HTTP on 127.0.0.1
    lowcode-sql sandbox serve totalum --variant bare_array --variant page_cap_50   # as a real server may
    lowcode-sql serve -c config.toml                 # PostgreSQL wire protocol on 127.0.0.1:5433 (BI, ODBC, JDBC)

Exit status: 0 on success, 1 for a query/source error (a one-line message on stderr, never a
traceback; ``--debug`` shows one), 2 for bad command-line usage. Everything printed about an error
(the line, and the traceback with ``--debug``) passes ``lowcode_sql.secrets.redact``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]

DEMO_QUERIES = (
    ("Projects per status (CoreData)",
     "SELECT status, count(*) AS projects FROM coredata.projects GROUP BY status ORDER BY projects DESC"),
    ("COUNT(*) answered from the API's reported total: one request",
     "SELECT count(*) AS n FROM coredata.tasks WHERE title LIKE 'A%'"),
    ("Entu: a multi-valued property as a LIST column, filtered exactly by the API",
     "SELECT name, price, tags__all FROM entu.book WHERE list_contains(tags__all, 'sci-fi') "
     "ORDER BY price DESC NULLS LAST, name LIMIT 5"),
    ("Entu: references joined (book.author -> person._id)",
     "SELECT p.name AS author, count(*) AS books, round(avg(b.price), 2) AS avg_price "
     "FROM entu.book b JOIN entu.person p ON b.author = p._id GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5"),
    ("Totalum: revenue per order status, aggregated by the API in one request",
     "SELECT status, count(*) AS orders, round(sum(total), 2) AS revenue FROM totalum.\"order\" "
     "WHERE ordered >= TIMESTAMPTZ '2022-01-01 00:00:00+00' GROUP BY status ORDER BY revenue DESC"),
    ("Slingr: customers sorted and limited by the API",
     "SELECT name, state, number_of_employees FROM slingr.companies WHERE is_customer "
     "ORDER BY number_of_employees DESC NULLS LAST LIMIT 5"),
    ("Alumio: failed tasks per route (the filter goes in the LoopBack `filter` JSON)",
     "SELECT route, count(*) AS failed FROM alumio.tasks WHERE status = 'failed' GROUP BY route "
     "ORDER BY failed DESC, route LIMIT 5"),
    ("Across platforms in one query",
     "SELECT 'coredata' AS platform, count(*) AS records FROM coredata.projects "
     "UNION ALL SELECT 'entu', count(*) FROM entu.book "
     "UNION ALL SELECT 'totalum', count(*) FROM totalum.client "
     "UNION ALL SELECT 'slingr', count(*) FROM slingr.contacts "
     "UNION ALL SELECT 'alumio', count(*) FROM alumio.routes"),
)


def _parser() -> argparse.ArgumentParser:
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

    q = sub.add_parser("query", help="run a query and print or save the result")
    q.add_argument("sql", help="the query; '-' reads it from stdin")
    with_sources(q)
    q.add_argument("-f", "--format", choices=("table", "csv", "json", "parquet"), default=None,
                   help="output format (default: table on a terminal, csv otherwise; parquet needs -o)")
    q.add_argument("-o", "--output", help="write the result to this file")
    q.add_argument("-p", "--param", action="append", default=[], metavar="VALUE",
                   help="a value for the next ? / $n placeholder (JSON if it parses, else text)")
    q.add_argument("--max-rows", type=int, default=100, help="rows shown in table format (default 100)")
    q.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show scan progress on stderr (default: when stderr is a terminal)")
    q.add_argument("--stats", action="store_true", help="print requests and rows per scan to stderr")

    e = sub.add_parser("explain", help="show the pushdown split and the requests a query would send")
    e.add_argument("sql")
    with_sources(e)
    e.add_argument("-p", "--param", action="append", default=[], metavar="VALUE")
    e.add_argument("--count", action="store_true",
                   help="make one COUNT request per scan to predict the number of page requests exactly")

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
    serve.add_argument("--variant", action="append", default=[], metavar="NAME",
                       help="answer the way a real service plausibly may where the docs leave it open "
                            "(repeatable; --variant list shows the platform's)")

    from lowcode_sql.pgwire.cli import add_parser as add_serve_parser

    add_serve_parser(sub)
    return p


def _connect(args: argparse.Namespace) -> Any:
    import lowcode_sql

    if getattr(args, "demo", False):
        return lowcode_sql.demo()
    con = lowcode_sql.connect(args.config)
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


def _format_table(table: Any, max_rows: int) -> str:
    cols = table.column_names
    rows = table.slice(0, max_rows).to_pylist()
    cells = [[_cell(r[c]) for c in cols] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    widths = [min(w, 60) for w in widths]
    line = "-+-".join("-" * w for w in widths)
    out = [" | ".join(c.ljust(w)[:w] for c, w in zip(cols, widths, strict=True)), line]
    out += [" | ".join(v.ljust(w)[:w] for v, w in zip(row, widths, strict=True)) for row in cells]
    more = table.num_rows - len(rows)
    out.append(f"({table.num_rows} row{'s' if table.num_rows != 1 else ''}" +
               (f", {more} not shown: use -f csv or -o" if more > 0 else "") + ")")
    return "\n".join(out)


def _cell(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, list | dict):
        return json.dumps(v, default=str, ensure_ascii=False)
    return str(v)


def _write(result: Any, args: argparse.Namespace) -> None:
    import pyarrow as pa

    table: pa.Table = result.arrow()
    fmt = args.format or ("table" if sys.stdout.isatty() and not args.output else "csv")
    if fmt == "parquet":
        if not args.output:
            raise SystemExit("lowcode-sql: parquet output needs -o FILE")
        import pyarrow.parquet as pq

        pq.write_table(table, args.output)
        return
    if fmt == "table":
        text = _format_table(table, args.max_rows) + "\n"
    elif fmt == "json":
        text = "".join(json.dumps(r, default=str, ensure_ascii=False) + "\n" for r in table.to_pylist())
    else:
        import io

        import pyarrow.csv as pcsv

        buf = io.BytesIO()
        flat = pa.table({n: _csv_safe(c) for n, c in zip(table.column_names, table.columns, strict=True)})
        pcsv.write_csv(flat, buf)
        text = buf.getvalue().decode()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)


def _csv_safe(col: Any) -> Any:
    import pyarrow as pa

    if pa.types.is_nested(col.type):  # CSV has no nested values: write them as JSON text
        return pa.array([None if v is None else json.dumps(v, default=str, ensure_ascii=False)
                         for v in col.to_pylist()], pa.string())
    return col


def _cmd_query(args: argparse.Namespace) -> int:
    sql = sys.stdin.read() if args.sql == "-" else args.sql
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    progress = _Progress() if show else None
    with _connect(args) as con:
        try:
            result = con.sql(sql, _params(args.param), progress=progress)
        finally:
            if progress:
                progress.done()
        _write(result, args)
        if args.stats:
            for s in result.scans:
                sys.stderr.write(f"{s.source}.{s.table}: {s.mode}, {s.requests} requests, {s.rows} rows\n")
            sys.stderr.write(f"{result.elapsed:.3f} s\n")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    import lowcode_sql

    with lowcode_sql.demo() as con:
        platforms = ", ".join(sorted({s for s, _, _ in con.tables()}))
        print(f"lowcode_sql demo: the embedded sandboxes ({platforms}) with sample data\n")
        for title, sql in DEMO_QUERIES:
            print(f"-- {title}\n{sql}")
            if args.explain:
                print(con.explain(sql))
            result = con.sql(sql)
            print(_format_table(result.arrow(), 20))
            print(f"[{result.requests} request{'s' if result.requests != 1 else ''}, {result.elapsed:.2f} s]\n")
    return 0


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from lowcode_sql.sandbox import get_sandbox

    if args.sandbox_command != "serve":
        raise SystemExit("usage: lowcode-sql sandbox serve PLATFORM [--port N]")
    if "list" in args.variant:
        cls = type(get_sandbox(args.platform, sample_data=False))
        for name, doc in sorted(cls.VARIANTS.items()):
            print(f"{name}: {doc}")
        if not cls.VARIANTS:
            print(f"{args.platform}: no variants")
        return 0
    try:
        platform = get_sandbox(args.platform, latency=args.latency, rate_limit=args.rate_limit,
                               variants=args.variant)
    except ValueError as e:  # an unknown variant: the message lists the known ones
        from lowcode_sql.errors import ConfigError

        raise ConfigError(str(e)) from None
    with platform.serve(port=args.port) as server:
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    from lowcode_sql.errors import LowcodeSQLError
    from lowcode_sql.secrets import redact

    try:
        if args.command == "query":
            return _cmd_query(args)
        if args.command == "explain":
            with _connect(args) as con:
                print(con.explain(args.sql, _params(args.param), count=args.count))
            return 0
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
        if args.command == "serve":
            from lowcode_sql.pgwire.cli import run as run_serve

            return run_serve(args, _connect)
    except LowcodeSQLError as e:
        if args.debug:
            _print_traceback(e)
        print(redact(f"lowcode-sql: {type(e).__name__}: {e}"), file=sys.stderr)
        return 1
    except Exception as e:  # a bug: still never print a secret its text or its causes may quote
        _print_traceback(e)
        print(redact(f"lowcode-sql: internal error: {type(e).__name__}: {e}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lowcode-sql: interrupted", file=sys.stderr)
        return 130
    parser.print_help()
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
