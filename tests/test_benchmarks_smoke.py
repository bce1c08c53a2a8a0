"""The benchmarks still run: ``benchmarks/run_all.py --quick --parallel`` (every benchmark at its smallest
size, each in its own process, sandboxes on 127.0.0.1) exits 0 and prints every benchmark's
figures. No timing is asserted: the quick sizes are too small for the figures to mean anything,
and the full runs are by hand (benchmarks/README.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_run_all_quick_runs_every_benchmark() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick", "--parallel"],
        capture_output=True, text=True, timeout=180, cwd=ROOT, env=env,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    for name in ("concurrency", "convert", "economy", "memory", "scan", "startup"):
        assert f"=== {name}:" in out
    summary = out.split("=== summary", 1)[1]
    assert "FAILED" not in summary
    # each benchmark printed its table and its target line(s), with numbers in them
    for figure in ("speedup (8 vs 1)", "concurrent (8) / ideal", "lowcode_sql speed / DuckDB speed", "fewer requests",
                   "peak RSS MB", "export-parquet", "export-json", "first / warm", "lowcode_sql / bare httpx rows/s"):
        assert figure in out, figure
    targets = [line for line in summary.splitlines() if line.strip().startswith("TARGET ")]
    # 4 concurrency (speedup and time over the ideal, 2 transports), 1 convert, 4 economy, 4 memory
    # (aggregate, parquet, CSV and JSON exports), 2 scan (flat vs bare httpx, nested vs before), 2 startup
    # (CLI wall, first / warm query)
    assert len(targets) == 17, summary
    assert all(any(ch.isdigit() for ch in t.split(":", 1)[1]) for t in targets)
