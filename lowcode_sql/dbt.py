"""A dbt-duckdb plugin: every lowcode_sql source as DuckDB tables in a dbt project, with pushdown.

``profiles.yml``::

    my_project:
      target: dev
      outputs:
        dev:
          type: duckdb
          path: dev.duckdb
          plugins:
            - module: lowcode_sql.dbt
              config:
                config: lowcode.toml      # the sources (default: $LOWCODE_SQL_CONFIG); or
                # demo: true              # the embedded sandboxes, no account needed

Models then read ``{{ source('crm', 'projects') }}`` (a dbt source with ``schema: crm``) or
``crm.projects`` directly: the plugin attaches the sources to the connection dbt-duckdb opens
(``lowcode_sql.attach``), so each model's filters, columns and LIMIT reach the platform's API as
they do through ``lowcode_sql.connect``, and dbt-duckdb's cursors see the tables too. Loaded by
dbt-duckdb (``plugins: - module: lowcode_sql.dbt``), which needs ``dbt-duckdb`` installed; this
module is never imported by lowcode_sql itself.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin  # type: ignore[import-not-found]

__all__ = ["Plugin"]

_KNOWN = frozenset({"config", "demo", "schemas", "readahead"})


class Plugin(BasePlugin):
    """Attaches lowcode_sql's sources to each DuckDB connection dbt-duckdb configures."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        from lowcode_sql.errors import ConfigError

        unknown = sorted(set(plugin_config) - _KNOWN)
        if unknown:
            raise ConfigError(f"lowcode_sql.dbt: unknown plugin option {', '.join(map(repr, unknown))} "
                              f"(known: {', '.join(sorted(_KNOWN))})")
        self.config = dict(plugin_config)
        self.attachments: list[Any] = []

    def configure_connection(self, conn: Any) -> None:
        import lowcode_sql

        source: Any = lowcode_sql.demo() if self.config.get("demo") else self.config.get("config")
        self.attachments.append(lowcode_sql.attach(
            conn, source, schemas=bool(self.config.get("schemas", True)),
            readahead=int(self.config.get("readahead", 4))))
