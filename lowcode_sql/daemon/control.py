"""``lowcode-sql daemon start|stop|status``.

``start`` launches ``python -m lowcode_sql.forkserver`` in a session of its own, with an
environment cut down to the variables that decide what it imports (``place``): it never needs a
credential, since each command's child takes the caller's environment. It waits until the daemon
answers (it imports and runs one demo query first: ~1 s) and says where it listens. ``stop`` ends
every daemon in the directory (commands running finish first); ``status`` lists them, the one this
shell's commands would use marked.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TextIO

from lowcode_sql.daemon import DEFAULT_IDLE, client, place

__all__ = ["start", "status", "stop"]

_START_TIMEOUT = 60.0
# besides those of the key: what a Python process needs to start at all
_KEPT = ("PATH", "HOME", "TMPDIR", "USER", "LOGNAME", "SYSTEMROOT")


def _daemon_environment() -> dict[str, str]:
    env = place.import_time_variables(os.environ)
    env.update((k, os.environ[k]) for k in (*_KEPT, place.DIR_ENV) if k in os.environ)
    return env


def start(idle: float = DEFAULT_IDLE, out: TextIO = sys.stdout) -> int:
    """Start the daemon for this process's key (or say it runs already); 0 once it answers."""
    try:
        path = place.socket_path()
    except place.UnsafeDirectory as e:
        print(f"lowcode-sql: the daemon cannot run: {e}", file=sys.stderr)
        return 1
    with contextlib.suppress(OSError):
        answer = client.request(path, {"control": "status"})
        print(f"lowcode-sql daemon: running already (pid {answer['pid']}) at {path}", file=out)
        return 0
    log = path.with_suffix(".log")
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lowcode_sql.forkserver", os.fspath(path), "--idle", f"{idle:g}",
             "--path", json.dumps(sys.path)],
            stdin=subprocess.DEVNULL, stdout=fd, stderr=fd, env=_daemon_environment(), start_new_session=True,
            close_fds=True)
    finally:
        os.close(fd)
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            print(f"lowcode-sql: the daemon exited while starting (status {proc.returncode}); see {log}",
                  file=sys.stderr)
            return 1
        with contextlib.suppress(OSError):
            client.request(path, {"control": "status"})
            print(f"lowcode-sql daemon: running (pid {proc.pid}) at {path}; it exits after {idle:g} s "
                  "with no command", file=out)
            return 0
        time.sleep(0.05)
    proc.terminate()
    print(f"lowcode-sql: the daemon did not answer within {_START_TIMEOUT:g} s; see {log}", file=sys.stderr)
    return 1


def _sockets() -> list[Path]:
    return sorted(place.daemon_dir().glob("*.sock"))


def stop(out: TextIO = sys.stdout) -> int:
    """Stop every daemon in the directory; 0 (also when none ran)."""
    try:
        sockets = _sockets()
    except place.UnsafeDirectory as e:
        print(f"lowcode-sql: {e}", file=sys.stderr)
        return 1
    stopped = 0
    for path in sockets:
        try:
            answer = client.request(path, {"control": "stop"})
        except OSError:
            with contextlib.suppress(OSError):
                path.unlink()  # left by a daemon that was killed
            continue
        stopped += 1
        running = f", after its {answer['running']} running command(s)" if answer.get("running") else ""
        print(f"lowcode-sql daemon: pid {answer['pid']} stops{running}", file=out)
    if not stopped:
        print("lowcode-sql daemon: none running", file=out)
    return 0


def status(out: TextIO = sys.stdout) -> int:
    """List the daemons: 0 when the one this process's commands would use runs, else 3."""
    try:
        sockets = _sockets()
        mine = place.socket_path()
    except place.UnsafeDirectory as e:
        print(f"lowcode-sql: {e}", file=sys.stderr)
        return 1
    found = False
    for path in sockets:
        try:
            a = client.request(path, {"control": "status"})
        except OSError:
            continue
        current = path == mine
        found |= current
        print(f"pid {a['pid']}\tserved {a['served']}\trunning {a['running']}\tup {time.time() - a['started']:.0f} s\t"
              f"{path}{'  (used here)' if current else '  (another environment or version: unused here)'}",
              file=out)
    if not found:
        print("lowcode-sql daemon: not running for this environment (`lowcode-sql daemon start`)", file=out)
    return 0 if found else 3
