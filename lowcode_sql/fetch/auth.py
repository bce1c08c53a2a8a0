"""Credentials on the wire: static headers, token logins, proactive refresh, one re-login on 401.

The dialect says *what* (an ``AuthPlan``); this module does it. Secrets are revealed only while
building headers and login bodies, and every message that may echo them passes ``redact``: the
process-wide registry of ``lowcode_sql.secrets`` (which also learns the tokens that logins return
and base64 of every ``a:b`` pair of credential values, as Basic auth would send them), plus this
source's values too short to be registered process-wide.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from dialect import AuthPlan, Dialect, Token
from lowcode_sql import secrets
from lowcode_sql.errors import APIError, AuthError, ConfigError, DialectError, FetchError, LowcodeSQLError
from lowcode_sql.fetch.cache import credential_fingerprint
from lowcode_sql.fetch.stats import ScanStats
from lowcode_sql.requests import HttpRequest
from lowcode_sql.secrets import Secret

__all__ = ["AuthSession", "Sender"]

#: sends one request without auth headers (but with retries and budget); returns decoded JSON
Sender = Callable[[HttpRequest, Mapping[str, str], "ScanStats | None"], Awaitable[Any]]

_TOKEN = "{token}"


def _bare(exc: FetchError) -> str:
    """The message without the ``[source] `` prefix, to re-wrap it without repeating the source."""
    text = str(exc)
    return text.removeprefix(f"[{exc.source}] ") if exc.source else text


class AuthSession:
    """Headers for each request of one source; logs in when the plan says so.

    One ``asyncio.Lock`` guards the login so that 16 pages starting at once (or all getting a 401
    when the token expires) cause a single login, not 16.
    """

    def __init__(
        self,
        dialect: Dialect,
        credentials: Mapping[str, Secret],
        *,
        sender: Sender,
        source: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.plan: AuthPlan = dialect.auth(credentials)
        self._dialect = dialect
        self._sender = sender
        self._source = source
        self._clock = clock  # wall clock: token expiries are epoch seconds
        self._token: Token | None = None
        self._refresh_at: float | None = None
        self._lock = asyncio.Lock()  # bound to the loop that first uses it: see forked()
        self.logins = 0
        self.fingerprint = credential_fingerprint(credentials)  # one-way: keys lowcode_sql.shared_catalog
        found = [s.reveal() for s in credentials.values() if isinstance(s, Secret)]
        found += [v.reveal() for _, v in self.plan.headers if isinstance(v, Secret)]
        found += [v.reveal() for _, v in self.plan.login_secret_headers]
        found += [v.reveal() for v in self.plan.login_secret_json.values()]
        values = [s.reveal() for s in credentials.values() if isinstance(s, Secret)]
        for i, user in enumerate(values):  # HTTP Basic sends base64("user:key"): every ordered pair
            for j, key in enumerate(values):
                if i != j:
                    secrets.register_pair(user, key)
        # Values under 8 characters are not registered process-wide (they would mask ordinary
        # words everywhere); scrub them (4+) from what this source's platform echoes.
        self._short = tuple(sorted({s.strip() for s in found if 4 <= len(s.strip()) < secrets.MIN_LENGTH}))
        needs_token = any(_TOKEN in (v.reveal() if isinstance(v, Secret) else v) for _, v in self.plan.headers)
        if needs_token and self.plan.login is None:
            raise DialectError(f"{dialect.name or type(dialect).__name__}: auth headers use {_TOKEN} but no login")
        self._static = None if self.plan.login is not None else self._render(None)

    def forked(self) -> None:
        """In a forked child: a login lock of its own loop (the token, if any, stays valid)."""
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"AuthSession(source={self._source!r}, login={self.plan.login is not None}, logins={self.logins})"

    @property
    def can_relogin(self) -> bool:
        return self.plan.login is not None

    def redact(self, text: str) -> str:
        """``text`` with every registered secret form (tokens included) and this source's short
        values replaced by ``***``."""
        return secrets.redact(text, self._short)

    async def headers(self, stats: ScanStats | None = None) -> tuple[dict[str, str], Token | None]:
        """The auth headers for the next request and the token they carry (for ``invalidate``).

        A login needed on the way is counted into ``stats`` (as a login and as requests)."""
        if self._static is not None:
            return self._static, None
        token = self._token
        if token is None or self._expiring():
            async with self._lock:
                token = self._token  # another task may have logged in while we waited
                if token is None or self._expiring():
                    token = await self._login(stats)
        return self._render(token), token

    def invalidate(self, token: Token | None) -> None:
        """Forget ``token`` after a 401, unless a newer one already replaced it (so concurrent 401s
        on the same expired token lead to one login)."""
        if token is not None and self._token is token:
            self._token = None

    def token_state(self) -> tuple[Token | None, float | None]:
        """The current token and when it is refreshed (``shared_catalog`` hands it on)."""
        return self._token, self._refresh_at

    def restore(self, token: Token, refresh_at: float | None) -> None:
        """Use ``token`` (logged in by another connection of the same credentials) until it is
        refused or due for refresh, unless this session already has one."""
        if self._token is None:
            self._token, self._refresh_at = token, refresh_at

    def _expiring(self) -> bool:
        return self._refresh_at is not None and self._clock() >= self._refresh_at

    def _render(self, token: Token | None) -> dict[str, str]:
        out: dict[str, str] = {}
        if token is not None:
            secrets.register(token.value)  # keeps it fresh in the bounded registry
        for name, value in self.plan.headers:
            text = value.reveal() if isinstance(value, Secret) else value
            if token is not None and _TOKEN in text:
                text = text.replace(_TOKEN, token.value)
                secrets.register(text)  # the whole header value too: its base64 is not the token's
            out[name] = self._checked(name, text)
        return out

    def _checked(self, name: str, value: str) -> str:
        """Refuse a header value that httpx/h11 would reject with an error quoting it (a key read
        from a file with its trailing newline): name the header, never the value."""
        if value != value.strip() or any(c in value for c in "\r\n\0"):
            raise ConfigError(
                f"source {self._source!r}: the {name} header made from the credentials has leading or "
                "trailing whitespace or a line break; check the credential values (not shown)"
            )
        return value

    async def _login(self, stats: ScanStats | None) -> Token:
        plan = self.plan
        assert plan.login is not None
        login = plan.login
        headers = dict(login.headers)
        headers.update((k, self._checked(k, v.reveal())) for k, v in plan.login_secret_headers)
        body = login.json
        if plan.login_secret_json:
            if body is not None and not isinstance(body, dict):
                raise DialectError(f"{self._dialect.name}: login_secret_json needs a JSON object login body")
            body = {**(body or {}), **{k: v.reveal() for k, v in plan.login_secret_json.items()}}
        request = HttpRequest(login.method, login.path, login.params, (), body)
        self.logins += 1
        if stats is not None:
            stats.add(logins=1)
        try:
            answer = await self._sender(request, headers, stats)
        except AuthError as exc:
            raise AuthError(f"login failed: {_bare(exc)}", source=self._source, status=exc.status) from None
        except APIError as exc:
            # The platform answered and said no (bad password -> 400/422 on many platforms).
            raise AuthError(f"login failed: {_bare(exc)}", source=self._source, status=exc.status) from None
        failed: str | None = None
        try:
            token = self._dialect.parse_login(answer)
        except LowcodeSQLError:
            raise
        except Exception as exc:
            # Type name only: the exception text may quote the body, which holds the token (not yet
            # registered: it was not parsed); raised below so that it is not even the __context__.
            failed = type(exc).__name__
        if failed is not None:
            raise AuthError(f"login failed: unexpected answer to {login.method} {login.target()} ({failed})",
                            source=self._source)
        secrets.register(token.value)  # a token is a secret too: mask it wherever it is echoed
        self._token = token
        self._refresh_at = self._refresh_time(token)
        return token

    def _refresh_time(self, token: Token) -> float | None:
        if token.expires_at is None:
            return None  # no known expiry: rely on the 401 -> re-login path
        lifetime = token.expires_at - self._clock()
        if lifetime <= 0:
            # Already "expired" on arrival means clock skew with the platform: refreshing before
            # every request would be a login storm, so fall back to the 401 path.
            return None
        # Never refresh earlier than half-way: a 60 s margin on a 30 s token would log in per request.
        return token.expires_at - min(self.plan.refresh_margin, lifetime / 2)
