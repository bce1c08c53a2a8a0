"""``lowcode-sql probe``: the command line's side (``lowcode_sql/cli.py`` delegates here)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lowcode_sql.config import SourceConfig, load_config, source_from_mapping
from lowcode_sql.errors import ConfigError
from lowcode_sql.probe import DEFAULT_MAX_REQUESTS, plan_text, probe

__all__ = ["DESCRIPTION", "EPILOG", "add_arguments", "run"]

DESCRIPTION = (
    "Check what lowcode-sql assumes about a platform's API against your account: is an impossible "
    "filter honoured, is a sort, are NULLs where assumed, is a page capped, are totals reported, is IN, "
    "are = and LIKE case-sensitive, ... Read-only (GET, and the queries the dialect sends as POST/PUT) "
    "and bounded: at most --max-requests requests, logins and discovery included; the plan is printed "
    "before anything is sent. Prints the findings and a TOML snippet of the source options they justify."
)

EPILOG = ("examples: lowcode-sql probe crm -c lowcode.toml  |  lowcode-sql probe --sandbox totalum --variant "
          "sort_ignored  |  lowcode-sql probe crm --json --max-requests 20")


def add_arguments(p: argparse.ArgumentParser, count: Any) -> None:
    p.add_argument("source", nargs="?", help="the source to probe, as named in the config (with --sandbox: the "
                                             "name shown in the TOML snippet; default the platform)")
    p.add_argument("-c", "--config", help="TOML file declaring the sources (default: $LOWCODE_SQL_CONFIG)")
    p.add_argument("--sandbox", metavar="PLATFORM", help="probe the platform's embedded emulator: no account needed")
    p.add_argument("--variant", action="append", default=[], metavar="NAME",
                   help="with --sandbox: make the emulator answer as a real service plausibly may (repeatable; "
                        "`lowcode-sql sandbox serve PLATFORM --variant list` lists them)")
    p.add_argument("--max-requests", type=count, default=DEFAULT_MAX_REQUESTS, metavar="N",
                   help=f"send at most N requests (default {DEFAULT_MAX_REQUESTS}); checks that would pass it are "
                        "listed as skipped")
    p.add_argument("--json", action="store_true", help="print the findings and options as one JSON document")


def _source(args: argparse.Namespace) -> tuple[SourceConfig, Any]:
    if args.sandbox:
        from lowcode_sql.sandbox import get_sandbox

        try:
            sandbox = get_sandbox(args.sandbox, variants=args.variant)
        except (KeyError, ValueError) as e:  # an unknown variant: the message lists the known ones
            raise ConfigError(str(e).strip("'\"")) from None
        name = args.source or args.sandbox.lower()
        return source_from_mapping(name, {"platform": args.sandbox.lower(), "sandbox": True}), sandbox
    if args.variant:
        raise ConfigError("--variant needs --sandbox PLATFORM (variants are the emulators')")
    if not args.source:
        raise ConfigError("name the source to probe (lowcode-sql probe SOURCE -c config.toml), "
                          "or try it with --sandbox PLATFORM")
    config = load_config(args.config)
    if not config.sources:
        raise ConfigError("no sources configured: pass -c config.toml or set LOWCODE_SQL_CONFIG")
    return config.source(args.source), None


def run(args: argparse.Namespace) -> int:
    sc, sandbox = _source(args)
    if args.max_requests < 1:
        raise ConfigError("--max-requests must be at least 1")
    if not args.json:
        print(plan_text(args.max_requests) + "\n", flush=True)
    report = probe(sc, sandbox, max_requests=args.max_requests)
    sys.stdout.write(report.json() + "\n" if args.json else report.text())
    return 0
