"""The command daemon's resident process: import once, fork a child per command.

Started by ``lowcode-sql daemon start`` (``lowcode_sql.daemon.control``) as
``python -m lowcode_sql.forkserver SOCKET --idle SECONDS --path JSON``. It imports what a command
needs and warms it up (one demo query: the caches and the adaptive interpreter's specialised
bytecode are then inherited by every child), checks that the warm-up left no thread running (a
fork copies no other thread, so a lock one held would stay held in the child forever), then
serves. The threads the libraries start as they are imported stay: numpy's OpenBLAS pool and
pyarrow's jemalloc background thread, whose libraries stop and restart them around a fork
(``pthread_atfork``), as every ``multiprocessing`` fork of a process that imported them relies on.

For each caller (the protocol is in ``lowcode_sql.daemon.client``): it checks that the peer is
the same user (``SO_PEERCRED``), forks, and the child takes the caller's fds 0-2, working
directory, environment, umask and arguments, starts a session of its own (so reading a terminal
passed as stdin raises no SIGTTIN), and runs ``lowcode_sql.cli.main`` as the process would. The
daemon itself never reads a config or a credential; it logs no argument and no environment.

It exits after ``--idle`` seconds with no command running (or on ``stop`` / SIGTERM, once the
running commands end). Only one thread, one ``selectors`` loop: the accept, the children's
exits (SIGCHLD through ``signal.set_wakeup_fd``) and the callers' sockets closing.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from lowcode_sql.daemon import DEFAULT_IDLE

__all__ = ["main"]

_MAX_REQUEST = 1 << 20  # argv + environment: far beyond any real one
_REQUEST_TIMEOUT = 5.0


_TROUBLE = {"seen": False}  # a line worth keeping the log for (else it is removed as the daemon exits)


def _log(message: str, trouble: bool = False) -> None:
    _TROUBLE["seen"] |= trouble
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} lowcode-sql daemon[{os.getpid()}]: {message}",
          file=sys.stderr, flush=True)


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:  # no /proc: what Python knows of
        import threading

        return threading.active_count()


def _import_libraries() -> int:
    """Import the libraries; the number of threads they started (``_threads``)."""
    import duckdb  # noqa: F401
    import numpy  # noqa: F401
    import pyarrow  # noqa: F401

    return _threads()


def _warm_up() -> None:
    """Import and run what a command does, then leave nothing running."""
    import lowcode_sql
    import lowcode_sql.cli
    import lowcode_sql.cli_output  # the writers of `query -f`
    from lowcode_sql import warm
    from lowcode_sql.fetch import loop, runtime

    runtime.warm_tls()  # 35-90 ms of loading CA certificates, which every command with a source pays
    # no scratch database: its threads would not survive the fork (each child makes its own)
    warm.warm_process(scratch=False)
    con = lowcode_sql.demo(warm=False)
    try:
        con.sql("SELECT status, count(*) FROM coredata.projects WHERE status IS NOT NULL GROUP BY 1").fetchall()
        con.sql("SELECT 1").fetchall()
    finally:
        con.close()
    loop.shutdown(timeout=5.0)
    # the emulators --demo reads, with their sample data, for each child to take its own copy of
    # (built after the demo query: the daemon itself never touches them)
    from lowcode_sql import sandbox

    sandbox.prebuild()
    import gc

    gc.collect()
    gc.freeze()  # what the children inherit is never scanned again by their collector


def _recv_exact(conn: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        data = conn.recv(n - len(buf))
        if not data:
            raise ConnectionError("the caller closed mid-request")
        buf += data
    return buf


def _same_user(conn: socket.socket) -> bool:
    if not hasattr(socket, "SO_PEERCRED"):
        return True  # the directory's mode 0700 is then the only wall (place.daemon_dir)
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()


def _streams() -> None:
    """New ``sys`` streams over the caller's fds 0-2: the daemon's were opened on /dev/null, and a
    stream's buffering follows whether its fd is a terminal, which only the caller's can tell."""
    enc, err = sys.stdout.encoding, sys.stdout.errors
    sys.stdin = open(0, encoding=sys.stdin.encoding, errors=sys.stdin.errors, closefd=False)  # noqa: SIM115
    # buffering=1: line-buffered, as Python makes a terminal's stdout (and stderr always). The
    # original objects (sys.__stdout__, ...) are on fds 0-2 too, so they now write to the caller's
    sys.stdout = open(1, "w", buffering=1 if os.isatty(1) else -1, encoding=enc, errors=err,  # noqa: SIM115
                      closefd=False)
    sys.stderr = open(2, "w", buffering=1, encoding=sys.stderr.encoding, errors="backslashreplace",  # noqa: SIM115
                      closefd=False)


def _child(conn: socket.socket, fds: list[int], request: dict[str, Any], closing: list[Any]) -> None:
    """In the forked child: become the caller's command, run it, and exit with its status."""
    log = sys.stderr  # the daemon's log, until the caller's fd 2 replaces it
    code = 1
    started = False
    try:
        for obj in closing:
            with contextlib.suppress(Exception):
                obj.close()
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.umask(int(request["umask"]))
        time.tzset()
        sys.argv = ["lowcode-sql", *request["argv"]]
        _streams()
        conn.sendall(json.dumps({"pid": os.getpid()}).encode() + b"\n")
        started = True
        conn.close()
        from lowcode_sql.cli import main

        try:
            code = main()
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException as e:  # main() reports every error itself: this is the daemon's own failure
        # before the pid line the caller runs the command itself (so, silently: the daemon's log)
        with contextlib.suppress(Exception):
            print(f"lowcode-sql: internal error in the daemon's child: {type(e).__name__}: {e} "
                  "(LOWCODE_SQL_NO_DAEMON=1 runs the command without it)", file=sys.stderr if started else log)
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(Exception):
            atexit._run_exitfuncs()
        os._exit(code)


