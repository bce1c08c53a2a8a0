"""Platform dialects: one module per platform, each a ``Dialect`` subclass.

``get(name)`` returns the dialect class; built-in dialects are imported lazily and third-party
ones are found through the ``lowcode_sql.dialects`` entry-point group.

This package is the dialect layer's public face: the other layers (and the tests) import
``Dialect``, ``TableDef``, ``ColumnDef``, ``AuthPlan`` ... from ``dialect``; ``dialect._base`` is the
implementation and may move.
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points

from dialect._base import (
    COMMON_OPTIONS,
    PUSH_OPS,
    REGISTRY,
    AuthPlan,
    ColumnDef,
    Dialect,
    Discovery,
    Secret,
    TableDef,
    Token,
    jwt_expiry,
    push_op,
    table_as,
)

__all__ = ["COMMON_OPTIONS", "PUSH_OPS", "REGISTRY", "AuthPlan", "ColumnDef", "Dialect", "Discovery", "Secret",
           "TableDef", "Token", "get", "jwt_expiry", "names", "push_op", "table_as"]

# every public module of this package is a platform: adding one needs no edit here
_BUILTIN = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))


def _load_all() -> None:
    for mod in _BUILTIN:
        importlib.import_module(f"dialect.{mod}")
    for ep in entry_points(group="lowcode_sql.dialects"):
        if ep.name not in REGISTRY:
            ep.load()


def get(name: str) -> type[Dialect]:
    """The dialect class registered under ``name``."""
    if name not in REGISTRY:
        if name in _BUILTIN:
            importlib.import_module(f"dialect.{name}")
        else:
            _load_all()
    if name not in REGISTRY:
        from lowcode_sql.errors import ConfigError, close_matches

        raise ConfigError(f"unknown platform {name!r}{close_matches(name, names())}")
    return REGISTRY[name]


def names() -> list[str]:
    """Every registered platform name, sorted."""
    _load_all()
    return sorted(REGISTRY)
