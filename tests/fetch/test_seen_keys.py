"""The duplicate-row guard's key store and the read-ahead ramp."""

from __future__ import annotations

from lowcode_sql.fetch.scan import _ramp, _SeenKeys


def test_duplicates_are_found_within_a_page_in_recent_pages_and_after_a_merge():
    seen = _SeenKeys()
    seen._MERGE = 100  # type: ignore[misc]  # move into the sorted runs early
    seen._RUN = 300  # type: ignore[misc]  # and several runs
    for start in range(0, 1000, 50):
        assert seen.add_page([f"id-{i}" for i in range(start, start + 50)]) is None
    assert sum(r.size for r in seen._runs) >= 900 and len(seen._runs) >= 3  # most keys now live in the runs
    assert all(r.size <= 300 and (r[:-1] <= r[1:]).all() for r in seen._runs)
    assert seen.add_page(["new-1", "id-7", "new-2"]) == 1  # merged long ago
    assert seen.add_page(["new-3", "id-999"]) == 1  # still in the recent set (or merged)
    assert seen.add_page(["x", "y", "x"]) == 2  # twice in one page
    assert seen.add_page(["x", "y"]) is None  # a rejected page added nothing
    assert seen.add_page([("a", 1), 5, None.__class__.__name__]) is None  # any hashable key


def test_read_ahead_doubles_per_page_taken():
    assert [_ramp(2, n) for n in range(5)] == [2, 4, 8, 16, 32]
    assert [_ramp(0, n) for n in range(5)] == [0, 1, 2, 4, 8]  # lazy start: nothing before the first page


def test_unhashable_keys_compare_by_their_json():
    seen = _SeenKeys()
    assert seen.add_page([{"a": 1, "b": [2]}, ["x"]]) is None
    assert seen.add_page([{"b": [2], "a": 1}]) == 0


class _ReferenceSeenKeys:
    """The guard as it was before the page's hashes were checked as a set (kept as the oracle)."""

    def __init__(self) -> None:
        self.seen: set[int] = set()

    def add_page(self, keys: list[object]) -> int | None:
        from lowcode_sql.fetch.scan import _key_hash

        page: set[int] = set()
        hashes = [_key_hash(k) for k in keys]
        for i, h in enumerate(hashes):
            if h in self.seen or h in page:
                return i
            page.add(h)
        self.seen |= page
        return None


def test_the_page_at_once_check_agrees_with_the_key_by_key_one():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    key = st.one_of(st.integers(-3, 40), st.text("ab", max_size=3), st.lists(st.integers(0, 2), max_size=2),
                    st.dictionaries(st.sampled_from("xy"), st.integers(0, 1), max_size=2), st.none())

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.lists(key, max_size=8), max_size=12), st.integers(1, 6))
    def check(pages: list[list[object]], merge: int) -> None:
        fast, ref = _SeenKeys(), _ReferenceSeenKeys()
        fast._MERGE = merge  # type: ignore[misc]  # exercise the sorted array too
        for page in pages:
            assert fast.add_page(page) == ref.add_page(page)

    check()


def test_moving_the_recent_keys_copies_at_most_one_run():
    # Moving the recent keys into the sorted store is the guard's peak. Merged into one array, it held
    # the old and the new array of every key (13.0 MB at 1M keys; 21.6 MB before np.sort sorted in
    # place, as this file's previous test measured); runs capped at _RUN keys copy at most one run.
    # Allocations counted by tracemalloc (numpy reports its buffers), no time.
    import tracemalloc

    import numpy as np

    seen = _SeenKeys()
    run = _SeenKeys._RUN
    for i in range(8):  # ~1M even keys, in 8 runs
        seen._store(np.arange(2 * i * run, 2 * (i + 1) * run, 2, dtype=np.int64))
    seen._runs[-1] = seen._runs[-1][: run - _SeenKeys._MERGE]  # room in the last run: the merge copies it
    stored = sum(r.size for r in seen._runs)
    keys = list(range(1, 4 * _SeenKeys._MERGE, 2))  # odd: none seen before
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for start in range(0, len(keys), 1000):
            assert seen.add_page(keys[start:start + 1000]) is None
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert sum(r.size for r in seen._runs) + seen._in_recent == stored + len(keys)
    assert all(r.size <= run for r in seen._runs)
    assert seen.add_page([keys[5]]) == 0 and seen.add_page([7 * 2]) == 0  # both kinds still found
    # the recent pages (128 KB), one run's copy (1 MB) and the new runs' keys: not 8 MB of keys again
    assert peak < 5_000_000


def test_a_page_is_looked_up_in_the_runs_only_where_the_filter_may_hold_it(monkeypatch):
    # Every key of every page searched in every run cost 3 ms a page at 1M keys (1.6 s of a 1M-row
    # scan, growing with the square of the rows); the Bloom filter leaves a few percent of the keys.
    import numpy as np

    seen = _SeenKeys()
    run = _SeenKeys._RUN
    for i in range(8):  # ~1M keys, in 8 runs
        seen._store(np.arange(2 * i * run, 2 * (i + 1) * run, 2, dtype=np.int64))
    looked_up: list[int] = []
    real = np.searchsorted

    def counting(a, v, *args, **kw):  # type: ignore[no-untyped-def]
        looked_up.append(np.size(v))
        return real(a, v, *args, **kw)

    monkeypatch.setattr(np, "searchsorted", counting)
    fresh = list(range(1, 2001, 2))  # odd: none stored
    assert seen.add_page(fresh) is None
    assert sum(looked_up) <= 0.2 * len(fresh) * 8, sum(looked_up)  # 4-16 bits a key: ~5-15% false positives
    looked_up.clear()
    assert seen.add_page([3_001, 3_003, 2 * 5 * run + 4, 3_005]) == 2  # a key of the 6th run: found
    assert sum(looked_up) >= 1
