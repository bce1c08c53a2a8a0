"""Alumio end to end through the sandbox: request economy, bearer auth, faults, typed errors, the
storage cursor, JSON columns, and the rule that a column the API does not declare is never sent."""

from __future__ import annotations

import datetime as dt
import json
import random

import pyarrow as pa
import pytest

import lowcode_sql
from lowcode_sql.errors import APIError, AuthError, DialectError, LowcodeSQLError, UnknownColumn
from lowcode_sql.fetch.retry import RetryPolicy
from lowcode_sql.sandbox.alumio import SCHEMAS, AlumioSandbox
from tests.integration.e2e import TRANSIENT_FAULTS, check_retried, clean

TASKS = r"^/api/v1/tasks$"
OPTIONS = {"page_size": 100, "entity_fields": {"sku": "VARCHAR", "customer.email": "VARCHAR", "grandTotal": "DOUBLE"},
           "storage_schemas": {"customer-map": {"crmId": "VARCHAR", "erpId": "BIGINT"}}}


def connect(sandbox: AlumioSandbox, **options: object) -> lowcode_sql.Connection:
    con = lowcode_sql.connect()
    con.add_source("al", "alumio", sandbox=sandbox, options={**OPTIONS, **options})
    # the same number of attempts, with short, seeded back-offs: fast and deterministic
    con.catalog.source("al").runtime.retry = RetryPolicy(base_delay=0.01, rng=random.Random(0))
    con.tables()  # discovery (one storages listing), so tests count data requests only
    return con


def filters(sandbox: AlumioSandbox, path: str = TASKS) -> list[dict]:
    import re

    return [json.loads(dict(e.query).get("filter", "{}")) for e in sandbox.stats.log if re.search(path, e.path)]


@pytest.fixture(scope="module")
def shared() -> AlumioSandbox:
    return AlumioSandbox()


@pytest.fixture
def sandbox(shared):
    yield from clean(shared)


@pytest.fixture(scope="module")
def shared_con(shared):
    c = connect(shared)
    yield c
    c.close()


@pytest.fixture
def con(sandbox):
    c = connect(sandbox)
    sandbox.reset_stats()
    yield c
    c.close()


# --- request economy ----------------------------------------------------------------------------


def test_discovery_lists_the_storages_once(sandbox):
    with connect(sandbox) as c:
        assert sandbox.stats.count(r"^/api/v1/storages$") == 1
        names = {t for _, t, _ in c.tables("al")}
        assert {"storage_customer_map", "storage_product_hashes", "storage_order_sync_state", "tasks",
                "configurations_incoming"} <= names
    with connect(sandbox, storages=["customer-map"]) as c:
        assert sandbox.stats.count(r"^/api/v1/storages$") == 1  # the option names them: no listing
        assert "storage_product_hashes" not in {t for _, t, _ in c.tables("al")}


def test_count_star_is_one_request_from_total_count(shared_con, shared):
    """A COUNT(*) with text conditions reads and checks the rows by default (a total cannot be
    checked, and how the API compares text is inferred); count_from_total = true, once the user
    knows, answers it from metadata.totalCount in one request."""
    sql = "SELECT count(*) FROM al.tasks WHERE route = 'bol-orders-to-wms' AND status = 'failed'"
    want = sum(1 for t in shared.rows["tasks"] if t["route"] == "bol-orders-to-wms" and t["status"] == "failed")
    shared.reset_stats()
    assert shared_con.sql(sql).fetchall() == [(want,)]
    assert filters(shared)[0]["limit"] > 1  # rows, not a total
    con = connect(shared, count_from_total=True)
    try:
        shared.reset_stats()
        assert con.sql(sql).fetchall() == [(want,)] and shared.stats.requests == 1
        assert filters(shared)[0]["limit"] == 1
    finally:
        con.close()


def test_limit_on_exact_filter_is_one_request(shared_con, shared):
    shared.reset_stats()
    rows = shared_con.sql("SELECT identifier FROM al.tasks WHERE status = 'finished' LIMIT 5").fetchall()
    assert len(rows) == 5 and shared.stats.requests == 1
    assert filters(shared) == [{"where": {"status": "finished"}, "skip": 0, "limit": 5}]


