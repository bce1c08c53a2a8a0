"""``lowcode-sql probe`` on the command line, the guard below it, and one run over real HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib

import httpx
import pytest

from lowcode_sql.cli import main
from lowcode_sql.errors import RequestRefused
from lowcode_sql.fetch import loop
from lowcode_sql.probe.session import Guard
from lowcode_sql.sandbox.totalum import TotalumSandbox


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


class _Ok(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={})


def _send(guard: Guard, method: str, url: str) -> int:
    async def go() -> int:
        async with httpx.AsyncClient(transport=guard) as client:
            return (await client.request(method, url)).status_code

    return loop.run(go())


def test_the_guard_sends_reads_within_the_bound_only():
    guard = Guard(2)
    guard.wrap(_Ok())
    with pytest.raises(RequestRefused, match="reads only"):
        _send(guard, "DELETE", "http://h/api/v1/crud/client/1")
    with pytest.raises(RequestRefused, match="reads only"):
        _send(guard, "POST", "http://h/api/v1/crud/client")  # not rendered as a read query
    guard.allow("POST", "http://h/api/v1/crud/query/client")
    assert _send(guard, "POST", "http://h/api/v1/crud/query/client") == 200
    assert _send(guard, "GET", "http://h/x") == 200
    with pytest.raises(RequestRefused, match="bound of 2"):
        _send(guard, "GET", "http://h/x")
    assert guard.sent == [("POST", "/api/v1/crud/query/client"), ("GET", "/x")]


def test_probe_a_sandbox_variant_as_json(capsys):
    code, out, err = run(capsys, "probe", "--sandbox", "totalum", "--variant", "page_cap_20", "--json")
    assert code == 0, err
    doc = json.loads(out)  # nothing but the JSON document on stdout
    assert doc["platform"] == "totalum" and doc["requests"] <= 50
    assert {"check": "paging", "asks": "does a page asked from row k start at row k?", "requests": "1"} in doc["plan"]
    found = {f["check"]: f["result"] for f in doc["findings"]}
    assert found["page cap"] == "differs" and found["sort ascending"] == "confirmed"
    assert doc["options"]["page_size"] == 20
    assert tomllib.loads(doc["toml"])["sources"]["totalum"]["options"] == doc["options"]


def test_probe_prints_the_plan_before_the_findings(capsys):
    code, out, _ = run(capsys, "probe", "mine", "--sandbox", "entu", "--variant", "sort_ignored",
                       "--max-requests", "12")
    assert code == 0
    plan, _, rest = out.partition("probe of source 'mine' (entu)")
    assert plan.startswith("probe will send at most 12 requests") and "sort ascending (1)" in plan
    assert "[sources.mine.options]" in rest and "of at most 12 requests sent" in rest
    assert "over the bound" in rest  # 12 requests do not reach every check: those are listed as skipped


@pytest.mark.parametrize("argv, message", [
    (["probe"], "name the source to probe"),
    (["probe", "--sandbox", "totalum", "--variant", "nope"], "unknown variant 'nope'"),
    (["probe", "x", "--variant", "bare_array"], "--variant needs --sandbox"),
    (["probe", "--sandbox", "nosuch"], "nosuch"),
    (["probe", "--sandbox", "totalum", "--max-requests", "0"], "at least 1"),
])
def test_bad_usage_is_one_line(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 1 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_an_unknown_source_is_one_line(capsys, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[sources.crm]\nplatform = "coredata"\nsandbox = true\n')
    code, _, err = run(capsys, "probe", "cmr", "-c", str(cfg))
    assert code == 1 and "unknown source 'cmr'" in err and "crm" in err


def test_help_says_what_it_does(capsys):
    with pytest.raises(SystemExit):
        main(["probe", "--help"])
    out = capsys.readouterr().out
    text = " ".join(out.split())
    assert "Read-only" in text.replace("Read- only", "Read-only") and "--max-requests" in out and "--sandbox" in out


@pytest.mark.slow
def test_probe_over_real_http_with_a_config(tmp_path):
    """The console entry point against Totalum served over HTTP (sort ignored), key from the env."""
    sandbox = TotalumSandbox(variants=["sort_ignored"])
    key = sandbox.DEMO_CREDENTIALS["api_key"]
    with sandbox.serve() as server:
        cfg = tmp_path / "lowcode.toml"
        cfg.write_text(textwrap.dedent(f"""
            [sources.shop]
            platform = "totalum"
            base_url = "{server.url}"
            credentials = {{ api_key = "TL_KEY" }}
        """))
        env = {"TL_KEY": key, "PATH": "/usr/bin:/bin"}
        cmd = [sys.executable, "-m", "lowcode_sql.cli", "probe", "shop", "-c", str(cfg)]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "sort_pushdown = false" in done.stdout and key not in done.stdout
        lines = {line.split("|")[0].strip(): line.split("|")[1].strip()
                 for line in done.stdout.splitlines() if line.count("|") >= 2}
        assert lines["sort ascending"] == "differs" and lines["= case-sensitive"] == "confirmed"
        # counted by the server itself: within the bound, and reads only
        assert 0 < sandbox.stats.requests <= 50
        assert {e.method for e in sandbox.stats.log} <= {"GET", "POST"}
        assert all(e.path.startswith("/api/v1/crud/query/") or "aggregation-query" in e.path
                   for e in sandbox.stats.log if e.method == "POST")
        env["TL_KEY"] = "not-the-key-12345"
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
        assert done.returncode == 1 and "AuthError" in done.stderr
        assert "not-the-key-12345" not in done.stderr + done.stdout and "Traceback" not in done.stderr
