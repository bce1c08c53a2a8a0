"""Fixtures for the fetch tests; the fakes themselves live in ``fetch_fakes``."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fetch_fakes import API_KEY, BASE, PASSWORD, FakeAPI, FakeDialect, Sleeper

from dialect import Dialect, Secret
from lowcode_sql.fetch import RetryPolicy, SourceRuntime


@pytest.fixture
def sleeper() -> Sleeper:
    return Sleeper()


@pytest.fixture
def make_runtime(sleeper: Sleeper) -> Iterator[Callable[..., SourceRuntime]]:
    made: list[SourceRuntime] = []

    def make(api: FakeAPI, *, login: bool = False, dialect: Dialect | None = None, **kw: Any) -> SourceRuntime:
        kw.setdefault("retry", RetryPolicy(rng=random.Random(7), sleep=sleeper, clock=sleeper.clock))
        creds = {"api_key": Secret(API_KEY), "password": Secret(PASSWORD), "client_secret": Secret("cs-SECRET-42")}
        rt = SourceRuntime(
            "fake", BASE, dialect or FakeDialect(login=login), creds, transport=httpx.MockTransport(api), **kw
        )
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.close()
