"""``_mongo.days_from_civil``/``civil_from_days`` (proleptic Gregorian, astronomical year numbering:
year 0 is 1 BC, so 0000-01-01 is preceded by -0001-12-31) against an independent reference: day
counts built by adding up year and month lengths, and Python's ``datetime.date`` where it reaches.
"""

from __future__ import annotations

import datetime as dt

import pytest

from lowcode_sql.sandbox._mongo import BDate, civil_from_days, days_from_civil, iso_ms

FIRST_YEAR, LAST_YEAR = -2001, 2401


def _leap(y: int) -> bool:
    # Python's % floors, so this is the Gregorian rule for negative years too (-4, 0, -400 are leap).
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def _month_lengths(y: int) -> list[int]:
    return [31, 29 if _leap(y) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def _year_starts() -> dict[int, int]:
    """Days from 1970-01-01 to January 1 of every year in range, walking year by year from 1970."""
    starts = {1970: 0}
    for y in range(1971, LAST_YEAR + 1):
        starts[y] = starts[y - 1] + (366 if _leap(y - 1) else 365)
    for y in range(1969, FIRST_YEAR - 1, -1):
        starts[y] = starts[y + 1] - (366 if _leap(y) else 365)
    return starts


YEAR_STARTS = _year_starts()


def _reference_days(y: int, m: int, d: int) -> int:
    return YEAR_STARTS[y] + sum(_month_lengths(y)[: m - 1]) + d - 1


def test_the_days_around_year_zero() -> None:
    assert days_from_civil(1970, 1, 1) == 0
    assert days_from_civil(0, 1, 1) == -719528
    assert civil_from_days(-719528) == (0, 1, 1)
    assert civil_from_days(-719529) == (-1, 12, 31)  # was (0, 1, 1): the era was floored twice
    assert days_from_civil(-1, 12, 31) == -719529
    assert civil_from_days(days_from_civil(0, 2, 29)) == (0, 2, 29)  # year 0 is a leap year


def test_year_boundaries_and_leap_days_match_the_reference() -> None:
    # The algorithm counts years from March 1, so January 1, the end of February, March 1 and
    # December 31 of every year are its edges.
    wrong = []
    for y in range(FIRST_YEAR, LAST_YEAR + 1):
        feb = _month_lengths(y)[1]
        for m, d in ((1, 1), (2, feb), (3, 1), (12, 31)):
            want = _reference_days(y, m, d)
            if days_from_civil(y, m, d) != want or civil_from_days(want) != (y, m, d):
                wrong.append((y, m, d))
    assert wrong == []


@pytest.mark.parametrize("y", [-801, -800, -401, -400, -399, -101, -100, -5, -4, -1, 0, 1, 4, 1969, 2000])
def test_every_day_of_a_year_round_trips(y: int) -> None:
    for m, last in enumerate(_month_lengths(y), start=1):
        for d in range(1, last + 1):
            want = _reference_days(y, m, d)
            assert days_from_civil(y, m, d) == want
            assert civil_from_days(want) == (y, m, d)


def test_years_one_to_9999_agree_with_python_dates() -> None:
    epoch = dt.date(1970, 1, 1).toordinal()
    for y in (1, 2, 99, 100, 399, 400, 401, 1582, 1600, 1900, 9999):
        for m in range(1, 13):
            day = dt.date(y, m, 28)
            assert days_from_civil(y, m, 28) == day.toordinal() - epoch
            assert civil_from_days(day.toordinal() - epoch) == (y, m, 28)


def test_iso_strings_before_year_zero() -> None:
    # Date.prototype.toISOString: new Date(Date.UTC(-1, 11, 31)).toISOString() === "-000001-12-31T00:00:00.000Z"
    assert iso_ms(-719529 * 86_400_000) == "-000001-12-31T00:00:00.000Z"
    assert iso_ms(-719528 * 86_400_000 - 1) == "-000001-12-31T23:59:59.999Z"
    assert BDate(days_from_civil(-1, 12, 31) * 86_400_000).iso() == "-000001-12-31T00:00:00.000Z"
