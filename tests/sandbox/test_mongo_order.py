"""The shared MongoDB value order (``lowcode_sql.sandbox._mongo``) against the MongoDB manual,
"Comparison/Sort Order": https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/
"""

from __future__ import annotations

import math
import random
import re
from typing import Any

import pytest

from lowcode_sql.sandbox._mongo import (
    COMPARE_KEY,
    MAX_KEY,
    MIN_KEY,
    MISSING,
    UNDEFINED,
    BDate,
    Binary,
    ObjectId,
    Regex,
    Timestamp,
    compare,
    field_sort_key,
    group_key,
    iso_ms,
    sort_key,
    type_order,
)

# One value per type, in the manual's order: "MinKey (internal type), Null, Numbers (ints, longs,
# doubles, decimals), Symbol, String, Object, Array, BinData, ObjectId, Boolean, Date, Timestamp,
# Regular Expression, MaxKey (internal type)".
DOCUMENTED = [
    ("MinKey", MIN_KEY),
    ("Null", None),
    ("Numbers", 42),
    ("String", "abc"),
    ("Object", {"a": 1}),
    ("Array", [1, 2]),
    ("BinData", Binary(b"\x00\x01")),
    ("ObjectId", ObjectId("5f0000000000000000000000")),
    ("Boolean", False),
    ("Date", BDate(0)),
    ("Timestamp", Timestamp(1, 1)),
    ("Regular Expression", Regex("a", "", re.compile("a"))),
    ("MaxKey", MAX_KEY),
]


def _sorted(values: list[Any]) -> list[Any]:
    return sorted(values, key=COMPARE_KEY)


def test_values_of_every_type_sort_in_the_documented_order() -> None:
    shuffled = [v for _, v in DOCUMENTED]
    random.Random(7).shuffle(shuffled)
    assert [type_order(v) for v in _sorted(shuffled)] == [type_order(v) for _, v in DOCUMENTED]
    assert sorted({type_order(v) for _, v in DOCUMENTED}) == [type_order(v) for _, v in DOCUMENTED]


@pytest.mark.parametrize("i", range(len(DOCUMENTED) - 1))
def test_each_type_is_below_the_next(i: int) -> None:
    (_, low), (_, high) = DOCUMENTED[i], DOCUMENTED[i + 1]
    assert compare(low, high) == -1 and compare(high, low) == 1


def test_type_beats_value_across_brackets() -> None:
    # The bracket decides before the value: the largest number is below the smallest string, a
    # "true" string below false, the epoch below any later date but above every boolean.
    assert compare(math.inf, "") == -1
    assert compare("true", False) == -1
    assert compare(True, BDate(-(10**12))) == -1
    assert compare({}, []) == -1  # an empty object is still an Object, below every Array


def test_numbers_compare_by_value_across_int_and_double() -> None:
    assert compare(1, 1.0) == 0
    assert compare(2**53 + 1, float(2**53)) == 1  # longs compare exactly, not through a double
    assert compare(-1.5, -1) == -1


def test_nan_is_equal_to_itself_and_below_every_number() -> None:
    nan = math.nan
    assert compare(nan, float("nan")) == 0
    assert compare(nan, -math.inf) == -1 and compare(-math.inf, nan) == 1
    assert compare(nan, None) == 1  # still a number: above null
    assert _sorted([3, nan, -math.inf, 0])[1:] == [-math.inf, 0, 3]


def test_negative_zero_equals_zero() -> None:
    assert compare(-0.0, 0) == 0 and compare(0.0, -0.0) == 0
    assert compare(-0.0, -1e-300) == 1


def test_missing_and_null_are_equal_and_lowest_of_the_value_types() -> None:
    assert compare(MISSING, None) == 0
    assert compare(MISSING, math.nan) == -1
    assert compare(MIN_KEY, MISSING) == -1


def test_strings_compare_by_code_point_not_by_locale() -> None:
    # "simple binary comparison": upper case before lower case, accents after ASCII.
    assert _sorted(["b", "a", "B", "é", "A", "aa", ""]) == ["", "A", "B", "a", "aa", "b", "é"]
    assert compare("\U0001f600", "\uffff") == 1  # UTF-8 byte order == code point order (not UTF-16)


