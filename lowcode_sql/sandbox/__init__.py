"""Emulators of the low-code platforms, for tests, benchmarks and demos.

Each emulator is a ``Platform`` (see ``_base.py``): it answers like the real REST API from
in-memory data, and the framework adds request counting, rate limiting, latency and fault
injection. Serve one in-process or on a real socket::

    sandbox = get_sandbox("entu", latency=0.02)
    client = httpx.AsyncClient(transport=sandbox.transport(), base_url="http://sandbox")
    with sandbox.serve() as server:
        ...  # server.url

Every public module here except ``server`` is an emulator named after its platform, and names
its class in a module-level ``SANDBOX``; modules are imported only when asked for, so importing
this package stays cheap and one broken emulator cannot break the others.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from typing import TYPE_CHECKING, Any

from lowcode_sql.errors import ConfigError, close_matches

if TYPE_CHECKING:
    from lowcode_sql.sandbox._base import Platform, Request, Response, json_response
    from lowcode_sql.sandbox.server import RunningServer, serve

__all__ = [
    "SANDBOXES",
    "Platform",
    "Request",
    "Response",
    "RunningServer",
    "get_sandbox",
    "json_response",
    "names",
    "prebuild",
    "serve",
]

SANDBOXES: dict[str, str] = {
    m.name: f"{__name__}.{m.name}"
    for m in pkgutil.iter_modules(__path__)
    if not m.name.startswith("_") and m.name != "server"
}


# the framework, imported on first use: `lowcode_sql.demo()` only needs the names (its sources are
# built when a query first reads one), and lowcode-sql query --demo "SELECT 1" none of it
_LAZY = {"Platform": "_base", "Request": "_base", "Response": "_base", "json_response": "_base",
         "RunningServer": "server", "serve": "server"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def names() -> list[str]:
    """The registered sandbox names, sorted."""
    return sorted(SANDBOXES)


#: emulators built ahead of use (``prebuild``), by name and the environment they were built in
_PREBUILT: dict[tuple[str, tuple[str | None, ...]], Platform] = {}


def _built_from() -> tuple[str | None, ...]:
    """What a default emulator's construction reads from the environment: which sample data it
    loads and whether it is strict (``_base``)."""
    from lowcode_sql.sandbox._base import SAMPLE_ENV, STRICT_ENV

    return os.environ.get(SAMPLE_ENV), os.environ.get(STRICT_ENV)


def prebuild() -> None:
    """Build every emulator with its default options now (sample data included), each for the
    next ``get_sandbox(name)`` of this process to take, once. The command daemon
    (``lowcode_sql.forkserver``) does it before it forks: each command then finds its own copy
    ready, where building the sample data cost ``tables --demo`` 0.26 s. A call with options, or
    in an environment that asks for another sample or strictness, builds a new one."""
    built_from = _built_from()
    for name in names():
        _PREBUILT[(name, built_from)] = get_sandbox(name)


def get_sandbox(name: str, **kw: Any) -> Platform:
    """A new emulator by platform name; ``kw`` go to its constructor (latency, rate_limit, ...).

    Raises:
        ConfigError: the name is not registered (with a did-you-mean hint).
    """
    target = SANDBOXES.get(name.lower())
    if target is None:
        raise ConfigError(f"unknown sandbox {name!r}{close_matches(name, SANDBOXES)} (known: {', '.join(names())})")
    if not kw and _PREBUILT:
        ready = _PREBUILT.pop((name.lower(), _built_from()), None)
        if ready is not None:
            return ready
    cls = importlib.import_module(target).SANDBOX
    return cls(**kw)
