"""CoreData sandbox: behaviour from the seed (004) and API-NOTES §3 (django-tastypie).

Every filter is checked against a brute-force evaluation over the full collection, so the
expected results come from the data, not from the emulator's own filter code.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pyarrow as pa
import pytest

from lowcode_sql.sandbox._base import Request, Response
from lowcode_sql.sandbox.coredata import CoreDataSandbox

AUTH = {"authorization": "apikey demo:demo-key"}


@pytest.fixture(scope="module")
def sb() -> CoreDataSandbox:
    return CoreDataSandbox(strict=False)  # the emulator as a real server answers: lenient (strict: test_strict.py)


@pytest.fixture(scope="module")
def sb_order() -> CoreDataSandbox:
    return CoreDataSandbox(ordering=True, strict=False)


def call(
    sb: CoreDataSandbox,
    path: str,
    query: list[tuple[str, str]] | dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    method: str = "GET",
) -> Response:
    q = list(query.items()) if isinstance(query, dict) else list(query or [])
    return sb.handle(Request(method, path, q, dict(AUTH if headers is None else headers)))


def ok(sb: CoreDataSandbox, path: str, query: Any = None) -> dict[str, Any]:
    r = call(sb, path, query)
    assert r.status == 200, (r.status, r.body)
    return r.body


def everything(sb: CoreDataSandbox, res: str) -> list[dict[str, Any]]:
    body = ok(sb, f"/api/v2/{res}/", {"limit": "0"})
    assert body["meta"]["total_count"] == len(body["objects"])
    return body["objects"]


def ids(sb: CoreDataSandbox, res: str, query: Any) -> list[str]:
    q = list(query.items()) if isinstance(query, dict) else list(query)
    body = ok(sb, f"/api/v2/{res}/", [*q, ("limit", "0")])
    assert body["meta"]["total_count"] == len(body["objects"])
    return [o["id"] for o in body["objects"]]


def err(r: Response, status: int = 400) -> str:
    assert r.status == status, (r.status, r.body)
    return r.body["error"]


def ts(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


# --------------------------------------------------------------------------------------------
# Auth
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "apikey demo:wrong"},
        {"authorization": "apikey nobody:demo-key"},
        {"authorization": "apikey demo"},
        {"authorization": "Bearer demo:demo-key"},
        {"authorization": "apikey demo:demo-key extra"},
    ],
)
def test_unauthorized(sb: CoreDataSandbox, headers: dict[str, str]) -> None:
    r = call(sb, "/api/v2/projects/", headers=headers)
    assert r.status == 401
    assert r.body == {"error": "Unauthorized"}
    assert call(sb, f"/api/v2/projects/{everything(sb, 'projects')[0]['id']}/", headers=headers).status == 401


def test_auth_scheme_case_insensitive_and_query_params(sb: CoreDataSandbox) -> None:
    # tastypie's own spelling is "ApiKey user:key"; the seed writes "apikey".
    assert call(sb, "/api/v2/projects/", headers={"authorization": "ApiKey demo:demo-key"}).status == 200
    assert call(sb, "/api/v2/projects/", headers={"authorization": "APIKEY demo:demo-key"}).status == 200
    # tastypie ApiKeyAuthentication falls back to ?username=&api_key=
    r = call(sb, "/api/v2/projects/", {"username": "demo", "api_key": "demo-key"}, headers={})
    assert r.status == 200
    assert r.body["meta"]["next"] == "/api/v2/projects/?username=demo&api_key=demo-key&limit=20&offset=20"


def test_custom_users() -> None:
    s = CoreDataSandbox(users={"alice": "k1"}, sample_data=False)
    assert call(s, "/api/v2/projects/", headers={"authorization": "apikey alice:k1"}).status == 200
    assert call(s, "/api/v2/projects/").status == 401


# --------------------------------------------------------------------------------------------
# Sample data
# --------------------------------------------------------------------------------------------


def test_sample_data_shape(sb: CoreDataSandbox) -> None:
    counts = {res: len(everything(sb, res)) for res in ("spaces", "projects", "files", "contacts", "tasks")}
    assert counts == {"spaces": 5, "projects": 60, "files": 250, "contacts": 80, "tasks": 400}
    for res in counts:
        for o in everything(sb, res):
            assert uuid.UUID(o["id"])
            assert o["resource_uri"] == f"/api/v2/{res}/{o['id']}/"
            assert isinstance(ts(o["created"]), dt.datetime)
            assert o["modified"] is None or isinstance(ts(o["modified"]), dt.datetime)
            assert ts(o["created"]).tzinfo is None
            assert isinstance(o["tags"], list)
            assert "dynatype" in o
            assert list(o) == sorted(o)  # tastypie json.dumps(sort_keys=True)
    contacts = everything(sb, "contacts")
    assert all(isinstance(e["email"], str) for c in contacts for e in c["emails"])
    assert any(c["phones"] for c in contacts)
    assert any(c["identifier"] is None for c in contacts)
    files = everything(sb, "files")
    assert {"parent", "filename", "mime_type", "size"} <= set(files[0])
    assert "associated_contacts_id" not in files[0]  # hidden on files
    assert any(f["parent"] is None for f in files)
    tasks = everything(sb, "tasks")
    project_ids = {p["id"] for p in everything(sb, "projects")}
    assert all(t["project"]["id"] in project_ids for t in tasks)
    titles = {o["title"] for res in counts for o in everything(sb, res)}
    assert None in titles
    for needle in ("İ", "ß", "🚀", "東京", "é", "%", "_", "\\", "'", ","):
        assert any(t and needle in t for t in titles), needle
    assert any(t and t != t.strip() for t in titles)
    created = [o["created"] for o in tasks]
    assert len(set(created)) < len(created)  # exact duplicates
    assert any("." in c for c in created) and any("." not in c for c in created)
    years = {ts(c).year for c in created}
    assert min(years) == 2013 and max(years) == 2026
    assert any(o["modified"] is None for o in tasks)


def test_sample_data_deterministic() -> None:
    a, b, c = CoreDataSandbox(), CoreDataSandbox(), CoreDataSandbox(seed=7)
    assert everything(a, "tasks") == everything(b, "tasks")
    assert everything(a, "tasks") != everything(c, "tasks")


# --------------------------------------------------------------------------------------------
# Paging
# --------------------------------------------------------------------------------------------


def test_default_page(sb: CoreDataSandbox) -> None:
    body = ok(sb, "/api/v2/files/")
    assert list(body) == ["meta", "objects"]
    assert body["meta"] == {
        "limit": 20,
        "next": "/api/v2/files/?limit=20&offset=20",
        "offset": 0,
        "previous": None,
        "total_count": 250,
    }
    assert [o["id"] for o in body["objects"]] == [o["id"] for o in everything(sb, "files")[:20]]


def test_spaces_example_from_seed(sb: CoreDataSandbox) -> None:
    body = ok(sb, "/api/v2/spaces/", {"limit": "1", "offset": "1"})
    assert body["meta"]["next"] == "/api/v2/spaces/?limit=1&offset=2"
    assert body["meta"]["previous"] == "/api/v2/spaces/?limit=1&offset=0"
    assert len(body["objects"]) == 1


def test_limit_clamp_and_zero() -> None:
    s = CoreDataSandbox(max_limit=100)
    assert ok(s, "/api/v2/tasks/", {"limit": "0"})["meta"]["limit"] == 100
    body = ok(s, "/api/v2/tasks/", {"limit": "5000"})
    assert body["meta"]["limit"] == 100 and len(body["objects"]) == 100
    assert body["meta"]["next"] == "/api/v2/tasks/?limit=100&offset=100"
    # max_limit=0: no cap; limit=0 returns everything and the meta has no links (tastypie)
    s0 = CoreDataSandbox(max_limit=0)
    body = ok(s0, "/api/v2/tasks/", {"limit": "0"})
    assert len(body["objects"]) == 400 and "next" not in body["meta"] and "previous" not in body["meta"]


def test_previous_quirk_and_last_page(sb: CoreDataSandbox) -> None:
    # tastypie: previous is null whenever offset - limit < 0
    assert ok(sb, "/api/v2/projects/", {"offset": "5"})["meta"]["previous"] is None
    body = ok(sb, "/api/v2/projects/", {"offset": "50", "limit": "20"})
    assert body["meta"]["next"] is None
    assert body["meta"]["previous"] == "/api/v2/projects/?limit=20&offset=30"
    assert len(body["objects"]) == 10
    past = ok(sb, "/api/v2/projects/", {"offset": "600"})
    assert past["objects"] == [] and past["meta"]["total_count"] == 60 and past["meta"]["next"] is None


def test_walk_next_links_with_filter(sb: CoreDataSandbox) -> None:
    want = [f["id"] for f in everything(sb, "files") if f["created"] >= "2018"]
    got: list[str] = []
    path, query = "/api/v2/files/", [("created__gte", "2018-01-01"), ("limit", "7")]
    while True:
        body = ok(sb, path, query)
        got += [o["id"] for o in body["objects"]]
        nxt = body["meta"]["next"]
        if nxt is None:
            break
        assert nxt.startswith("/api/v2/files/?created__gte=2018-01-01&limit=7&offset=")
        path, qs = nxt.split("?")
        query = [tuple(kv.split("=")) for kv in qs.split("&")]
    assert got == want and len(want) > 7


def test_link_encoding_keeps_repeated_params(sb: CoreDataSandbox) -> None:
    body = ok(sb, "/api/v2/projects/", [("title__startswith", "a b&c"), ("limit", "1"), ("x", "1"), ("x", "2")])
    assert body["meta"]["next"] is None
    body = ok(sb, "/api/v2/projects/", [("x", "1"), ("limit", "1"), ("y", "é"), ("x", "2")])
    assert body["meta"]["next"] == "/api/v2/projects/?x=1&x=2&y=%C3%A9&limit=1&offset=1"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": "x"}, "Invalid limit 'x' provided. Please provide a positive integer."),
        ({"limit": "1.5"}, "Invalid limit '1.5' provided. Please provide a positive integer."),
        ({"limit": "-1"}, "Invalid limit '-1' provided. Please provide a positive integer >= 0."),
        ({"offset": "x"}, "Invalid offset 'x' provided. Please provide an integer."),
        ({"offset": "-3"}, "Invalid offset '-3' provided. Please provide a positive integer >= 0."),
    ],
)
def test_bad_paging(sb: CoreDataSandbox, query: dict[str, str], message: str) -> None:
    assert err(call(sb, "/api/v2/projects/", query)) == message


# --------------------------------------------------------------------------------------------
# Detail, routing
# --------------------------------------------------------------------------------------------


def test_detail(sb: CoreDataSandbox) -> None:
    for res in ("projects", "files", "contacts", "tasks", "spaces"):
        obj = everything(sb, res)[3]
        assert ok(sb, f"/api/v2/{res}/{obj['id']}/") == obj  # bare object, no meta
        assert ok(sb, f"/api/v2/{res}/{obj['id'].upper()}/") == obj
    r = call(sb, f"/api/v2/projects/{uuid.uuid4()}/")
    assert r.status == 404 and not r.body
    assert call(sb, "/api/v2/projects/not-a-uuid/").status == 404
    assert call(sb, "/api/v2/nothing/").status == 404


def test_routing(sb: CoreDataSandbox) -> None:
    r = call(sb, "/api/v2/projects", {"limit": "1"})
    assert r.status == 301 and r.headers["location"] == "/api/v2/projects/?limit=1"
    assert call(sb, "/api/v2/projects/", method="POST").status == 405
    top = ok(sb, "/api/v2/")
    assert top["projects"]["list_endpoint"] == "/api/v2/projects/"
    schema = ok(sb, "/api/v2/files/schema/")
    assert schema["default_limit"] == 20
    assert schema["filtering"]["parent"] == ["exact"]
    assert schema["ordering"] == []


# --------------------------------------------------------------------------------------------
# String filters
# --------------------------------------------------------------------------------------------

_CONVERTED = {"true", "True", "false", "False", "nil", "none", "None"}


@pytest.mark.parametrize("res", ["projects", "files", "contacts", "tasks"])
def test_title_exact_every_title(sb: CoreDataSandbox, res: str) -> None:
    objs = everything(sb, res)
    titles = {o["title"] for o in objs if o["title"] is not None and o["title"] not in _CONVERTED}
    assert len(titles) > 20
    for t in titles:
        want = [o["id"] for o in objs if o["title"] == t]
        assert ids(sb, res, {"title": t}) == want, t
        assert ids(sb, res, {"title__exact": t}) == want, t


@pytest.mark.parametrize("res", ["projects", "files", "contacts", "tasks"])
@pytest.mark.parametrize(
    "prefix",
    ["Board", "board", "Board meeting", " ", "100%", "100_", "100", "a_", "a%", "a", "back\\", "C:\\",
     "İ", "i", "I", "ß", "Stra", "🚀", "東京", "O'", "it'", "a,", "Caf", "CAF", "caf", "", "x&y=", "Ω", "ω"],
)  # fmt: skip
def test_title_startswith(sb: CoreDataSandbox, res: str, prefix: str) -> None:
    objs = everything(sb, res)
    want = [o["id"] for o in objs if o["title"] is not None and o["title"].startswith(prefix)]
    assert ids(sb, res, {"title__startswith": prefix}) == want


def test_startswith_is_literal_and_case_sensitive(sb: CoreDataSandbox) -> None:
    titles = {o["id"]: o["title"] for o in everything(sb, "projects")}
    got = {titles[i] for i in ids(sb, "projects", {"title__startswith": "a_"})}
    assert "a_b" in got and "axb" not in got  # "_" is not a wildcard
    got = {titles[i] for i in ids(sb, "projects", {"title__startswith": "Board"})}
    assert "Board meeting" in got and "board meeting" not in got and "  Board meeting" not in got
    # "" is LIKE '%': every non-null title
    assert len(ids(sb, "projects", {"title__startswith": ""})) == sum(t is not None for t in titles.values())


def test_tastypie_value_conversions(sb: CoreDataSandbox) -> None:
    for res in ("projects", "files", "contacts", "tasks"):
        objs = everything(sb, res)
        nulls = [o["id"] for o in objs if o["title"] is None]
        for word in ("None", "none", "nil"):  # -> None -> IS NULL
            assert ids(sb, res, {"title": word}) == nulls
        assert ids(sb, res, {"title": "true"}) == [o["id"] for o in objs if o["title"] == "True"]
        assert ids(sb, res, {"title": "false"}) == [o["id"] for o in objs if o["title"] == "False"]
        assert ids(sb, res, {"title": "null"}) == [o["id"] for o in objs if o["title"] == "null"]
        assert err(call(sb, f"/api/v2/{res}/", {"title__startswith": "None"})) == (
            "Invalid resource lookup data provided (mismatched type)."
        )
    assert any(o["title"] is None for o in everything(sb, "files"))


@pytest.mark.parametrize("res", ["contacts", "projects"])
def test_identifier(sb: CoreDataSandbox, res: str) -> None:
    objs = everything(sb, res)
    values = {o["identifier"] for o in objs if o["identifier"] is not None}
    assert any(o["identifier"] is None for o in objs)
    for v in values:
        assert ids(sb, res, {"identifier": v}) == [o["id"] for o in objs if o["identifier"] == v]
    for v in values:
        p = v[:4]
        want = [o["id"] for o in objs if o["identifier"] is not None and o["identifier"].startswith(p)]
        assert ids(sb, res, {"identifier__startswith": p}) == want
    assert ids(sb, res, {"identifier": ""}) == [o["id"] for o in objs if o["identifier"] == ""]


def test_identifier_not_on_files_or_tasks(sb: CoreDataSandbox) -> None:
    # files/tasks have no identifier field: tastypie ignores a parameter naming no field
    assert len(ids(sb, "files", {"identifier": "x"})) == 250
    s = CoreDataSandbox(strict=True)
    assert err(call(s, "/api/v2/files/", {"identifier": "x"})) == "The 'identifier' field does not allow filtering."


# --------------------------------------------------------------------------------------------
# parent / associated_contacts_id
# --------------------------------------------------------------------------------------------


def test_parent(sb: CoreDataSandbox) -> None:
    files = everything(sb, "files")
    parents = {f["parent"] for f in files if f["parent"]}
    assert len(parents) > 10
    for p in parents:
        want = [f["id"] for f in files if f["parent"] == p]
        assert ids(sb, "files", {"parent": p}) == want
        assert ids(sb, "files", {"parent": p.upper().replace("-", "")}) == want  # UUIDField forms
    assert ids(sb, "files", {"parent": "None"}) == [f["id"] for f in files if f["parent"] is None]
    assert ids(sb, "files", {"parent": str(uuid.uuid4())}) == []
    assert "not a valid UUID" in err(call(sb, "/api/v2/files/", {"parent": "folder-1"}))
    # projects have no parent field: ignored (tastypie), not a filter
    assert len(ids(sb, "projects", {"parent": str(uuid.uuid4())})) == 60


def test_associated_contacts(sb: CoreDataSandbox) -> None:
    contacts = everything(sb, "contacts")
    projects = everything(sb, "projects")
    tasks = everything(sb, "tasks")
    hits = 0
    for c in contacts:
        cid = c["id"]
        want = [p["id"] for p in projects if cid in p["associated_contacts_id"]]
        hits += bool(want)
        assert ids(sb, "projects", {"associated_contacts_id": cid}) == want
        assert ids(sb, "tasks", {"associated_contacts_id": cid}) == [
            t["id"] for t in tasks if cid in t["associated_contacts_id"]
        ]
        # seed "Filtering by Contact" [2]: /contacts/<id>/projects/ is the same list
        body = ok(sb, f"/api/v2/contacts/{cid}/projects/", {"limit": "0"})
        assert [o["id"] for o in body["objects"]] == want
        files = ids(sb, "files", {"associated_contacts_id": cid})
        body = ok(sb, f"/api/v2/contacts/{cid}/files/", {"limit": "0"})
        assert [o["id"] for o in body["objects"]] == files
    assert hits > 10
    assert any(ids(sb, "files", {"associated_contacts_id": c["id"]}) for c in contacts)
    assert ids(sb, "projects", {"associated_contacts_id": str(uuid.uuid4())}) == []
    assert "not a valid UUID" in err(call(sb, "/api/v2/projects/", {"associated_contacts_id": "123"}))
    assert call(sb, f"/api/v2/contacts/{uuid.uuid4()}/projects/").status == 404


def test_nested_next_link(sb: CoreDataSandbox) -> None:
    contacts = everything(sb, "contacts")
    best = max(contacts, key=lambda c: len(ids(sb, "tasks", {"associated_contacts_id": c["id"]})))
    body = ok(sb, f"/api/v2/contacts/{best['id']}/tasks/", {"limit": "1"})
    assert body["meta"]["next"] == f"/api/v2/contacts/{best['id']}/tasks/?limit=1&offset=1"


# --------------------------------------------------------------------------------------------
# Date filters
# --------------------------------------------------------------------------------------------


def _brute(objs: list[dict[str, Any]], name: str, op: str, a: dt.datetime, b: dt.datetime | None = None) -> list[str]:
    out = []
    for o in objs:
        v = ts(o[name])
        if v is None:
            continue
        if (
            (op == "exact" and v == a)
            or (op == "gt" and v > a)
            or (op == "gte" and v >= a)
            or (op == "lt" and v < a)
            or (op == "lte" and v <= a)
            or (op == "range" and b is not None and a <= v <= b)
        ):
            out.append(o["id"])
    return out


@pytest.mark.parametrize("res", ["projects", "files", "contacts", "tasks"])
@pytest.mark.parametrize("name", ["created", "modified"])
def test_date_filters_against_brute_force(sb: CoreDataSandbox, res: str, name: str) -> None:
    objs = everything(sb, res)
    values = sorted({o[name] for o in objs if o[name] is not None})
    picks = [values[0], values[len(values) // 3], values[len(values) // 2], values[-1]]
    picks += [v for v in values if "." in v][:2]
    for v in picks:
        a = ts(v)
        for op in ("gt", "gte", "lt", "lte"):
            assert ids(sb, res, {f"{name}__{op}": v}) == _brute(objs, name, op, a), (op, v)
        assert ids(sb, res, {name: v}) == _brute(objs, name, "exact", a)
        assert ids(sb, res, {f"{name}__exact": v}) == _brute(objs, name, "exact", a)
    lo, hi = picks[1], picks[2]
    assert ids(sb, res, {f"{name}__range": f"{lo},{hi}"}) == _brute(objs, name, "range", ts(lo), ts(hi))


def test_duplicates_and_range_inclusivity(sb: CoreDataSandbox) -> None:
    tasks = everything(sb, "tasks")
    from collections import Counter

    dup, n = Counter(t["created"] for t in tasks).most_common(1)[0]
    assert n > 1
    assert len(ids(sb, "tasks", {"created": dup})) == n
    both = ids(sb, "tasks", {"created__range": f"{dup},{dup}"})
    assert len(both) == n  # range includes both ends
    assert ids(sb, "tasks", [("created__gt", dup), ("created__lt", dup)]) == []
    lo, hi = "2015-01-01", "2016-06-30T12:00:00"
    rng = set(ids(sb, "tasks", {"created__range": f"{lo},{hi}"}))
    open_ = set(ids(sb, "tasks", [("created__gt", lo), ("created__lt", hi)]))
    closed = set(ids(sb, "tasks", [("created__gte", lo), ("created__lte", hi)]))
    assert rng == closed and open_ <= rng


def test_date_only_means_midnight(sb: CoreDataSandbox) -> None:
    tasks = everything(sb, "tasks")
    midnights = [t for t in tasks if t["created"].endswith("T00:00:00")]
    assert midnights
    day = midnights[0]["created"][:10]
    want = [t["id"] for t in tasks if t["created"] == f"{day}T00:00:00"]
    assert ids(sb, "tasks", {"created": day}) == want  # not "the whole day"
    assert ids(sb, "tasks", {"created__gte": day}) == ids(sb, "tasks", {"created__gte": f"{day}T00:00:00"})
    assert ids(sb, "tasks", {"created__gte": day}) == ids(sb, "tasks", {"created__gte": f"{day} 00:00"})


def test_microseconds_and_zone(sb: CoreDataSandbox) -> None:
    tasks = everything(sb, "tasks")
    micro = next(t["created"] for t in tasks if "." in t["created"])
    assert ids(sb, "tasks", {"created": micro}) == [t["id"] for t in tasks if t["created"] == micro]
    base = micro.split(".")[0]
    assert ids(sb, "tasks", {"created": base}) == [t["id"] for t in tasks if t["created"] == base]
    assert micro not in [t["created"] for t in tasks if t["id"] in ids(sb, "tasks", {"created__lte": base})]
    # seed examples use a trailing Z; naive values are UTC
    assert ids(sb, "tasks", {"created__gt": "2019-09-02T15:38:32Z"}) == ids(
        sb, "tasks", {"created__gt": "2019-09-02T15:38:32"}
    )
    assert ids(sb, "tasks", {"created__gt": "2019-09-02T17:38:32+02:00"}) == ids(
        sb, "tasks", {"created__gt": "2019-09-02T15:38:32"}
    )


def test_null_modified_never_matches(sb: CoreDataSandbox) -> None:
    tasks = everything(sb, "tasks")
    nulls = {t["id"] for t in tasks if t["modified"] is None}
    assert nulls
    seen = set(ids(sb, "tasks", {"modified__gte": "2000-01-01"})) | set(
        ids(sb, "tasks", {"modified__lt": "2000-01-01"})
    )
    assert seen.isdisjoint(nulls) and len(seen) == len(tasks) - len(nulls)
    assert set(ids(sb, "tasks", {"modified": "None"})) == nulls
    assert err(call(sb, "/api/v2/tasks/", {"modified__gt": "None"})) == (
        "Invalid resource lookup data provided (mismatched type)."
    )


@pytest.mark.parametrize(
    "query",
    [
        {"created": "yesterday"},
        {"created__gt": "2014-13-01"},
        {"created__gt": "2014-02-30T00:00:00"},
        {"created__lt": "17/09/2014"},
        {"created__gte": "2014-09-17T25:00:00"},
        {"created__gte": ""},
        {"modified__range": "2014-01-01"},
        {"modified__range": "2014-01-01,2015-01-01,2016-01-01"},
        {"modified__range": "2014-01-01,later"},
        {"created__gt": "true"},
    ],
)
def test_bad_date_values(sb: CoreDataSandbox, query: dict[str, str]) -> None:
    assert call(sb, "/api/v2/projects/", query).status == 400


def test_range_repeated_keys_concatenate(sb: CoreDataSandbox) -> None:
    # tastypie: range values = getlist(key), each split on commas
    want = ids(sb, "tasks", {"created__range": "2015-01-01,2016-01-01"})
    assert ids(sb, "tasks", [("created__range", "2015-01-01"), ("created__range", "2016-01-01")]) == want


# --------------------------------------------------------------------------------------------
# Combination, repetition, rejection
# --------------------------------------------------------------------------------------------


def test_filters_and_together(sb: CoreDataSandbox) -> None:
    files = everything(sb, "files")
    f = next(x for x in files if x["parent"] and x["title"])
    q = {"parent": f["parent"], "title__startswith": f["title"][:1], "created__gte": "2014-01-01"}
    want = [
        x["id"]
        for x in files
        if x["parent"] == f["parent"]
        and x["title"]
        and x["title"].startswith(f["title"][:1])
        and x["created"] >= "2014"
    ]
    assert ids(sb, "files", q) == want and f["id"] in want


def test_repeated_key_last_wins(sb: CoreDataSandbox) -> None:
    assert ids(sb, "projects", [("title", "Board"), ("title", "Board meeting")]) == ids(
        sb, "projects", {"title": "Board meeting"}
    )


def test_unknown_parameters_ignored(sb: CoreDataSandbox) -> None:
    # tastypie build_filters skips names that are no field; the koddsson client always sends sync=true
    assert len(ids(sb, "projects", {"sync": "true", "foo__bar": "1", "format": "json"})) == 60


@pytest.mark.parametrize(
    ("res", "query", "message"),
    [
        ("projects", {"description": "x"}, "The 'description' field does not allow filtering."),
        ("projects", {"id": "x"}, "The 'id' field does not allow filtering."),
        ("projects", {"status__startswith": "x"}, "The 'status' field does not allow filtering."),
        ("spaces", {"title": "x"}, "The 'title' field does not allow filtering."),
        ("projects", {"title__contains": "x"}, "'contains' is not an allowed filter on the 'title' field."),
        ("projects", {"title__istartswith": "x"}, "'istartswith' is not an allowed filter on the 'title' field."),
        ("projects", {"title__in": "a,b"}, "'in' is not an allowed filter on the 'title' field."),
        ("projects", {"title__gt": "a"}, "'gt' is not an allowed filter on the 'title' field."),
        ("projects", {"created__year": "2014"}, "'year' is not an allowed filter on the 'created' field."),
        ("projects", {"created__isnull": "true"}, "'isnull' is not an allowed filter on the 'created' field."),
        ("projects", {"title__foo": "x"}, "The 'title' field does not support relations."),
        ("files", {"parent__startswith": "x"}, "'startswith' is not an allowed filter on the 'parent' field."),
        ("contacts", {"associated_contacts_id": str(uuid.UUID(int=1))}, None),
    ],
)
def test_rejected_filters(sb: CoreDataSandbox, res: str, query: dict[str, str], message: str | None) -> None:
    r = call(sb, f"/api/v2/{res}/", query)
    if message is None:  # contacts have no associated_contacts_id field: ignored
        assert r.status == 200 and r.body["meta"]["total_count"] == 80
    else:
        assert err(r) == message


# --------------------------------------------------------------------------------------------
# Ordering
# --------------------------------------------------------------------------------------------


def test_ordering_disabled(sb: CoreDataSandbox) -> None:
    assert err(call(sb, "/api/v2/projects/", {"order_by": "title"})) == "The 'title' field does not allow ordering."


def _pg_sorted(objs: list[dict[str, Any]], keys: list[str]) -> list[str]:
    out = list(objs)
    for k in reversed(keys):
        name, desc = (k[1:], True) if k.startswith("-") else (k, False)
        conv = ts if name in ("created", "modified") else (lambda v: v)
        nonnull = [o for o in out if o[name] is not None]
        nulls = [o for o in out if o[name] is None]
        nonnull.sort(key=lambda o, n=name, c=conv: c(o[n]), reverse=desc)
        out = nulls + nonnull if desc else nonnull + nulls
    return [o["id"] for o in out]


@pytest.mark.parametrize("res", ["projects", "contacts", "files", "tasks"])
@pytest.mark.parametrize(
    "keys",
    [["title"], ["-title"], ["created"], ["-created"], ["modified"], ["-modified"], ["title", "-created"],
     ["-modified", "title"]],
)  # fmt: skip
def test_ordering(sb_order: CoreDataSandbox, res: str, keys: list[str]) -> None:
    objs = everything(sb_order, res)
    got = ids(sb_order, res, [("order_by", k) for k in keys])
    assert got == _pg_sorted(objs, keys)


def test_ordering_nulls_and_ties(sb_order: CoreDataSandbox) -> None:
    objs = {o["id"]: o for o in everything(sb_order, "files")}
    asc = [objs[i]["title"] for i in ids(sb_order, "files", {"order_by": "title"})]
    desc = [objs[i]["title"] for i in ids(sb_order, "files", {"order_by": "-title"})]
    assert asc[-1] is None and desc[0] is None  # PostgreSQL: NULLS LAST asc, FIRST desc
    ties = [i for i in ids(sb_order, "files", {"order_by": "title"}) if objs[i]["title"] == "Board meeting"]
    assert len(ties) > 1 and ties == [i for i in objs if objs[i]["title"] == "Board meeting"]  # insertion order
    # code point order: "Z" < "a" < "É"
    asc_nn = [t for t in asc if t is not None]
    assert asc_nn == sorted(asc_nn)


def test_ordering_identifier_and_errors(sb_order: CoreDataSandbox) -> None:
    objs = everything(sb_order, "contacts")
    assert ids(sb_order, "contacts", {"order_by": "-identifier"}) == _pg_sorted(objs, ["-identifier"])
    assert err(call(sb_order, "/api/v2/files/", {"order_by": "identifier"})) == (
        "No matching 'identifier' field for ordering on."
    )
    assert err(call(sb_order, "/api/v2/files/", {"order_by": "size"})) == "The 'size' field does not allow ordering."
    assert err(call(sb_order, "/api/v2/files/", {"order_by": "nope"})) == "No matching 'nope' field for ordering on."
    body = ok(sb_order, "/api/v2/files/", [("order_by", "title"), ("limit", "5")])
    assert body["meta"]["next"] == "/api/v2/files/?order_by=title&limit=5&offset=5"


# --------------------------------------------------------------------------------------------
# load_table
# --------------------------------------------------------------------------------------------


def test_load_table_known_resource_round_trip() -> None:
    s = CoreDataSandbox(sample_data=False, ordering=True)
    assert ok(s, "/api/v2/projects/")["meta"]["total_count"] == 0
    table = pa.table(
        {
            "title": ["Alpha", "Beta", None, "Alpha"],
            "identifier": ["2014-1", "2014-2", "2015-1", None],
            "created": pa.array(
                [
                    dt.datetime(2014, 9, 17, 15, 26, 1),
                    dt.datetime(2014, 9, 17, 15, 26, 1, 500),
                    dt.datetime(2020, 1, 1),
                    dt.datetime(2013, 5, 5, 5, 5, 5),
                ],
                pa.timestamp("us"),
            ),
            "modified": pa.array([None, dt.datetime(2015, 1, 1), dt.datetime(2016, 1, 1), None], pa.timestamp("ms")),
            "due": pa.array([dt.date(2020, 2, 29), None, None, None], pa.date32()),
            "size": [1, 2, 3, None],
            "tags": [["a", "b"], [], None, ["c"]],
        }
    )
    s.load_table("projects", table, unchecked=True)  # "due", "size": HTTP-level checks
    objs = everything(s, "projects")
    assert [o["title"] for o in objs] == ["Alpha", "Beta", None, "Alpha"]
    assert objs[0]["created"] == "2014-09-17T15:26:01"
    assert objs[1]["created"] == "2014-09-17T15:26:01.000500"
    assert objs[0]["modified"] is None and objs[1]["modified"] == "2015-01-01T00:00:00"
    assert objs[0]["due"] == "2020-02-29" and objs[0]["tags"] == ["a", "b"]
    for o in objs:
        assert uuid.UUID(o["id"]).version == 5
        assert o["resource_uri"] == f"/api/v2/projects/{o['id']}/"
        assert ok(s, f"/api/v2/projects/{o['id']}/") == o
    # ids are deterministic from the seed
    s2 = CoreDataSandbox(sample_data=False)
    s2.load_table("projects", table, unchecked=True)
    assert [o["id"] for o in everything(s2, "projects")] == [o["id"] for o in objs]
    # datetime comparison, not string comparison ("...01" vs "...01.000500")
    assert ids(s, "projects", {"created": "2014-09-17T15:26:01"}) == [objs[0]["id"]]
    assert ids(s, "projects", {"created__gt": "2014-09-17T15:26:01"}) == [objs[1]["id"], objs[2]["id"]]
    assert ids(s, "projects", {"created__range": "2014-09-17,2014-09-17T15:26:01.0005"}) == [
        objs[0]["id"],
        objs[1]["id"],
    ]
    assert ids(s, "projects", {"modified__lt": "2030-01-01"}) == [objs[1]["id"], objs[2]["id"]]
    assert ids(s, "projects", {"title": "Alpha"}) == [objs[0]["id"], objs[3]["id"]]
    assert ids(s, "projects", {"identifier__startswith": "2014"}) == [objs[0]["id"], objs[1]["id"]]
    assert err(call(s, "/api/v2/projects/", {"size": "1"})) == "The 'size' field does not allow filtering."
    assert ids(s, "projects", {"order_by": "-identifier"}) == [
        objs[3]["id"],
        objs[2]["id"],
        objs[1]["id"],
        objs[0]["id"],
    ]


def test_load_table_custom_resource_and_ids() -> None:
    s = CoreDataSandbox(sample_data=False)
    table = pa.table(
        {
            "id": ["b", "a"],
            "score": pa.array([1.5, None]),
            "when": pa.array(
                [dt.datetime(2020, 1, 1, 12, tzinfo=dt.UTC), dt.datetime(2020, 1, 2)], pa.timestamp("us", "UTC")
            ),
            "n": [10, 20],
        }
    )
    s.load_table("widgets", table, unchecked=True, filtering={"when": ["gt", "lt"], "n": ["exact"]})
    objs = everything(s, "widgets")
    assert [o["id"] for o in objs] == ["b", "a"]
    assert objs[0]["when"] == "2020-01-01T12:00:00"
    assert objs[0]["resource_uri"] == "/api/v2/widgets/b/"
    assert ok(s, "/api/v2/widgets/a/")["n"] == 20
    assert ids(s, "widgets", {"when__gt": "2020-01-01T12:00:00"}) == ["a"]
    assert ids(s, "widgets", {"n": "20"}) == ["a"]
    assert err(call(s, "/api/v2/widgets/", {"n": "x"})) == "Invalid resource lookup data provided (mismatched type)."
    assert err(call(s, "/api/v2/widgets/", {"score": "1"})) == "The 'score' field does not allow filtering."
    assert err(call(s, "/api/v2/widgets/", {"when__gte": "2020-01-01"})) == (
        "'gte' is not an allowed filter on the 'when' field."
    )
    # replacing a table replaces its rows
    s.load_table("widgets", table.slice(0, 1), unchecked=True)
    assert len(everything(s, "widgets")) == 1
