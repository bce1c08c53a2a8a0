"""Paging values placed in plain parameters, a JSON body, or a JSON-encoded query parameter."""

from __future__ import annotations

import json

import pytest

from lowcode_sql.types import CursorPaging, HttpRequest, OffsetPaging, ScanRequest


def test_plain_query_parameters():
    scan = ScanRequest(HttpRequest("GET", "x", (("a", "1"),)), OffsetPaging("offset", "limit", 50))
    assert scan.page_request(100, 50).params == (("a", "1"), ("offset", "100"), ("limit", "50"))


def test_json_body_with_nested_page_number():
    base = HttpRequest("POST", "q", json={"filter": [{"a": 1}], "pagination": {"x": True}})
    scan = ScanRequest(base, OffsetPaging("pagination.page", "pagination.limit", 50, page_number=True,
                                          container="body"))
    req = scan.page_request(100, 50)
    assert req.json == {"filter": [{"a": 1}], "pagination": {"x": True, "page": 2, "limit": 50}}
    assert base.json == {"filter": [{"a": 1}], "pagination": {"x": True}}  # the base is not mutated


def test_json_query_parameter_is_merged_or_added():
    base = HttpRequest("GET", "tasks", (("filter", '{"where":{"a":"x,y"}}'), ("z", "1")))
    scan = ScanRequest(base, OffsetPaging("skip", "limit", 500, container="filter"))
    req = scan.page_request(500, 500)
    assert [k for k, _ in req.params] == ["filter", "z"]
    assert json.loads(dict(req.params)["filter"]) == {"where": {"a": "x,y"}, "skip": 500, "limit": 500}
    bare = ScanRequest(HttpRequest("GET", "tasks"), OffsetPaging("skip", "limit", 10, container="filter"))
    assert json.loads(dict(bare.page_request(0, 10).params)["filter"]) == {"skip": 0, "limit": 10}


def test_cursor_in_json_body_keeps_its_type():
    scan = ScanRequest(HttpRequest("POST", "q", json={}), CursorPaging("next", "size", 10, container="body"))
    assert scan.page_request(0, 10).json == {"size": 10}
    assert scan.page_request(0, 10, {"after": 3}).json == {"size": 10, "next": {"after": 3}}


def test_page_numbers_count_in_pages_of_the_size_sent():
    # the API's first row is page * limit: rows 100..109 are page 10 of 10, not page 2 of 50
    scan = ScanRequest(HttpRequest("GET", "x"), OffsetPaging("page", "limit", 50, page_number=True))
    assert scan.page_request(100, 10).params == (("page", "10"), ("limit", "10"))
    assert scan.page_request(100, 50).params == (("page", "2"), ("limit", "50"))
    with pytest.raises(ValueError, match="cannot fetch 30 rows from row 100"):
        scan.page_request(100, 30)
