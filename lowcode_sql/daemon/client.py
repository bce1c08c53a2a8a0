"""The caller's side: hand a command to a running daemon, or say there is none.

The protocol, over the daemon's Unix socket (``lowcode_sql.forkserver`` is the other side):

1. the caller sends a 4-byte big-endian length with its fds 0, 1 and 2 attached (``SCM_RIGHTS``),
   then that many bytes of JSON: ``{"argv": [...], "cwd": ..., "env": {...}, "umask": ...}``;
2. the forked child writes ``{"pid": N}\\n`` before it runs anything. A caller that gets no such
   line knows the command never ran, and runs it itself;
3. the daemon writes ``{"exit": code}\\n`` once the child has ended (128 + N for a signal N).

Meanwhile the caller passes SIGINT, SIGTERM, SIGHUP and SIGQUIT on to the child: Ctrl-C reaches
the caller (the terminal's foreground process), and the child acts on it as the command would.
If the caller dies, the daemon sees its socket close and ends the child (SIGTERM).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys
from collections.abc import Sequence
from typing import Any

from lowcode_sql.daemon import place

__all__ = ["DISABLE_ENV", "ELIGIBLE", "command_word", "request", "run"]

DISABLE_ENV = "LOWCODE_SQL_NO_DAEMON"
# one-shot commands. Not the servers (`serve`, `sandbox serve`: their process should be the one the
# user supervises), not `shell` (job control and the terminal's window size are the caller's),
# not `daemon` itself
ELIGIBLE = frozenset({"query", "explain", "verify", "tables", "describe", "platforms", "demo", "probe"})
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def command_word(argv: Sequence[str]) -> str | None:
    """The first word of ``argv`` that is not an option (the command, when the options before it
    take no value); None after a ``--`` or without one."""
    for a in argv:
        if a == "--":
            return None
        if not a.startswith("-"):
            return a
    return None


def _lines(sock: socket.socket) -> Any:
    """The JSON lines the other side sends, until it closes."""
    buf = b""
    while True:
        while b"\n" in buf:
            line, _, buf = buf.partition(b"\n")
            yield json.loads(line)
        try:
            data = sock.recv(4096)
        except ConnectionResetError:
            return
        if not data:
            return
        buf += data


def request(path: str | os.PathLike[str], message: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
    """A control request (``status``, ``stop``) and the daemon's one-line answer; ``OSError`` if
    no daemon listens at ``path``."""
    payload = json.dumps(message).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(os.fspath(path))
        s.sendall(struct.pack("!I", len(payload)) + payload)
        for answer in _lines(s):
            return dict(answer)
    raise ConnectionError(f"the daemon at {path} closed without answering")


def run(argv: list[str]) -> int | None:
    """Run the command ``argv`` in the daemon: its exit status, or None when it did not run there
    (no daemon for this key, a command that is not ``ELIGIBLE``, ``LOWCODE_SQL_NO_DAEMON`` set, a
    platform without fd passing), and the caller should run it itself."""
    if os.environ.get(DISABLE_ENV, "") not in ("", "0") or command_word(argv) not in ELIGIBLE:
        return None
    if not hasattr(socket, "send_fds") or not hasattr(os, "fork") or not place.any_daemon():
        return None
    try:
        path = place.socket_path()
    except (place.UnsafeDirectory, OSError):  # OSError: e.g. the working directory (on the path) is gone
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        try:
            sock.connect(os.fspath(path))
        except OSError:  # no daemon (or a stale socket file): run here
            return None
        umask = os.umask(0o022)
        os.umask(umask)
        try:
            cwd = os.getcwd()
        except OSError:  # a working directory deleted under the caller: the command says so itself
            return None
        payload = json.dumps({"argv": argv, "cwd": cwd, "env": dict(os.environ), "umask": umask}).encode()
        relay = _Relay()  # from here on a Ctrl-C is the command's, not a traceback of this process
        try:
            try:
                sys.stdout.flush()
                socket.send_fds(sock, [struct.pack("!I", len(payload))], [0, 1, 2])
                sock.sendall(payload)
            except OSError:  # a closed standard stream (EBADF), or the daemon went away: nothing ran
                return None
            return _follow(sock, relay)
        finally:
            relay.remove()
    finally:
        sock.close()


class _Relay:
    """Signals to the child: held until its pid is known (the command has not started; it gets
    them as it does), then passed on as they come."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.pending: list[int] = []
        self.previous = {sig: signal.signal(sig, self._on) for sig in _FORWARDED}

    def _on(self, signum: int, frame: Any) -> None:
        if self.pid is None:
            self.pending.append(signum)
            return
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def started(self, pid: int) -> None:
        self.pid = pid
        for signum in self.pending:
            self._on(signum, None)
        self.pending.clear()

    def remove(self) -> None:
        """Put the caller's handlers back; a signal held for a command that never started is the
        caller's own again (Ctrl-C: KeyboardInterrupt; SIGTERM and the others: their default)."""
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        if self.pid is None:
            for signum in self.pending:
                if signum == signal.SIGINT:
                    raise KeyboardInterrupt
                os.kill(os.getpid(), signum)


def _follow(sock: socket.socket, relay: _Relay) -> int | None:
    lines = _lines(sock)
    try:
        pid = int(next(lines)["pid"])
    except (StopIteration, ValueError, KeyError, TypeError):
        return None  # the child never started the command: the caller runs it
    relay.started(pid)
    try:
        for message in lines:
            if "exit" in message:
                return int(message["exit"])
    except ValueError:
        pass
    print("lowcode-sql: the daemon ended before the command did (its exit status is unknown); "
          "run `lowcode-sql daemon status`", file=sys.stderr)
    return 1
