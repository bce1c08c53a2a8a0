"""The duplicate-row guard's key store and the read-ahead ramp."""

from __future__ import annotations

from lowcode_sql.fetch.scan import _ramp, _SeenKeys


def test_duplicates_are_found_within_a_page_in_recent_pages_and_after_a_merge():
    seen = _SeenKeys()
    seen._MERGE = 100  # type: ignore[misc]  # merge into the sorted array early
    for start in range(0, 1000, 50):
        assert seen.add_page([f"id-{i}" for i in range(start, start + 50)]) is None
    assert seen._sorted.size >= 900  # most keys now live in the sorted array
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


def test_a_merge_holds_at_most_two_copies_of_the_keys():
    # The merge into the sorted array is the guard's peak: the old array and the merged one. It
    # used to sort into a third (np.sort copies): checked, a peak of 21.6 MB on the old code, 13.0 MB
    # now; allocations counted by tracemalloc (numpy reports its buffers to it), no time involved.
    import tracemalloc

    import numpy as np

    seen = _SeenKeys()
    seen._sorted = np.arange(0, 2_000_000, 2, dtype=np.int64)  # 1M keys seen: 8 MB
    keys = list(range(1, 2 * _SeenKeys._MERGE, 2))  # odd: none seen before
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for start in range(0, len(keys), 1000):
            assert seen.add_page(keys[start:start + 1000]) is None
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert seen._sorted.size == 1_000_000 + len(keys)  # the recent keys were merged
    assert peak < 2 * 8_000_000  # the merged array (8.5 MB) and the set of recent keys, not a third copy
