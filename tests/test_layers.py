"""The import direction of the layers: plan -> dialect -> fetch -> convert -> execute -> serve.

Data flows one way, so imports do too: a module may import its own layer, the foundation (errors,
secrets, types (ir, scanspec, requests), sqltypes, config) and the layers it is allowed to build on
below; never a layer that builds on it. The emulators (``sandbox``) are written from the platforms'
documents independently of the dialects, so they import neither the dialects nor the engine:
otherwise the tests that make the two disagree would prove nothing. Checked statically, from every
module's imports (also the ones inside functions), so a lazy import cannot hide a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# (_sqlglot_compat: sqlglot 30's names on older sqlglot, for any layer that parses)
FOUNDATION = {"errors", "secrets", "types", "ir", "scanspec", "requests", "sqltypes", "config", "gcpause",
              "procmem", "__version__", "_sqlglot_compat"}

# layer -> the layers (besides itself and the foundation) it may import
ALLOWED: dict[str, set[str]] = {
    "dialect": set(),
    "sandbox": set(),
    "plan": {"dialect"},
    "fetch": {"dialect"},
    "convert": {"dialect"},
    "explain": {"plan", "dialect"},
    "catalog": {"dialect", "fetch", "sandbox"},
    "result": set(),  # a query's answer as Python sees it: Arrow and the foundation only
    "execute": {"dialect", "plan", "fetch", "convert", "catalog", "result"},
    # the interfaces ("serve"): each may use the engine and what is below it, and only the
    # interfaces it is built on (DB-API on the connection, SQLAlchemy on DB-API, the CLI on all)
    # verify: a query run with and without pushdown, compared (on a connection's engine)
    "verify_query": {"plan", "execute", "result"},
    # what a process's first scan would pay inside a query, paid when a connection gets its sources
    "warm": {"fetch", "convert", "execute"},
    "connection": {"dialect", "plan", "fetch", "convert", "catalog", "execute", "explain", "sandbox", "result",
                   "verify_query", "warm"},
    # attach's typed errors (DuckDB's text back to the scan's error) and LIMIT-sized first page
    "attach_errors": set(),
    "attach_head": {"plan"},
    "duckdb_attach": {"dialect", "plan", "fetch", "convert", "catalog", "execute", "connection", "attach_errors",
                      "attach_head"},
    # discovered catalogs and logins shared by the DB-API connections of one config
    "shared_catalog": {"dialect"},
    "dbapi": {"connection", "shared_catalog", "result"},
    "superset_spec": {"dbapi"},  # Superset's engine spec for lowcode:// (it runs EXPLAIN through DB-API)
    "sqlalchemy_dialect": {"dbapi"},
    # lowcode-sql probe: renders with dialects, sends through fetch, judges with execute's checks
    "probe": {"dialect", "fetch", "convert", "catalog", "execute", "sandbox"},
    "pgwire": {"dialect", "plan", "fetch", "convert", "catalog", "execute", "explain", "connection"},
    # the Spark data source: a table's scan through the same pieces as the engine; `query` on the connection
    "spark": {"dialect", "fetch", "convert", "catalog", "execute", "connection", "sandbox"},
    "cli_output": set(),  # the CLI's writers: Arrow batches to files, the foundation only
    "cli": {"dialect", "plan", "fetch", "convert", "catalog", "execute", "explain", "sandbox", "connection",
            "duckdb_attach", "dbapi", "pgwire", "cli_output", "shell", "probe", "verify_query", "daemon"},
    "shell": {"cli", "cli_output"},  # the CLI's interactive command: its error lines and cells are the CLI's own
    # the command daemon: the caller's side (stdlib only: it runs before anything heavy is imported),
    # the console entry point that asks it first, and the resident side that runs the CLI in a fork
    "daemon": set(),
    "launch": {"daemon", "cli"},
    "forkserver": {"cli", "cli_output", "connection", "fetch", "sandbox", "daemon", "warm"},
    "dbt": {"connection", "duckdb_attach"},  # the dbt-duckdb plugin: attach, as a user would
}
FOUNDATION_ALLOWED: dict[str, set[str]] = {
    "_sqlglot_compat": set(),
    "errors": {"secrets"},
    "secrets": set(),
    # the values that cross the stages: the predicate IR, the scan spec built on it, the HTTP
    # requests and pages; types re-exports all three
    "ir": set(),
    "scanspec": {"ir"},
    "requests": set(),
    "types": {"errors", "secrets", "ir", "scanspec", "requests"},
    "sqltypes": {"errors"},
    "config": {"errors", "secrets"},
    "gcpause": set(),  # pausing the cyclic GC while a page is decoded (fetch) or converted (convert)
    "procmem": set(),  # the allocators of a process lowcode_sql owns (the wire server, the command)
}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "dialect":
        return "dialect"
    if parts[0] != "lowcode_sql" or len(parts) < 2:
        return None
    return parts[1]


def _modules() -> list[tuple[str, Path]]:
    found = []
    for top in ("lowcode_sql", "dialect"):
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts.pop()
            found.append((".".join(parts), path))
    return found


def _imports(path: Path, module: str) -> set[str]:
    """Every project module ``path`` imports, as dotted names (``from a import b`` counts as both
    ``a`` and ``a.b``, since ``b`` may be a module)."""
    out: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in out if m.split(".")[0] in ("lowcode_sql", "dialect")}


def _violations() -> list[str]:
    bad = []
    for module, path in _modules():
        src = _layer(module)
        if src is None:
            continue  # the package root re-exports the public API
        allowed = FOUNDATION_ALLOWED.get(src)
        if allowed is None:
            assert src in ALLOWED, f"{module}: layer {src!r} is in no rule of this test; add it"
            allowed = ALLOWED[src] | FOUNDATION
        for target in sorted(_imports(path, module)):
            dst = _layer(target)
            if dst is None or dst == src or dst in allowed:
                continue
            bad.append(f"{module} imports {target} ({src} -> {dst})")
    return bad


def test_imports_follow_the_layer_direction() -> None:
    assert _violations() == []


@pytest.mark.parametrize("source, target", [
    ("from lowcode_sql.execute.engine import Engine", "fetch imports execute"),
    ("from lowcode_sql import pgwire", "dialect imports a server"),
    ("import dialect.coredata", "sandbox imports a dialect"),
])
def test_the_check_catches_an_import_against_the_direction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           source: str, target: str) -> None:
    # the rule is only worth having if a wrong import fails it: plant one in a copy of each layer
    where = {"fetch imports execute": ("lowcode_sql.fetch.planted", "fetch"),
             "dialect imports a server": ("dialect.planted", "dialect"),
             "sandbox imports a dialect": ("lowcode_sql.sandbox.planted", "sandbox")}[target]
    planted = tmp_path / "planted.py"
    planted.write_text(source + "\n")
    original = _modules

    def with_planted() -> list[tuple[str, Path]]:
        return [*original(), (where[0], planted)]

    monkeypatch.setitem(globals(), "_modules", with_planted)
    assert any(v.startswith(where[0]) for v in _violations())
