"""``lowcode-sql serve``: argument parsing and the run loop (kept here so ``cli.py`` stays small)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
import tomllib
from typing import Any

__all__ = ["add_parser", "run"]

USERS_ENV = "LOWCODE_SQL_SERVE_USERS"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    s = sub.add_parser("serve", help="serve the sources over the PostgreSQL wire protocol (BI tools, ODBC, JDBC)",
                       description="A PostgreSQL-compatible server: each source is a schema. Users and their "
                                   "SCRAM-SHA-256 (or md5) verifiers come from [serve.users] in the config, "
                                   f"${USERS_ENV} ('user=verifier;...') or --users FILE.")
    s.add_argument("-c", "--config", help="TOML file declaring the sources (and [serve.users])")
    s.add_argument("--demo", action="store_true", help="serve the embedded sandboxes (no account needed)")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=5433, help="port (default 5433)")
    s.add_argument("--users", metavar="FILE", help="file of 'user=verifier' lines")
    s.add_argument("--auth", choices=("scram", "md5", "trust"), default="scram",
                   help="scram (default); md5 also accepts md5 verifiers; trust accepts anyone (local use only)")
    s.add_argument("--no-auth", action="store_true", help="same as --auth trust")
    s.add_argument("--tls-cert", help="PEM certificate (chain) for TLS")
    s.add_argument("--tls-key", help="PEM private key for TLS")
    s.add_argument("--require-tls", action="store_true", help="refuse connections that do not use TLS")
    s.add_argument("--engines", type=int, default=4, metavar="N",
                   help="source queries that can run at the same time (default 4); more wait for a free one")
    s.add_argument("--hash-password", action="store_true",
                   help="read a password (from stdin or a prompt), print its SCRAM-SHA-256 verifier and exit")
    return s


def serve_directories(serve: dict[str, Any]) -> list[str]:
    """``[serve] allowed_directories``: local directories SQL clients may read (off by default).
    Each must exist; they are matched as resolved path prefixes (execute/duck.py)."""
    from lowcode_sql.errors import ConfigError
    from lowcode_sql.execute.duck import normalize_directories

    unknown = set(serve) - {"users", "allowed_directories"}
    if unknown:
        raise ConfigError(f"[serve]: unknown setting(s) {', '.join(sorted(unknown))} "
                          "(known: users, allowed_directories)")
    dirs = serve.get("allowed_directories", [])
    if not isinstance(dirs, list) or not all(isinstance(d, str) and d for d in dirs):
        raise ConfigError('[serve] allowed_directories must be a list of directory paths, e.g. ["/srv/data"]')
    try:
        return normalize_directories(dirs)
    except ValueError as e:
        raise ConfigError(f"[serve] {e}") from None


def run(args: argparse.Namespace, connect: Any) -> int:
    from lowcode_sql.errors import ConfigError
    from lowcode_sql.pgwire.auth import load_users, scram_hash
    from lowcode_sql.pgwire.server import Server

    if args.hash_password:
        pw = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
        print(scram_hash(pw))
        return 0
    auth = "trust" if args.no_auth else args.auth
    serve: dict[str, Any] = {}
    config = args.config or (None if args.demo else os.environ.get("LOWCODE_SQL_CONFIG"))
    if config:
        try:
            with open(config, "rb") as fh:
                serve = tomllib.load(fh).get("serve", {})
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"config file {config!r}: {e}") from None
    users = load_users(serve.get("users", {}), env=USERS_ENV, file=args.users)
    allowed = serve_directories(serve)
    if auth != "trust" and not users:
        raise ConfigError(f"no users: add [serve.users] to the config, set ${USERS_ENV} or pass --users "
                          "(make a verifier with `lowcode-sql serve --hash-password`), or use --no-auth locally")
    if auth == "trust" and args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"lowcode-sql: warning: no authentication on {args.host}: anyone who can reach it can query",
              file=sys.stderr)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with connect(args) as con:
        try:
            server = Server(con, host=args.host, port=args.port, users=users, auth=auth,
                            tls_cert=args.tls_cert, tls_key=args.tls_key, require_tls=args.require_tls,
                            engines=args.engines, allowed_directories=allowed)
        except (ValueError, OSError) as e:
            raise ConfigError(str(e)) from None

        async def main() -> None:
            await server.start()
            tls = " (TLS required)" if args.require_tls else " (TLS available)" if args.tls_cert else ""
            print(f"lowcode-sql: PostgreSQL protocol on {server.host}:{server.port}{tls}, auth {auth}; "
                  f"schemas: {', '.join(server.catalog.schemas)}. Ctrl-C stops it.", flush=True)
            await server.serve_forever()

        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            print("lowcode-sql: server stopped", file=sys.stderr)
        except OSError as e:
            raise ConfigError(f"cannot listen on {args.host}:{args.port}: {e.strerror}") from None
        finally:
            server.close()
    return 0
