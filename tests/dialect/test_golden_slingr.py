"""Golden SQL -> split -> request files for the Slingr dialect (``golden/slingr*.txt``).

The table comes from a sample shaped like the seed's company record plus declared field types, the
way a source configured with ``fields`` discovers it. Regenerate with ``LOWCODE_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

from typing import Any

import pytest

from dialect.slingr import Slingr
from lowcode_sql.errors import DialectError
from lowcode_sql.types import Aggregate, Cmp, Exactness, IsNull, Like, LikePattern, Op
from tests.dialect.golden_harness import StaticCatalog, check

COMPANY: dict[str, Any] = {
    "id": "57fd2d65e4b0ce322b0c8665", "version": 379, "label": "Browsezoom", "name": "Browsezoom",
    "state": "pending", "type": "a", "numberOfEmployees": 95, "isCustomer": False,
    "contactInformation": {"phoneNumber": "1-702-845-9380", "email": "jwoodsrq@spotify.com",
                           "id": "58837fdd3b063a0007603547", "label": "Contact Information"},
    "addresses": [{"addressLine": "4 Magdeline Place", "zipCode": "89145", "city": "Las Vegas", "state": "NV",
                   "id": "57fd45aee4b0ce322b0c86aa", "label": "NV - 89145"}],
    "homepage": "http://www.browsezoom.com", "taxId": "350-KWM", "rating": 2.8, "notes": "modified notes",
    "lastMeeting": 1429623180000, "lastUpdate": 1485012900000, "founded": "2001-02-03",
    "owner": {"id": "57fce0c3e4b0ce322b0c06b2", "label": "User Test"}, "tags": ["x"], "code": "K1",
    "eventAt": "2016-11-05 19:00", "opens": "08:00", "birthday": "04-16", "amount": "8.997738199773819977381",
    "hoursPerWeek": 10800000,
}  # fmt: skip
DECLARED = {"name": "text", "state": "choice", "type": "choice", "notes": "longText", "homepage": "url",
            "taxId": "text", "rating": "decimal", "lastMeeting": "dateTime", "lastUpdate": "dateTime",
            "founded": "date", "tags": "text", "eventAt": "dateTimeNoTimezone", "opens": "time",
            "birthday": "date_month_day", "amount": "bigNumber", "hoursPerWeek": "timeDuration"}


def slingr_catalog(**options: Any) -> StaticCatalog:
    d = Slingr({"entities": ["companies"], **options})
    return StaticCatalog("slingr", d, [d.table_from_sample("companies", [COMPANY], DECLARED)])


def slingr_options_catalog() -> StaticCatalog:
    # count_from_total: the user trusts the API's text comparisons, so aggregates over text matches are
    # pushed (the default configuration reads and checks those rows: plan/scans.py _aggregate)
    return slingr_catalog(like_case="sensitive", keyset=False, page_size=250, count_from_total=True)


@pytest.mark.parametrize("name,factory", [("slingr", slingr_catalog), ("slingr_options", slingr_options_catalog)])
def test_golden_slingr(name, factory, folder):
    check(name, factory(), folder)


def test_aggregate_answer_with_fewer_groups_than_its_total_is_an_error():
    # no size limit or paging is documented for aggregate answers: a short answer must not be read
    # as the whole result
    d = Slingr({"entities": ["companies"]})
    table = d.table_from_sample("companies", [COMPANY], DECLARED)
    page = d.parse_page(table, {"total": 1, "items": [{"state": "a", "lccountall": 2}]})
    assert [(r["state"], r["lccountall"]) for r in page.records] == [("a", 2)]
    with pytest.raises(DialectError, match="1 of 5 groups"):
        d.parse_page(table, {"total": 5, "items": [{"state": "a", "lccountall": 2}]})


def test_aggregate_pushdown_can_be_switched_off():
    on, off = Slingr({}), Slingr({"aggregate_pushdown": False})
    table = on.table_from_sample("companies", [COMPANY], DECLARED)
    assert on.can_aggregate(table, ["state"], [Aggregate("count_star")])
    assert not off.can_aggregate(table, ["state"], [Aggregate("count_star")])


def test_sampled_text_that_looks_numeric_or_temporal_is_not_compared():
    # the seed's record has "rating": "2.8": a big number reads as text but the server compares it
    # as a number (1 = 1.0), so undeclared fields shaped like that only get empty()/notEmpty()
    d = Slingr({})
    rows = [{"id": "1", "rating": "2.8", "zip": "89145", "at": "2016-11-05 19:00", "name": "Browsezoom",
             "tax": "350-KWM"}]
    table = d.table_from_sample("companies", rows)
    got = d.classify(table, [Cmp("rating", Op.EQ, "2.8"), Cmp("zip", Op.EQ, "89145"), Cmp("at", Op.EQ, "x"),
                             IsNull("rating"), Cmp("name", Op.EQ, "Blogpad"), Cmp("tax", Op.EQ, "1")])
    E, L = Exactness.EXACT, Exactness.LOCAL
    assert got == [L, L, L, E, E, E]


@pytest.mark.parametrize("like_case, exact", [("sensitive", True), ("unknown", False), ("insensitive", False)])
def test_every_documented_like_case_is_accepted_and_only_sensitive_makes_cased_like_exact(like_case, exact):
    # an insensitive or unknown server's like() also matches other cases: a superset DuckDB re-checks
    d = Slingr({"like_case": like_case})
    table = d.table_from_sample("companies", [COMPANY], DECLARED)
    got = d.classify(table, [Like("name", LikePattern.parse("Br%", None), False),
                             Like("name", LikePattern.parse("1-%", None), False)])
    assert got == [Exactness.EXACT if exact else Exactness.SUPERSET, Exactness.EXACT]


@pytest.mark.parametrize("like_case", ["Sensitive", "", "yes", None])
def test_an_undocumented_like_case_is_refused(like_case):
    with pytest.raises(DialectError, match="like_case"):
        Slingr({"like_case": like_case})
