"""Spark filters -> the planner's predicates: only translations that keep exactly the same rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
from pyspark.sql import datasource as sds

from lowcode_sql.spark.filters import to_pred
from lowcode_sql.spark.source import plan_ranges
from lowcode_sql.types import Cmp, InList, IsNull, Like, LikePattern, Op

TYPES = {"s": pa.string(), "i": pa.int64(), "f": pa.float64(), "d": pa.decimal128(10, 2),
         "ts": pa.timestamp("us"), "tz": pa.timestamp("us", tz="UTC"), "day": pa.date32(), "b": pa.bool_(),
         "tags": pa.list_(pa.string())}


def test_plain_filters_translate() -> None:
    assert to_pred(sds.EqualTo(("s",), "x"), TYPES) == Cmp("s", Op.EQ, "x")
    assert to_pred(sds.GreaterThanOrEqual(("i",), 3), TYPES) == Cmp("i", Op.GE, 3)
    assert to_pred(sds.LessThan(("d",), Decimal("1.50")), TYPES) == Cmp("d", Op.LT, Decimal("1.50"))
    assert to_pred(sds.In(("i",), [1, 2, 2]), TYPES) == InList("i", (1, 2))
    assert to_pred(sds.IsNotNull(("s",)), TYPES) == IsNull("s", negated=True)
    assert to_pred(sds.Not(sds.EqualTo(("b",), True)), TYPES) == Cmp("b", Op.NE, True)
    assert to_pred(sds.StringStartsWith(("s",), "a%b"), TYPES) == Like("s", LikePattern(("a%b", LikePattern.ANY)))
    assert to_pred(sds.StringContains(("s",), ""), TYPES) == Like("s", LikePattern((LikePattern.ANY, LikePattern.ANY)))
    assert to_pred(sds.EqualTo(("ts",), dt.datetime(2024, 1, 1)), TYPES) == Cmp("ts", Op.EQ, dt.datetime(2024, 1, 1))
    assert to_pred(sds.EqualTo(("day",), dt.date(2024, 1, 1)), TYPES) == Cmp("day", Op.EQ, dt.date(2024, 1, 1))


def test_uncertain_filters_stay_with_spark() -> None:
    # a zoned timestamp's literal arrives as a naive local time: never sent
    assert to_pred(sds.GreaterThan(("tz",), dt.datetime(2024, 1, 1)), TYPES) is None
    # NOT (a <=> v) keeps NULL rows that NOT (a = v) drops
    assert to_pred(sds.EqualNullSafe(("i",), 1), TYPES) == Cmp("i", Op.EQ, 1)
    assert to_pred(sds.Not(sds.EqualNullSafe(("i",), 1)), TYPES) is None
    assert to_pred(sds.EqualTo(("i",), 1.5), TYPES) is None  # a cast we do not model
    assert to_pred(sds.EqualTo(("i",), True), TYPES) is None
    assert to_pred(sds.EqualTo(("f",), float("nan")), TYPES) is None
    assert to_pred(sds.In(("i",), [1, None]), TYPES) is None
    assert to_pred(sds.EqualTo(("tags",), ["a"]), TYPES) is None
    assert to_pred(sds.EqualTo(("s", "inner"), "x"), TYPES) is None  # a struct field
    assert to_pred(sds.EqualTo(("missing",), "x"), TYPES) is None


def test_ranges_are_disjoint_whole_pages_covering_the_total() -> None:
    for total, page, wanted in [(60, 10, 4), (61, 10, 3), (5, 10, 4), (1000, 7, 64), (0, 10, 2), (100, 10, 1)]:
        head = list(range(min(page, total)))
        parts = plan_ranges(total, page, wanted, head)
        assert 1 <= len(parts) <= max(1, wanted)
        covered: list[int] = list(range(len(head)))
        for p in parts:
            assert p.total == total and p.share == len(parts)
            end = total if p.rows is None else p.start + p.rows
            assert p.start == len(covered) and (p.index == 0 or p.start % page == 0)
            covered += range(p.start, end)
        assert covered == list(range(total))
