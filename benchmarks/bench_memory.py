"""(d) Peak memory of an aggregate over a 1M-row table, streamed vs materialised.

The CoreData sandbox holds 1,000,000 ``tasks`` rows (``make_tasks``) and runs in its own process
(``_serve.py``, real HTTP on 127.0.0.1, 50 ms latency per request, the table kept as Arrow so the
server does not hold 1M Python dicts). Each client runs in a fresh child process of its own, whose
resident set size (RSS) a psutil sampler reads every 5 ms from a thread; ``ru_maxrss`` (the
kernel's own peak) is printed alongside as a cross-check. Only the client process is measured.

* streamed: the aggregate through lowcode_sql (pages stream into DuckDB as they arrive;
  1,000 requests of 1,000 rows, all 21 fields on the wire since CoreData has no projection);
* materialised (the alternative, same run): the same four columns fetched with lowcode_sql into
  one Arrow table, then the same aggregate by DuckDB over it.

Exports (issue 15, item 6): ``lowcode-sql query -c cfg.toml -o tasks.parquet|csv|json "SELECT * FROM
cd.tasks"`` run through ``lowcode_sql.cli.main`` in the measured process (all 21 columns), side by
side with the way the CLI wrote before: the whole ``Result`` built, then ``pq.write_table``. The
exported files are checked by DuckDB in the parent (every row once, by ``id``).

Targets: streamed aggregate peak RSS <= 200 MB (issue 15; the first target, issue 2, was 300 MB);
streamed export peak RSS <= 250 MB.

    PYTHONPATH=. python benchmarks/bench_memory.py [--rows 1000000] [--no-alternative] [--no-export]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import MISSED, ServerProcess, machine, make_tasks, print_table, self_check, verdict

LATENCY = 0.05
TARGET_MB = 200.0
TARGET_EXPORT_MB = 250.0
EXPORTS = ("export-parquet", "export-csv", "export-json", "export-parquet-whole")
SECRETS = {"user": "demo", "key": "demo-key"}
AGGREGATE = ("SELECT status, count(*) AS n, count(modified) AS n_modified, min(created) AS first_created, "
             "max(modified) AS last_modified, sum(len(tags)) AS n_tags FROM {t} GROUP BY status ORDER BY status")
COLUMNS = "SELECT status, created, modified, tags FROM cd.tasks"
EXPORT = "SELECT * FROM cd.tasks"


class RssSampler:
    """Peak RSS of this process, read every ``interval`` s by a daemon thread."""

    def __init__(self, interval: float = 0.005) -> None:
        import psutil

        self.proc = psutil.Process()
        self.interval = interval
        self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def _without_pandas() -> None:
    """DIAGNOSTIC (``--no-pandas``): the client runs as if pandas were not installed. pyarrow imports
    pandas, when it can, on its first conversion of Python objects (``pa.array``, ``pa.scalar``):
    ~44 MB of RSS in this environment, paid once by any process that converts anything, whether or
    not it uses pandas; this shows how much of a peak that is."""
    if os.environ.get("BENCH_NO_PANDAS") != "1":
        return

    class NoPandas:
        def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
            if name == "pandas" or name.startswith("pandas."):
                raise ModuleNotFoundError(f"No module named {name!r} (bench_memory --no-pandas)", name=name)

    sys.meta_path.insert(0, NoPandas())  # type: ignore[arg-type]


def export_client(mode: str, url: str, out: str) -> None:
    """One measured export (a child process): the CLI's ``query -o`` (or, for ``-whole``, the whole
    Result then ``pq.write_table``, as the CLI did before streaming); prints one JSON line."""
    import tempfile

    _without_pandas()

    import pyarrow.parquet as pq

    import lowcode_sql
    import lowcode_sql.cli
    import lowcode_sql.cli_output  # before the baseline: its imports are setup, as the aggregate client's

    cfg = Path(tempfile.mkdtemp()) / "bench.toml"
    cfg.write_text(f'[sources.cd]\nplatform = "coredata"\nbase_url = "{url}"\n'
                   'credentials = { user = "BENCH_CD_USER", key = "BENCH_CD_KEY" }\n')
    os.environ.update(BENCH_CD_USER=SECRETS["user"], BENCH_CD_KEY=SECRETS["key"])
    baseline = RssSampler().peak
    t0 = time.perf_counter()
    with RssSampler() as sampler:
        if mode == "export-parquet-whole":
            with lowcode_sql.connect(str(cfg)) as con:
                pq.write_table(con.sql(EXPORT).arrow(), out)
        else:
            # as the installed `lowcode-sql` command runs it: main() owning the process (its GC
            # start-up and Arrow memory pool), not main(argv) called by a caller's code
            sys.argv = ["lowcode-sql", "query", "-c", str(cfg), "-o", out, EXPORT]
            code = lowcode_sql.cli.main()
            assert code == 0, code
    print(json.dumps({
        "mode": mode, "baseline_mb": baseline / 2**20, "peak_mb": sampler.peak / 2**20,
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "elapsed": time.perf_counter() - t0, "requests": None, "answer": None,
    }))


def client(mode: str, url: str, readahead: int | None, concurrency: int | None) -> None:
    """One measured client (a child process): prints one JSON line."""
    _without_pandas()
    import duckdb

    import lowcode_sql

    label = mode
    if mode == "streamed-diag":
        _forget_keys_between_pages()
        mode = "streamed"

    con = lowcode_sql.connect(readahead=readahead)
    extra = {} if concurrency is None else {"concurrency": concurrency}
    con.add_source("cd", "coredata", base_url=url, secrets=SECRETS, **extra)
    con.tables("cd")
    baseline = RssSampler().peak  # after imports and setup: what any lowcode_sql process pays
    t0 = time.perf_counter()
    with RssSampler() as sampler:
        if mode == "streamed":
            result = con.sql(AGGREGATE.format(t="cd.tasks"))
            table, requests = result.arrow(), result.requests
        else:
            fetched = con.sql(COLUMNS)
            requests = fetched.requests
            duck = duckdb.connect()
            duck.register("data", fetched.arrow())
            table = duck.sql(AGGREGATE.format(t="data")).to_arrow_table()
            del fetched
    elapsed = time.perf_counter() - t0
    con.close()
    print(json.dumps({
        "mode": label, "baseline_mb": baseline / 2**20, "peak_mb": sampler.peak / 2**20,
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "elapsed": elapsed,
        "requests": requests, "answer": table.to_pylist(),
    }, default=str))


def _forget_keys_between_pages() -> None:
    """DIAGNOSTIC ONLY (never a configuration): the scan guard keeps every key it has seen (for
    CoreData the 36-character ``id``) in a set for the whole scan, to detect a row returned twice
    across pages. This patch empties the set before each page, so duplicates are still caught
    within a page but not across pages, to measure what that set costs."""
    from lowcode_sql.fetch import scan

    accept = scan._Scan._accept

    def forgetful(self, page, records):  # type: ignore[no-untyped-def]
        self._keys.clear()
        return accept(self, page, records)

    scan._Scan._accept = forgetful  # type: ignore[method-assign]


def run_client(mode: str, url: str, *extra: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--client", mode, "--url", url, *extra],
                         capture_output=True, text=True, timeout=900, env={**os.environ, "PYTHONHASHSEED": "0"})
    if out.returncode != 0:
        raise RuntimeError(f"{mode} client failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--no-alternative", action="store_true", help="skip the materialised client")
    ap.add_argument("--diagnose", action="store_true",
                    help="also run a client whose scan forgets the keys seen on earlier pages (diagnostic)")
    ap.add_argument("--quick", action="store_true", help="10,000 rows, no latency, no alternative (a smoke run)")
    ap.add_argument("--no-export", action="store_true", help="skip the export clients")
    ap.add_argument("--no-pandas", action="store_true",
                    help="diagnostic: clients run as if pandas were not installed (pyarrow imports it otherwise)")
    ap.add_argument("--client", choices=["streamed", "materialised", "streamed-diag", *EXPORTS],
                    help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--readahead", type=int, help="pages read ahead (engine default: 2 x concurrency)")
    ap.add_argument("--concurrency", type=int, help="requests in flight (engine default: 8)")
    args = ap.parse_args(argv)
    if args.client in EXPORTS:
        export_client(args.client, args.url, args.out)
        return 0
    if args.client:
        client(args.client, args.url, args.readahead, args.concurrency)
        return 0
    if args.no_pandas:
        os.environ["BENCH_NO_PANDAS"] = "1"  # the clients inherit it
        print("DIAGNOSTIC --no-pandas: every client runs as if pandas were not installed")
    latency = 0.0 if args.quick else LATENCY
    if args.quick:
        args.rows, args.no_alternative = 10_000, True
    print(f"bench_memory: aggregate over {args.rows:,} CoreData tasks rows, server in another process "
          f"(real HTTP, latency {latency * 1000:.0f} ms/request), page_size 1000 ({machine()})")
    print(f"  query: {AGGREGATE.format(t='cd.tasks')}")

    modes = ["streamed"] + ([] if args.no_alternative else ["materialised"])
    if args.diagnose:
        modes.append("streamed-diag")
    exports = [] if args.no_export else ["export-parquet", "export-csv", "export-json"] + (
        [] if args.no_alternative else ["export-parquet-whole"])
    results = []
    files: dict[str, Path] = {}
    work = Path(tempfile.mkdtemp(prefix="bench_memory."))
    # The clients start before this process builds anything big: Linux children inherit the
    # parent's peak RSS in ru_maxrss, which would hide theirs.
    with ServerProcess(rows=args.rows, latency=latency, lazy=True) as server:
        for mode in modes:
            results.append(run_client(mode, server.url))
        for mode in exports:
            files[mode] = work / f"{mode}.{mode.split('-')[1]}"  # -o's suffix chooses the format
            results.append(run_client(mode, server.url, "--out", str(files[mode])))

    self_check(1_500 if args.quick else 2_500)  # after the clients, for the same reason
    import duckdb

    data = make_tasks(args.rows).select(["status", "created", "modified", "tags"])
    duck = duckdb.connect()
    duck.execute("SET TimeZone = 'UTC'")
    duck.register("data", data)
    expected = json.loads(json.dumps(duck.sql(AGGREGATE.format(t="data")).to_arrow_table().to_pylist(), default=str))
    duck.close()
    for r in results:
        if r["mode"] in EXPORTS:
            path = files[r["mode"]]
            read = {".csv": f"read_csv('{path}')", ".json": f"read_json('{path}')"}.get(path.suffix, f"'{path}'")
            n, ids = duckdb.sql(f"SELECT count(*), count(DISTINCT id) FROM {read}").fetchall()[0]
            assert n == ids == args.rows, f"{r['mode']}: {n} rows, {ids} ids in the export, not {args.rows}"
            r["requests"] = "-"
            continue
        assert r["answer"] == expected, f"{r['mode']}: wrong answer {r['answer']} != {expected}"
    print()
    print_table(["client", "peak RSS MB", "ru_maxrss MB", "RSS after setup MB", "peak - setup MB", "requests",
                 "time s", "rows/s"],
                [[r["mode"].replace("-diag", ", keys forgotten (diagnostic)"), r["peak_mb"], r["ru_maxrss_mb"],
                  r["baseline_mb"], r["peak_mb"] - r["baseline_mb"],
                  r["requests"], r["elapsed"], args.rows / r["elapsed"]] for r in results])
    print()
    peaks = {r["mode"]: r["peak_mb"] for r in results}
    if "materialised" in peaks:
        print(f"materialised / streamed peak RSS: {peaks['materialised'] / peaks['streamed']:.2f}x")
    if "streamed-diag" in peaks:
        print(f"diagnostic: without the scan's set of every key seen, the streamed peak is "
              f"{peaks['streamed-diag']:.0f} MB ({peaks['streamed'] - peaks['streamed-diag']:+.0f} MB for the set)")
    if "export-parquet-whole" in peaks:
        print(f"parquet export, whole Result first / streamed: "
              f"{peaks['export-parquet-whole'] / peaks['export-parquet']:.2f}x peak RSS")
    ok = verdict("streamed peak RSS of the client", results[0]["peak_mb"], TARGET_MB, higher_is_better=False,
                 unit=" MB")
    for mode in ("export-parquet", "export-csv", "export-json"):
        if mode in peaks:
            ok &= verdict(f"{mode} peak RSS of the client", peaks[mode], TARGET_EXPORT_MB,
                          higher_is_better=False, unit=" MB")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if ok or args.quick else MISSED


if __name__ == "__main__":
    sys.exit(main())