class Daemon:
    def __init__(self, path: Path, idle: float) -> None:
        self.path = path
        self.idle = idle
        self.started = time.time()
        self.served = 0
        self.stopping = False
        self.last_active = time.monotonic()
        self.children: dict[int, socket.socket] = {}  # pid -> the caller's socket
        self.sel = selectors.DefaultSelector()

    def serve(self) -> None:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket file itself: the user's only
        try:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            listener.bind(os.fspath(self.path))
        finally:
            os.umask(old)
        listener.listen(64)
        rsig, wsig = socket.socketpair()
        for s in (rsig, wsig):
            s.setblocking(False)
        signal.set_wakeup_fd(wsig.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so the wakeup fd is written

        def stop(*_: Any) -> None:
            self.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.sel.register(listener, selectors.EVENT_READ, "accept")
        self.sel.register(rsig, selectors.EVENT_READ, "signal")
        self.listener, self.rsig, self.wsig = listener, rsig, wsig
        _log(f"serving at {self.path} (exits after {self.idle:g} s idle)")
        try:
            while True:
                if self.stopping and listener.fileno() != -1:
                    self.sel.unregister(listener)
                    listener.close()
                    with contextlib.suppress(FileNotFoundError):
                        self.path.unlink()
                if self.stopping and not self.children:
                    break
                if not self.children and time.monotonic() - self.last_active > self.idle:
                    _log("idle: exiting")
                    break
                for key, _ in self.sel.select(timeout=1.0):
                    if key.data == "accept":
                        self._accept()
                    elif key.data == "signal":  # a child ended: reaped below
                        with contextlib.suppress(BlockingIOError):
                            rsig.recv(4096)
                    else:
                        self._caller_closed(key.data, key.fileobj)  # type: ignore[arg-type]
                self._reap()
        finally:
            if listener.fileno() != -1:
                listener.close()
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
            if not _TROUBLE["seen"]:  # (written by `daemon start`: its name is the socket's)
                with contextlib.suppress(OSError):
                    self.path.with_suffix(".log").unlink()

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        self.last_active = time.monotonic()
        fds: list[int] = []
        try:
            conn.settimeout(_REQUEST_TIMEOUT)
            if not _same_user(conn):
                _log("refused a caller of another user", trouble=True)
                conn.close()
                return
            head, fds, _flags, _addr = socket.recv_fds(conn, 4, 3)
            if len(head) != 4:
                raise ConnectionError("short header")
            (n,) = struct.unpack("!I", head)
            if n > _MAX_REQUEST:
                raise ConnectionError(f"request of {n} bytes")
            request = json.loads(_recv_exact(conn, n))
            if "control" in request:
                self._control(conn, request)
                return
            if len(fds) != 3:
                raise ConnectionError(f"{len(fds)} fds passed, 3 expected")
            conn.settimeout(None)
            closing = [self.listener, self.rsig, self.wsig, *self.children.values()]
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child ends in os._exit (its coverage is not collected)
                self.sel.close()
                _child(conn, fds, request, closing)
            self.served += 1
            self.children[pid] = conn
            self.sel.register(conn, selectors.EVENT_READ, pid)
        except (OSError, ValueError, KeyError, TypeError) as e:
            _log(f"dropped a request: {type(e).__name__}", trouble=True)
            conn.close()
        finally:
            for fd in fds:
                os.close(fd)

    def _control(self, conn: socket.socket, request: dict[str, Any]) -> None:
        what = request["control"]
        if what == "status":
            answer: dict[str, Any] = {"pid": os.getpid(), "socket": os.fspath(self.path), "served": self.served,
                                      "running": len(self.children), "started": self.started, "idle": self.idle}
        elif what == "stop":
            self.stopping = True
            answer = {"pid": os.getpid(), "stopping": True, "running": len(self.children)}
        else:
            answer = {"error": f"unknown control request {what!r}"}
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps(answer).encode() + b"\n")
        conn.close()

    def _caller_closed(self, pid: int, conn: socket.socket) -> None:
        """The caller's socket is readable: it sends nothing after the request, so it has gone (killed,
        its terminal closed). Its command ends as it would have with it."""
        try:
            data = conn.recv(1, socket.MSG_PEEK)
        except OSError:
            data = b""
        if data:
            return
        self.sel.unregister(conn)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.children.pop(pid, None)
            self.last_active = time.monotonic()
            if conn is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            code = 128 - code if code < 0 else code  # killed by signal N: 128 + N, as a shell says
            with contextlib.suppress(KeyError, ValueError):
                self.sel.unregister(conn)
            with contextlib.suppress(OSError):
                conn.sendall(json.dumps({"exit": code}).encode() + b"\n")
            conn.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lowcode_sql.forkserver", description=__doc__.splitlines()[0])
    ap.add_argument("socket")
    ap.add_argument("--idle", type=float, default=DEFAULT_IDLE)
    ap.add_argument("--path", help="the import path of the process that started it (JSON list)")
    args = ap.parse_args(argv)
    if args.path:
        sys.path[:] = json.loads(args.path)
    # Python 3.12+ warns on fork() in a process with more than one thread: here those are the
    # libraries' own (module docstring), which stop and restart themselves around a fork
    warnings.filterwarnings("ignore", message=r".*fork\(\) may lead to deadlocks", category=DeprecationWarning)
    started = time.perf_counter()
    imported = _import_libraries()
    _warm_up()
    deadline = time.monotonic() + 5.0  # the decoding pool's threads end as they finish their last task
    while (threads := _threads()) > imported and time.monotonic() < deadline:
        time.sleep(0.02)
    if threads > imported:
        _log(f"{threads - imported} thread(s) still running after the warm-up: a fork would copy none of them; "
             "not serving")
        return 1
    _log(f"imported and warmed up in {time.perf_counter() - started:.2f} s")
    Daemon(Path(args.socket), args.idle).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
