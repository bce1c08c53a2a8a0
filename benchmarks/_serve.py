"""A ``BenchCoreDataSandbox`` holding ``make_tasks(rows)`` as ``tasks``, served over real HTTP on
127.0.0.1 in this (child) process. Prints ``URL <url>`` once listening; exits when its stdin
closes. Started by ``_common.ServerProcess``; not a benchmark.

    python benchmarks/_serve.py --rows 1000000 --latency 0.05 --lazy [--columns id,title,...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BenchCoreDataSandbox, make_tasks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--lazy", action="store_true", help="keep the table as Arrow (load_arrow)")
    ap.add_argument("--columns", help="comma-separated: serve only these fields of each record (flat rows)")
    ap.add_argument("--cache-pages", action="store_true",
                    help="answer an Arrow-backed page from its bytes once encoded (the server then costs ~nothing)")
    args = ap.parse_args()
    sandbox = BenchCoreDataSandbox(latency=args.latency)
    if args.cache_pages:
        sandbox.page_cache = {}
    data = make_tasks(args.rows)
    if args.columns:
        data = data.select(args.columns.split(","))
    if args.lazy:
        sandbox.load_arrow("tasks", data)
    else:
        sandbox.load_table("tasks", data)
    del data
    with sandbox.serve(port=0) as server:
        print("URL", server.url, flush=True)
        sys.stdin.read()  # until the parent closes our stdin (or dies)


if __name__ == "__main__":
    main()
