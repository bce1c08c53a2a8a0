"""What the platforms' end-to-end tests share: a clean shared sandbox per test, and the transient
faults every fetcher must retry through to the same answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

#: (fault kind, its keywords): parametrize ``kind,kw`` with these (ids ``status-kw0``, ...)
TRANSIENT_FAULTS: list[tuple[str, dict[str, Any]]] = [
    ("status", {"status": 429, "retry_after": 0}),
    ("status", {"status": 503, "times": 2}),
    ("reset", {}),
    ("truncate", {}),
]
TIMEOUT = ("timeout", {})


def clean(shared: Any, **defaults: Any) -> Iterator[Any]:
    """The body of a ``sandbox`` fixture over a module's ``shared`` sandbox (building one takes a
    while): no faults, no latency, fresh counters, and ``defaults`` (attributes) set, before and
    after the test."""

    def reset() -> None:
        shared.faults.clear()
        shared.latency = 0.0
        for name, value in defaults.items():
            setattr(shared, name, value)

    reset()
    shared.reset_stats()
    yield shared
    reset()


def check_retried(con: Any, sandbox: Any, sql: str, path: str, kind: str, kw: dict[str, Any]) -> None:
    """A fault on the second request of ``path`` changes nothing in the answer to ``sql``."""
    expected = con.sql(sql).fetchall()
    sandbox.faults.add(kind, path=path, after=1, **kw)
    assert con.sql(sql).fetchall() == expected
    assert not len(sandbox.faults)  # the fault did fire


# What a user whose account was checked (``lowcode-sql probe``) configures: text compared as SQL
# does (a COUNT(*) from the API's total) and a trusted sort (no boundary check). The
# request-economy tests that use it measure that configuration; the default's extra checks and
# their cost are tested in tests/variants/test_verify.py and the Alumio e2e tests.
TRUSTED = {"count_from_total": True, "sort_pushdown": "trusted"}
