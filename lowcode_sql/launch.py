"""The ``lowcode-sql`` console command: a running daemon takes the command (``lowcode_sql.daemon``),
else this process runs it (``lowcode_sql.cli``). Nothing heavy is imported before the daemon is
asked: with one running, the whole command costs the interpreter's start and a fork."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> int:
    from lowcode_sql.daemon import client

    try:
        code = client.run(sys.argv[1:])
    except KeyboardInterrupt:  # before a command started: nothing ran
        print("lowcode-sql: interrupted", file=sys.stderr)
        return 130
    if code is not None:
        return code
    from lowcode_sql.cli import main as run_here

    return run_here()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
