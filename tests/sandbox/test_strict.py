"""Strict mode (issue 13, ``lowcode_sql/sandbox/_base.py`` "Strict mode"): every emulator rejects, in its
platform's error shape, a request parameter, filter operator or body key its seed and notes do not
document, and accepts the documented ones. On in the tests (``tests/conftest.py``), so the whole suite
proves the dialects send only documented things; off for users of ``sandbox serve`` unless ``--strict``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pyarrow as pa
import pytest

from lowcode_sql.sandbox import get_sandbox
from lowcode_sql.sandbox._base import STRICT_ENV, Platform

Call = Callable[[httpx.Client], httpx.Response]


def client(sb: Platform) -> httpx.Client:
    return httpx.Client(transport=sb.sync_transport(), base_url="http://sandbox")


def _entu(c: httpx.Client) -> dict[str, str]:
    token = c.get("/api/auth", headers={"authorization": "Bearer demo-api-key"}).json()["token"]
    return {"authorization": f"Bearer {token}"}


def _slingr(c: httpx.Client) -> dict[str, str]:
    r = c.post("/auth/login", json={"email": "user@test.com", "password": "abcdefgh"})
    return {"token": r.json()["token"]}


TL = {"api-key": "demo-api-key"}
AL = {"authorization": "Bearer demo-alumio-token"}
CD = {"authorization": "apikey demo:demo-key"}


def _q(obj: Any) -> str:
    return json.dumps(obj)


#: platform -> (documented requests, undocumented requests); each a function of an httpx client
CASES: dict[str, tuple[list[Call], list[Call]]] = {
    "entu": (
        [lambda c: c.get("/api/demo/entity", params={"limit": "2", "skip": "1", "sort": "-name.string",
                                                        "props": "name", "q": "a", "name.string.regex": "/a/i",
                                                        "n.number.gte": "1", "n.number.in": "1,2",
                                                        "x.string.exists": "false"}, headers=_entu(c)),
         lambda c: c.get("/api/auth", params={"account": "demo"}, headers={"authorization": "Bearer demo-api-key"})],
        [lambda c: c.get("/api/demo/entity", params={"limit": "2", "offset": "1"}, headers=_entu(c)),
         lambda c: c.get("/api/demo/entity", params={"n.number.nin": "1"}, headers=_entu(c)),
         lambda c: c.get("/api/demo/entity", params={"a.b.c.d": "1"}, headers=_entu(c))],
    ),
    "totalum": (
        [lambda c: c.get("/api/v1/crud/things", params={"filter": _q([{"n": {"gte": 1, "lt": 5}},
                                                                     {"or": [{"s": "a"}, {"s": {"regex": "b",
                                                                                              "options": "i"}}]}]),
                                                        "sort[n]": "-1", "pagination[page]": "0",
                                                        "pagination[limit]": "2", "pagination[skip]": "1",
                                                        "returnCount": "true"}, headers=TL),
         lambda c: c.post("/api/v1/crud/query/things", json={"filter": [{"n": {"in": [1, 2]}}], "sort": {"n": 1},
                                                            "pagination": {"page": 0, "limit": 5},
                                                            "returnCount": True}, headers=TL)],
        [lambda c: c.get("/api/v1/crud/things", params={"offset": "2"}, headers=TL),
         lambda c: c.get("/api/v1/crud/things", params={"filter": _q([{"s": {"exists": True}}])}, headers=TL),
         lambda c: c.post("/api/v1/crud/query/things", json={"filter": [], "projection": {"n": 1}}, headers=TL),
         lambda c: c.post("/api/v1/crud/query/things", json={"pagination": {"page": 0, "size": 5}}, headers=TL)],
    ),
    "slingr": (
        [lambda c: c.get("/data/companies", params={"_size": "2", "_offset": "1", "_sortField": "name",
                                                    "_sortType": "asc", "_fields": "name",
                                                    "name": "like(a)"}, headers=_slingr(c))],
        [lambda c: c.get("/data/companies", params={"_limit": "2"}, headers=_slingr(c)),
         lambda c: c.get("/data/companies", params={"_count": "true"}, headers=_slingr(c))],
    ),
    "alumio": (
        [lambda c: c.get("/api/v1/tasks", params={"filter": _q({"where": {"status": "finished"},
                                                              "order": "createdAt desc", "limit": 2, "skip": 1})},
                         headers=AL)],
        [lambda c: c.get("/api/v1/tasks", params={"filter": _q({"limit": 2, "page": 1})}, headers=AL),
         lambda c: c.get("/api/v1/tasks", params={"filter": _q({"where": {}, "fields": ["identifier"]})}, headers=AL),
         lambda c: c.get("/api/v1/tasks", params={"limit": "2"}, headers=AL)],
    ),
    "coredata": (
        [lambda c: c.get("/api/v2/projects/", params={"limit": "2", "offset": "1", "title__startswith": "A"},
                         headers=CD)],
        [lambda c: c.get("/api/v2/projects/", params={"sync": "true"}, headers=CD)],
    ),
}


def sandbox(platform: str, strict: bool | None) -> Platform:
    sb = get_sandbox(platform, strict=strict)
    if platform == "totalum":
        sb.load_table("things", pa.table({"s": ["a", "B", None], "n": [1.0, 2.0, 3.0]}))
    return sb


@pytest.mark.parametrize("platform", sorted(CASES))
def test_strict_rejects_what_the_docs_do_not_document_and_accepts_what_they_do(platform):
    documented, undocumented = CASES[platform]
    strict, lenient = sandbox(platform, True), sandbox(platform, False)
    with client(strict) as c:
        for i, call in enumerate(documented):
            r = call(c)
            assert r.status_code == 200, (platform, i, r.text)
        for i, call in enumerate(undocumented):
            r = call(c)
            assert r.status_code == 400, (platform, i, r.status_code, r.text)
            assert r.json(), "the platform's own error body"
    with client(lenient) as c:
        for i, call in enumerate(undocumented):
            assert call(c).status_code == 200, (platform, i)


def test_strict_follows_the_environment_unless_given(monkeypatch):
    monkeypatch.setenv(STRICT_ENV, "1")
    assert get_sandbox("entu", sample_data=False).strict
    assert not get_sandbox("entu", sample_data=False, strict=False).strict
    monkeypatch.delenv(STRICT_ENV)
    assert not get_sandbox("entu", sample_data=False).strict  # a user's emulator: lenient
    assert get_sandbox("entu", sample_data=False, strict=True).strict


def test_the_test_suite_runs_strict():
    assert all(get_sandbox(p, sample_data=False).strict for p in CASES)
