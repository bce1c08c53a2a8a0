"""(b) JSON pages -> Arrow: lowcode_sql's conversion vs DuckDB's JSON reader on the same bytes.

Input: 100,000 CoreData ``tasks`` records as 100 page bodies of 1,000 records each, byte for byte
what the CoreData sandbox sends (``{"meta": ..., "objects": [...]}``, ~0.86 MB a page, nested
structs, lists, naive ISO timestamps; ``_common.self_check`` compares them with the emulator's).
Output: one Arrow table with the dialect's declared schema for every ``tasks`` column (21
columns: 3 timestamps parsed from text, 4 lists, 3 structs). Every output is checked equal to
lowcode_sql's, which is checked equal to the source data.

* lowcode_sql: per page ``orjson.loads(body)``, the dialect's ``parse_page``, then
  ``convert.arrow.records_to_batch(tasks, columns, records)`` (what the engine runs per page),
  then ``pa.Table.from_batches``. One thread, as in the engine (one consumer per scan).
* DuckDB ``read_json`` (the target's baseline): the page bytes written once to files on tmpfs,
  read with ``read_json(files)`` (schema auto-detected, as it is normally called),
  ``unnest(objects, max_depth := 2)`` to one column per field and the three timestamp columns cast
  in SQL (auto-detection leaves them VARCHAR: some carry fractions, some not), fetched as Arrow.
  Default threads and threads=1.
* DuckDB ``read_json(columns=...)``: the same with the declared structure given up front instead of
  detected; slower on this DuckDB build (one run).
* DuckDB ``read_json_objects`` + ``from_json``: the fastest same-bytes DuckDB path found (the
  declared structure, no detection); a stricter yardstick than the target's, reported alongside.
* "lowcode_sql, GC paused": lowcode_sql with the cyclic GC also paused around ``orjson.loads``
  (the engine pauses it only around ``pa.array``), to show what that engine change would gain.

Target: lowcode_sql >= 0.5x DuckDB ``read_json``'s rows/s (default threads).

    PYTHONPATH=. python benchmarks/bench_convert.py [--rows 100000] [--repeat 5] [--profile]
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import duckdb
import orjson
import pyarrow as pa
from _common import MISSED, machine, make_tasks, median_time, page_bytes, print_table, self_check, tasks_def, verdict

from lowcode_sql.convert.arrow import paused_gc, records_to_batch

TARGET = 0.5


def json_structure(t: pa.DataType):  # type: ignore[no-untyped-def]
    """DuckDB ``from_json`` structure for an Arrow type."""
    if pa.types.is_list(t):
        return [json_structure(t.value_type)]
    if pa.types.is_struct(t):
        return {f.name: json_structure(f.type) for f in t}
    return duck_type(t)


def duck_type(t: pa.DataType) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "VARCHAR"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_list(t):
        return duck_type(t.value_type) + "[]"
    if pa.types.is_struct(t):
        return "STRUCT(" + ", ".join(f'"{f.name}" {duck_type(f.type)}' for f in t) + ")"
    raise NotImplementedError(str(t))


_DIALECT = None


def _parse(body: bytes) -> list:  # type: ignore[type-arg]
    """What the fetch layer does with a page body: decode, then the dialect's ``parse_page``."""
    global _DIALECT
    if _DIALECT is None:
        from dialect.coredata import CoreData

        _DIALECT = CoreData()
    return _DIALECT.parse_page(_TD, orjson.loads(body)).records  # type: ignore[no-any-return]


_TD = None


def lowcode_convert(td, columns, pages):  # type: ignore[no-untyped-def]
    schema = td.schema(columns)
    batches = [records_to_batch(td, columns, _parse(body)) for body in pages]
    return pa.Table.from_batches(batches, schema=schema)


def lowcode_convert_gc_paused(td, columns, pages):  # type: ignore[no-untyped-def]
    schema = td.schema(columns)
    batches = []
    for body in pages:
        with paused_gc():
            records = _parse(body)
        batches.append(records_to_batch(td, columns, records))
    return pa.Table.from_batches(batches, schema=schema)


