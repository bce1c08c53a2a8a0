"""The lowcode-sql command line, config files and credentials handling."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

import lowcode_sql
from lowcode_sql.cli import main
from lowcode_sql.config import load_config
from lowcode_sql.errors import ConfigError
from lowcode_sql.sandbox.coredata import CoreDataSandbox
from tests.served import CD_ENV, coredata_config


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("query", "explain", "tables", "describe", "demo", "sandbox", "platforms"):
        assert cmd in out


def test_query_csv_and_json(capsys):
    code, out, _ = run(capsys, "query", "--demo", "-f", "csv",
                       "SELECT status, count(*) AS n FROM coredata.projects GROUP BY 1 ORDER BY 1")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sum(int(r["n"]) for r in rows) == 60
    code, out, _ = run(capsys, "query", "--demo", "-f", "json", "SELECT name, tags__all FROM entu.book LIMIT 2")
    rows = json.loads(out)  # issue 17: -f json is one JSON document (an array); -f jsonl is JSON Lines
    assert len(rows) == 2 and set(rows[0]) == {"name", "tags__all"}
    code, out, _ = run(capsys, "query", "--demo", "-f", "jsonl", "SELECT name, tags__all FROM entu.book LIMIT 2")
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 2 and set(lines[0]) == {"name", "tags__all"}


def test_query_parameters_and_stats(capsys):
    code, _, err = run(capsys, "query", "--demo", "-f", "csv", "--stats", "-p", '"2020-01-01"',
                         "SELECT count(*) AS n FROM coredata.tasks WHERE created >= ?")
    assert code == 0 and "coredata.tasks: count, 1 requests" in err
    # a text comparison is not answered from the API's total (lowcode_sql/plan: _compares_text)
    code, _, err = run(capsys, "query", "--demo", "-f", "csv", "--stats", "-p", '"A%"',
                       "SELECT count(*) AS n FROM coredata.tasks WHERE title LIKE ?")
    assert code == 0 and "coredata.tasks: count" not in err and "coredata.tasks:" in err


def test_explain_shows_split_and_request(capsys):
    code, out, _ = run(capsys, "explain", "--demo",
                       "SELECT id FROM coredata.projects WHERE title LIKE 'Bo%rd' AND status = 'x'")
    assert code == 0
    assert "superset: title LIKE 'Bo%rd'" in out and "local:    status = 'x'" in out
    assert "GET api/v2/projects/?title__startswith=Bo" in out
    assert "apikey" not in out and "demo-key" not in out


def test_tables_and_describe(capsys):
    code, out, _ = run(capsys, "tables", "--demo")
    assert code == 0
    assert "coredata.projects" in out and "entu.book" in out
    code, out, _ = run(capsys, "describe", "--demo", "entu.book")
    assert "tags__all\tVARCHAR[]" in out and "published\tDATE" in out


def test_errors_are_one_line_without_traceback(capsys):
    code, _, err = run(capsys, "query", "--demo", "SELECT * FROM coredata.projcts")
    assert code == 1 and "UnknownTable" in err and "did you mean" in err and "Traceback" not in err
    code, _, err = run(capsys, "query", "--demo", "SELEKT 1")
    assert code == 1 and "SQLSyntaxError" in err
    code, _, err = run(capsys, "query", "--demo", "DROP TABLE coredata.projects")
    assert code == 1 and "never writes" in err
    code, _, err = run(capsys, "query", "SELECT 1")
    assert code == 1 and "no sources configured" in err


def test_platforms_lists_options(capsys):
    code, out, _ = run(capsys, "platforms")
    assert code == 0 and "coredata" in out and "entu" in out and "single_valued" in out


def test_config_validation(tmp_path, monkeypatch):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[sources.crm]\nplatfrom = "coredata"\n')
    with pytest.raises(ConfigError, match="did you mean 'platform'"):
        load_config(cfg)
    cfg.write_text('[sources.crm]\nplatform = "coredata"\nbase_url = "http://x"\n'
                   'credentials = { user = "CD_USER", key = "CD_KEY" }\n')
    monkeypatch.delenv("CD_KEY", raising=False)
    monkeypatch.setenv("CD_USER", "u")
    with pytest.raises(ConfigError, match="CD_KEY"):
        load_config(cfg).sources[0].resolve_credentials()


@pytest.mark.slow
def test_real_http_with_toml_config_and_env_credentials(tmp_path):
    """The console entry point against a sandbox served over real HTTP, credentials from env."""
    sandbox = CoreDataSandbox()
    with sandbox.serve() as server:
        cfg = coredata_config(tmp_path / "lowcode.toml", server.url)
        env = {**CD_ENV, "PATH": "/usr/bin:/bin"}
        cmd = [sys.executable, "-m", "lowcode_sql.cli", "query", "-c", str(cfg), "-f", "csv",
               "SELECT count(*) AS n FROM crm.tasks"]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert list(csv.reader(io.StringIO(done.stdout))) == [["n"], ["400"]]
        env["CD_KEY"] = "not-the-key-123"
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
        assert done.returncode == 1 and "AuthError" in done.stderr
        assert "not-the-key-123" not in done.stderr and "Traceback" not in done.stderr


def test_explain_predicts_requests(capsys):
    code, out, _ = run(capsys, "explain", "--demo", "--count", "SELECT id FROM coredata.tasks")
    assert code == 0 and "requests: 1 (400 rows" in out
    code, out, _ = run(capsys, "explain", "--demo", "SELECT count(*) FROM coredata.tasks WHERE title = 'x'")
    assert "requests: 1" in out
    code, out, _ = run(capsys, "explain", "--demo", "SELECT id FROM coredata.tasks WHERE created < '2000-01-01' "
                       "AND created > '2001-01-01'")
    assert "requests: none" in out


def test_sandbox_variants_are_listed_and_checked(capsys):
    code, out, _ = run(capsys, "sandbox", "serve", "totalum", "--variant", "list")
    assert code == 0 and "bare_array: " in out and "page_cap_50: " in out
    code, _, err = run(capsys, "sandbox", "serve", "totalum", "--variant", "bare_arary")
    assert code != 0 and "unknown variant 'bare_arary'" in err and "bare_array" in err


@pytest.mark.slow
def test_sandbox_serve_with_variants_over_real_http(tmp_path):
    """``lowcode-sql sandbox serve totalum --variant bare_array --variant page_cap_50``: the emulator
    answers bare arrays of at most 50 rows, and a scan through it still returns every row."""
    cmd = [sys.executable, "-m", "lowcode_sql.cli", "sandbox", "serve", "totalum",
           "--variant", "bare_array", "--variant", "page_cap_50"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "variants: bare_array, page_cap_50" in line, line + (proc.stderr.read() if proc.poll() else "")
        url = line.split(" sandbox on ")[1].split()[0]
        import httpx

        page = httpx.get(f"{url}/api/v1/crud/order", params={"pagination[limit]": "200"},
                         headers={"api-key": "demo-api-key"}).json()
        assert isinstance(page, list) and len(page) == 50
        con = lowcode_sql.connect()
        con.add_source("tl", "totalum", base_url=url, secrets={"api_key": "demo-api-key"})
        assert con.sql('SELECT count(*) FROM (SELECT _id FROM tl."order")').fetchall() == [(240,)]
        con.close()
    finally:
        proc.terminate()
        proc.communicate(timeout=10)  # waits, and closes the pipes
