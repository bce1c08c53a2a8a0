"""The duplicate-row guard's key store and the read-ahead ramp."""

from __future__ import annotations

from lowcode_sql.fetch.scan import _ramp, _SeenKeys


def test_duplicates_are_found_within_a_page_in_recent_pages_and_after_a_merge():
    seen = _SeenKeys()
    seen._BASE = 100  # type: ignore[misc]  # move keys into the runs early
    seen._FAN = 3  # type: ignore[misc]  # and through several of them
    for start in range(0, 1000, 50):
        assert seen.add_page([f"id-{i}" for i in range(start, start + 50)]) is None
    assert len(seen._runs) >= 2 and sum(r.size for r in seen._runs) >= 600  # most keys moved into runs
    assert sum(a.size for a in seen._arrays()) == 1000
    assert all((a[:-1] < a[1:]).all() for a in seen._arrays())  # each array sorted, no key twice
    assert seen.add_page(["new-1", "id-7", "new-2"]) == 1  # in a run long ago
    assert seen.add_page(["new-3", "id-999"]) == 1  # in the first array (or moved on)
    assert seen.add_page(["x", "y", "x"]) == 2  # twice in one page
    assert seen.add_page(["x", "y"]) is None  # a rejected page added nothing
    assert seen.add_page(["z", "x", "y"]) == 1  # the first seen before, in the page's order
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
        fast._BASE, fast._FAN = merge, 2  # type: ignore[misc]  # exercise the runs too
        for page in pages:
            assert fast.add_page(page) == ref.add_page(page)

    check()


def test_moving_keys_into_a_run_copies_at_most_the_second_array():
    # Moving keys on is the guard's peak. Merged into one array, it held the old and the new array of
    # every key (13.0 MB at 1M keys); now a merge copies at most the second array (2 MB), and the
    # filter's rebuild places 16k keys at a time. Allocations counted by tracemalloc (numpy reports
    # its buffers), no time.
    import tracemalloc

    seen = _SeenKeys()
    run = _SeenKeys._BASE * _SeenKeys._FAN
    tracemalloc.start()
    try:
        for start in range(0, 4 * run, 1000):  # even keys: ~1M, in 3-4 runs (~8 MB)
            assert seen.add_page(list(range(2 * start, 2 * (start + 1000), 2))) is None
        held = sum(a.size for a in seen._arrays())
        assert len(seen._runs) >= 3 and held == 1000 * len(range(0, 4 * run, 1000))
        keys = list(range(1, run, 2))  # odd: none seen before; one more run
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for start in range(0, len(keys), 1000):
            assert seen.add_page(keys[start:start + 1000]) is None
        grown = tracemalloc.get_traced_memory()[0] - base
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert sum(a.size for a in seen._arrays()) == held + len(keys)
    assert seen.add_page([keys[5]]) == 0 and seen.add_page([7 * 2]) == 0  # both kinds still found
    # beyond what it keeps: the second array's copy (2 MB) and a page's arrays, not 8 MB of keys again
    assert peak - grown < 3_000_000, (peak, grown)


def test_a_page_is_looked_up_in_the_runs_only_where_the_filter_may_hold_it():
    # Every key of a page searched in every sorted array cost ~6 cache misses a key and array in a
    # scan (0.45-0.6 s of a 1M-row scan); the blocked filter leaves well under 5% of the keys.
    import numpy as np

    seen = _SeenKeys()
    for start in range(0, 1_000_000, 1000):
        assert seen.add_page(list(range(2 * start, 2 * (start + 1000), 2))) is None
    searched: list[int] = []
    real = np.ndarray.searchsorted

    class Counting(np.ndarray):
        def searchsorted(self, v, *args, **kw):  # type: ignore[no-untyped-def]
            searched.append(np.size(v))
            return real(self, v, *args, **kw)

    seen._runs = [r.view(Counting) for r in seen._runs]
    seen._second = seen._second.view(Counting)
    seen._first = seen._first.view(Counting)
    fresh = list(range(1, 20_001, 2))  # odd: none stored; 10 pages
    for start in range(0, len(fresh), 1000):
        assert seen.add_page(fresh[start:start + 1000]) is None
    assert sum(searched) <= 0.05 * len(fresh) * len(seen._arrays()), sum(searched)
    searched.clear()
    assert seen.add_page([30_001, 30_003, 2 * 900_000, 30_005]) == 2  # a key of the last run: found
    assert searched
