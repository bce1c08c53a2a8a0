"""Run every benchmark, one after the other, each in its own process; print a summary of targets.

    python benchmarks/run_all.py            # full runs (several minutes on 2 cores)
    python benchmarks/run_all.py --quick    # smallest sizes, seconds: checks they run, figures meaningless
    python benchmarks/run_all.py --quick --parallel   # the same, all five at once (the smoke test)
    python benchmarks/run_all.py convert memory   # a selection

Exit status: 0 when every benchmark ran and met its target (with ``--quick``: when every one
ran), 3 when one ran but missed its target, 1 when one failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ["concurrency", "convert", "economy", "memory", "scan", "startup"]
MISSED = 3


def _record(summary: list[str], name: str, rc: int, took: float, lines: list[str], status: int) -> int:
    """Add a benchmark's outcome to the summary; return the updated exit status."""
    if rc not in (0, MISSED):
        summary.append(f"{name}: FAILED (exit status {rc}) after {took:.0f} s")
        return 1
    summary.append(f"{name}: {took:.0f} s")
    summary.extend(f"  {line.strip()}" for line in lines if line.startswith("TARGET "))
    return MISSED if rc == MISSED and status == 0 else status


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("only", nargs="*", metavar="BENCH", help=f"benchmarks to run (default: {' '.join(BENCHES)})")
    ap.add_argument("--quick", action="store_true", help="smallest sizes: a smoke run, no meaningful figures")
    ap.add_argument("--parallel", action="store_true",
                    help="run the benchmarks at the same time (with --quick only: they would skew each other)")
    args = ap.parse_args(argv)
    if args.parallel and not args.quick:
        ap.error("--parallel is for smoke runs (--quick): benchmarks running at once skew each other's figures")
    unknown = [b for b in args.only if b not in BENCHES]
    if unknown:
        ap.error(f"unknown benchmark {', '.join(unknown)} (choose from {', '.join(BENCHES)})")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")]))}
    summary: list[str] = []
    status = 0
    names = args.only or BENCHES
    cmds = {n: [sys.executable, str(HERE / f"bench_{n}.py")] + (["--quick"] if args.quick else []) for n in names}
    if args.parallel:
        # all at once, output kept in files and printed in order: only for smoke runs, since
        # benchmarks running side by side slow each other down
        with tempfile.TemporaryDirectory() as tmp:
            started = {}
            for name, cmd in cmds.items():
                out = open(Path(tmp) / name, "w+")  # noqa: SIM115 - closed below
                started[name] = (subprocess.Popen(cmd, stdout=out, text=True, env=env), out, time.perf_counter())
            for name, (proc, out, t0) in started.items():
                rc = proc.wait()
                took = time.perf_counter() - t0
                out.seek(0)
                lines = out.readlines()
                out.close()
                print(f"=== {name}: {' '.join(cmds[name][1:])}")
                print("".join(lines), end="", flush=True)
                status = _record(summary, name, rc, took, lines, status)
    else:
        for name, cmd in cmds.items():
            print(f"=== {name}: {' '.join(cmd[1:])}", flush=True)
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
            assert proc.stdout is not None
            lines = []
            for line in proc.stdout:
                print(line, end="", flush=True)
                lines.append(line)
            status = _record(summary, name, proc.wait(), time.perf_counter() - t0, lines, status)
    print("\n=== summary" + (" (--quick: sizes too small for the figures to mean anything)" if args.quick else ""))
    print("\n".join(summary))
    return status


if __name__ == "__main__":
    sys.exit(main())
