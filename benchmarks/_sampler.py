"""A tiny in-process sampling profiler (no dependencies): every ``interval`` seconds it records
the innermost frames of every thread; ``report()`` prints the hottest (file:function) leaves and
the hottest frames anywhere on the stacks. Used by ``bench_concurrency.py --profile``."""

from __future__ import annotations

import collections
import sys
import threading
import time


class Sampler:
    def __init__(self, interval: float = 0.001) -> None:
        self.interval = interval
        self.leaf: collections.Counter[str] = collections.Counter()
        self.inclusive: collections.Counter[str] = collections.Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.is_set():
            for tid, frame in sys._current_frames().items():
                if tid == me:
                    continue
                name = _name(frame)
                if "threading.py:wait" in name or "selectors.py:select" in name or "queue.py:get" in name:
                    continue  # idle
                self.samples += 1
                self.leaf[name] += 1
                seen = set()
                f = frame
                while f is not None:
                    n = _name(f)
                    if n not in seen:
                        seen.add(n)
                        self.inclusive[n] += 1
                    f = f.f_back
            time.sleep(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def report(self, top: int = 15) -> None:
        print(f"  sampler: {self.samples} busy samples (all threads)")
        print("  hottest leaves:")
        for n, c in self.leaf.most_common(top):
            print(f"    {c / max(1, self.samples):6.1%}  {n}")
        print("  hottest inclusive:")
        for n, c in self.inclusive.most_common(top):
            print(f"    {c / max(1, self.samples):6.1%}  {n}")


def _name(frame) -> str:  # type: ignore[no-untyped-def]
    co = frame.f_code
    path = co.co_filename
    short = "/".join(path.split("/")[-2:])
    return f"{short}:{co.co_name}"