def test_latest_tasks_is_the_reference_clients_one_request(shared_con, shared):
    # API-NOTES §2: the real client's call is where + "order": "updatedAt desc" + limit/skip
    shared.reset_stats()
    sql = ("SELECT identifier, updated_at FROM al.tasks WHERE route = 'bol-orders-to-wms' AND "
           "updated_at >= TIMESTAMPTZ '2026-02-01 00:00:00+00' ORDER BY updated_at DESC LIMIT 30")
    want = sorted((t["updatedAt"] for t in shared.rows["tasks"] if t["route"] == "bol-orders-to-wms"
                   and t["updatedAt"] >= dt.datetime(2026, 2, 1, tzinfo=dt.UTC)), reverse=True)[:30]
    where = {"route": "bol-orders-to-wms", "updatedAt": {"gte": "2026-02-01T00:00:00.000Z"}}
    # LoopBack's order is inferred (API-NOTES): a pushed sorted LIMIT needs a boundary check
    # (execute/verify.py) sent as exact filters on updatedAt, and timestamp ranges are a superset
    # here, so by default the sort stays local (one page of the matching rows);
    # sort_pushdown = "trusted" is the reference client's single call
    rows = shared_con.sql(sql).fetchall()
    assert [r[1] for r in rows] == want and len(want) == 30 and shared.stats.requests == 1
    assert "order" not in filters(shared)[0] and filters(shared)[0]["where"] == where
    trusted = connect(shared, sort_pushdown="trusted")
    try:
        shared.reset_stats()
        rows = trusted.sql(sql).fetchall()
    finally:
        trusted.close()
    assert [r[1] for r in rows] == want and shared.stats.requests == 1
    assert filters(shared) == [{"where": where, "order": "updatedAt desc", "skip": 0, "limit": 30}]
    shared.reset_stats()
    shared.reset_stats()  # more than one page (page_size 100): ties could move between pages, sorted locally
    shared_con.sql(sql.replace("LIMIT 30", "LIMIT 30 OFFSET 80")).fetchall()
    assert all("order" not in f for f in filters(shared))


def test_contradiction_makes_no_request(shared_con, shared):
    shared.reset_stats()
    assert len(shared_con.sql("SELECT identifier FROM al.tasks WHERE status = 'new' AND status = 'failed'")) == 0
    assert shared.stats.requests == 0


def test_superset_filter_is_rechecked_locally(shared_con, shared):
    shared.reset_stats()
    cut = sorted(t["createdAt"] for t in shared.rows["tasks"])[300]
    sql = f"SELECT identifier FROM al.tasks WHERE created_at > TIMESTAMPTZ '{cut.isoformat()}'"
    got = shared_con.sql(sql).fetchall()
    assert len(got) == sum(t["createdAt"] > cut for t in shared.rows["tasks"])
    assert "gte" in filters(shared)[0]["where"]["createdAt"]


def test_full_scan_pages_concurrently_with_skip_in_the_filter(sandbox):
    sandbox.latency = 0.05
    with connect(sandbox) as c:
        sandbox.reset_stats()
        r = c.sql("SELECT identifier FROM al.tasks")
        assert len(r) == 720 and len(set(r.arrow().column("identifier").to_pylist())) == 720
        pages = filters(sandbox)
        # later pages start one row early (the boundary check): 100 rows, then 99 new rows a page
        assert sorted(p["skip"] for p in pages) == [0, *range(99, 720, 99)]
        assert all(p["limit"] == min(100, 720 - p["skip"]) for p in pages)
        assert sandbox.stats.max_in_flight > 1


def test_server_page_cap_is_detected(con, sandbox):
    capped = AlumioSandbox(max_limit=60)
    with connect(capped) as c:
        capped.reset_stats()
        assert len(c.sql("SELECT identifier FROM al.tasks").fetchall()) == 720
        assert capped.stats.requests == 13  # 60 + 12 * 59 >= 720: the learnt stride, minus the overlap


def test_storage_entities_follow_the_next_cursor(sandbox):
    with connect(sandbox, page_size=7) as c:
        sandbox.reset_stats()
        rows = c.sql("SELECT identifier, crm_id, erp_id, value->>'$.email' AS email "
                     "FROM al.storage_customer_map ORDER BY identifier").fetchall()
        assert len(rows) == 40 and rows[0][0] == "customer0" and rows[0][3] == "customer0@mail.example"
        pages = filters(sandbox, r"/storages/customer-map/entities$")
        assert len(pages) == 6 and "next" not in pages[0] and all(len(p["next"]) == 1 for p in pages[1:])
        assert all("where" not in p for p in pages)  # no predicate pushdown into a storage
        sandbox.reset_stats()
        assert c.sql("SELECT count(*) FROM al.storage_customer_map").fetchall() == [(40,)]
        assert sandbox.stats.requests == 1


