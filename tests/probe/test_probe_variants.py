"""Issue 13 §3: ``lowcode-sql probe`` names each emulator variant's behaviour.

For every platform's default emulator and every variant (``Platform.VARIANTS``), the probe runs
in-process and must say *differs* exactly on the checks the variant changes (and nowhere else),
justify the source options that cope with it, stay within its request bound (counted at the
transport, below the probe's own counter) and send reads only."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import httpx
import pytest

import dialect
from lowcode_sql.config import source_from_mapping
from lowcode_sql.probe import Report, probe
from lowcode_sql.sandbox import get_sandbox, names

SORTS = {"sort ascending", "sort descending", "NULL order"}
#: (platform, variant) -> the checks that must say "differs" (every other one must not)
DIFFERS: dict[tuple[str, str | None], set[str]] = {
    ("totalum", None): set(),
    ("totalum", "aggregation_cap_20"): {"aggregate"},
    ("totalum", "bare_array"): {"answer shape", "totals"},
    ("totalum", "case_insensitive_eq"): {"= case-sensitive"},
    ("totalum", "ignore_pagination"): {"page cap", "paging", "skip"},
    ("totalum", "ignore_skip"): {"skip"},
    ("totalum", "nulls_last"): {"NULL order"},
    ("totalum", "page_cap_20"): {"page cap"},
    ("totalum", "page_cap_50"): {"page cap"},
    ("totalum", "sort_ignored"): SORTS,
    ("entu", None): set(),
    ("entu", "sort_ignored"): SORTS,
    # the emulator's like() ignores case (docs/notes/slingr-api.md leaves it open): the default says so
    ("slingr", None): {"LIKE case-sensitive"},
    ("slingr", "list_without_offset"): {"LIKE case-sensitive", "answer shape"},
    ("slingr", "sort_ignored"): {"LIKE case-sensitive"} | SORTS,
    ("alumio", None): set(),
    ("alumio", "case_insensitive_eq"): {"= case-sensitive"},
    ("alumio", "queue_path_dashed"): {"tables", "table queue_processes"},
    ("alumio", "storages_403"): {"discovery", "tables", "table storages"},
    ("alumio", "storages_404"): {"discovery", "tables", "table storages"},
    ("alumio", "timestamps_as_strings"): {"timestamps as instants"},
    # the emulator refuses tastypie's order_by (unconfirmed, opt-in): the probe tries it and says so
    ("coredata", None): SORTS,
    ("coredata", "ignore_unknown_filters"): {"impossible filter [identifier]"} | SORTS,
}
#: (platform, variant) -> options the TOML snippet must hold (None: must not hold the option)
OPTIONS: dict[tuple[str, str | None], dict[str, Any]] = {
    ("totalum", None): {"aggregate": True, "in_operator": True, "sort_pushdown": None, "local_filters": None},
    ("totalum", "aggregation_cap_20"): {"aggregate": None},
    ("totalum", "case_insensitive_eq"): {"local_filters": ["name"]},
    ("totalum", "ignore_pagination"): {"drift_check": None},
    ("totalum", "ignore_skip"): {"drift_check": False},
    ("totalum", "nulls_last"): {"sort_pushdown": False},
    ("totalum", "page_cap_20"): {"page_size": 20},
    ("totalum", "page_cap_50"): {"page_size": 50},
    ("totalum", "sort_ignored"): {"sort_pushdown": False},
    ("entu", None): {"sort_pushdown": None},
    ("entu", "sort_ignored"): {"sort_pushdown": False},
    ("slingr", None): {"like_case": "insensitive", "sort_pushdown": None},
    ("slingr", "sort_ignored"): {"sort_pushdown": False},
    ("alumio", None): {"case_insensitive_text": None},
    ("alumio", "case_insensitive_eq"): {"case_insensitive_text": True},
    ("coredata", None): {"project_identifier": True, "order_by": None},
    ("coredata", "ignore_unknown_filters"): {"project_identifier": None, "local_filters": None},
}
#: requests that are reads although not GET: logins and the queries dialects send by POST/PUT
READS = re.compile(r"^(POST /auth/login|POST /api/v1/crud/query/\w+|POST /api/v1/filter/custom-mongo-aggregation-query"
                   r"|PUT /data/\w+/aggregate)$")
MATRIX = [(p, v) for p in names() for v in [None, *sorted(type(get_sandbox(p, sample_data=False)).VARIANTS)]]


class Recorder(httpx.AsyncBaseTransport):
    """What reaches the emulator: below the probe's guard, so it counts what was really sent."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        return await self.inner.handle_async_request(request)


