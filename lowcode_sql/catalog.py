"""Sources at run time: each source's dialect, HTTP runtime and (lazily discovered) tables."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx

import dialect as dialects
from dialect import Dialect, TableDef
from lowcode_sql.config import Config, SourceConfig, source_from_mapping
from lowcode_sql.errors import ConfigError, UnknownTable, close_matches
from lowcode_sql.fetch import loop
from lowcode_sql.fetch.record import Recorder, ReplayTransport
from lowcode_sql.fetch.runtime import SourceRuntime
from lowcode_sql.secrets import Secret

__all__ = ["Catalog", "Source"]


class Source:
    """One configured source: its dialect, HTTP runtime, embedded emulator (sandbox sources) and
    tables (discovered on first use).

    A sandbox source without an emulator instance (``lowcode_sql.demo()``, ``sandbox = true``) is
    built on first use: a query that leaves a demo platform out (``lowcode-sql query --demo "SELECT
    1"``) neither imports its emulator nor builds its sample data (issue 15, item 5)."""

    def __init__(self, config: SourceConfig, build: Callable[[], tuple[Dialect, SourceRuntime, Any]],
                 *, lazy: bool = False) -> None:
        self.config = config
        self._build: Callable[[], tuple[Dialect, SourceRuntime, Any]] | None = build
        self._parts: tuple[Dialect, SourceRuntime, Any] | None = None
        self._tables: dict[str, TableDef] | None = None
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()
        if not lazy:
            self._get()

    def _get(self) -> tuple[Dialect, SourceRuntime, Any]:
        parts = self._parts
        if parts is None:
            with self._build_lock:
                if self._parts is None:
                    assert self._build is not None
                    self._parts, self._build = self._build(), None
                parts = self._parts
        return parts

    @property
    def built(self) -> bool:
        return self._parts is not None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def dialect(self) -> Dialect:
        return self._get()[0]

    @property
    def runtime(self) -> SourceRuntime:
        return self._get()[1]

    @property
    def sandbox(self) -> Any:
        """The embedded emulator, for sandbox sources."""
        return self._get()[2]

    def tables(self) -> dict[str, TableDef]:
        with self._lock:
            if self._tables is None:
                found = loop.run(self.runtime.discover())
                self._tables = {t.name: t for t in found}
            return self._tables

    def refresh(self) -> None:
        with self._lock:
            self._tables = None

    @property
    def discovered(self) -> dict[str, TableDef] | None:
        """The tables if discovered (or seeded) already, else None (nothing is sent)."""
        return self._tables

    def seed_tables(self, tables: dict[str, TableDef]) -> None:
        """Take ``tables`` as this source's discovery (``lowcode_sql.shared_catalog``)."""
        with self._lock:
            if self._tables is None:
                self._tables = dict(tables)


class Catalog:
    """Resolves ``source.table`` names for the planner (``lowcode_sql.plan.CatalogView``)."""

    def __init__(self, config: Config, *, record: str | os.PathLike[str] | None = None,
                 replay: str | os.PathLike[str] | None = None) -> None:
        """``record``: write every exchange into that folder, redacted; ``replay``: answer every
        request from such a folder instead of the platforms (``lowcode_sql.fetch.record``)."""
        self.sources: dict[str, Source] = {}
        self.recorder = Recorder(record) if record is not None else None
        self.replay = ReplayTransport(replay) if replay is not None else None
        sources = config.sources
        if self.replay is not None and not sources:  # a recording alone: its own sources
            sources = tuple(source_from_mapping(name, {"platform": d["platform"], "base_url": d["base_url"]})
                            for name, d in self.replay.sources.items())
        for sc in sources:
            self.add(sc)

    def add(self, sc: SourceConfig, sandbox: Any = None, *,
            wrap_transport: Callable[[httpx.AsyncBaseTransport | None], httpx.AsyncBaseTransport] | None = None,
            ) -> Source:
        """Add a source. ``wrap_transport`` receives the transport requests would use (None: httpx's
        own) and returns the one to use instead: ``lowcode-sql probe`` counts and bounds its requests
        there, at the last step before the network."""
        if sc.name in self.sources:
            raise ConfigError(f"source {sc.name!r} is declared twice")
        dialect_cls = dialects.get(sc.platform)
        lazy = (bool(sc.sandbox) and sandbox is None and not sc.options  # options are checked at once
                and self.replay is None)
        if lazy:
            from lowcode_sql.sandbox import SANDBOXES, get_sandbox

            if sc.platform.lower() not in SANDBOXES:
                get_sandbox(sc.platform)  # raises the ConfigError naming the known ones
        replaying = self.replay is not None
        credentials = (sc.resolve_credentials() if not replaying and (not sc.sandbox or sc.credentials or sc.secrets)
                       else None)

        def build() -> tuple[Dialect, SourceRuntime, Any]:
            transport: Any = None
            base_url = sc.base_url
            options = dict(sc.options)
            emulator = sandbox
            creds = credentials
            if self.replay is not None:
                # no emulator and no credentials: the answers are recorded, the credentials in them
                # masked; the recording says where the source was and with which options
                transport = self.replay
                described = self.replay.sources.get(sc.name, {})
                base_url = base_url or described.get("base_url") or "http://sandbox.invalid/"
                options = {**described.get("options", {}), **options}
                emulator = None
                creds = {k: Secret(f"replayed-{k}-placeholder") for k in dialect_cls.CREDENTIALS}
            elif sc.sandbox:
                if emulator is None:
                    from lowcode_sql.sandbox import get_sandbox

                    emulator = get_sandbox(sc.platform)
                transport = emulator.transport()
                base_url = base_url or "http://sandbox.invalid/"
                options = {**emulator.DEMO_OPTIONS, **options}
                creds = creds if creds is not None else sandbox_credentials(emulator)
            if wrap_transport is not None:
                transport = wrap_transport(transport)
            runtime = SourceRuntime(sc.name, base_url or "", dialect_cls(options), creds or {}, transport=transport,
                                    concurrency=sc.concurrency, rate_limit=sc.rate_limit, timeout=sc.timeout,
                                    cache_ttl=sc.cache_ttl, cache_max_mb=sc.cache_max_mb, recorder=self.recorder)
            if self.recorder is not None:
                self.recorder.describe(sc.name, sc.platform, runtime.base_url, options)
            return runtime.dialect, runtime, emulator

        src = Source(sc, build, lazy=lazy)
        self.sources[sc.name] = src
        return src

    def source(self, name: str) -> Source:
        try:
            return self.sources[name]
        except KeyError:
            raise UnknownTable(name, list(self.sources)) from None

    def resolve(self, db: str | None, name: str) -> tuple[str, TableDef, Dialect]:
        """A table by ``source.table`` or a bare table name unique across sources. Names match as
        DuckDB's do: case-insensitively (an exact spelling wins when two differ only in case)."""
        if db is not None:
            src_name = _pick(db, self.sources)
            if src_name is None:
                raise UnknownTable(f"{db}.{name}", [f"{s}.{t}" for s, t in self.all_names()])
            src = self.sources[src_name]
            tables = src.tables()
            table = _pick(name, tables)
            if table is None:
                raise UnknownTable(f"{db}.{name}", [f"{src_name}.{t}" for t in tables])
            return src.name, tables[table], src.dialect
        matches = [(s, t) for s, t in self.all_names() if t == name]
        if not matches:
            matches = [(s, t) for s, t in self.all_names() if t.lower() == name.lower()]
        if len(matches) == 1:
            src = self.sources[matches[0][0]]
            return src.name, src.tables()[matches[0][1]], src.dialect
        if matches:
            raise UnknownTable(name + " (in several sources: qualify it as " +
                               " or ".join(f"{s}.{t}" for s, t in matches) + ")")
        raise UnknownTable(name, [f"{s}.{t}" for s, t in self.all_names()])

    def all_names(self) -> Iterator[tuple[str, str]]:
        for s in self.sources.values():
            for t in s.tables():
                yield s.name, t

    def close(self) -> None:
        for s in self.sources.values():
            if s.built:  # a lazy source nobody used has nothing to close
                s.runtime.close()


def sandbox_credentials(sandbox: Any) -> dict[str, Any]:
    """The demo credentials an embedded emulator accepts."""
    from dialect import Secret

    return {k: Secret(v) for k, v in sandbox.DEMO_CREDENTIALS.items()}


def source_help(name: str, candidates: list[str]) -> str:  # pragma: no cover - used by the CLI
    return close_matches(name, candidates)


def _pick(name: str, names: Any) -> str | None:
    """``name`` itself if present, else its only case-insensitive match."""
    if name in names:
        return name
    found = [n for n in names if n.lower() == name.lower()]
    return found[0] if len(found) == 1 else None
