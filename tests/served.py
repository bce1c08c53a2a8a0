"""Config files for emulators served over real HTTP, as a user would write them."""

from __future__ import annotations

from pathlib import Path

#: the environment a process needs for ``coredata_config``'s credentials (the emulator's demo account)
CD_ENV = {"CD_USER": "demo", "CD_KEY": "demo-key"}


def coredata_config(path: Path, url: str, *, source: str = "crm", concurrency: int | None = None,
                    page_size: int | None = None) -> Path:
    """Write a TOML config with one CoreData source at ``url`` whose credentials are the
    environment variables of ``CD_ENV``; returns ``path``."""
    lines = [f"[sources.{source}]", 'platform = "coredata"', f'base_url = "{url}"']
    if concurrency is not None:
        lines.append(f"concurrency = {concurrency}")
    if page_size is not None:
        lines.append(f"options = {{ page_size = {page_size} }}")
    lines.append('credentials = { user = "CD_USER", key = "CD_KEY" }')
    path.write_text("\n".join(lines) + "\n")
    return path
