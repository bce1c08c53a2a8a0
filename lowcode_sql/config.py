"""Sources, declared in TOML or in code.

```toml
[sources.crm]                       # tables are addressed as crm.<table>
platform = "coredata"
base_url = "https://example.coredata.is"
credentials = { user = "COREDATA_USER", key = "COREDATA_KEY" }   # names of environment variables
concurrency = 8                     # requests in flight for this source
rate_limit = 10                     # requests per second (omit: unlimited)
timeout = 30                        # seconds per request
cache_ttl = 60                      # answer repeated requests from memory for 60 s (omit: no cache)

[sources.crm.options]               # per-platform switches (`lowcode-sql platforms` lists them)
order_by = true

[sources.books]
platform = "entu"
sandbox = true                      # the embedded emulator with its sample data: no account needed
options = { db = "demo" }
```

Credentials are read from the environment when a source is first used and held as ``Secret``s,
which never print themselves; the config only names the variables. A ``credentials`` entry must be
an environment variable name (a secret pasted there by mistake is refused, and not echoed); a value
with leading or trailing whitespace (a key read from a file keeps its newline) is stripped, with a
``CredentialWarning`` that names the variable, never the value.
"""

from __future__ import annotations

import os
import re
import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lowcode_sql.errors import ConfigError, close_matches
from lowcode_sql.secrets import Secret

__all__ = ["Config", "CredentialWarning", "SourceConfig", "load_config"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ENV_NAME = _NAME  # POSIX portable environment variable names
# A name shown in the "not set" message: upper case as environment variables conventionally are
# and word-like. `cdk_live_4f9a...` is a legal name too: a key pasted where its name belongs must
# not be echoed because it happens to be alphanumeric.
_SHOWN_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,63}$")


class CredentialWarning(UserWarning):
    """A credential value was adjusted (whitespace stripped); the message names the variable only."""


def _shown(var: str) -> bool:
    return bool(_SHOWN_NAME.match(var)) and ("_" in var or len(var) <= 16)


def _clean(value: str, where: str) -> str:
    """``value`` without surrounding whitespace, warning (by name) when there was some."""
    stripped = value.strip()
    if stripped != value:
        warnings.warn(f"{where} has leading or trailing whitespace (a newline from a file?): it was stripped",
                      CredentialWarning, stacklevel=3)
    return stripped
_KEYS = {"platform", "base_url", "credentials", "options", "concurrency", "rate_limit", "timeout", "sandbox",
         "secrets", "cache_ttl", "cache_max_mb"}


@dataclass(frozen=True)
class SourceConfig:
    name: str
    platform: str
    base_url: str | None = None
    credentials: Mapping[str, str] = field(default_factory=dict)  # credential -> env var name
    options: Mapping[str, Any] = field(default_factory=dict)
    concurrency: int = 8
    rate_limit: float | None = None
    timeout: float = 30.0
    cache_ttl: float = 0.0  # seconds a response is reused (0: no cache)
    cache_max_mb: float = 64.0
    sandbox: bool = False
    secrets: Mapping[str, Secret] = field(default_factory=dict)  # given in code (never in TOML)

    def resolve_credentials(self) -> dict[str, Secret]:
        out = dict(self.secrets)
        for cred, var in self.credentials.items():
            if cred in out:
                continue
            value = os.environ.get(var)
            named = f"the environment variable {var}" if _shown(var) else "the environment variable it names"
            if value is None:
                raise ConfigError(f"source {self.name!r}: credentials.{cred} is not set: {named} is missing")
            value = _clean(value, f"source {self.name!r}: {named} (credentials.{cred})")
            if not value:
                raise ConfigError(f"source {self.name!r}: credentials.{cred} is empty: {named} holds no value")
            out[cred] = Secret(value)
        return out


@dataclass(frozen=True)
class Config:
    sources: tuple[SourceConfig, ...] = ()

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise ConfigError(f"unknown source {name!r}{close_matches(name, [s.name for s in self.sources])}")