def test_json_columns_and_typed_nested_fields(shared_con):
    rows = shared_con.sql(
        "SELECT entity_data->>'$.incrementId', entity_data__customer__email, entity_data__grand_total "
        "FROM al.tasks WHERE route = 'magento-orders-to-erp' AND entity_data__grand_total > 100 LIMIT 5").fetchall()
    assert len(rows) == 5 and all(r[0].startswith("NL") and "@" in r[1] and r[2] > 100 for r in rows)


# --- the unknown-column rule ----------------------------------------------------------------------


def _sent_names(where: object) -> set[str]:
    out: set[str] = set()
    if isinstance(where, dict):
        for k, v in where.items():
            if k in ("and", "or"):
                for item in v:
                    out |= _sent_names(item)
            else:
                out.add(k)
    return out


@pytest.mark.parametrize("loopback", [False, True])
def test_a_column_the_api_does_not_declare_is_never_sent(loopback):
    sandbox = AlumioSandbox(loopback_operators=loopback)
    with connect(sandbox, loopback_operators=loopback) as c:
        queries = [
            "SELECT identifier FROM al.tasks WHERE entity_data__sku = 'SKU-0001'",
            "SELECT identifier FROM al.tasks WHERE entity_data__customer__email = 'x' OR status = 'new'",
            "SELECT identifier FROM al.tasks WHERE entity_data->>'$.sku' = 'SKU-0001' AND route = 'x'",
            "SELECT identifier FROM al.tasks WHERE entity_data IS NULL",
            "SELECT identifier FROM al.queue_processes WHERE list_contains(meta_flags, 'retry') AND priority >= 1",
            "SELECT identifier FROM al.queue_processes WHERE meta_flags IS NOT NULL ORDER BY created_at LIMIT 3",
            "SELECT identifier FROM al.configurations_incoming WHERE type = 'outgoing' OR object IS NULL",
            "SELECT email FROM al.users WHERE list_contains(roles, 'ROLE_USER')",
            "SELECT identifier FROM al.tasks ORDER BY entity_data__grand_total LIMIT 3",
        ]
        for sql in queries:
            sandbox.reset_stats()
            c.sql(sql).fetchall()
            for e in sandbox.stats.log:
                doc = json.loads(dict(e.query).get("filter", "{}"))
                resource = {"/api/v1/tasks": "tasks", "/api/v1/queue/processes": "queue_processes",
                            "/api/v1/configurations": "configurations", "/api/v1/users": "users"}[e.path]
                fields = set(SCHEMAS[resource])
                assert _sent_names(doc.get("where")) <= fields, (sql, doc)
                order = doc.get("order")
                for item in [order] if isinstance(order, str) else order or []:
                    assert item.split()[0] in fields, (sql, doc)
                assert not any(isinstance(v, dict) for v in [doc.get("where", {}).get("entityData")])


def test_the_dialect_agrees_with_the_sandbox_on_unknown_columns(sandbox):
    # what the rule protects against: the API answers an unknown column with an empty list, not an error
    from lowcode_sql.sandbox._base import Request

    r = sandbox.handle(Request("GET", "/api/v1/tasks", [("filter", '{"where":{"entityData.sku":"SKU-0001"}}')],
                               {"authorization": "Bearer demo-alumio-token"}))
    assert r.status == 200 and r.body["results"] == []


# --- auth and faults ------------------------------------------------------------------------------


def test_bearer_token_is_sent_and_never_leaks(sandbox):
    con = lowcode_sql.connect()
    con.add_source("al", "alumio", sandbox=sandbox, options={"storages": []}, secrets={"token": "wrong-token-123"})
    with pytest.raises(AuthError) as info:
        con.sql("SELECT count(*) FROM al.tasks")
    assert "wrong-token-123" not in str(info.value) and "wrong-token-123" not in repr(info.value)
    con.close()


