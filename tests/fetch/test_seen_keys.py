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
