"""Shared helpers for the benchmarks: deterministic CoreData ``tasks`` data built with Arrow
compute (no per-row Python), timing and table printing.

Not a benchmark itself; imported by the ``bench_*.py`` scripts (run them from the repository root
with ``PYTHONPATH=.``).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # so "python benchmarks/bench_x.py" works without PYTHONPATH too
    sys.path.insert(0, str(ROOT))

BASE_TIME = dt.datetime(2024, 1, 1)
STATUSES = ["open", "in progress", "waiting", "done", "cancelled"]
PEOPLE = ["Anna Jónsdóttir", "Björn Sigurðsson", "Guðrún Helgadóttir", "Ólafur Magnússon", None]
SPACES = [(f"00000000-0000-4000-9000-{i:012d}", f"Space {i}") for i in range(8)]
PROJECTS = [(f"00000000-0000-4000-a000-{i:012d}", f"2024-{i:02d}", f"Project {i}") for i in range(50)]


def _uuid_like(prefix: str, idx: pa.Array) -> pa.Array:
    """'<prefix>-<12 zero-padded digits>': a UUID-shaped, unique, deterministic string."""
    digits = pc.utf8_lpad(pc.cast(idx, pa.string()), 12, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def _pick(values: Sequence[Any], codes: np.ndarray, typ: pa.DataType | None = None) -> pa.Array:
    return pa.array(values, typ or pa.string()).take(pa.array(codes))


def make_tasks(n: int, *, seed: int = 42, prefix_every: int = 200) -> pa.Table:
    """``n`` CoreData-shaped task rows (the columns the dialect declares for ``tasks``).

    Deterministic for a given ``n`` and ``seed``. Row ``i``:

    * ``title`` = ``"Task %07d" % i``, except every ``prefix_every``-th row whose title is
      ``"Prelude %07d"`` (so ``LIKE 'Pre%'`` selects ``n / prefix_every`` rows) and every 997th row
      whose title is NULL;
    * ``created`` = 2024-01-01 + i minutes (+ i*7919 % 1e6 microseconds, so some values carry
      fractions); ``modified`` = ``created`` + 1 hour + (i % 3600) s; NULL for every 251st row;
    * nested ``space`` / ``project`` refs, ``tags`` and ``contacts`` lists, ``dynatype`` struct.
    """
    rng = np.random.default_rng(seed)
    i = np.arange(n, dtype=np.int64)
    idx = pa.array(i)
    title = pc.binary_join_element_wise("Task ", pc.utf8_lpad(pc.cast(idx, pa.string()), 7, "0"), "")
    pre = pc.binary_join_element_wise("Prelude ", pc.utf8_lpad(pc.cast(idx, pa.string()), 7, "0"), "")
    title = pc.if_else(pa.array(i % prefix_every == prefix_every - 1), pre, title)
    title = pc.if_else(pa.array(i % 997 == 500), pa.scalar(None, pa.string()), title)

    epoch0 = np.datetime64(BASE_TIME, "us").astype(np.int64)  # naive wall clock, as CoreData sends it
    created_us = epoch0 + i * 60_000_000 + (i * 7919 % 1_000_000) * (i % 4 == 0)
    modified_us = created_us + 3_600_000_000 + (i % 3600) * 1_000_000
    created = pa.array(created_us, pa.timestamp("us"))
    modified = pa.array(modified_us, pa.timestamp("us"), mask=(i % 251 == 100))
    due = pa.array(created_us + 14 * 86_400_000_000, pa.timestamp("us"), mask=(i % 3 == 0))

    space_codes = rng.integers(0, len(SPACES), n)
    space = pa.StructArray.from_arrays(
        [_pick([s[0] for s in SPACES], space_codes), _pick([s[1] for s in SPACES], space_codes)], ["id", "title"]
    )
    proj_codes = rng.integers(0, len(PROJECTS), n)
    project = pa.StructArray.from_arrays(
        [_pick([p[0] for p in PROJECTS], proj_codes), _pick([p[1] for p in PROJECTS], proj_codes),
         _pick([p[2] for p in PROJECTS], proj_codes)],
        ["id", "identifier", "title"],
        mask=pa.array(i % 41 == 7),
    )
    # tags: 0-2 tags per row, drawn from a small vocabulary
    tag_vocab = pa.array(["urgent", "billing", "legal", "hr", "it", "sales"])
    n_tags = (i % 3).astype(np.int32)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(n_tags, out=offsets[1:])
    tag_values = tag_vocab.take(pa.array(rng.integers(0, len(tag_vocab), int(offsets[-1]))))
    tags = pa.ListArray.from_arrays(pa.array(offsets), tag_values)
    # contacts: 0-1 {id,title}
    n_c = (i % 2).astype(np.int32)
    c_off = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(n_c, out=c_off[1:])
    c_idx = pa.array(rng.integers(0, 5000, int(c_off[-1])))
    contacts = pa.ListArray.from_arrays(
        pa.array(c_off),
        pa.StructArray.from_arrays([_uuid_like("00000000-0000-4000-b000-", c_idx),
                                    pc.binary_join_element_wise("Contact ", pc.cast(c_idx, pa.string()), "")],
                                   ["id", "title"]),
    )
    dynatype = pa.StructArray.from_arrays(
        [pa.array(["dt-task"] * 1, pa.string()).take(pa.array(np.zeros(n, dtype=np.int64))),
         _pick(["Task"], np.zeros(n, dtype=np.int64)), _pick(["Task"], np.zeros(n, dtype=np.int64)),
         _pick(["Tasks"], np.zeros(n, dtype=np.int64))],
        ["id", "title", "caption_singular", "caption_plural"],
    )
    # responsible_users: 0-1 {first_name,last_name,username}
    n_u = (i % 4 == 1).astype(np.int32)
    u_off = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(n_u, out=u_off[1:])
    u_codes = rng.integers(0, 4, int(u_off[-1]))
    users = pa.StructArray.from_arrays(
        [_pick(["Anna", "Björn", "Guðrún", "Ólafur"], u_codes),
         _pick(["Jónsdóttir", "Sigurðsson", "Helgadóttir", "Magnússon"], u_codes),
         _pick(["anna", "bjorn", "gudrun", "olafur"], u_codes)],
        ["first_name", "last_name", "username"],
    )
    ids = _uuid_like("00000000-0000-4000-8000-", idx)
    return pa.table({
        "id": ids,
        "snapshot_id": _uuid_like("00000000-0000-4000-c000-", idx),
        "type": _pick(["Task"], np.zeros(n, dtype=np.int64)),
        "title": title,
        "description": pc.if_else(pa.array(i % 5 == 0), pa.scalar(None, pa.string()),
                                  pc.binary_join_element_wise("Description of task ", pc.cast(idx, pa.string()), "")),
        "created": created,
        "modified": modified,
        "created_by": _pick(PEOPLE, rng.integers(0, len(PEOPLE), n)),
        "modified_by": _pick(PEOPLE, rng.integers(0, len(PEOPLE), n)),
        "tags": tags,
        "dynatype": dynatype,
        "version": pc.cast(pa.array(i % 7 + 1), pa.string()),
        "status": _pick(STATUSES, rng.integers(0, len(STATUSES), n)),
        "status_message": _pick(["", "blocked on review", "ok"], rng.integers(0, 3, n)),
        "due_date": due,
        "space": space,
        "contacts": contacts,
        "connected_users": pa.ListArray.from_arrays(pa.array(offsets), pa.array(["demo"] * int(offsets[-1]))),
        "responsible_users": pa.ListArray.from_arrays(pa.array(u_off), users),
        "project": project,
        "resource_uri": pc.binary_join_element_wise("/api/v2/tasks/", ids, "/", ""),
    })


def tasks_def():  # type: ignore[no-untyped-def]
    """The dialect's ``TableDef`` of CoreData ``tasks`` (its discovery returns at once)."""
    from dialect.coredata import CoreData

    gen = CoreData().discover()
    try:
        next(gen)
    except StopIteration as stop:
        return {t.name: t for t in stop.value}["tasks"]
    raise AssertionError("coredata discovery sent a request")


