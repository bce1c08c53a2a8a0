"""The Entu emulator against the seed and API-NOTES §5 (handle() called directly, no HTTP)."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pytest

from lowcode_sql.sandbox._base import Request, Response
from lowcode_sql.sandbox.entu import EntuSandbox, iso_ms, js_number, parse_date, pcre_to_python

Q = list[tuple[str, str]]


def _auth(sb: EntuSandbox, key: str = "demo-api-key", query: Q | None = None) -> Response:
    return sb.handle(Request("GET", "/api/auth", query or [], {"authorization": f"Bearer {key}"}))


def _token(sb: EntuSandbox) -> str:
    return _auth(sb).body["token"]


class Client:
    def __init__(self, sb: EntuSandbox) -> None:
        self.sb = sb
        self.token = _token(sb)

    def get(self, path: str, query: Q | None = None, token: str | None = None) -> Response:
        headers = {"authorization": f"Bearer {token or self.token}"}
        return self.sb.handle(Request("GET", path, query or [], headers))

    def list(self, *query: tuple[str, str]) -> dict[str, Any]:
        r = self.get("/api/demo/entity", [*query, ("limit", "100000")])
        assert r.status == 200, r.body
        return r.body

    def ids(self, *query: tuple[str, str]) -> list[str]:
        return [e["_id"] for e in self.list(*query)["entities"]]


@pytest.fixture(scope="module")
def sample() -> EntuSandbox:
    return EntuSandbox()


@pytest.fixture(scope="module")
def c(sample: EntuSandbox) -> Client:
    return Client(sample)


def _small() -> tuple[EntuSandbox, Client]:
    """A tiny hand-made table with the multi-valued / missing cases the assertions rely on."""
    sb = EntuSandbox(sample_data=False)
    table = pa.table(
        {
            "_id": [f"{i:024x}" for i in range(1, 7)],
            "name": ["alpha", "Beta", "gamma/delta", None, "a.b", "x\ny"],
            "n": pa.array([[5, 20], [12], [], None, [15], [-3]], pa.list_(pa.int64())),
            "tags": pa.array([["a", "b"], ["b"], None, ["c"], [], ["a,b"]], pa.list_(pa.string())),
            "flag": [True, False, None, True, None, False],
            "day": [date(2024, 1, 5), date(1970, 1, 1), None, date(1969, 12, 31), date(2024, 1, 6), None],
            "ts": pa.array(
                [datetime(2024, 1, 5, 10, 0, 0, 123456, tzinfo=UTC), None, None, None, None, None],
                pa.timestamp("us", tz="UTC"),
            ),
        }
    )
    sb.load_table("thing", table)
    return sb, Client(sb)


def _names(c: Client, *query: tuple[str, str]) -> list[Any]:
    out = []
    for e in c.list(("_type.string", "thing"), *query)["entities"]:
        out.append(e["name"][0]["string"] if "name" in e else None)
    return out


# -- auth ---------------------------------------------------------------------------------------


def test_auth_returns_accounts_and_a_signed_jwt(sample: EntuSandbox) -> None:
    r = _auth(sample)
    assert r.status == 200
    assert r.body["accounts"][0]["_id"] == "demo" and r.body["accounts"][0]["user"]["name"]
    header, payload, _sig = r.body["token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["db"] == "demo" and claims["exp"] > time.time() + 11 * 3600
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
    assert r.body["expires"].endswith("Z")


def test_auth_errors_and_quirks(sample: EntuSandbox) -> None:
    assert sample.handle(Request("GET", "/api/auth", [], {})).status == 400  # "No key"
    bad = _auth(sample, key="wrong")
    assert bad.status == 200 and bad.body["accounts"] == []  # a wrong key still gets a token
    assert _auth(sample, query=[("db", "other")]).body["accounts"] == []
    c = Client(sample)
    # A token without the account is anonymous: silently empty, not a 401.
    assert c.get("/api/demo/entity", token=bad.body["token"]).body["count"] == 0
    anon = sample.handle(Request("GET", "/api/demo/entity", [], {}))
    assert anon.status == 200 and anon.body["entities"] == []


def test_invalid_tokens_are_401_in_entu_error_shape(c: Client) -> None:
    r = c.get("/api/demo/entity", token="not-a-jwt")
    assert r.status == 401 and r.body["statusCode"] == 401 and r.body["message"] == "jwt malformed"
    head, payload, _ = c.token.split(".")
    assert c.get("/api/demo/entity", token=f"{head}.{payload}.AAAA").status == 401


def test_token_expiry_refresh_and_expire_tokens() -> None:
    sb = EntuSandbox(token_ttl=0.05)
    c = Client(sb)
    assert c.get("/api/demo/entity").status == 200
    time.sleep(0.08)
    r = c.get("/api/demo/entity")
    assert r.status == 401 and r.body["message"] == "jwt expired"
    refreshed = sb.handle(Request("GET", "/api/auth/refresh", [], {"authorization": f"Bearer {c.token}"}))
    assert refreshed.status == 200 and refreshed.body["token"] != c.token

    sb = EntuSandbox()
    c = Client(sb)
    assert c.get("/api/demo/entity").status == 200
    sb.expire_tokens()
    assert c.get("/api/demo/entity").status == 401
    c.token = _token(sb)
    assert c.get("/api/demo/entity").status == 200


def test_unknown_and_invalid_db(c: Client) -> None:
    assert c.get("/api/nosuchdb/entity").status == 404
    assert c.get("/api/Bad-Name/entity").status == 400
    assert c.get("/api/admin/entity").status == 400


# -- shape, paging, single entity -----------------------------------------------------------------


def test_entity_shape_and_types(c: Client) -> None:
    body = c.list(("_type.string", "book"))
    assert body["count"] == 300 and len(body["entities"]) == 300
    e = next(x for x in body["entities"] if "author" in x)
    (t,) = e["_type"]
    assert t["string"] == "book" and t["entity_type"] == "entity" and t["property_type"] == "_type"
    assert len(t["_id"]) == 24 and len(t["reference"]) == 24
    assert e["author"][0]["entity_type"] == "person" and e["author"][0]["string"]
    assert e["_reference"][0]["property_type"] == "author"
    assert all(len(v["_id"]) == 24 for vs in e.values() if isinstance(vs, list) for v in vs)
    assert c.list(("_type.string", "person"))["count"] == 80
    assert c.list(("_type.string", "invoice"))["count"] == 200
    assert c.list(("_type.string", "entity"))["count"] == 5  # entity, property, person, book, invoice


def test_limit_skip_count(c: Client) -> None:
    r = c.get("/api/demo/entity", [("_type.string", "book")]).body
    assert (r["limit"], r["skip"], r["count"], len(r["entities"])) == (100, 0, 300, 100)
    for raw, expected in [("0", 100), ("abc", 100), ("7xyz", 7), ("0x10", 16), ("1000", 1000)]:
        r = c.get("/api/demo/entity", [("_type.string", "book"), ("limit", raw)]).body
        assert r["limit"] == expected and len(r["entities"]) == min(expected, 300)
    all_ids = c.ids(("_type.string", "book"))
    page = c.get("/api/demo/entity", [("_type.string", "book"), ("skip", "295"), ("limit", "10")]).body
    assert [e["_id"] for e in page["entities"]] == all_ids[295:] and page["count"] == 300
    assert all_ids == sorted(all_ids)  # default sort: _id ascending
    assert c.get("/api/demo/entity", [("limit", "-1")]).status == 500  # Mongo rejects a negative $limit


def test_single_entity_and_props(c: Client) -> None:
    first = c.list(("_type.string", "book"), ("props", "name,price.number"))["entities"][0]
    assert set(first) <= {"_id", "name", "price"}
    assert all(set(v) <= {"number"} for v in first.get("price", []))  # dotted props keep only that key
    r = c.get(f"/api/demo/entity/{first['_id']}")
    assert r.status == 200 and r.body["entity"]["_id"] == first["_id"] and "_type" in r.body["entity"]
    r = c.get(f"/api/demo/entity/{first['_id']}", [("props", "name")])
    assert set(r.body["entity"]) == {"_id", "name"}
    assert c.get("/api/demo/entity/" + "0" * 24).status == 404
    assert c.get("/api/demo/entity/nothex").status == 500
    assert c.get("/api/demo/entity", [("props", "name,name.string")]).status == 500  # path collision


# -- filters ------------------------------------------------------------------------------------


def test_equality_and_type_conversion() -> None:
    _sb, c = _small()
    assert _names(c, ("name.string", "alpha")) == ["alpha"]
    assert _names(c, ("n.number", "12")) == ["Beta"]
    assert _names(c, ("n.number", "1.2e1")) == ["Beta"]
    assert _names(c, ("n.string", "12")) == []  # a string operand never matches a number
    assert _names(c, ("flag.boolean", "TRUE")) == ["alpha", None]
    assert _names(c, ("flag.boolean", "yes")) == ["Beta", "x\ny"]  # anything but 'true' is false
    assert _names(c, ("day.date", "2024-01-05")) == ["alpha"]
    assert _names(c, ("day.date", str(1704412800000))) == ["alpha"]  # epoch ms
    assert _names(c, ("ts.datetime", "2024-01-05T10:00:00.123Z")) == ["alpha"]  # stored with ms precision
    assert _names(c, ("ts.datetime.gt", "2024-01-05T10:00:00.123Z")) == []
    # Keys the parser ignores: no dot, non-\w parts; and an unknown third part (below). That is the
    # real parser's leniency, checked from here on with strict mode off (strict mode, on in the
    # tests, rejects such keys: tests/sandbox/test_strict.py)
    _sb.strict = False
    assert len(_names(c, ("name", "alpha"), ("na-me.string", "x"), ("name.str-ing", "x"))) == 6
    # An unknown third part is plain equality.
    assert _names(c, ("name.string.foo", "alpha")) == ["alpha"]


def test_range_ops_and_any_element_semantics() -> None:
    _sb, c = _small()
    assert _names(c, ("n.number.gt", "12")) == ["alpha", "a.b"]
    assert _names(c, ("n.number.lte", "5")) == ["alpha", "x\ny"]
    # gte+lte merged on one key: satisfied by *different* elements of alpha's [5, 20] -> not BETWEEN.
    assert _names(c, ("n.number.gte", "10"), ("n.number.lte", "11")) == ["alpha"]
    assert _names(c, ("n.number.gte", "13"), ("n.number.lte", "16")) == ["alpha", "a.b"]
    # Strings compare lexicographically, by code point.
    assert _names(c, ("name.string.gte", "a"), ("name.string.lt", "b")) == ["alpha", "a.b"]
    assert _names(c, ("day.date.lt", "1970-01-01")) == [None]  # negative epoch


def test_ne_in_exists_and_missing() -> None:
    _sb, c = _small()
    # ne: no element equals; entities without the property match too.
    assert _names(c, ("tags.string.ne", "b")) == ["gamma/delta", None, "a.b", "x\ny"]
    assert _names(c, ("n.number.ne", "5")) == ["Beta", "gamma/delta", None, "a.b", "x\ny"]
    assert _names(c, ("tags.string.in", "a,c")) == ["alpha", None]
    assert _names(c, ("tags.string", "a,b")) == ["x\ny"]
    assert _names(c, ("tags.string.in", "a,b")) == ["alpha", "Beta"]  # in splits on commas
    assert _names(c, ("n.number.in", "12,15")) == ["Beta", "a.b"]
    assert _names(c, ("tags.string.exists", "true")) == ["alpha", "Beta", None, "x\ny"]
    assert _names(c, ("tags.string.exists", "FALSE")) == ["gamma/delta", "a.b"]  # empty list = absent
    assert _names(c, ("flag._id.exists", "false")) == ["gamma/delta", "a.b"]
    assert _names(c, ("flag.boolean.exists", "true")) == ["alpha", "Beta", None, "x\ny"]


def test_exists_caveats_on_typed_keys() -> None:
    _sb, c = _small()
    has_n = ["alpha", "Beta", "a.b", "x\ny"]
    # number.exists -> Number('false') = NaN; Mongo's trueValue(NaN) is true -> exists:true.
    assert _names(c, ("n.number.exists", "false")) == has_n
    assert _names(c, ("n.number.exists", "true")) == has_n
    assert _names(c, ("n.number.exists", "0")) == ["gamma/delta", None]  # Number('0') = 0 -> false
    # date.exists -> a Date operand, always truthy -> exists:true whatever the value.
    assert _names(c, ("day.date.exists", "false")) == ["alpha", "Beta", None, "a.b"]
    # reference.exists -> new ObjectId('true') throws -> 500.
    assert c.get("/api/demo/entity", [("_type.reference.exists", "true")]).status == 500
    assert c.get("/api/demo/entity", [("_type.reference", "xyz")]).status == 500
    # An invalid date reaches Mongo as epoch 0 and matches 1970-01-01.
    assert _names(c, ("day.date", "not a date")) == ["Beta"]


def test_reference_filters(c: Client) -> None:
    assert c.get("/api/demo/entity", [("author.reference.exists", "true")]).status == 500
    # Only a 24-hex operand survives new ObjectId(); an ObjectId is truthy -> exists:true.
    assert c.list(("_type.string", "book"), ("author.reference.exists", "f" * 24))["count"] == 270
    one = next(e for e in c.list(("_type.string", "book"))["entities"] if "author" in e)
    ref = one["author"][0]["reference"]
    ids = c.ids(("author.reference", ref.upper()))
    assert one["_id"] in ids
    assert all(any(a["reference"] == ref for a in e["author"]) for e in c.list(("author.reference", ref))["entities"])
    assert c.ids(("author.string", one["author"][0]["string"])) != []
    assert c.list(("_reference.property_type.ne", "author"), ("_type.string", "book"))["count"] == 30


def test_regex_flags_and_slash_truncation() -> None:
    _sb, c = _small()
    assert _names(c, ("name.string.regex", "/^B/")) == ["Beta"]
    assert _names(c, ("name.string.regex", "/^b/i")) == ["Beta"]
    assert _names(c, ("name.string.regex", "/^b/gu")) == []  # g, u dropped; case-sensitive
    assert _names(c, ("name.string.regex", "^a")) == ["alpha", "a.b"]  # no '/': raw $regex
    # '/' inside the pattern: split('/')[1] -> 'gamma' (the rest is lost)
    assert _names(c, ("name.string.regex", "/gamma/delta/")) == ["gamma/delta"]
    assert _names(c, ("name.string.regex", "/^a\\.b$/")) == ["a.b"]
    assert _names(c, ("name.string.regex", "/x\\x2fd/")) == []  # \x2f is '/' (the escape for a slash)
    assert _names(c, ("name.string.regex", "/a\\x2fdelta/")) == ["gamma/delta"]
    assert _names(c, ("name.string.regex", "/^x.y$/")) == []  # '.' does not match newline
    assert _names(c, ("name.string.regex", "/^x.y$/s")) == []  # js-bson drops dotAll
    assert _names(c, ("name.string.regex", "/^y/m")) == ["x\ny"]
    assert _names(c, ("name.string.regex", "/^x[\\s\\S]y(?![\\s\\S])/")) == ["x\ny"]
    assert _names(c, ("name.string.regex", "abc/")) == _names(c, ("name.string.exists", "true"))  # '' pattern
    assert c.get("/api/demo/entity", [("name.string.regex", "/(/")]).status == 400
    assert c.get("/api/demo/entity", [("name.string.regex", "/a/x")]).status == 400  # JS rejects flag x
    assert c.get("/api/demo/entity", [("name.string.regex", "/(?i)a/")]).status == 400
    assert c.get("/api/demo/entity", [("name.string.regex", "(")]).status == 500  # Mongo's PCRE error
    assert _names(c, ("name.string.regex", "(?i)^BETA$")) == ["Beta"]  # PCRE inline flag, raw form


def test_repeated_and_merged_keys() -> None:
    _sb, c = _small()
    # Equality after an operator replaces it; an operator after a string equality makes a literal object.
    assert _names(c, ("n.number.gt", "100"), ("n.number", "12")) == ["Beta"]
    assert _names(c, ("name.string", "alpha"), ("name.string.ne", "x")) == []
    # A repeated key becomes an array: typed branches throw (500).
    assert c.get("/api/demo/entity", [("flag.boolean", "true"), ("flag.boolean", "false")]).status == 500


def test_sample_quirks(c: Client) -> None:
    names = [e["name"][0]["string"] for e in c.list(("_type.string", "book"))["entities"]]
    for s in ["C++ Primer", "100% Pure_Python", "İstanbul Nights", "📚 Emoji Book 🎉", "", "Hello, World"]:
        assert s in names
    assert c.ids(("name.string", "What? (Really) [2nd] {ed.} | ^$ \\ / .*"))
    assert len(c.ids(("name.string.regex", "/^apple$/i"), ("_type.string", "book"))) == 3
    # Multi-valued price: a book with two prices satisfies gt 120 via its second value only.
    many = [e for e in c.list(("_type.string", "book"))["entities"] if len(e.get("price", [])) > 1]
    assert many and all(e["_id"] in c.ids(("price.number.gt", "149")) for e in many)
    assert c.list(("published.date", "garbage"))["count"] >= 1  # epoch-0 book


# -- sort, group, search --------------------------------------------------------------------------


def test_sort_array_rules_and_missing() -> None:
    _sb, c = _small()
    # n: alpha [5,20], Beta [12], gamma/- absent, None absent, a.b [15], x\ny [-3]
    assert _names(c, ("sort", "n.number")) == ["gamma/delta", None, "x\ny", "alpha", "Beta", "a.b"]
    assert _names(c, ("sort", "-n.number")) == ["alpha", "a.b", "Beta", "x\ny", "gamma/delta", None]
    assert _names(c, ("sort", "name.string")) == [None, "Beta", "a.b", "alpha", "gamma/delta", "x\ny"]
    assert _names(c, ("sort", "flag.boolean,-name.string")) == [
        "gamma/delta", "a.b", "x\ny", "Beta", "alpha", None,
    ]  # fmt: skip
    assert _names(c, ("sort", "-_id")) == _names(c)  # private._id does not exist: ties by _id



def test_sort_counts_array_documents_without_the_field_as_null() -> None:
    # MongoDB's sort key of ``friend.string`` takes every element of the ``friend`` array; an element
    # (a document) without ``string`` contributes null, so an ascending sort puts Ann, whose second
    # friend is a dangling reference (no ``string``), among the nulls, not at "Zed"
    # (https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/, "Arrays": "With
    # arrays, a less-than comparison or an ascending sort compares the smallest elements").
    sb = EntuSandbox(sample_data=False)
    ids = [f"{i:024x}" for i in range(1, 5)]
    dangling = "f" * 24
    table = pa.table(
        {
            "_id": ids,
            "name": ["Ann", "Bob", "Cid", "Zed"],
            "friend": pa.array([[ids[3], dangling], [ids[2]], None, [ids[1]]], pa.list_(pa.string())),
        }
    )
    sb.load_table("pal", table, references={"friend": "pal"})
    c = Client(sb)

    def names(*query: tuple[str, str]) -> list[str]:
        return [e["name"][0]["string"] for e in c.list(("_type.string", "pal"), *query)["entities"]]

    assert names(("sort", "friend.string")) == ["Ann", "Cid", "Zed", "Bob"]  # null, null (ties: _id), "Bob", "Cid"
    assert names(("sort", "-friend.string")) == ["Ann", "Bob", "Zed", "Cid"]  # largest: "Zed", "Cid", "Bob", null

def test_group(c: Client) -> None:
    body = c.list(("_type.string", "book"), ("group", "in_stock.boolean"), ("props", "in_stock"), ("sort", "-_count"))
    rows = body["entities"]
    assert body["count"] == len(rows) == 4  # [true], [false], [true,false], missing
    assert sum(r["_count"] for r in rows) == 300
    assert [r["_count"] for r in rows] == sorted((r["_count"] for r in rows), reverse=True)
    assert all("_id" not in r for r in rows)
    assert any(r["in_stock"] is None for r in rows)  # $first of a missing property
    bare = c.list(("_type.string", "book"), ("group", "in_stock.boolean"), ("limit", "1"))
    assert all(set(r) == {"_count"} for r in bare["entities"]) and len(bare["entities"]) == 4  # no limit


def test_full_text_search(c: Client) -> None:
    hits = c.list(("q", "ISTANBUL"))["entities"]  # lower-cased; 'İ'.lower() is 'i̇', so no match
    assert hits == []
    assert c.list(("q", "stanbul nigh"))["count"] == 1  # substrings within words, terms ANDed
    assert c.list(("q", "hello,"))["count"] == 0  # words are split on commas


# -- load_table ---------------------------------------------------------------------------------


def test_load_table_round_trip() -> None:
    sb, c = _small()
    e = c.list(("_type.string", "thing"))["entities"]
    assert [x["_id"] for x in e] == [f"{i:024x}" for i in range(1, 7)]
    assert [v["number"] for v in e[0]["n"]] == [5, 20] and "n" not in e[2] and "n" not in e[3]
    assert e[0]["day"][0]["date"] == "2024-01-05T00:00:00.000Z"
    assert e[0]["ts"][0]["datetime"] == "2024-01-05T10:00:00.123Z"
    assert e[0]["flag"][0]["boolean"] is True and "name" not in e[3]
    # Property definitions describe the loaded table (schema discovery).
    defs = c.list(("_type.string", "property"), ("_parent.reference", sb._types["thing"].hex))["entities"]
    assert {d["name"][0]["string"]: d["type"][0]["string"] for d in defs}["ts"] == "datetime"

    people = pa.table({"_id": ["a" * 24], "name": ["Ann"]})
    sb.load_table("person", people)
    sb.load_table("pet", pa.table({"name": ["Rex"], "owner": ["A" * 24]}), references={"owner": "person"})
    (pet,) = c.list(("_type.string", "pet"))["entities"]
    assert pet["owner"][0] == {
        "_id": pet["owner"][0]["_id"], "reference": "a" * 24, "property_type": "owner", "string": "Ann",
        "entity_type": "person",
    }  # fmt: skip
    sb.load_table("pet", pa.table({"name": ["Tom", "Kit"]}))  # replaces the type's entities
    assert c.list(("_type.string", "pet"))["count"] == 2


def test_deterministic_sample() -> None:
    a, b = Client(EntuSandbox(seed=3)), Client(EntuSandbox(seed=3))
    assert a.list(("_type.string", "book")) == b.list(("_type.string", "book"))


# -- helpers ------------------------------------------------------------------------------------


def test_js_helpers() -> None:
    assert js_number("") == 0 and js_number(" 0x1F ") == 31 and js_number("1e3") == 1000
    assert js_number("12abc") != js_number("12abc")  # NaN
    assert parse_date("2024-01-05").ms == 1704412800000
    assert parse_date("1704412800000").ms == 1704412800000
    assert parse_date("2019-02-31").ms == parse_date("2019-03-03").ms  # V8 day overflow
    assert parse_date("nonsense").ms == 0
    assert iso_ms(-1) == "1969-12-31T23:59:59.999Z"
    assert pcre_to_python("\\d")[0] == "[0-9]"
    assert pcre_to_python("(?i)a")[1] is False
