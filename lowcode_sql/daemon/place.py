"""Where a command daemon listens, and which daemon a command may use.

A daemon serves only the commands that would import exactly what it imported: its socket is named
after a key of the Python interpreter, the import path (and the mtimes of its directories, which
``pip install`` changes), every source file of ``lowcode_sql`` and ``dialect`` (path, size, mtime),
and the environment variables read while importing (locale, ``TZ``, ``PYTHON*``, ``ARROW_*``, ...).
Change any of them and the command finds no daemon under its key and runs in its own process; the
old daemon exits when idle. The directory is the user's own (``$XDG_RUNTIME_DIR/lowcode-sql`` or
``/tmp/lowcode-sql-<uid>``, or ``$LOWCODE_SQL_DAEMON_DIR``), mode 0700: one that is not is never
used, since whoever can write there could answer in the daemon's place.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import stat
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

__all__ = ["DIR_ENV", "UnsafeDirectory", "any_daemon", "daemon_dir", "import_time_variables", "key", "socket_path"]

DIR_ENV = "LOWCODE_SQL_DAEMON_DIR"
# read while the libraries are imported (so fixed in a daemon for its life); everything else the
# child takes from the caller's environment as it runs
_KEY_VARIABLES = ("TZ", "LANG", "SSL_CERT_FILE", "SSL_CERT_DIR")  # the TLS context is built in the daemon
_KEY_PREFIXES = ("PYTHON", "LC_", "ARROW_", "MALLOC_", "OMP_", "OPENBLAS_", "LD_", "DUCKDB_")
_MAX_SOCKET_PATH = 100  # sockaddr_un's sun_path is 108 bytes on Linux, 104 on macOS


class UnsafeDirectory(Exception):
    """The daemon directory is not a directory of this user's that only they can enter."""


def _chosen_dir() -> Path:
    chosen = os.environ.get(DIR_ENV)
    if chosen:
        path = Path(chosen)
    elif os.environ.get("XDG_RUNTIME_DIR") and os.path.isdir(os.environ["XDG_RUNTIME_DIR"]):
        path = Path(os.environ["XDG_RUNTIME_DIR"]) / "lowcode-sql"
    else:
        path = Path(tempfile.gettempdir()) / f"lowcode-sql-{os.getuid()}"
    return path


def any_daemon() -> bool:
    """Whether the daemon directory holds a socket at all: the check a command makes before it
    computes its key (~3 ms), so that without a daemon it costs one ``listdir``."""
    try:
        return any(name.endswith(".sock") for name in os.listdir(_chosen_dir()))
    except OSError:
        return False


def daemon_dir() -> Path:
    """The daemon directory, created (mode 0700) if missing; ``UnsafeDirectory`` when it is a
    symlink, someone else's, or open to others."""
    path = _chosen_dir()
    try:
        path.mkdir(mode=0o700, parents=False, exist_ok=True)
        st = os.lstat(path)
    except OSError as e:
        raise UnsafeDirectory(f"{path}: {e.strerror}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeDirectory(f"{path} is not a directory")
    if st.st_uid != os.getuid():
        raise UnsafeDirectory(f"{path} belongs to another user")
    if st.st_mode & 0o077:
        raise UnsafeDirectory(f"{path} is open to other users (mode {stat.S_IMODE(st.st_mode):o}; 700 is needed)")
    return path


def _sources() -> list[str]:
    """Every source file of the two packages, without importing them (``dialect`` imports pyarrow)."""
    out = []
    for name in ("lowcode_sql", "dialect"):
        spec = importlib.util.find_spec(name)
        for root in (spec.submodule_search_locations or []) if spec else []:
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
                for f in sorted(filenames):
                    if f.endswith(".py"):
                        p = os.path.join(dirpath, f)
                        st = os.stat(p)
                        out.append(f"{p}\0{st.st_size}\0{st.st_mtime_ns}")
    return out


def import_time_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables of ``environ`` that the libraries read as they are imported (or the daemon as
    it warms up): what a daemon's key holds, and all of the caller's environment it starts with."""
    return {k: v for k, v in environ.items() if k in _KEY_VARIABLES or k.startswith(_KEY_PREFIXES)}


def key(environ: dict[str, str] | None = None) -> str:
    """The key of what a process started now, with ``environ``, would import (module docstring)."""
    env = os.environ if environ is None else environ
    h = hashlib.sha256()
    for part in (sys.executable, sys.version):
        h.update(part.encode("utf-8", "surrogateescape") + b"\0")
    for entry in sys.path:
        # "" (``python -c``) is the working directory: its path counts, not its mtime, which any
        # file written there changes
        h.update(os.path.abspath(entry or ".").encode("utf-8", "surrogateescape") + b"\0")
        if entry:
            try:
                h.update(str(os.stat(entry).st_mtime_ns).encode())
            except OSError:
                h.update(b"-")
    for line in _sources():
        h.update(line.encode("utf-8", "surrogateescape") + b"\n")
    for name, value in sorted(import_time_variables(env).items()):
        h.update(f"{name}={value}\0".encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:20]


def socket_path(environ: dict[str, str] | None = None) -> Path:
    """The socket of the daemon this process would use (``UnsafeDirectory`` as ``daemon_dir``)."""
    path = daemon_dir() / f"{key(environ)}.sock"
    if len(os.fsencode(path)) > _MAX_SOCKET_PATH:
        raise UnsafeDirectory(f"{path} is too long for a Unix socket")
    return path
