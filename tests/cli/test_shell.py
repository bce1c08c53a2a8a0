"""``lowcode-sql shell``: statement splitting, completion, result tables that fit, commands,
errors that leave the prompt usable, and a real terminal session (pty) with Ctrl-C mid-scan."""

from __future__ import annotations

import io
import os
import re
import select
import sys
import textwrap
import time

import pytest

import lowcode_sql
from lowcode_sql import shell
from lowcode_sql.sandbox.coredata import CoreDataSandbox
from tests.served import CD_ENV, coredata_config


@pytest.fixture(scope="module")
def con():
    with lowcode_sql.demo() as c:
        yield c


def scalar(con, sql: str):
    return con.sql(sql).arrow().column(0)[0].as_py()


def run_script(con, text: str, width: int = 100) -> tuple[int, str]:
    out = io.StringIO()
    code = shell.run(con, stdin=io.StringIO(text), stdout=out)
    return code, out.getvalue()


@pytest.mark.parametrize(("text", "done", "rest"), [
    ("SELECT 1", [], "SELECT 1"),
    ("SELECT 1;", ["SELECT 1"], ""),
    ("SELECT ';' AS x", [], "SELECT ';' AS x"),
    ("SELECT 'it''s;' AS x;", ["SELECT 'it''s;' AS x"], ""),
    ('SELECT 1 AS "a;b"; SELECT 2', ['SELECT 1 AS "a;b"'], " SELECT 2"),
    ("SELECT 1 -- no; end\n", [], "SELECT 1 -- no; end\n"),
    ("SELECT /* ; */ 1;;", ["SELECT /* ; */ 1"], ""),
])
def test_split_statements(text, done, rest):
    assert shell.split_statements(text) == (done, rest)


def test_enter_runs_only_a_complete_statement():
    assert not shell.complete_statement("SELECT 1")
    assert not shell.complete_statement("SELECT 'a;")
    assert shell.complete_statement("SELECT 1;")
    assert shell.complete_statement("SELECT 1; -- done")
    assert not shell.complete_statement("SELECT 1; SELECT")
    assert shell.complete_statement(".tables")
    assert shell.complete_statement("   ")


def test_result_table_fits_the_terminal(con):
    table = con.sql("SELECT id, title, description, status FROM coredata.projects ORDER BY id LIMIT 12").arrow()
    text = shell.format_table(table, max_rows=5, width=60)
    lines = text.splitlines()
    assert all(len(line) <= 60 for line in lines), text
    assert lines[0].split(" | ")[0].strip() == "id" and len(lines) == 2 + 5 + 1
    assert lines[-1] == "(12 rows, 7 not shown: .maxrows N)"
    assert "…" in text  # long titles/descriptions are cut visibly, not silently
    wide = shell.format_table(table, max_rows=5, width=1000)
    assert "…" not in wide


def test_statements_commands_and_errors_from_stdin(con):
    code, out = run_script(con, textwrap.dedent("""\
        SELECT count(*) AS n
          FROM coredata.projects;  .tables entu
        SELECT nope FROM entu.book;
        .describe entu.person
        .maxrows 2
        SELECT name FROM entu.person ORDER BY name;
        .bogus
        SELECT 'last' AS x
        """))
    n = scalar(con, "SELECT count(*) FROM coredata.projects")
    assert re.search(rf"^n\s*\n-+\n{n}\s*\n\(1 row\)$", out, re.M), out
    assert "entu.book\nentu.entity" in out
    # an error is the CLI's one line (with the table's columns) and the script goes on
    assert re.search(r"^lowcode-sql: \w+: .*nope", out, re.M) and "Traceback" not in out
    assert re.search(r"^forename\s+VARCHAR\s+first string value of forename$", out, re.M)
    people = scalar(con, "SELECT count(*) FROM entu.person")
    assert f"({people} rows, {people - 2} not shown: .maxrows N)" in out
    assert "unknown or incomplete command '.bogus'" in out
    assert out.rstrip().endswith("x   \n----\nlast\n(1 row)")
    assert code == 1  # a script with a failing statement says so


def test_quit_stops_reading(con):
    code, out = run_script(con, "SELECT 1 AS a;\n.quit\nSELECT 2 AS b;\n")
    assert code == 0 and "a\n" in out and "b\n" not in out


def test_explain_command(con):
    _, out = run_script(con, ".explain SELECT * FROM coredata.projects WHERE status = 'active';\n")
    want = con.explain("SELECT * FROM coredata.projects WHERE status = 'active'")
    assert re.sub(r"__lc_q\d+", "V", out.strip()) == re.sub(r"__lc_q\d+", "V", want.strip())