def main(argv: list[str] | None = None) -> int:
    global _TD
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--page", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--profile", action="store_true", help="split lowcode_sql's time; cProfile one run")
    ap.add_argument("--quick", action="store_true", help="2,000 rows, 1 run (a smoke run: no meaningful figure)")
    args = ap.parse_args(argv)
    if args.quick:
        args.rows, args.repeat, args.page = 2_000, 1, 500

    td = _TD = tasks_def()
    columns = [c.name for c in td.columns if not c.filter_only]
    schema = td.schema(columns)
    self_check(1_500 if args.quick else 2_500)
    data = make_tasks(args.rows)
    pages = page_bytes(data, args.page)
    mb = sum(map(len, pages)) / 1e6
    print(f"bench_convert: {args.rows:,} records in {len(pages)} pages of {args.page} ({mb:.1f} MB JSON), "
          f"{len(columns)} columns, median of {args.repeat} ({machine()}, duckdb {duckdb.__version__}, "
          f"pyarrow {pa.__version__}, orjson {orjson.__version__}, loadavg {os.getloadavg()[0]:.2f})")

    tmp = Path(tempfile.mkdtemp(prefix="lcsql-bench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    try:
        files = []
        for k, body in enumerate(pages):
            f = tmp / f"page{k:05d}.json"
            f.write_bytes(body)
            files.append(str(f))
        file_list = "[" + ", ".join(f"'{f}'" for f in files) + "]"
        timestamps = [c for c in columns if pa.types.is_timestamp(schema.field(c).type)]
        select = ", ".join(f'"{c}"::{duck_type(schema.field(c).type)} AS "{c}"' if c in timestamps else f'"{c}"'
                           for c in columns)
        read_json_sql = f"SELECT {select} FROM (SELECT unnest(objects, max_depth := 2) FROM read_json({file_list}))"
        obj_type = "STRUCT(" + ", ".join(f'"{c}" {duck_type(schema.field(c).type)}' for c in columns) + ")[]"
        read_json_cols_sql = (f"SELECT {select} FROM (SELECT unnest(objects, max_depth := 2) FROM "
                              f"read_json({file_list}, columns={{'objects': '{obj_type}'}}))")
        page_structure = orjson.dumps({"objects": [{c: json_structure(schema.field(c).type) for c in columns}]})
        from_json_sql = (f"SELECT unnest(from_json(json, '{page_structure.decode()}').objects, max_depth := 2) "
                         f"FROM read_json_objects({file_list}, format='unstructured')")

        def duck_run(threads: int, sql: str):  # type: ignore[no-untyped-def]
            con = duckdb.connect()
            con.execute(f"SET threads = {threads}")
            con.execute("SET TimeZone = 'UTC'")

            def run() -> pa.Table:
                return con.sql(sql).to_arrow_table()

            return con, run

        mine = lowcode_convert(td, columns, pages)  # warm-up + reference
        assert mine.num_rows == args.rows and mine.schema.equals(schema)
        ref = pa.Table.from_pylist(data.select(columns).to_pylist(), schema=schema)
        assert mine.equals(ref), "lowcode_sql's conversion differs from the source data"
        del ref

        results = []
        gc.collect()
        t_lc, times_lc, _ = median_time(lambda: lowcode_convert(td, columns, pages), args.repeat)
        results.append(("lowcode_sql (orjson + records_to_batch, 1 thread)", t_lc, times_lc))
        t_gc, times_gc, alt = median_time(lambda: lowcode_convert_gc_paused(td, columns, pages), args.repeat)
        assert alt.equals(mine)
        results.append(("lowcode_sql, GC paused around orjson.loads too", t_gc, times_gc))
        cpus = os.cpu_count() or 1
        duck_threads = [cpus, 1] if cpus > 1 else [1]
        medians: dict[tuple[str, int], float] = {}
        variants = [("read_json", read_json_sql, args.repeat, duck_threads),
                    ("read_json(columns=...)", read_json_cols_sql, 1, [] if args.quick else duck_threads[:1]),
                    ("read_json_objects + from_json", from_json_sql, args.repeat, duck_threads)]
        for name, sql, repeat, threads_list in variants:
            for threads in threads_list:
                con, run = duck_run(threads, sql)
                if repeat > 1:
                    theirs = run()  # warm-up
                t, times, theirs = median_time(run, repeat)
                con.close()
                assert theirs.num_rows == args.rows
                assert theirs.select(columns).cast(schema).equals(mine), f"DuckDB {name}'s table differs"
                medians[name, threads] = t
                results.append((f"DuckDB {name} (threads={threads})" + (", 1 run" if repeat == 1 else ""),
                                t, times))

        rows = [[name, t, " ".join(f"{x:.3f}" for x in times), args.rows / t, mb / t] for name, t, times in results]
        print()
        print_table(["path", "median s", "runs s", "rows/s", "MB/s"], rows)
        print()
        print("lowcode_sql speed / DuckDB speed (> 1: lowcode_sql is faster):")
        for (name, threads), t in medians.items():
            print(f"  vs {name} (threads={threads}): {t / t_lc:.2f}x   (GC-paused variant: {t / t_gc:.2f}x)")
        print()
        ok = verdict(f"convert speed vs DuckDB read_json (threads={duck_threads[0]})",
                     medians["read_json", duck_threads[0]] / t_lc, TARGET, unit="x")
        strict = medians["read_json_objects + from_json", duck_threads[0]] / t_lc
        print(f"info: vs DuckDB's fastest path (read_json_objects + from_json, threads={duck_threads[0]}): "
              f"{strict:.2f}x ({'meets' if strict >= TARGET else 'below'} 0.5x)")

        if args.profile:
            import cProfile
            import pstats

            t_dec, _, decoded = median_time(lambda: [_parse(b) for b in pages], 3)
            with paused_gc():
                t_dec_p, _, _ = median_time(lambda: [_parse(b) for b in pages], 3)
            t_conv, _, _ = median_time(lambda: [records_to_batch(td, columns, r) for r in decoded], 3)
            print(f"\nprofile: orjson.loads {t_dec:.3f}s ({t_dec_p:.3f}s with the GC paused), "
                  f"records_to_batch {t_conv:.3f}s (of {t_lc:.3f}s)")
            from lowcode_sql.convert.arrow import raw_type

            raw_t = raw_type([td.column(c) for c in columns])
            t_arr, _, _ = median_time(lambda: [pa.array(r, type=raw_t) for r in decoded], 3)
            print(f"  of which pa.array(records, type=raw) {t_arr:.3f}s; column kernels {t_conv - t_arr:.3f}s")
            cProfile.runctx("lowcode_convert(td, columns, pages)", globals(), locals(), "/tmp/bench_convert.prof")
            pstats.Stats("/tmp/bench_convert.prof").sort_stats("tottime").print_stats(8)
        return 0 if ok or args.quick else MISSED
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