def source_from_mapping(name: str, raw: Mapping[str, Any]) -> SourceConfig:
    if not _NAME.match(name):
        raise ConfigError(f"source name {name!r} must be a SQL identifier (letters, digits, _)")
    unknown = set(raw) - _KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(f"source {name!r}: unknown setting {key!r}{close_matches(key, _KEYS)}")
    if "platform" not in raw:
        raise ConfigError(f"source {name!r}: 'platform' is required (e.g. platform = \"coredata\")")
    sandbox = bool(raw.get("sandbox", False))
    if not sandbox and not raw.get("base_url"):
        raise ConfigError(f"source {name!r}: 'base_url' is required (or sandbox = true)")
    creds = raw.get("credentials", {})
    if not isinstance(creds, Mapping) or not all(isinstance(v, str) for v in creds.values()):
        raise ConfigError(f"source {name!r}: credentials maps each credential to an environment variable name")
    for cred, var in creds.items():
        # Neither the entry's value (maybe the secret itself) nor an odd key is ever echoed.
        label = f"credentials.{cred}" if isinstance(cred, str) and _NAME.match(cred) else "a credentials entry"
        if not _ENV_NAME.match(var):
            raise ConfigError(f"{label} of source {name!r} is not an environment variable name (letters, digits "
                              "and _, not starting with a digit): put the secret in the environment and name "
                              "the variable here")
    secrets = {k: _secret(name, k, v) for k, v in dict(raw.get("secrets", {})).items()}
    try:
        cfg = SourceConfig(
            name=name, platform=str(raw["platform"]), base_url=raw.get("base_url"), credentials=dict(creds),
            options=dict(raw.get("options", {})), concurrency=int(raw.get("concurrency", 8)),
            rate_limit=float(raw["rate_limit"]) if raw.get("rate_limit") is not None else None,
            timeout=float(raw.get("timeout", 30.0)), sandbox=sandbox, secrets=secrets,
            cache_ttl=float(raw.get("cache_ttl", 0.0)), cache_max_mb=float(raw.get("cache_max_mb", 64.0)),
        )
    except (TypeError, ValueError) as e:
        raise ConfigError(f"source {name!r}: {e}") from None
    # checked here, not first in the fetcher (a ValueError there was a traceback in the CLI)
    bad = ("concurrency must be at least 1" if cfg.concurrency < 1
           else "timeout must be greater than 0" if cfg.timeout <= 0
           else "rate_limit must be greater than 0" if cfg.rate_limit is not None and cfg.rate_limit <= 0
           else None)
    if bad:
        raise ConfigError(f"source {name!r}: {bad}")
    return cfg


def _secret(source: str, cred: str, value: Any) -> Secret:
    """A credential given in code, stripped of surrounding whitespace like one from the environment."""
    text = value.reveal() if isinstance(value, Secret) else str(value)
    clean = _clean(text, f"source {source!r}: the secret for credential {cred!r}")
    return value if isinstance(value, Secret) and clean == text else Secret(clean)


def load_config(source: str | Path | Mapping[str, Any] | Config | None) -> Config:
    """A ``Config`` from a TOML file path, a mapping shaped like the TOML, or a Config."""
    if isinstance(source, Config):
        return source
    if source is None:
        env = os.environ.get("LOWCODE_SQL_CONFIG")
        if not env:
            return Config()
        source = env
    if isinstance(source, str | Path):
        path = Path(source).expanduser()
        try:
            raw: Mapping[str, Any] = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file {str(path)!r} not found") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"config file {str(path)!r}: {e}") from None
        except (OSError, UnicodeDecodeError) as e:  # a directory, no permission, not text
            reason = e.strerror if isinstance(e, OSError) and e.strerror else "not a UTF-8 text file"
            raise ConfigError(f"config file {str(path)!r}: {reason}") from None
    else:
        raw = source
    sources = raw.get("sources", {})
    if not isinstance(sources, Mapping):
        raise ConfigError("'sources' must be a table of [sources.<name>] sections")
    return Config(tuple(source_from_mapping(n, s) for n, s in sources.items()))
