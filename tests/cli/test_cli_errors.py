"""Issue 17 §2: the CLI never shows a traceback, and does what a user means."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pyarrow.parquet as pq
import pytest

from lowcode_sql import cli
from lowcode_sql.cli import main
from lowcode_sql.sandbox.coredata import CoreDataSandbox
from lowcode_sql.secrets import register
from tests.served import CD_ENV, coredata_config


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str, kind: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"lowcode-sql: {kind}: "), err
    assert "Traceback" not in err
    return lines[0]


def test_output_into_a_missing_directory_is_one_line(capsys, tmp_path):
    code, out, err = run(capsys, "query", "--demo", "-o", str(tmp_path / "nope" / "x.csv"), "SELECT 1 AS a")
    assert code == 1 and out == ""
    assert "does not exist" in one_error_line(err, "ConfigError")


def test_a_reader_that_leaves_ends_the_command_quietly():
    # `lowcode-sql query ... | head -1`: the pipe closes under the writer; no error line, and the
    # status a shell shows for a command SIGPIPE ended (128 + 13), in the command's own process
    env = {**os.environ, "LOWCODE_SQL_NO_DAEMON": "1"}
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from lowcode_sql.launch import main; sys.exit(main())",
                             "query", "--demo", "-f", "csv", "SELECT * FROM range(2000000)"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stdout.readline() == b'"range"\n'
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141
    assert err == b""


def test_config_path_that_is_a_directory(capsys, tmp_path):
    code, _, err = run(capsys, "query", "-c", str(tmp_path), "SELECT 1")
    assert code == 1 and "Is a directory" in one_error_line(err, "ConfigError")


@pytest.mark.parametrize(("setting", "says"), [("concurrency = 0", "concurrency must be at least 1"),
                                                ("timeout = 0", "timeout must be greater than 0")])
def test_bad_numbers_in_the_config(capsys, tmp_path, monkeypatch, setting, says):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[sources.crm]\nplatform = "coredata"\nbase_url = "http://127.0.0.1:9"\n{setting}\n'
                   'credentials = { user = "CD_USER", key = "CD_KEY" }\n')
    monkeypatch.setenv("CD_USER", "u")
    monkeypatch.setenv("CD_KEY", "k")
    code, _, err = run(capsys, "query", "-c", str(cfg), "SELECT * FROM crm.tasks")
    assert code == 1 and says in one_error_line(err, "ConfigError")


def test_sandbox_serve_on_a_port_in_use(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = run(capsys, "sandbox", "serve", "coredata", "--port", str(port))
    line = one_error_line(err, "ConfigError")
    assert code == 1 and f"cannot listen on 127.0.0.1:{port}" in line and "in use" in line


def test_unknown_sandbox_is_one_line(capsys):
    code, _, err = run(capsys, "sandbox", "serve", "nosuch")
    assert code == 1 and "coredata" in one_error_line(err, "ConfigError")


def test_a_bug_is_one_line_and_debug_anywhere_shows_the_traceback(capsys, monkeypatch):
    def broken(_args):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "_cmd_platforms", broken)
    code, _, err = run(capsys, "platforms")
    assert code == 1 and err.strip() == ("lowcode-sql: internal error: RuntimeError: boom "
                                         "(run with --debug for the traceback)")
    code, _, err = run(capsys, "platforms", "--debug")  # after the command, where argparse refused it
    assert code == 1 and "Traceback" in err and err.strip().endswith("boom (run with --debug for the traceback)")


def test_debug_after_the_query(capsys):
    code, out, _ = run(capsys, "query", "--demo", "-f", "csv", "SELECT 1 AS a", "--debug")
    assert code == 0 and list(csv.reader(io.StringIO(out))) == [["a"], ["1"]]


def test_error_messages_are_redacted(capsys, tmp_path):
    register("s3cr3t-token-value")
    code, _, err = run(capsys, "query", "-c", str(tmp_path / "s3cr3t-token-value.toml"), "SELECT 1")
    assert code == 1 and "s3cr3t-token-value" not in err and "ConfigError" in err


@pytest.mark.parametrize(("name", "check"), [
    ("x.parquet", lambda p: pq.read_table(p).to_pylist() == [{"a": 1, "b": "x"}]),
    ("x.csv", lambda p: list(csv.DictReader(io.StringIO(p.read_text()))) == [{"a": "1", "b": "x"}]),
    ("x.json", lambda p: json.loads(p.read_text()) == [{"a": 1, "b": "x"}]),
    ("x.jsonl", lambda p: [json.loads(x) for x in p.read_text().splitlines()] == [{"a": 1, "b": "x"}]),
])
def test_output_format_from_the_extension(capsys, tmp_path, name, check):
    path = tmp_path / name
    code, _, err = run(capsys, "query", "--demo", "-o", str(path), "SELECT 1 AS a, 'x' AS b")
    assert code == 0, err
    assert check(path)


def test_format_option_wins_over_the_extension(capsys, tmp_path):
    path = tmp_path / "x.parquet"
    code, _, _ = run(capsys, "query", "--demo", "-f", "csv", "-o", str(path), "SELECT 1 AS a")
    assert code == 0 and list(csv.reader(io.StringIO(path.read_text()))) == [["a"], ["1"]]


def test_json_is_one_array_and_jsonl_one_object_per_line(capsys):
    sql = ("SELECT * FROM (VALUES (1, 'NaN'::DOUBLE, [1.5, 'inf'::DOUBLE]), (2, '-inf'::DOUBLE, [])) "
           "t(n, x, xs) ORDER BY n")
    code, out, _ = run(capsys, "query", "--demo", "-f", "json", sql)
    assert code == 0
    # strict: json.loads accepts NaN/Infinity, real JSON parsers do not
    doc = json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    assert doc == [{"n": 1, "x": None, "xs": [1.5, None]}, {"n": 2, "x": None, "xs": []}]
    code, out, _ = run(capsys, "query", "--demo", "-f", "jsonl", sql)
    assert [json.loads(x)["n"] for x in out.splitlines()] == [1, 2]
    code, out, _ = run(capsys, "query", "--demo", "-f", "json", "SELECT 1 AS a WHERE false")
    assert json.loads(out) == []


def test_parquet_to_stdout_is_refused_in_one_line(capsys):
    code, _, err = run(capsys, "query", "--demo", "-f", "parquet", "SELECT 1")
    assert code == 1 and "needs -o" in one_error_line(err, "ConfigError")


def test_ambiguous_column_names_the_tables(capsys):
    code, _, err = run(capsys, "query", "--demo", "SELECT id FROM coredata.projects p, coredata.tasks t")
    line = one_error_line(err, "UnknownColumn")
    assert code == 1 and "ambiguous column 'id'" in line
    assert "coredata.projects" in line and "coredata.tasks" in line and "did you mean" not in line


def test_syntax_error_shows_the_line_and_a_caret(capsys):
    sql = "SELECT a,\n  b FROM coredata.projects WHERE (x"
    code, _, err = run(capsys, "query", "--demo", sql)
    lines = err.rstrip("\n").splitlines()
    assert code == 1 and len(lines) == 3, err
    assert lines[0] == "lowcode-sql: SQLSyntaxError: syntax error at line 2, column 35 near 'x': Expecting )"
    assert lines[1] == "    b FROM coredata.projects WHERE (x"
    assert lines[2].index("^") == lines[1].index("(x") + 1
    code, _, err = run(capsys, "query", "--demo", "SELECT * FROM coredata.projects WHERE")
    assert "sqlglot" not in err and "<class" not in err and "incomplete WHERE" in err
    assert err.splitlines()[2].strip() == "^^^^^"


def test_duckdb_errors_are_short_and_name_the_users_tables(capsys):
    code, _, err = run(capsys, "query", "--demo", "SELECT title + 1 FROM coredata.projects")
    line = one_error_line(err, "ExecutionError")
    assert code == 1 and "No function matches" in line and "Candidate" not in line
    code, _, err = run(capsys, "query", "--demo", "SELECT CAST(title AS INT) FROM coredata.projects")
    assert code == 1 and "__lc_q" not in err and "Could not convert" in one_error_line(err, "ExecutionError")


def test_engine_maps_view_names_back():
    import lowcode_sql
    from lowcode_sql.errors import ExecutionError

    with lowcode_sql.demo() as con, pytest.raises(ExecutionError) as info:
        con.sql("SELECT CAST(t.title AS INT) FROM coredata.projects p JOIN coredata.tasks t ON p.id = t.project")
    assert "__lc_q" not in str(info.value) and "coredata.tasks" in str(info.value)


@pytest.mark.slow
def test_ctrl_c_cancels_the_scans_and_exits_130(tmp_path):
    """SIGINT to a real process mid-scan: 'interrupted', exit 130, and the emulator gets no request
    after the signal (every 0.3 s page would otherwise keep coming)."""
    sandbox = CoreDataSandbox(latency=0.3)
    with sandbox.serve() as server:
        cfg = coredata_config(tmp_path / "c.toml", server.url, concurrency=2, page_size=10)
        env = dict(os.environ, **CD_ENV)
        proc = subprocess.Popen([sys.executable, "-m", "lowcode_sql.cli", "query", "-c", str(cfg), "-f", "csv",
                                 "SELECT * FROM crm.tasks"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env, cwd=tmp_path)
        deadline = time.monotonic() + 60
        while sandbox.stats.requests < 3 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        at_signal = sandbox.stats.requests
        later: list[int] = []
        watcher = threading.Thread(target=lambda: (proc.wait(60), later.append(sandbox.stats.requests)))
        watcher.start()
        out, err = proc.communicate(timeout=60)
        watcher.join()
        time.sleep(1.0)  # anything still scheduled would arrive now
        assert proc.returncode == 130, err
        assert err.strip() == "lowcode-sql: interrupted"
        assert out == ""
        # requests already in flight when the signal came are counted in at_signal; none after
        assert later[0] == at_signal and sandbox.stats.requests == at_signal, (at_signal, later)


def test_wire_server_on_a_port_in_use(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = run(capsys, "serve", "--demo", "--no-auth", "--port", str(port))
    line = one_error_line(err, "ConfigError")
    assert code == 1 and f"cannot listen on 127.0.0.1:{port}" in line
