"""The Alumio emulator against the seed (003) and API-NOTES §2 (handle() called directly, no HTTP)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import httpx
import pyarrow as pa
import pytest

from lowcode_sql.sandbox._base import Request, Response
from lowcode_sql.sandbox.alumio import TASK_STATUSES, AlumioSandbox

AUTH = {"authorization": "Bearer demo-alumio-token"}


def get(sb: AlumioSandbox, path: str, filt: Any = None, headers: dict[str, str] | None = None,
        query: list[tuple[str, str]] | None = None) -> Response:
    q = list(query or [])
    if filt is not None:
        q.append(("filter", filt if isinstance(filt, str) else json.dumps(filt)))
    return sb.handle(Request("GET", "/api/v1/" + path, q, AUTH if headers is None else headers))


def ok(sb: AlumioSandbox, path: str, filt: Any = None) -> dict[str, Any]:
    r = get(sb, path, filt)
    assert r.status == 200, r.body
    return r.body


def idents(body: dict[str, Any], key: str = "identifier") -> list[Any]:
    return [x[key] for x in body["results"]]


@pytest.fixture(scope="module")
def sb() -> AlumioSandbox:
    return AlumioSandbox()


@pytest.fixture(scope="module")
def wide() -> AlumioSandbox:
    return AlumioSandbox(loopback_operators=True)


# --- auth and errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer nope"}, {"authorization": "demo-alumio-token"}])
def test_bearer_token_required(sb, headers):
    r = get(sb, "tasks", headers=headers)
    assert r.status == 401
    assert r.body["status"] == "401" and r.body["detail"] and r.body["violations"] == []


def test_problem_details_for_bad_filter_json(sb):
    r = get(sb, "tasks", "{not json")
    assert r.status == 400
    assert set(r.body) >= {"status", "title", "detail", "violations"}
    assert r.body["violations"][0]["propertyPath"] == "filter"


def test_wrong_value_type_is_400_with_violations(sb):
    r = get(sb, "tasks", {"where": {"createdAt": {"gte": "yesterday"}}})
    assert r.status == 400 and r.body["violations"][0]["propertyPath"] == "where.createdAt"
    assert get(sb, "queue/processes", {"where": {"priority": "3"}}).status == 400


@pytest.mark.parametrize("filt", [{"limit": -1}, {"skip": "2"}, {"limit": 1.5}, {"order": "createdAt sideways"}])
def test_bad_paging_or_order_is_400(sb, filt):
    assert get(sb, "tasks", filt).status == 400


def test_unknown_path_is_404(sb):
    assert get(sb, "nope").status == 404
    assert get(sb, "storages/nope/entities").status == 404


def test_rate_limit_answers_429_with_retry_after():
    sb = AlumioSandbox(rate_limit=1.0, burst=1)
    t = [0.0]
    sb.clock = lambda: t[0]

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=sb.transport(), base_url="http://x") as c:
            return [await c.get("/api/v1/users", headers={"Authorization": "Bearer demo-alumio-token"})
                    for _ in range(2)]

    first, second = asyncio.run(go())
    assert first.status_code == 200
    assert second.status_code == 429 and second.headers["Retry-After"] == "1"
    assert second.json()["status"] == "429"


# --- sample data --------------------------------------------------------------------------------------


def test_lists_report_total_count_of_all_matches(sb):
    body = ok(sb, "tasks", {"limit": 5})
    assert len(body["results"]) == 5 and body["metadata"]["totalCount"] == 720
    assert set(body["results"][0]) == {"identifier", "entityType", "entityData", "entityIdentifier", "status",
                                       "route", "createdAt", "updatedAt"}


def test_every_route_has_tasks_in_every_status(sb):
    routes = {r["identifier"] for r in ok(sb, "routes")["results"]}
    assert len(routes) == 8
    for route in routes:
        for status in TASK_STATUSES:
            body = ok(sb, "tasks", {"where": {"route": route, "status": status}, "limit": 1})
            assert body["metadata"]["totalCount"] > 0


def test_configurations_by_type_and_other_resources(sb):
    types = {c["type"] for c in ok(sb, "configurations")["results"]}
    assert {"incoming", "outgoing", "transformer", "route", "http-client", "storage"} <= types
    incoming = ok(sb, "configurations", {"where": {"type": "incoming"}})
    assert incoming["results"] and all(c["type"] == "incoming" for c in incoming["results"])
    assert ok(sb, "environment-variables")["metadata"]["totalCount"] == 12
    enc = ok(sb, "environment-variables", {"where": {"encrypted": True}})["results"]
    assert enc and all(v["value"] == "" for v in enc)
    assert ok(sb, "audit-trails")["metadata"]["totalCount"] == 160
    assert {"email", "roles"} == set(ok(sb, "users")["results"][0])
    procs = ok(sb, "queue/processes")["results"]
    assert {p["status"] for p in procs} >= {"scheduled", "running", "finished", "failed"}
    job = procs[0]["jobId"]
    assert idents(ok(sb, f"queue/jobs/{job}")) == [p["identifier"] for p in procs if p["jobId"] == job]


def test_task_statistics_add_up_to_the_tasks(sb):
    stats = ok(sb, "task-statistics")["results"]
    assert sum(sum(s[k] for k in TASK_STATUSES) for s in stats) == 720
    assert all(len(s["date"]) == 10 for s in stats)
    assert [s["date"] for s in stats] == sorted(s["date"] for s in stats)


# --- the filter ---------------------------------------------------------------------------------------


def test_confirmed_filter_from_the_reference_client(sb):
    # API-NOTES §2: the exact call of experius/Mage2-Module-Experius-AlumioLog
    body = ok(sb, "tasks", {"limit": 500, "skip": 0, "order": "updatedAt desc",
                            "where": {"updatedAt": {"gte": "2026-02-01T00:00:00.000Z"}, "route": "bol-orders-to-wms"}})
    got = body["results"]
    assert got and all(t["route"] == "bol-orders-to-wms" and t["updatedAt"] >= "2026-02-01" for t in got)
    stamps = [dt.datetime.fromisoformat(t["updatedAt"].replace("Z", "+00:00")) for t in got]
    assert stamps == sorted(stamps, reverse=True)


def test_dates_compare_as_instants(sb):
    # "Z" and ".000Z" and an offset are the same instant
    a = ok(sb, "tasks", {"where": {"createdAt": {"gte": "2026-02-10T00:00:00Z"}}})["metadata"]["totalCount"]
    b = ok(sb, "tasks", {"where": {"createdAt": {"gte": "2026-02-10T00:00:00.000Z"}}})["metadata"]["totalCount"]
    c = ok(sb, "tasks", {"where": {"createdAt": {"gte": "2026-02-10T01:00:00+01:00"}}})["metadata"]["totalCount"]
    assert a == b == c and 0 < a < 720


@pytest.mark.parametrize("filt", [
    {"where": {"nope": 1}}, {"where": {"route": "bol-orders-to-wms", "Route": "x"}}, {"order": "nope desc"},
    {"where": {"or": [{"status": "new"}]}},  # and/or are unknown columns when the wider set is off
    {"where": {"entityData.sku": "SKU-0001"}},
])  # fmt: skip
def test_unknown_where_or_order_column_gives_an_empty_list(sb, filt):
    body = ok(sb, "tasks", filt)
    assert body == {"metadata": {"totalCount": 0}, "results": []}


@pytest.mark.parametrize("op", ["gt", "lt", "lte", "neq", "inq", "nin", "like", "between"])
def test_wider_operators_are_a_400_when_off(sb, op):
    r = get(sb, "tasks", {"where": {"status": {op: "new"}}})
    assert r.status == 400 and op in r.body["detail"]


def test_wider_operators_when_on(wide):
    def n(where: dict[str, Any], path: str = "queue/processes") -> int:
        return ok(wide, path, {"where": where})["metadata"]["totalCount"]

    procs = ok(wide, "queue/processes")["results"]
    assert n({"priority": {"gt": 3}}) == sum(p["priority"] > 3 for p in procs)
    assert n({"priority": {"lte": 2}}) == sum(p["priority"] <= 2 for p in procs)
    assert n({"priority": {"between": [2, 4]}}) == sum(2 <= p["priority"] <= 4 for p in procs)
    assert n({"status": {"inq": ["failed", "killed"]}}) == sum(p["status"] in ("failed", "killed") for p in procs)
    # LoopBack memory connector: neq / nin also match NULL values
    assert n({"runTime": {"neq": 5}}) == sum(p["runTime"] != 5 for p in procs)
    assert n({"startedAt": None}) == sum(p["startedAt"] is None for p in procs) > 0
    assert n({"startedAt": {"neq": None}}) == sum(p["startedAt"] is not None for p in procs)
    assert n({"or": [{"status": "failed"}, {"priority": 1}]}) == sum(
        p["status"] == "failed" or p["priority"] == 1 for p in procs)
    assert n({"and": [{"priority": {"gte": 2}}, {"priority": {"lt": 4}}]}) == sum(2 <= p["priority"] < 4 for p in procs)
    assert n({"arguments": {"like": "--route=bol%"}}) == sum(p["arguments"].startswith("--route=bol") for p in procs)
    assert n({"arguments": {"like": "--ROUTE=bol%"}}) == 0  # case-sensitive
    assert n({"arguments": {"like": "bol%"}}) == 0  # anchored
    assert n({"and": [{"nope": 1}]}) == 0  # unknown columns inside and/or, too


def test_order_array_only_when_on(sb, wide):
    order = ["priority desc", "identifier asc"]
    assert get(sb, "queue/processes", {"order": order}).status == 400
    got = ok(wide, "queue/processes", {"order": order})["results"]
    assert got == sorted(got, key=lambda p: (-p["priority"], p["identifier"]))


def test_nulls_sort_lowest_and_ties_vary_between_pages(sb):
    asc = ok(sb, "queue/processes", {"order": "startedAt asc"})["results"]
    nulls = {p["identifier"] for p in asc if p["startedAt"] is None}
    assert {p["identifier"] for p in asc[: len(nulls)]} == nulls
    desc = ok(sb, "queue/processes", {"order": "startedAt desc"})["results"]
    assert {p["identifier"] for p in desc[-len(nulls):]} == nulls
    # skip paging over a non-unique sort key may repeat and drop rows (no order among ties) ...
    paged = [p["identifier"] for s in range(0, 140, 20)
             for p in ok(sb, "queue/processes", {"order": "status asc", "skip": s, "limit": 20})["results"]]
    assert len(set(paged)) < 140
    # ... a total order pages consistently; no order at all is the natural order
    paged = [p["identifier"] for s in range(0, 140, 20)
             for p in ok(sb, "queue/processes", {"order": "identifier asc", "skip": s, "limit": 20})["results"]]
    assert paged == sorted(paged) and len(set(paged)) == 140
    natural = [p["identifier"] for p in ok(sb, "queue/processes")["results"]]
    assert natural == [p["identifier"] for p in sb.rows["queue_processes"]]


def test_limit_is_clamped_and_skip_pages():
    sb = AlumioSandbox(max_limit=100)
    body = ok(sb, "tasks", {"limit": 500})
    assert len(body["results"]) == 100 and body["metadata"]["totalCount"] == 720
    every = [t for s in range(0, 720, 100) for t in idents(ok(sb, "tasks", {"skip": s, "limit": 100}))]
    assert len(every) == len(set(every)) == 720


# --- storages -----------------------------------------------------------------------------------------


def test_storage_metadata_and_entities_with_next_cursor(sb):
    storages = ok(sb, "storages")["results"]
    assert {s["identifier"] for s in storages} == {"product-hashes", "order-sync-state", "customer-map"}
    assert all(s["sizeInBytes"] > 0 for s in storages)
    seen: list[str] = []
    filt: dict[str, Any] = {"limit": 7}
    for _ in range(20):
        body = ok(sb, "storages/customer-map/entities", filt)
        assert body["metadata"]["totalCount"] == 40
        seen += idents(body)
        if "next" not in body:
            break
        assert isinstance(body["next"], list) and len(body["next"]) == 1
        filt = {"limit": 7, "next": body["next"]}
    assert seen == sorted(seen) and len(set(seen)) == 40
    r = sb.handle(Request("GET", "/api/v1/storages/customer-map/entity", [("entity", seen[0])], AUTH))
    assert r.status == 200 and set(r.body) == {"value", "updatedAt"}
    assert get(sb, "storages/customer-map/entities", {"next": ["garbage!"]}).status == 400


# --- load_table ---------------------------------------------------------------------------------------


def test_load_table_replaces_a_resource_with_any_arrow_table():
    sb = AlumioSandbox(sample_data=False)
    sb.load_table("tasks", pa.table({
        "identifier": ["a", "b", "c"], "status": ["new", None, "failed"],
        "createdAt": pa.array([dt.datetime(2026, 1, 1, 12, 0, 0, 123456), None, dt.datetime(2026, 1, 2)],
                              pa.timestamp("us", tz="UTC")),
        "weight": [1.5, 2.0, None], "tags": [["x"], [], None],
    }))  # fmt: skip
    body = ok(sb, "tasks")
    assert body["results"][0]["createdAt"] == "2026-01-01T12:00:00.123456Z"
    assert idents(ok(sb, "tasks", {"where": {"createdAt": {"gte": "2026-01-01T12:00:00.123Z"}}})) == ["a", "c"]
    assert idents(ok(sb, "tasks", {"where": {"weight": {"gte": 2}}})) == ["b"]
    assert idents(ok(sb, "tasks", {"where": {"tags": "x"}})) == ["a"]
    assert ok(sb, "tasks", {"where": {"route": "x"}})["results"] == []  # no longer a field


def test_load_table_fills_a_storage():
    sb = AlumioSandbox(sample_data=False)
    sb.load_table("my-store", pa.table({"identifier": ["k2", "k1"], "n": [2, 1]}))
    body = ok(sb, "storages/my-store/entities")
    assert body["results"][0]["identifier"] == "k1" and body["results"][0]["value"] == {"n": 1}


# --- switchable deployment differences ----------------------------------------------------------------


def test_case_insensitive_text_mode():
    sb = AlumioSandbox(case_insensitive_text=True, loopback_operators=True)
    users = ok(sb, "users", {"where": {"email": "frank.visser@acme.example  "}})
    assert idents(users, "email") == ["Frank.Visser@Acme.example"]  # case and trailing spaces ignored
    assert ok(sb, "users", {"where": {"email": {"like": "FRANK%"}}})["metadata"]["totalCount"] == 1
    n = ok(sb, "users", {"where": {"email": {"nin": ["FRANK.VISSER@ACME.EXAMPLE"]}}})["metadata"]["totalCount"]
    assert n == 5
    assert ok(AlumioSandbox(), "users", {"where": {"email": "frank.visser@acme.example"}})["results"] == []


def test_storage_listing_without_values_mode():
    sb = AlumioSandbox(list_values=False)
    body = ok(sb, "storages/customer-map/entities", {"limit": 2})
    assert [set(e) for e in body["results"]] == [{"identifier", "updatedAt"}] * 2


def test_admin_resources_have_the_seed_fields(sb):
    tokens = ok(sb, "tokens")
    assert tokens["metadata"]["totalCount"] == 4
    assert set(tokens["results"][0]) == {"identifier", "name", "createdAt", "createdBy", "description", "lastUsed"}
    assert any(t["lastUsed"] is None for t in tokens["results"])
    windows = ok(sb, "maintenance-windows", {"where": {"timezone": "Europe/Amsterdam"}, "order": "dateStart desc"})
    assert set(windows["results"][0]) == {"identifier", "dateStart", "dateEnd", "timezone", "createdAt"}
    starts = [w["dateStart"] for w in windows["results"]]
    assert len(starts) == 7 and all(w["dateEnd"] > w["dateStart"] for w in windows["results"])
    admins = ok(sb, "system-administrators")["results"]
    assert all(set(a) == {"email", "roles"} and a["roles"] == ["ROLE_SYSTEM_ADMINISTRATOR"] for a in admins)
