"""LIKE patterns as regexes, shared by the dialects whose APIs filter with a regex (Entu, Slingr).

Each platform escapes literal characters its own way (what its parser splits on, which case
classes DuckDB's ILIKE needs); the pattern's structure is the same everywhere: anchored at the
start, ``[\\s\\S]`` for the wildcards (``.`` would not match a newline) and ``(?![\\s\\S])`` as the end
anchor (``$`` also matches before a final newline).
"""

from __future__ import annotations

from collections.abc import Callable

from lowcode_sql.types import LikePattern

__all__ = ["like_to_regex"]


def like_to_regex(pattern: LikePattern, escape: Callable[[str], str]) -> str:
    """A regex (no flags) matching exactly the strings ``pattern`` matches; ``escape`` renders one
    literal character."""
    out = ["^"]
    for part in pattern.parts:
        if part is LikePattern.ANY:
            out.append(r"[\s\S]*")
        elif part is LikePattern.ONE:
            out.append(r"[\s\S]")
        else:
            out.extend(escape(ch) for ch in part)
    out.append(r"(?![\s\S])")
    return "".join(out)