def page_bytes(table: pa.Table, page_size: int, total: int | None = None) -> list[bytes]:
    """``table`` as the JSON bodies CoreData (tastypie) sends for ``?limit=page_size&offset=k``:
    ``{"meta": {...}, "objects": [...]}`` with naive ISO timestamps and sorted keys, exactly
    like ``CoreDataSandbox`` (checked by ``bench_convert``), but built without the emulator."""
    import orjson

    total = table.num_rows if total is None else total
    out = []
    for offset in range(0, table.num_rows, page_size):
        objs = table.slice(offset, page_size).to_pylist()
        meta = {"limit": page_size, "next": None, "offset": offset, "previous": None, "total_count": total}
        out.append(orjson.dumps({"meta": meta, "objects": objs}, option=orjson.OPT_SORT_KEYS))
    return out


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    """Median wall time of ``repeat`` calls (and all the times, and the last result)."""
    times: list[float] = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, out


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(r[k]) for r in cells) for k in range(len(headers))]
    line = "  ".join("-" * w for w in widths)
    for n, r in enumerate(cells):
        print("  ".join(c.rjust(w) if n and _numeric(c) else c.ljust(w) for c, w in zip(r, widths, strict=True)))
        if n == 0:
            print(line)


def _fmt(c: Any) -> str:
    if isinstance(c, float):
        return f"{c:,.3f}" if abs(c) < 100 else f"{c:,.0f}"
    if isinstance(c, int):
        return f"{c:,}"
    return str(c)