def test_completion_of_tables_columns_and_aliases(con):
    names = shell.Names(con)
    assert "coredata.projects" in names.candidates("SELECT * FROM core", "core")
    assert names.candidates("SELECT * FROM coredata.pro", "coredata.pro") == ["coredata.projects"]
    # columns of the tables the statement names, not of every table
    got = names.candidates("SELECT tit FROM coredata.projects", "tit")
    assert "title" in got and "titles" not in got
    assert names.candidates("SELECT forena FROM coredata.projects", "forena") == []
    assert "p.title" in names.candidates("SELECT p.ti FROM coredata.projects AS p", "p.ti")
    assert "SELECT" in names.candidates("sel", "sel")


def test_completion_through_prompt_toolkit(con, tmp_path):
    """The real prompt session: Enter inside a statement adds a line, its completer offers the
    names, history is kept."""
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    history = tmp_path / "hist"
    out = io.StringIO()
    with create_pipe_input() as inp, create_app_session(input=inp, output=DummyOutput()):
        sh = shell.Shell(con, out, width=lambda: 80)
        session = shell.prompt_session(sh, input=inp, output=DummyOutput(), history=str(history))
        typed = "SELECT count(*) AS n FROM coredata.proj"
        offered = [c.text for c in session.completer.get_completions(Document(typed), CompleteEvent())]
        assert offered == ["coredata.projects"]
        # Enter inside an unfinished statement adds a line; Enter after the ';' runs it
        inp.send_text("SELECT count(*) AS n FROM coredata.projects\r;\r")
        text = session.prompt()
    assert text == "SELECT count(*) AS n FROM coredata.projects\n;"
    assert sh.run_text(text)
    n = scalar(con, "SELECT count(*) FROM coredata.projects")
    assert f"\n{n}" in out.getvalue()
    assert "SELECT count(*) AS n FROM coredata.projects" in history.read_text()


def _read_until(fd: int, pattern: str, timeout: float = 60.0) -> str:
    buf = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            if re.search(pattern, _plain(buf)):
                return _plain(buf)
    raise AssertionError(f"{pattern!r} not seen in {_plain(buf)[-2000:]!r}")


def _plain(raw: bytes) -> str:
    # drop terminal control sequences: what a user reads
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r", "", raw.decode(errors="replace"))


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="pty")
def test_terminal_session_with_ctrl_c_mid_scan(tmp_path):
    """A real terminal: the prompt, a query, Ctrl-C while its scan runs (no request after it, the
    prompt comes back), another query on the same connection, history, Ctrl-D leaves with 0."""
    import pty

    sandbox = CoreDataSandbox(latency=0.3)
    with sandbox.serve() as server:
        cfg = coredata_config(tmp_path / "c.toml", server.url, concurrency=2, page_size=10)
        env = dict(os.environ, **CD_ENV, TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1",
                   LOWCODE_SQL_HISTORY=str(tmp_path / "hist"), COLUMNS="100", LINES="40")
        pid, fd = pty.fork()
        if pid == 0:  # pragma: no cover - the child
            os.chdir(tmp_path)
            os.execvpe(sys.executable, [sys.executable, "-m", "lowcode_sql.cli", "shell", "-c", str(cfg)], env)
        try:
            _read_until(fd, r"lowcode>")
            os.write(fd, b"SELECT * FROM crm.tasks;\r")
            deadline = time.monotonic() + 60
            while sandbox.stats.requests < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
            os.write(fd, b"\x03")  # Ctrl-C: the terminal sends SIGINT to the shell's process group
            seen = _read_until(fd, r"interrupted[\s\S]*lowcode>")
            at_prompt = sandbox.stats.requests
            assert "Traceback" not in seen
            time.sleep(1.0)  # anything still scheduled would arrive now
            assert sandbox.stats.requests == at_prompt
            os.write(fd, b"SELECT count(*) AS n\r FROM crm.projects;\r")
            n = sum(1 for _ in sandbox.rows("projects")) if hasattr(sandbox, "rows") else None
            seen = _read_until(fd, r"\(1 row\)[\s\S]*lowcode>")
            assert re.search(r"\nn\s*\n-+\n\d+", seen), seen
            if n is not None:
                assert re.search(rf"\n{n}\s*\n\(1 row\)", seen)
            os.write(fd, b"\x04")  # Ctrl-D
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
        finally:
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            os.close(fd)
    assert "SELECT count(*) AS n" in (tmp_path / "hist").read_text()


def test_help_lists_shell_and_explain_analyze(capsys):
    from lowcode_sql.cli import main

    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out
    assert re.search(r"^\s+shell\s+an interactive SQL prompt", top, re.M), top
    with pytest.raises(SystemExit):
        main(["explain", "--help"])
    assert "--analyze" in capsys.readouterr().out