@pytest.mark.parametrize("kind,kw", TRANSIENT_FAULTS)
def test_transient_faults_are_retried(con, sandbox, kind, kw):
    sql = "SELECT identifier, status FROM al.tasks WHERE created_at >= TIMESTAMPTZ '2026-01-01 00:00:00+00' ORDER BY 1"
    check_retried(con, sandbox, sql, TASKS, kind, kw)


def test_persistent_error_names_the_problem_detail(con, sandbox):
    sandbox.faults.add("status", path=TASKS, status=500, times=None, message="queue database unavailable")
    with pytest.raises(APIError, match="queue database unavailable") as info:
        con.sql("SELECT identifier FROM al.tasks")
    assert info.value.status == 500


def test_platform_400_is_an_api_error_with_its_detail():
    # a dialect configured for the wider operators against a deployment without them
    sandbox = AlumioSandbox(loopback_operators=False)
    with connect(sandbox, loopback_operators=True) as c:
        with pytest.raises(APIError, match='Unsupported operator "neq"') as info:
            c.sql("SELECT identifier FROM al.tasks WHERE status <> 'new'")
        assert info.value.status == 400


def test_unknown_column_is_helpful(shared_con):
    with pytest.raises(UnknownColumn, match="created_at"):
        shared_con.sql("SELECT createdat FROM al.tasks")


def test_sample_schema_types(shared_con):
    tasks = {c: t for c, t, _ in shared_con.describe("al.tasks")}
    assert tasks["created_at"] == "TIMESTAMP WITH TIME ZONE" and tasks["entity_data"] == "VARCHAR"
    procs = {c: t for c, t, _ in shared_con.describe("al.queue_processes")}
    assert procs["priority"] == "BIGINT" and procs["meta_flags"] == "VARCHAR[]"
    assert {c: t for c, t, _ in shared_con.describe("al.task_statistics")}["date"] == "DATE"


@pytest.mark.slow
def test_over_real_http(shared):
    with shared.serve() as server:
        con = lowcode_sql.connect({"sources": {"al": {
            "platform": "alumio", "base_url": server.url, "secrets": {"token": "demo-alumio-token"},
            "options": {"storages": ["customer-map"]}}}})
        assert con.sql("SELECT count(*) FROM al.storage_customer_map").fetchall() == [(40,)]
        assert con.sql("SELECT count(*) FROM al.tasks WHERE status = 'skipped'").fetchall()[0][0] > 0
        con.close()


def test_demo_includes_alumio():
    with lowcode_sql.connect_sandbox("alumio") as c:
        assert c.sql("SELECT count(DISTINCT route) FROM alumio.tasks").fetchall() == [(8,)]


# --- storage listings without values; discovery past one page ----------------------------------------


def test_a_storage_listing_without_values_is_an_error_not_nulls():
    # the seed's entity listing shows only identifier/updatedAt: if a deployment really omits the value,
    # reading it as NULL would be a wrong answer
    sandbox = AlumioSandbox(list_values=False)
    with connect(sandbox, storage_schemas={}) as c, pytest.raises(DialectError, match="storage_values = false"):
        c.sql("SELECT identifier, value FROM al.storage_customer_map").fetchall()
    with connect(sandbox, storage_schemas={}, storage_values=False) as c:
        assert [n for n, _, _ in c.describe("al.storage_customer_map")] == ["identifier", "updated_at"]
        rows = c.sql("SELECT identifier, updated_at FROM al.storage_customer_map ORDER BY 1").fetchall()
        assert len(rows) == 40 and all(r[1] is not None for r in rows)
    with pytest.raises(LowcodeSQLError, match="storage_values"):
        connect(sandbox, storage_values=False)  # storage_schemas needs the values


def test_discovery_pages_through_many_storages():
    sandbox = AlumioSandbox(sample_data=False, max_limit=50)
    for i in range(120):
        sandbox.load_table(f"store-{i:03d}", pa.table({"identifier": ["k"], "n": [i]}))
    with connect(sandbox, storage_schemas={}) as c:
        names = {t for _, t, _ in c.tables("al") if t.startswith("storage_")}
        assert len(names) == 120
        assert c.sql("SELECT value->>'$.n' FROM al.storage_store_119").fetchall() == [("119",)]


