"""Golden SQL -> split -> request files for Totalum (GET per the seed, and the SDK's POST body)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import duckdb
import pytest

from dialect import Secret
from dialect.totalum import Totalum, like_regex
from lowcode_sql.errors import ConfigError, DialectError
from lowcode_sql.sandbox.totalum import compile_regex
from lowcode_sql.types import Aggregate, Cmp, Exactness, LikePattern, Op, SortKey
from tests.dialect.golden_harness import StaticCatalog, check


def _p(name: str, type_: str, target: str | None = None) -> dict[str, Any]:
    spec = [{"name": target, "label": target, "type": "table"}] if target else []
    return {"name": name, "label": name, "type": type_, "required": False, "value": "", "spec": spec}


STRUCTURES = {
    "client": [_p("name", "text"), _p("country", "options"), _p("vip", "boolean"), _p("credit", "number"),
               _p("since", "date"), _p("contract", "file"), _p("orders", "one-to-many", "order"),
               _p("favorites", "many-to-many", "product")],
    "product": [_p("name", "text"), _p("price", "number"), _p("fans", "many-to-many", "client")],
    "order": [_p("number", "text"), _p("client", "many-to-one", "client"), _p("total", "number"),
              _p("ordered", "date")],
}


def catalog(**options: Any) -> StaticCatalog:
    d = Totalum(options)
    return StaticCatalog("totalum", d, d.tables_from_structures(STRUCTURES))


@pytest.mark.parametrize("name,options", [("totalum", {"aggregate": True}),
                                          ("totalum_post", {"request": "post", "in_operator": True})])
def test_golden(name, options, folder):
    check(name, catalog(**options), folder)


def test_tables_and_columns():
    tables = {t.name: t for t in catalog().tables.values()}
    assert sorted(tables) == ["client", "client__favorites", "order", "product", "product__fans"]
    assert [c.name for c in tables["client"].columns] == [
        "_id", "name", "country", "vip", "credit", "since", "contract", "createdAt", "updatedAt"]
    link = tables["client__favorites"]
    assert link.columns[0].name == "source_id" and link.columns[0].filter_only
    assert [c.name for c in link.columns[1:]] == [c.name for c in tables["product"].columns]


# --- dialect unit checks (conformance) ------------------------------------------------------------


def test_options_and_auth_are_validated():
    with pytest.raises(DialectError, match="request"):
        Totalum({"request": "put"})
    with pytest.raises(ConfigError, match="unknown option"):
        Totalum({"pagesize": 3})
    with pytest.raises(DialectError, match="api_key"):
        Totalum().auth({})
    plan = Totalum().auth({"api_key": Secret("s3cret")})
    assert plan.headers[0][0] == "api-key" and "s3cret" not in repr(plan)


def test_parse_page_shapes():
    d, t = Totalum(), catalog().tables["client"]
    assert d.parse_page(t, [{"_id": "a"}]).records == [{"_id": "a"}]
    page = d.parse_page(t, {"data": [{"_id": "a"}], "metadata": {"count": 7}})
    assert page.total == 7 and page.records == [{"_id": "a"}]
    assert d.parse_page(t, {"data": []}).total is None
    grouped = d.parse_page(t, {"data": [{"_id": {"country": "ES"}, "__lc_count": 2}, {"_id": None, "__lc_count": 1}]})
    assert grouped.records == [{"country": "ES", "__lc_count": 2}, {"__lc_count": 1}]
    with pytest.raises(DialectError):
        d.parse_page(t, {"items": []})


def test_values_json_cannot_carry_stay_local():
    d, t = Totalum(), catalog().tables["client"]
    preds = [Cmp("credit", Op.LT, float("inf")), Cmp("credit", Op.NE, float("nan")), Cmp("credit", Op.GE, 2**60),
             Cmp("since", Op.GT, dt.datetime(2020, 1, 1)), Cmp("_id", Op.EQ, "0123456789ABCDEF01234567")]
    assert d.classify(t, preds) == [Exactness.LOCAL, Exactness.LOCAL, Exactness.EXACT, Exactness.LOCAL,
                                    Exactness.LOCAL]  # naive datetimes and upper-case hex too


def test_sort_and_aggregate_capabilities():
    """What can_sort/can_aggregate promise, column kind by kind (README "Totalum" table)."""
    d, t = Totalum(), catalog().tables["order"]
    # Mongo puts null and missing lowest: ASC NULLS FIRST and DESC NULLS LAST only
    assert d.can_sort(t, [SortKey("total", False, True)])
    assert d.can_sort(t, [SortKey("total", True, False), SortKey("number", False, True), SortKey("_id", True)])
    assert not d.can_sort(t, [SortKey("total")]) and not d.can_sort(t, [SortKey("total", True, True)])
    # a many-to-one may hold an ObjectId or its text; BSON orders all strings before all ObjectIds
    assert not d.can_sort(t, [SortKey("client", False, True)])
    assert not d.can_aggregate(t, [], [Aggregate("count_star")])  # opt-in (issue 13)
    d = Totalum({"aggregate": True})
    assert d.can_aggregate(t, ["client"], [Aggregate("count_star"), Aggregate("count", "client")])
    assert not d.can_aggregate(t, [], [Aggregate("min", "client")])
    assert not d.can_aggregate(t, [], [Aggregate("max", "client")])
    assert d.can_aggregate(t, ["ordered"], [Aggregate("min", "_id"), Aggregate("sum", "total")])
    assert not d.can_aggregate(t, [], [Aggregate("sum", "number")])  # $sum skips strings
    assert not Totalum({"aggregate": False}).can_aggregate(t, [], [Aggregate("count_star")])
    link = catalog().tables["client__favorites"]
    assert not d.can_aggregate(link, [], [Aggregate("count_star")]) and not d.can_count(link)


ALPHABET = ["a", "A", "b", "i", "I", "İ", "\u0131", "k", "\u212a", "s", "\u017f", "ß", ".", "*", "$", "^", "\n", "\\",
            "(", "[", "|", "?", "+", "{", "é", "🙂", " "]
PATTERN_ALPHABET = [*ALPHABET, "%", "_", "%", "_"]


def test_like_regex_matches_exactly_what_duckdb_matches():
    """Every pushed (I)LIKE regex, run with the sandbox's PCRE emulation, agrees with DuckDB."""
    r = random.Random(7)
    strings = ["".join(r.choice(ALPHABET) for _ in range(r.randint(0, 4))) for _ in range(150)]
    strings += ["", "a\n", "abc", "ABC", "İi", "\u212aK", "ß", "SS"]
    con = duckdb.connect()
    con.execute("CREATE TABLE s(v VARCHAR)")
    con.executemany("INSERT INTO s VALUES (?)", [[x] for x in strings])
    checked = 0
    for _ in range(300):
        pat = "".join(r.choice(PATTERN_ALPHABET) for _ in range(r.randint(0, 4)))
        ci = r.random() < 0.5
        regex = like_regex(LikePattern.parse(pat), ci)
        if regex is None:
            continue
        checked += 1
        rx = compile_regex(regex, "")
        op = "ILIKE" if ci else "LIKE"
        want = {v for (v,) in con.execute(f"SELECT v FROM s WHERE v {op} ?", [pat]).fetchall()}
        got = {v for v in strings if rx.search(v)}
        assert got == want, (pat, ci, regex)
    assert checked > 150
