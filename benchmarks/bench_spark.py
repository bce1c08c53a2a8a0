"""Rows per second into Spark ``local[2]`` through ``lowcode_sql.spark`` with 1, 2 and 4 partitions,
against the engine's own full scan of the same table, both over real HTTP.

The CoreData emulator serves ``tasks`` (``_common.make_tasks``) from a child process on 127.0.0.1.
Spark materialises every row (``write.format("noop")``: read and convert, nothing stored); the
engine reads ``SELECT * FROM bench.tasks`` into Arrow. Each figure is the median of ``--repeat``
runs after one warm-up; Spark's session start is not counted.

    PYTHONPATH=. python benchmarks/bench_spark.py [--rows 1000000] [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ServerProcess, machine, median_time, print_table

import lowcode_sql


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="20,000 rows, one run each")
    args = ap.parse_args()
    rows, repeat = (20_000, 1) if args.quick else (args.rows, args.repeat)
    os.environ["LC_BENCH_CD_USER"], os.environ["LC_BENCH_CD_KEY"] = "demo", "demo-key"
    from pyspark.sql import SparkSession

    from lowcode_sql.spark import LowcodeDataSource

    print(machine())
    with ServerProcess(rows=rows, latency=0.0, lazy=True) as server, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "lowcode.toml"
        config.write_text(f'[sources.bench]\nplatform = "coredata"\nbase_url = "{server.url}"\n'
                          'credentials = { user = "LC_BENCH_CD_USER", key = "LC_BENCH_CD_KEY" }\n')
        with lowcode_sql.connect(config) as con:
            con.sql("SELECT * FROM bench.tasks LIMIT 1").fetchall()  # discovery, warm connections
            engine, _, table = median_time(lambda: con.sql("SELECT * FROM bench.tasks").arrow(), repeat)
            assert table.num_rows == rows
        spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
                 .config("spark.sql.python.filterPushdown.enabled", "true").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        spark.dataSource.register(LowcodeDataSource)
        out = [["engine (con.sql)", "-", f"{engine:.2f}", f"{rows / engine:,.0f}", "1.00"]]
        try:
            for parts in (1, 2, 4):
                def run(parts: int = parts) -> None:
                    df = (spark.read.format("lowcode").option("config", str(config))
                          .option("table", "bench.tasks").option("partitions", str(parts)).load())
                    df.write.format("noop").mode("overwrite").save()

                run()  # warm-up: Python workers started, modules imported
                secs, _, _ = median_time(run, repeat)
                out.append(["spark local[2]", str(parts), f"{secs:.2f}", f"{rows / secs:,.0f}",
                            f"{engine / secs:.2f}"])
        finally:
            spark.stop()
    print(f"{rows:,} rows over HTTP (CoreData emulator, 1000-row pages)")
    print_table(["reader", "partitions", "seconds", "rows/s", "speed vs engine"], out)


if __name__ == "__main__":
    main()
