"""CoreData auth: tastypie ``ApiKeyAuthentication`` (seed "Authentication").
"""

from __future__ import annotations

from collections.abc import Mapping

from lowcode_sql.sandbox._base import Request


def _authenticated(request: Request, users: Mapping[str, str]) -> bool:
    """tastypie ``ApiKeyAuthentication.extract_credentials`` + key check."""
    header = request.header("authorization") or ""
    if header.lower().startswith("apikey "):
        bits = header.split()
        if len(bits) != 2 or bits[0].lower() != "apikey" or ":" not in bits[1]:
            return False
        username, api_key = bits[1].split(":", 1)
    else:
        username = request.arg("username") or ""
        api_key = request.arg("api_key") or ""
    if not username or not api_key:
        return False
    return users.get(username) == api_key