def test_configurations_by_type_fix_the_type_filter(shared_con, shared):
    incoming = sorted(c["identifier"] for c in shared.rows["configurations"] if c["type"] == "incoming")
    shared.reset_stats()
    got = shared_con.sql("SELECT identifier FROM al.configurations_incoming ORDER BY identifier DESC LIMIT 3")
    assert [r[0] for r in got.fetchall()] == incoming[::-1][:3] and shared.stats.requests == 1
    # the type filter is fixed; the sort stays local by default (a boundary check on a text key
    # cannot be sent exactly: execute/verify.py), so one page of that type is read
    assert filters(shared, r"/configurations$") == [{"where": {"type": "incoming"}, "skip": 0, "limit": 100}]
    # the table's own type filter takes the `type` key: another condition on it is checked locally
    count = "SELECT count(*) FROM al.configurations_incoming WHERE type = '{}'"
    assert shared_con.sql(count.format("outgoing")).fetchall() == [(0,)]
    assert shared_con.sql(count.format("incoming")).fetchall() == [(len(incoming),)]


def test_explain_and_errors_never_show_the_token(sandbox):
    con = lowcode_sql.connect()
    con.add_source("al", "alumio", sandbox=sandbox, options={"storages": []},
                   secrets={"token": "demo-alumio-token"})
    text = con.explain("SELECT identifier FROM al.tasks WHERE status = 'new' LIMIT 2")
    assert "demo-alumio-token" not in text and "Bearer" not in text
    sandbox.faults.add("status", path=TASKS, status=400, times=None, message="bad filter")
    with pytest.raises(APIError) as info:
        con.sql("SELECT identifier FROM al.tasks")
    assert "demo-alumio-token" not in str(info.value) and "bad filter" in str(info.value)
    con.close()


def test_typed_json_fields_are_null_where_an_entity_has_another_shape():
    # entityData differs per entity type: a path that does not resolve is NULL, not a failed scan
    sandbox = AlumioSandbox(sample_data=False)
    sandbox.load_table("tasks", pa.table({"identifier": ["a", "b", "c", "d", "e"], "status": ["new"] * 5}))
    shapes = [{"customer": "plain"}, {"customer": [{"email": "x"}]}, None, {"customer": {"email": 5}},
              {"customer": {"email": "e@x.example", "tags": ["vip"]}, "grandTotal": 12.5}]
    for row, data in zip(sandbox.rows["tasks"], shapes, strict=True):
        row["entityData"] = data
    sandbox.schemas["tasks"]["entityData"] = "J"
    sandbox.load_table("store", pa.table({"identifier": ["k1", "k2"], "crmId": ["C1", None]}))
    sandbox.storages["store"]["k2"] = ("just text", sandbox.storages["store"]["k2"][1])
    with connect(sandbox, storages=["store"], storage_schemas={"store": {"crmId": "VARCHAR"}},
                 entity_fields={"customer.email": "VARCHAR", "customer.tags": "VARCHAR", "grandTotal": "DOUBLE"}) as c:
        rows = c.sql("SELECT identifier, entity_data__customer__email, entity_data__customer__tags, "
                     "entity_data__grand_total FROM al.tasks ORDER BY 1").fetchall()
        assert rows == [("a", None, None, None), ("b", None, None, None), ("c", None, None, None),
                        ("d", "5", None, None), ("e", "e@x.example", '["vip"]', 12.5)]
        assert c.sql("SELECT identifier, crm_id FROM al.storage_store ORDER BY 1").fetchall() == [
            ("k1", "C1"), ("k2", None)]


def test_admin_tables(shared_con, shared):
    assert {c: t for c, t, _ in shared_con.describe("al.api_tokens")} == {
        "identifier": "VARCHAR", "name": "VARCHAR", "created_at": "TIMESTAMP WITH TIME ZONE", "created_by": "VARCHAR",
        "description": "VARCHAR", "last_used": "TIMESTAMP WITH TIME ZONE"}
    shared.reset_stats()
    unused = shared_con.sql("SELECT name FROM al.api_tokens WHERE last_used IS NULL").fetchall()
    assert unused == [("old-ci",)]
    shared.reset_stats()
    n = shared_con.sql("SELECT count(*) FROM al.maintenance_windows WHERE timezone = 'Europe/Amsterdam'").fetchall()
    assert n == [(7,)] and shared.stats.requests == 1
    admins = shared_con.sql("SELECT email FROM al.system_administrators WHERE list_contains(roles, "
                            "'ROLE_SYSTEM_ADMINISTRATOR') ORDER BY 1").fetchall()
    assert admins == [("anna.devries@acme.example",), ("ops@alumio.example",)]