def _numeric(s: str) -> bool:
    return bool(s) and (s[0].isdigit() or s[0] in "-.") and not s.startswith("--")


def verdict(name: str, value: float, target: float, *, higher_is_better: bool = True, unit: str = "") -> bool:
    ok = value >= target if higher_is_better else value <= target
    cmp = ">=" if higher_is_better else "<="
    print(f"TARGET {name}: {value:,.2f}{unit} (target {cmp} {target:g}{unit}) -> {'MET' if ok else 'MISSED'}")
    return ok


def machine() -> str:
    return f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus"


# --------------------------------------------------------------------------------------------
# A sandbox whose unfiltered list requests cost O(page) instead of O(table)
# --------------------------------------------------------------------------------------------

from lowcode_sql.sandbox.coredata import CoreDataSandbox  # noqa: E402


class FastListCoreDataSandbox(CoreDataSandbox):
    """``CoreDataSandbox`` with one emulator-side optimisation, same answers byte for byte.

    The stock ``_list`` evaluates ``all(p(i) for p in preds)`` for every stored row on every
    request, even with no filter: ~0.6 us/row, i.e. ~6 ms per page of a 10k-row table, run under
    the emulator's global handle lock (so concurrent requests queue behind it). A real server
    answers a page from an index; here an unfiltered, unsorted list keeps ``rows`` as a ``range``
    (sliced in O(1)). Filtered or sorted requests take the stock path unchanged.
    """

    def _list(self, res, request, rows, uri):  # type: ignore[no-untyped-def]
        preds = self._build_filters(res, request)
        if preds or request.args("order_by") or not isinstance(rows, range):
            return super()._list(res, request, rows, uri)
        from lowcode_sql.sandbox._base import json_response

        limit, offset = self._limit(request), self._offset(request)
        count = len(rows)
        page = rows[offset:] if limit == 0 else rows[offset : offset + limit]
        meta: dict[str, Any] = {"limit": limit, "offset": offset, "total_count": count}
        if limit:
            meta["previous"] = None if offset - limit < 0 else self._page_uri(uri, request, limit, offset - limit)
            meta["next"] = None if offset + limit >= count else self._page_uri(uri, request, limit, offset + limit)
        meta = {k: meta[k] for k in ("limit", "next", "offset", "previous", "total_count") if k in meta}
        return json_response({"meta": meta, "objects": [res.objects[i] for i in page]})
