"""The command daemon (``lowcode_sql.daemon``, ``lowcode_sql.forkserver``): a real daemon process,
real commands through the console entry point, and the caller's side of everything a command
takes from its process (streams, exit status, directory, environment, umask, Ctrl-C, death)."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lowcode_sql.daemon import client, place

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform != "linux", reason="Linux fork server")

SLOW_SQL = "SELECT sum(hash(i)) FROM range(20000000000) t(i)"  # minutes of DuckDB work


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One daemon for the module, started the way a user does, and a runner that calls the
    ``lowcode-sql`` entry point the way the console script does (a script file: its directory,
    not the working directory, heads the import path, so every working directory has one key)."""
    base = tmp_path_factory.mktemp("daemon")
    ddir = base / "d"
    ddir.mkdir(mode=0o700)
    runner = base / "bin" / "lowcode-sql"
    runner.parent.mkdir()
    runner.write_text("import sys\nfrom lowcode_sql.launch import main\nsys.exit(main())\n")
    # beside the runner (its directory's mtime is part of the key: written before the daemon starts)
    (runner.parent / "where.py").write_text("from lowcode_sql.daemon import place\nprint(place.socket_path())\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOWCODE_SQL_")}
    env[place.DIR_ENV] = str(ddir)
    env["LOWCODE_SQL_TEST_TOKEN"] = "tok-5ecret-in-the-starters-env"
    started = subprocess.run([sys.executable, str(runner), "daemon", "start", "--idle", "300"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr
    socket_path = next(ddir.glob("*.sock"))
    info = {"dir": ddir, "runner": runner, "env": env, "socket": socket_path}
    yield info
    subprocess.run([sys.executable, str(runner), "daemon", "stop"], env=env, capture_output=True, timeout=30)


def _status(d: dict[str, Any]) -> dict[str, Any]:
    return client.request(d["socket"], {"control": "status"})


def _run(d: dict[str, Any], *args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
         stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(d["runner"]), *args], env=env or d["env"], cwd=cwd,
                          input=stdin, capture_output=True, text=True, timeout=120)


def _served_by_daemon(d: dict[str, Any], *args: str, **kw: Any) -> tuple[subprocess.CompletedProcess[str], bool]:
    before = _status(d)["served"]
    out = _run(d, *args, **kw)
    return out, _status(d)["served"] == before + 1


def _wait_idle(d: dict[str, Any], timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while (running := _status(d)["running"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return int(running)


def test_a_query_runs_in_the_daemon_with_the_callers_streams(daemon: dict[str, Any]) -> None:
    out, served = _served_by_daemon(daemon, "query", "--demo", "-f", "csv",
                                    "SELECT count(*) AS n FROM coredata.projects WHERE status IS NOT NULL")
    assert served
    assert out.returncode == 0, out.stderr
    direct = _run(daemon, "query", "--demo", "-f", "csv",
                  "SELECT count(*) AS n FROM coredata.projects WHERE status IS NOT NULL",
                  env={**daemon["env"], client.DISABLE_ENV: "1"})
    assert out.stdout == direct.stdout and out.stdout.split()[0] == '"n"' and int(out.stdout.split()[1]) > 0


def test_errors_keep_their_line_and_exit_status(daemon: dict[str, Any]) -> None:
    out, served = _served_by_daemon(daemon, "query", "--demo", "SELECT nope FROM coredata.projects")
    assert served
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr.startswith("lowcode-sql: UnknownColumn: ") and "Traceback" not in out.stderr
    usage, served = _served_by_daemon(daemon, "query", "--no-such-option", "SELECT 1")
    assert served and usage.returncode == 2 and "usage:" in usage.stderr


def test_the_child_takes_the_callers_directory_environment_and_umask(daemon: dict[str, Any], tmp_path: Path) -> None:
    env = {**daemon["env"], "LOWCODE_SQL_SANDBOX_SAMPLE": "no-such-sample"}
    out, served = _served_by_daemon(daemon, "tables", "--demo", env=env)
    assert served and out.returncode == 1 and "no-such-sample" in out.stderr  # the caller's variable, read
    old = os.umask(0o077)
    try:
        out, served = _served_by_daemon(daemon, "query", "--demo", "-o", "answer.csv", "SELECT 7 AS seven",
                                        cwd=tmp_path)
    finally:
        os.umask(old)
    assert served and out.returncode == 0, out.stderr
    written = tmp_path / "answer.csv"
    assert written.read_text().split() == ['"seven"', "7"]
    assert stat.S_IMODE(written.stat().st_mode) == 0o600  # umask 077, not the daemon's


def test_commands_at_the_same_time_each_get_their_own_child(daemon: dict[str, Any]) -> None:
    before = _status(daemon)["served"]
    procs = [subprocess.Popen([sys.executable, str(daemon["runner"]), "query", "--demo", "-f", "csv",
                               f"SELECT {i} AS n, count(*) AS projects FROM coredata.projects"],
                              env=daemon["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [e for _, e in outs]
    assert [o.split()[1].split(",")[0] for o, _ in outs] == ["0", "1", "2", "3"]
    assert len({o.split()[1].split(",")[1] for o, _ in outs}) == 1  # the same count in every child
    assert _status(daemon)["served"] == before + 4


def test_a_deleted_working_directory_runs_the_command_here(daemon: dict[str, Any], tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    script = (f"import os, sys; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); "
              f"sys.argv = ['lowcode-sql', 'query', '--demo', '-f', 'csv', 'SELECT 1 AS one']; "
              f"sys.path.insert(0, {str(daemon['runner'].parent)!r}); "
              "from lowcode_sql.launch import main; sys.exit(main())")
    out = subprocess.run([sys.executable, "-c", script], env=daemon["env"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.split() == ['"one"', "1"], out.stderr


def test_demo_emulators_built_in_the_daemon_answer_as_fresh_ones(daemon: dict[str, Any]) -> None:
    # the daemon builds the --demo emulators before it forks; a child takes its own copy, or
    # builds anew when the caller's environment asks for another sample
    sql = "SELECT count(*) AS n, min(title) AS t, max(title) AS u FROM coredata.tasks"
    answers = {}
    for sample in ("business", "traps"):
        env = {**daemon["env"], "LOWCODE_SQL_SANDBOX_SAMPLE": sample}
        out, served = _served_by_daemon(daemon, "query", "--demo", "-f", "csv", sql, env=env)
        here = _run(daemon, "query", "--demo", "-f", "csv", sql, env={**env, client.DISABLE_ENV: "1"})
        assert served and out.returncode == 0 and here.returncode == 0, out.stderr
        assert out.stdout == here.stdout
        answers[sample] = out.stdout
    assert answers["business"] != answers["traps"]
    again, served = _served_by_daemon(daemon, "query", "--demo", "-f", "csv", sql)  # another child: its own copy
    assert served and again.stdout == answers["business"]


def test_sql_from_the_callers_stdin(daemon: dict[str, Any]) -> None:
    out, served = _served_by_daemon(daemon, "query", "--demo", "-f", "csv", "-", stdin="SELECT 42 AS answer")
    assert served and out.returncode == 0, out.stderr
    assert out.stdout.split() == ['"answer"', "42"]


def test_a_reader_that_leaves_ends_the_command_quietly(daemon: dict[str, Any]) -> None:
    before = _status(daemon)["served"]
    proc = subprocess.Popen([sys.executable, str(daemon["runner"]), "query", "--demo", "-f", "csv",
                             "SELECT * FROM range(2000000)"], env=daemon["env"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b'"range"\n'
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (141, b"")  # the child's status, relayed
    assert _status(daemon)["served"] == before + 1


def test_ctrl_c_reaches_the_command(daemon: dict[str, Any]) -> None:
    proc = subprocess.Popen([sys.executable, str(daemon["runner"]), "query", "--demo", SLOW_SQL], env=daemon["env"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while _status(daemon)["running"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.strip() == "lowcode-sql: interrupted"
    assert _wait_idle(daemon) == 0


class _FakeDaemon:
    """A socket where the runner's daemon would listen, answered by the test: it takes the request
    and then says what the test tells it to."""

    def __init__(self, d: dict[str, Any]) -> None:
        import socket as socket_mod

        # short: a socket path must stay under ~100 bytes, which pytest's tmp_path can pass
        self.dir = Path(tempfile.mkdtemp(prefix="lcd-"))
        self.env = {**d["env"], place.DIR_ENV: str(self.dir)}
        where = subprocess.run([sys.executable, str(d["runner"].parent / "where.py")], env=self.env,
                               capture_output=True, text=True, check=True).stdout.strip()
        self.listener = socket_mod.socket(socket_mod.AF_UNIX)
        self.listener.bind(where)
        self.listener.listen(1)
        self.listener.settimeout(60)

    def __enter__(self) -> _FakeDaemon:
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def take_request(self) -> Any:
        import socket as socket_mod

        conn, _ = self.listener.accept()
        head, fds, _, _ = socket_mod.recv_fds(conn, 4, 3)
        for fd in fds:
            os.close(fd)
        (n,) = struct.unpack("!I", head)
        while n > 0:
            n -= len(conn.recv(n))
        return conn


def test_ctrl_c_before_the_command_starts_reaches_it_once_it_does(daemon: dict[str, Any], tmp_path: Path) -> None:
    with _FakeDaemon(daemon) as fake:
        _ctrl_c_before_start(daemon, fake, tmp_path)


def _ctrl_c_before_start(daemon: dict[str, Any], fake: _FakeDaemon, tmp_path: Path) -> None:
    marker = tmp_path / "got"
    # the "command": a process that notes the SIGINT it gets and ends as the CLI would
    child = subprocess.Popen([sys.executable, "-c", (
        "import signal, sys, time\n"
        f"signal.signal(signal.SIGINT, lambda *a: (open({str(marker)!r}, 'w').write('SIGINT'), sys.exit(130)))\n"
        "time.sleep(60)\n")])
    caller = subprocess.Popen([sys.executable, str(daemon["runner"]), "query", "--demo", "SELECT 1"],
                              env=fake.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    conn = fake.take_request()
    time.sleep(0.3)
    caller.send_signal(signal.SIGINT)  # before the "child" has said it started
    time.sleep(0.3)
    conn.sendall(f'{{"pid": {child.pid}}}\n'.encode())
    assert child.wait(30) == 130 and marker.read_text() == "SIGINT"  # passed on once the pid was known
    conn.sendall(b'{"exit": 130}\n')
    conn.close()
    out, err = caller.communicate(timeout=30)
    assert caller.returncode == 130 and "Traceback" not in err and out == ""


def test_ctrl_c_while_no_command_started_is_the_callers(daemon: dict[str, Any], tmp_path: Path) -> None:
    with _FakeDaemon(daemon) as fake:
        caller = subprocess.Popen([sys.executable, str(daemon["runner"]), "query", "--demo", "-f", "csv",
                                   "SELECT 'ran here' AS x"],
                                  env=fake.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        conn = fake.take_request()
        time.sleep(0.3)
        caller.send_signal(signal.SIGINT)
        time.sleep(0.3)
        conn.close()  # no child started
        out, err = caller.communicate(timeout=60)
    assert caller.returncode == 130
    assert err.strip() == "lowcode-sql: interrupted"
    assert out == ""  # the command did not then run in the caller


def test_a_caller_that_dies_takes_its_command_with_it(daemon: dict[str, Any]) -> None:
    proc = subprocess.Popen([sys.executable, str(daemon["runner"]), "query", "--demo", SLOW_SQL], env=daemon["env"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while _status(daemon)["running"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _status(daemon)["running"] == 1
    proc.kill()
    proc.wait(10)
    assert _wait_idle(daemon) == 0  # else its DuckDB would go on burning a core for minutes


def test_another_environment_or_an_opt_out_runs_without_the_daemon(daemon: dict[str, Any]) -> None:
    for env in ({**daemon["env"], "TZ": "America/La_Paz"},  # read at import: another daemon's
                {**daemon["env"], client.DISABLE_ENV: "1"}):
        out, served = _served_by_daemon(daemon, "query", "--demo", "-f", "csv", "SELECT 1 AS one", env=env)
        assert not served
        assert out.returncode == 0 and out.stdout.split() == ['"one"', "1"]
    # the servers and the shell stay in the caller's process
    assert client.run(["shell", "--demo"]) is None
    assert client.run(["sandbox", "serve", "coredata"]) is None


def test_a_directory_others_can_enter_is_never_used(daemon: dict[str, Any]) -> None:
    os.chmod(daemon["dir"], 0o755)
    try:
        out, served = _served_by_daemon(daemon, "query", "--demo", "-f", "csv", "SELECT 1 AS one")
        started = _run(daemon, "daemon", "start")
    finally:
        os.chmod(daemon["dir"], 0o700)
    assert not served and out.returncode == 0 and out.stdout.split() == ['"one"', "1"]
    assert started.returncode == 1 and "open to other users" in started.stderr


def test_a_stale_socket_file_is_not_a_daemon(tmp_path: Path, daemon: dict[str, Any]) -> None:
    ddir = tmp_path / "d"
    ddir.mkdir(mode=0o700)
    env = {**daemon["env"], place.DIR_ENV: str(ddir)}
    where = daemon["runner"].parent / "where.py"  # the runner's import path, so its key
    out = subprocess.run([sys.executable, str(where)], env=env, capture_output=True, text=True, check=True)
    import socket

    with socket.socket(socket.AF_UNIX) as s:  # bound, never listening: as a daemon killed with -9 leaves it
        s.bind(out.stdout.strip())
    ran = _run(daemon, "query", "--demo", "-f", "csv", "SELECT 1 AS one", env=env)
    assert ran.returncode == 0 and ran.stdout.split() == ['"one"', "1"]


def test_the_daemon_holds_no_credential_and_logs_no_command(daemon: dict[str, Any]) -> None:
    secret_sql = "SELECT 'tok-in-the-sql-9f2' AS s"
    out, served = _served_by_daemon(daemon, "query", "--demo", "-f", "csv", secret_sql)
    assert served and out.returncode == 0
    pid = _status(daemon)["pid"]
    environ = Path(f"/proc/{pid}/environ").read_bytes()
    assert b"tok-5ecret-in-the-starters-env" not in environ  # the starter's variables stay with the starter
    log = daemon["socket"].with_suffix(".log").read_text()
    assert "serving at" in log
    assert "tok-in-the-sql-9f2" not in log and "tok-5ecret" not in log


def test_the_key_follows_import_time_variables_only() -> None:
    base = {"LANG": "C.UTF-8", "TZ": "UTC"}
    assert place.key(base) != place.key({**base, "TZ": "Europe/Tallinn"})
    assert place.key(base) != place.key({**base, "PYTHONHASHSEED": "1"})
    assert place.key(base) != place.key({**base, "SSL_CERT_FILE": "/etc/ssl/corp-ca.pem"})  # the daemon's TLS
    assert place.key(base) == place.key({**base, "CRM_TOKEN": "a", "LOWCODE_SQL_CONFIG": "x.toml"})


def test_status_and_stop(tmp_path: Path, daemon: dict[str, Any]) -> None:
    ddir = tmp_path / "d"
    ddir.mkdir(mode=0o700)
    env = {**daemon["env"], place.DIR_ENV: str(ddir)}
    assert _run(daemon, "daemon", "status", env=env).returncode == 3
    usage = _run(daemon, "daemon", env=env)
    assert (usage.returncode, usage.stderr) == (2, "usage: lowcode-sql daemon start|stop|status\n")
    assert _run(daemon, "daemon", "start", "--idle", "60", env=env).returncode == 0
    again = _run(daemon, "daemon", "start", env=env)
    assert again.returncode == 0 and "running already" in again.stdout
    status = _run(daemon, "daemon", "status", env=env)
    assert status.returncode == 0 and "(used here)" in status.stdout
    stopped = _run(daemon, "daemon", "stop", env=env)
    assert stopped.returncode == 0 and "stops" in stopped.stdout
    deadline = time.monotonic() + 10
    while list(ddir.glob("*.sock")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not list(ddir.glob("*.sock"))
    assert not list(ddir.glob("*.log"))  # nothing went wrong: the daemon takes its log with it