def run(platform: str, variant: str | None, max_requests: int = 50, **settings: Any) -> tuple[Report, Recorder]:
    sandbox = get_sandbox(platform, variants=[variant] if variant else [], **settings)
    recorder = Recorder(sandbox.transport())
    sandbox.transport = lambda: recorder  # type: ignore[method-assign]
    sc = source_from_mapping(platform, {"platform": platform, "sandbox": True})
    return probe(sc, sandbox, max_requests=max_requests), recorder


def test_every_variant_has_an_expectation():
    assert set(DIFFERS) == set(MATRIX)


@pytest.mark.parametrize("platform,variant", MATRIX, ids=[f"{p}-{v or 'default'}" for p, v in MATRIX])
def test_the_probe_names_the_variant(platform, variant):
    report, recorder = run(platform, variant)
    differs = {f.check for f in report.findings if f.result == "differs"}
    assert differs == DIFFERS[(platform, variant)], report.text()
    assert report.result("sample") == "confirmed"
    # every check ran (nothing skipped for the bound at the default 50)
    assert not [f for f in report.findings if f.evidence.startswith("over the bound")], report.text()
    opts = report.options()
    for name, value in OPTIONS.get((platform, variant), {}).items():
        assert opts.get(name) == value, (name, report.toml())
    # the snippet is TOML the config reads, with options the dialect accepts
    parsed = tomllib.loads(report.toml())["sources"][platform]["options"]
    assert parsed == opts
    dialect.get(platform)({**get_sandbox(platform, sample_data=False).DEMO_OPTIONS, **opts})
    # bounded, counted at the transport, reads only
    assert len(recorder.seen) == report.requests <= 50
    assert all(r.startswith("GET ") or READS.match(r) for r in recorder.seen), recorder.seen
    # no credential in what is printed
    text = report.text() + report.json()
    for secret in get_sandbox(platform, sample_data=False).DEMO_CREDENTIALS.values():
        if len(secret) >= 8:
            assert secret not in text


#: variants together: a page cap or ignored paging without a total (the cap is then told by asking on)
COMBINED = {
    ("bare_array", "page_cap_50"): ({"answer shape", "totals", "page cap"}, {"page_size": 50}),
    ("bare_array", "ignore_pagination"): ({"answer shape", "totals", "paging", "skip"}, {"drift_check": None}),
    ("bare_array", "aggregation_cap_20"): ({"answer shape", "totals", "aggregate"}, {"aggregate": None}),
    ("bare_array", "ignore_skip"): ({"answer shape", "totals", "skip"}, {"aggregate": True, "drift_check": False}),
}


@pytest.mark.parametrize("variants", sorted(COMBINED))
def test_combined_totalum_variants(variants):
    sandbox = get_sandbox("totalum", variants=list(variants))
    report = probe(source_from_mapping("tl", {"platform": "totalum", "sandbox": True}), sandbox)
    differs, options = COMBINED[variants]
    assert {f.check for f in report.findings if f.result == "differs"} == differs, report.text()
    for name, value in options.items():
        assert report.options().get(name) == value, (name, report.toml())


def test_slingr_like_case_sensitive_is_confirmed():
    report, _ = run("slingr", None, like_case_insensitive=False)
    assert report.result("LIKE case-sensitive") == "confirmed"
    assert report.options().get("like_case") == "sensitive"


@pytest.mark.parametrize("platform", names())
@pytest.mark.parametrize("bound", [1, 4, 9])
def test_a_small_bound_is_never_passed(platform, bound):
    report, recorder = run(platform, None, max_requests=bound)
    assert len(recorder.seen) == report.requests <= bound
    skipped = [f for f in report.findings if f.result == "skipped"]
    assert skipped and any("bound" in f.evidence for f in skipped), report.text()
