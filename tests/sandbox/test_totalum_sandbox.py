"""The Totalum emulator answers like the documented API (seed 000 + API-NOTES §4), independent of the dialect."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pyarrow as pa
import pytest

from lowcode_sql.sandbox import get_sandbox
from lowcode_sql.sandbox.totalum import BDate, TotalumSandbox, parse_date

KEY = {"api-key": "demo-api-key"}


def client(sb: TotalumSandbox, headers: dict[str, str] | None = None) -> httpx.Client:
    return httpx.Client(transport=sb.sync_transport(), base_url="http://sandbox",
                        headers=KEY if headers is None else headers)


@pytest.fixture(scope="module")
def people() -> TotalumSandbox:
    sb = TotalumSandbox(sample_data=False)
    sb.load_table("person", pa.table({
        "name": ["Ann", "bob", None, "İlkay", "ilkay", "\u212aelvin", "line\n", "a.c", "abc", None],
        "age": [30, None, 17, 45, 45.5, None, 60, 1, 2, 3],
        "born": [dt.datetime(2000, 1, 1, 12, tzinfo=dt.UTC), None, dt.datetime(1990, 5, 5, tzinfo=dt.UTC), None,
                 None, None, None, None, None, None],
        "vip": [True, False, None, True, False, None, True, False, True, None],
    }), nulls="mixed")
    return sb


def names(sb: TotalumSandbox, **params: object) -> list[str | None]:
    q = {k: json.dumps(v) if k == "filter" else v for k, v in params.items()}
    body = client(sb).get("/api/v1/crud/person", params=q).json()
    assert "data" in body, body
    return [r.get("name") for r in body["data"]]


def test_auth_problem_details():
    sb = TotalumSandbox(restricted_keys={"limited": ["product"]})
    for headers in ({}, {"api-key": "wrong"}):
        r = client(sb, headers).get("/api/v1/crud/client")
        body = r.json()
        assert r.status_code == 401 and body["title"] == "Unauthorized" and body["traceId"] and body["detail"]
    r = client(sb, {"api-key": "limited"}).get("/api/v1/crud/client")
    assert r.status_code == 403 and r.json()["title"] == "Forbidden"
    assert client(sb, {"api-key": "limited"}).get("/api/v1/crud/product").status_code == 200
    tables = client(sb, {"api-key": "limited"}).get("/api/v1/integrations/get-tables").json()
    assert tables == [{"id": "product", "label": "Products"}]


def test_rate_limit_answers_429_with_retry_after():
    sb = TotalumSandbox(rate_limit=1.0, burst=1)
    c = client(sb)
    assert c.get("/api/v1/integrations/get-tables").status_code == 200
    r = c.get("/api/v1/integrations/get-tables")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1 and r.json()["status"] == 429


def test_discovery_shapes():
    sb = TotalumSandbox()
    c = client(sb)
    assert [t["id"] for t in c.get("/api/v1/integrations/get-tables").json()] == ["client", "product", "order"]
    read = c.get("/api/v1/integrations/get-table-structure", params={"id": "client", "usage": "read"}).json()
    by = {p["name"]: p for p in read}
    assert by["favorites"]["type"] == "many-to-many" and by["favorites"]["spec"][0]["name"] == "product"
    assert by["country"]["type"] == "options" and [s["name"] for s in by["country"]["spec"]][:2] == ["ES", "FR"]
    assert set(by["name"]) == {"name", "label", "type", "required", "value", "spec"}
    filt = c.get("/api/v1/integrations/get-table-structure", params={"id": "client", "usage": "filter"}).json()
    assert "favorites" not in {p["name"] for p in filt}
    ds = c.get("/api/v1/data-structure/").json()["data"]
    assert {t["name"] for t in ds} == {"client", "product", "order"}
    bad = c.get("/api/v1/integrations/get-table-structure", params={"id": "nope", "usage": "read"})
    assert bad.status_code == 404


def test_missing_vs_null_equality_and_ne(people):
    # {f: null} matches stored null and missing; ne: v matches missing and null too (Mongo $ne)
    assert names(people, filter=[{"name": None}]) == [None, None]
    assert len(names(people, filter=[{"name": {"ne": "Ann"}}])) == 9
    assert "Ann" not in names(people, filter=[{"name": {"ne": "Ann"}}])
    assert len(names(people, filter=[{"name": {"ne": None}}])) == 8
    raw = client(people).get("/api/v1/crud/person").json()["data"]
    assert any("name" not in r for r in raw) and any("name" in r and r["name"] is None for r in raw)


def test_ranges_only_on_number_and_date(people):
    assert names(people, filter=[{"age": {"gte": 45, "lt": 60}}]) == ["İlkay", "ilkay"]
    assert names(people, filter=[{"born": {"gt": "1995-01-01"}}]) == ["Ann"]
    r = client(people).get("/api/v1/crud/person", params={"filter": json.dumps([{"name": {"gt": "a"}}])})
    assert r.status_code == 400 and "date or number" in r.json()["detail"]
    r = client(people).get("/api/v1/crud/person", params={"filter": json.dumps([{"age": {"gte": 1, "foo": 2}}])})
    assert r.status_code == 400 and "foo" in r.json()["detail"]
    r = client(people).get("/api/v1/crud/person", params={"filter": "[{"})
    assert r.status_code == 400
    r = client(people).get("/api/v1/crud/person", params={"filter": '[{"age": {"lt": Infinity}}]'})
    assert r.status_code == 400  # JSON.parse knows no Infinity or NaN


def test_regex_semantics(people):
    assert names(people, filter=[{"name": {"regex": "^a.c$"}}]) == ["a.c", "abc"]
    assert names(people, filter=[{"name": {"regex": "^a\\.c$"}}]) == ["a.c"]
    # PCRE's $ also matches before a final newline; \z does not
    assert names(people, filter=[{"name": {"regex": "^line$"}}]) == ["line\n"]
    assert names(people, filter=[{"name": {"regex": "^line\\z"}}]) == []
    # options i: PCRE2 caseless (no Turkish casing): i does not match İ, k matches KELVIN SIGN
    assert names(people, filter=[{"name": {"regex": "^ilkay", "options": "i"}}]) == ["ilkay"]
    assert names(people, filter=[{"name": {"regex": "^kelvin", "options": "i"}}]) == ["\u212aelvin"]
    assert names(people, filter=[{"name": {"regex": "^ANN$", "options": "i"}}]) == ["Ann"]
    # a regex never matches a non-string
    assert names(people, filter=[{"age": {"regex": "3"}}]) == []


def test_or_and_implicit_and(people):
    got = names(people, filter=[{"or": [{"name": "Ann"}, {"age": {"lt": 2}}]}, {"vip": {"ne": True}}])
    assert got == ["a.c"]
    assert names(people, filter=[{"name": "Ann", "vip": True}]) == ["Ann"]
    assert names(people, filter=[{"or": [{"name": "Ann", "vip": False}, {"or": [{"name": "bob"}]}]}]) == ["bob"]


def test_sort_page_limit_and_count(people):
    c = client(people)
    body = c.get("/api/v1/crud/person", params={"sort[age]": "-1", "pagination[page]": "1",
                                                "pagination[limit]": "3", "returnCount": "true"}).json()
    assert [r.get("age") for r in body["data"]] == [30, 17, 3]
    assert body["metadata"] == {"count": 10}
    body = c.get("/api/v1/crud/person", params={"sort": json.dumps({"age": 1, "name": -1}),
                                                "pagination": json.dumps({"page": 0, "limit": 4})}).json()
    assert [r.get("age") for r in body["data"]] == [None, None, 1, 2]  # null/missing lowest
    assert "metadata" not in body
    # the seed's plain page/limit parameters, and the default page size of 50
    assert len(c.get("/api/v1/crud/person", params={"page": "1", "limit": "4"}).json()["data"]) == 4
    sb = TotalumSandbox()
    assert len(client(sb).get("/api/v1/crud/order").json()["data"]) == 50


def test_post_query_body_and_bracket_filter(people):
    c = client(people)
    body = c.post("/api/v1/crud/query/person", json={"filter": [{"age": {"gt": 40}}], "sort": {"age": 1},
                                                     "pagination": {"page": 0, "limit": 2}, "returnCount": True}).json()
    assert [r["name"] for r in body["data"]] == ["İlkay", "ilkay"] and body["metadata"]["count"] == 3
    # qs bracket filter: text values cast by the property type
    got = c.get("/api/v1/crud/person", params={"filter[0][age][gte]": "45", "filter[0][age][lte]": "45.5"}).json()
    assert [r["name"] for r in got["data"]] == ["İlkay", "ilkay"]


def test_many_to_many_and_one():
    sb = TotalumSandbox(strict=False)  # returnCount on a nested list is not in the seed: lenient here
    c = client(sb)
    clients = c.get("/api/v1/crud/client", params={"pagination[limit]": "100"}).json()["data"]
    total = 0
    for cl in clients:
        favs = c.get(f"/api/v1/crud/client/{cl['_id']}/favorites", params={"returnCount": "true"}).json()
        assert "metadata" not in favs  # the relation endpoint documents no returnCount
        total += len(favs["data"])
        for p in favs["data"]:
            fans = c.get(f"/api/v1/crud/product/{p['_id']}/fans").json()["data"]
            assert cl["_id"] in {f["_id"] for f in fans}
    assert total == len(sb.links[("client", "favorites")]) > 0
    one = c.get(f"/api/v1/crud/client/{clients[0]['_id']}").json()["data"]
    assert one["_id"] == clients[0]["_id"]
    assert c.get("/api/v1/crud/client/ffffffffffffffffffffffff").status_code == 404


def test_aggregation_endpoint():
    sb = TotalumSandbox()
    c = client(sb)
    pipeline = [{"$match": {"total": {"$gt": 100}}},
                {"$group": {"_id": "$status", "n": {"$sum": 1}, "s": {"$sum": "$total"}, "lo": {"$min": "$total"}}}]
    rows = c.post("/api/v1/filter/custom-mongo-aggregation-query",
                  json={"type": "order", "customMongoQuery": json.dumps(pipeline)}).json()["data"]
    orders = c.get("/api/v1/crud/order", params={"pagination[limit]": "1000"}).json()["data"]
    big = [o for o in orders if isinstance(o.get("total"), int | float) and o["total"] > 100]
    assert sum(r["n"] for r in rows) == len(big)
    assert min(r["lo"] for r in rows) == min(o["total"] for o in big)



def test_group_keys_are_documents_compared_field_by_field_in_order(people: TotalumSandbox) -> None:
    # MongoDB compares documents field by field in their stored order, so {a: 1, b: 2} and
    # {b: 2, a: 1} are two $group keys (bson-type-comparison-order, "Objects"); 1 and 1.0 are one.
    def group(key: object) -> list[dict[str, object]]:
        pipeline = [{"$group": {"_id": key, "n": {"$sum": 1}}}]
        r = client(people).post("/api/v1/filter/custom-mongo-aggregation-query",
                                json={"type": "person", "customMongoQuery": json.dumps(pipeline)})
        assert r.status_code == 200, r.text
        return r.json()["data"]

    old = {"$gt": ["$age", 40]}  # age 45, 45.5 and 60
    rows = group({"$cond": [old, {"$literal": {"a": 1, "b": 2}}, {"$literal": {"b": 2, "a": 1}}]})
    assert [(list(r["_id"].items()), r["n"]) for r in rows] == [([("b", 2), ("a", 1)], 7), ([("a", 1), ("b", 2)], 3)]
    assert [r["n"] for r in group({"$cond": [old, {"x": 1}, {"x": 1.0}]})] == [10]
    assert [r["n"] for r in group({"$cond": [old, {"x": 1}, {"x": "1"}]})] == [7, 3]


def test_pipeline_ids_are_object_ids_not_strings() -> None:
    # notes "Storage and types": ``_id`` is an ObjectId and a many-to-one field stores the referenced
    # ``_id``. In a raw pipeline (no casting) an ObjectId sorts after every string (BSON order: ...
    # String, Object, Array, BinData, ObjectId ...), never equals its hex text and never matches a
    # regex; the JSON answer writes it as its hex text.
    sb = TotalumSandbox()

    def agg(table: str, pipeline: list[object]) -> list[dict[str, object]]:
        r = client(sb).post("/api/v1/filter/custom-mongo-aggregation-query",
                            json={"type": table, "customMongoQuery": json.dumps(pipeline)})
        assert r.status_code == 200, r.text
        return r.json()["data"]

    first, second = agg("client", [{"$sort": {"_id": 1}}, {"$limit": 2}])
    mixed = {"$cond": [{"$eq": ["$_id", {"$toObjectId": first["_id"]}]}, "zzz", "$_id"]}
    rows = agg("client", [{"$sort": {"_id": 1}}, {"$limit": 2}, {"$group": {"_id": mixed}}, {"$sort": {"_id": 1}}])
    assert [r["_id"] for r in rows] == ["zzz", second["_id"]]  # the string first, then the ObjectId
    assert agg("client", [{"$match": {"_id": first["_id"]}}]) == []
    assert agg("client", [{"$match": {"_id": {"$regex": "^[0-9a-f]"}}}]) == []
    (hit,) = agg("client", [{"$match": {"$expr": {"$eq": ["$_id", {"$toObjectId": first["_id"]}]}}}])
    assert hit["_id"] == first["_id"] and hit["name"] == first["name"]
    orders = agg("order", [{"$match": {"$expr": {"$eq": ["$client", {"$toObjectId": first["_id"]}]}}}])
    assert orders and all(o["client"] == first["_id"] for o in orders)
    assert agg("order", [{"$match": {"client": first["_id"]}}]) == []

def test_parse_date_and_load_any_arrow_table():
    assert parse_date("2020-01-01") == BDate(1577836800000)
    assert parse_date("2020-01-01T01:00:00+01:00") == BDate(1577836800000)
    assert parse_date("nope") is None
    sb = get_sandbox("totalum", sample_data=False)
    sb.load_table("t", pa.table({"d": pa.array([dt.date(2020, 1, 2)]), "x": pa.array([1], pa.int8()),
                                 "ref": ["a" * 24]}), references={"ref": "t"})
    [row] = client(sb).get("/api/v1/crud/t").json()["data"]
    assert row["d"] == "2020-01-02T00:00:00.000Z" and row["x"] == 1 and row["ref"] == "a" * 24
    with pytest.raises(ValueError):
        sb.load_table("bad", pa.table({"l": pa.array([[1]])}))