def test_documents_compare_field_by_field() -> None:
    # Pairs in document order: first the value types, then the names, then the values; a prefix is less.
    assert compare({"a": 1}, {"a": "x"}) == -1  # number bracket below string
    assert compare({"a": "x"}, {"b": 1}) == 1  # types first: "x" (string) is above 1 (number)
    assert compare({"a": 1}, {"b": 1}) == -1  # same type: names decide
    assert compare({"a": 2}, {"a": 10}) == -1  # numbers, not their text ("10" < "2")
    assert compare({"a": 1}, {"a": 1, "b": None}) == -1
    assert compare({"a": 1, "b": 2}, {"b": 2, "a": 1}) == -1  # order matters: "a" < "b" at the first pair
    assert compare({"a": 1}, {"a": 1.0}) == 0
    assert compare({"x": {"y": [1, 2]}}, {"x": {"y": [1, 3]}}) == -1


def test_arrays_compare_element_wise() -> None:
    assert compare([1, 2], [1, 3]) == -1
    assert compare([1, 2], [1, 2, 0]) == -1  # a prefix is less
    assert compare([2], [1, 99]) == 1
    assert compare([1, "a"], [1, 2]) == 1  # the element types decide
    assert compare([], [None]) == -1
    assert compare((1, 2), [1, 2]) == 0  # a tuple operand is an array too


def test_array_sort_keys_use_the_smallest_element_ascending_and_the_largest_descending() -> None:
    # Manual: "an ascending sort compares the smallest elements of the arrays, and ... a descending
    # sort compares the largest elements".
    assert sort_key([5, 1, 9], 1) == 1 and sort_key([5, 1, 9], -1) == 9
    assert sort_key([3, "a", None], 1) is None and sort_key([3, "a", None], -1) == "a"
    assert sort_key([], 1) is None  # no value reached: null
    docs = {"p": [1, 10], "q": [5], "r": 7}
    asc = sorted(docs, key=lambda k: COMPARE_KEY(field_sort_key(docs[k], 1)))
    desc = sorted(docs, key=lambda k: COMPARE_KEY(field_sort_key(docs[k], -1)), reverse=True)
    assert asc == ["p", "q", "r"] and desc == ["p", "r", "q"]


def test_an_empty_array_sorts_below_null_and_missing() -> None:
    # Manual: "A comparison of an empty array ... considers the empty array as less than a null value
    # or a missing field value."
    keys = [field_sort_key(v, 1) for v in ([], None, MISSING, 0)]
    assert keys[0] is UNDEFINED and keys[2] is None
    assert compare(keys[0], keys[1]) == -1 and compare(keys[1], keys[2]) == 0 and compare(keys[2], keys[3]) == -1


def test_bindata_orders_by_length_then_subtype_then_bytes() -> None:
    assert compare(Binary(b"\xff"), Binary(b"\x00\x00")) == -1
    assert compare(Binary(b"\x01", 5), Binary(b"\x02", 0)) == 1
    assert compare(Binary(b"\x01"), Binary(b"\x02")) == -1


def test_objectids_dates_and_timestamps_order_by_their_value() -> None:
    assert compare(ObjectId("5f0000000000000000000001"), ObjectId("5f00000000000000000000ff")) == -1
    assert compare(BDate(-1), BDate(0)) == -1
    assert compare(Timestamp(1, 9), Timestamp(2, 0)) == -1 and compare(Timestamp(2, 1), Timestamp(2, 0)) == 1


def test_iso_ms_is_javascript_toisostring() -> None:
    assert iso_ms(0) == "1970-01-01T00:00:00.000Z"
    assert iso_ms(-1) == "1969-12-31T23:59:59.999Z"
    assert BDate(-30_610_224_000_000).iso() == "1000-01-01T00:00:00.000Z"
    assert BDate(253_402_300_800_000).iso() == "+010000-01-01T00:00:00.000Z"  # extended years


def test_an_unknown_python_value_is_rejected() -> None:
    with pytest.raises(TypeError):
        type_order(object())


def test_group_keys_follow_mongo_equality_and_keep_field_order() -> None:
    assert group_key(1) == group_key(1.0) == group_key(-0.0 + 1)
    assert group_key(float("nan")) == group_key(float("nan")) != group_key(0)
    assert group_key(MISSING) == group_key(None)
    assert len({group_key(True), group_key(1), group_key("1"), group_key(BDate(1)), group_key([1])}) == 5
    assert group_key({"a": 1, "b": 2}) == group_key({"a": 1.0, "b": 2})
    assert group_key({"a": 1, "b": 2}) != group_key({"b": 2, "a": 1})  # documents compare in field order
