"""Slingr's LIKE/ILIKE regexes (``dialect/_slingr_query.py``), checked against DuckDB itself: every
ASCII symbol goes out as ``\\xhh`` (so no comma, quote, parenthesis or slash reaches the query
language's parser, and no ``]`` or ``\\`` can change the regex), and the regex matches exactly what
DuckDB's LIKE / ILIKE match."""

from __future__ import annotations

import re
import string

import duckdb
import pytest

from dialect._slingr_query import like_regex
from lowcode_sql.types import LikePattern

SYMBOLS = "".join(ch for ch in string.punctuation if ch not in "%_") + " "
PATTERNS = ["a" + SYMBOLS + "b", "%],[%", "x'y%", "_(1)_", "%A/b\\c%", "K%", "1_2"]
CANDIDATES = ["a" + SYMBOLS + "b", "A" + SYMBOLS + "B", "],[", "x]],[y", "X'Y z", "x'y", "(1)", "a(1)b",
              "zA/B\\Cz", "a/b\\c", "kelvin", "\u212aelvin", "1x2", "12", "]]", ""]


@pytest.mark.parametrize("case_insensitive", [False, True])
@pytest.mark.parametrize("pattern", PATTERNS)
def test_like_regex_matches_what_duckdb_matches(pattern: str, case_insensitive: bool) -> None:
    regex = like_regex(LikePattern.parse(pattern), case_insensitive)
    # the literal characters, without the builder's own anchors and wildcards
    literals = regex.removeprefix("^").removesuffix(r"(?![\s\S])").replace(r"[\s\S]", "")
    for ch in ",'()/":
        assert ch not in literals, (pattern, regex)  # would reach the query language's parser
    op = "ILIKE" if case_insensitive else "LIKE"
    con = duckdb.connect()
    for text in CANDIDATES:
        want = con.execute(f"SELECT ? {op} ?", [text, pattern]).fetchone()[0]
        assert bool(re.fullmatch(regex, text, re.S)) == want, (pattern, op, text, regex)
