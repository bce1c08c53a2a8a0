"""Retries with exponential backoff and full jitter, honouring ``Retry-After``; typed errors after.

What is retried: the statuses in ``RetryPolicy.retry_statuses`` (429 and the transient 5xx),
transport failures (connect/read errors, dropped connections, timeouts) and a 2xx body that is not
valid JSON (a truncated page). Everything else fails at once. After the last attempt the failure is
translated into the ``lowcode_sql.errors`` tree::

    401/403              -> AuthError
    other HTTP status    -> APIError(status=...), with the platform's own message
    timeout              -> RequestTimeout
    connect/read/reset   -> ConnectionFailed
    malformed JSON       -> APIError("malformed JSON page ...")

Messages name the source and the request's method and path (query string included); never headers.
Whatever the platform (or httpx) says is redacted (``lowcode_sql.secrets.redact``) *before* it is
cut to ~300 characters (80 for a malformed page's head), so a server that echoes the auth header
cannot make half a key survive the cut; foreign exceptions are chained as ``RedactedCause``s.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import httpx
import orjson

from lowcode_sql.errors import APIError, AuthError, ConnectionFailed, FetchError, RequestTimeout
from lowcode_sql.fetch.loop import off_loop
from lowcode_sql.fetch.stats import ScanStats
from lowcode_sql.gcpause import paused_gc
from lowcode_sql.secrets import redact as redact_secrets
from lowcode_sql.secrets import scrubbed

__all__ = ["RetryPolicy", "decode_json", "parse_retry_after", "platform_message", "send_with_retry"]

_MESSAGE_KEYS = ("error", "message", "detail", "title", "errors", "error_description", "msg")
_MAX_MESSAGE = 300
_MAX_HEAD = 80  # characters of a malformed page quoted in the error
_HEAD_WINDOW = 8192  # bytes decoded (and redacted) before the head is cut: a secret straddling 80 is whole here

Redactor = Callable[[str], str]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. ``max_attempts`` counts the first attempt; ``max_total`` bounds the time
    spent waiting between attempts of one request. ``rng``/``sleep``/``clock`` are injectable so
    tests are deterministic and never actually wait."""

    max_attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 10.0
    max_total: float = 60.0
    max_retry_after: float = 60.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)
    sleep: Callable[[float], Awaitable[Any]] = field(default=asyncio.sleep, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def backoff(self, attempt: int) -> float:
        """Delay before attempt ``attempt + 1``: full jitter over an exponential cap (AWS style),
        so many clients hitting the same 503 spread out instead of retrying in lockstep."""
        cap = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return self.rng.uniform(0.0, cap)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds (fractions accepted) or an
    HTTP-date; None when absent or unreadable.

    >>> parse_retry_after("2.5")
    2.5
    >>> parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", now=30.0)
    30.0
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


def _truncate(text: str, redact: Redactor = redact_secrets, limit: int = _MAX_MESSAGE) -> str:
    """Redact, collapse whitespace, redact again (a collapsed run may complete a secret), cut."""
    text = redact(" ".join(redact(text).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _find_message(value: Any, depth: int = 0) -> str | None:
    if depth > 4:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        for key in _MESSAGE_KEYS:
            if key in value:
                found = _find_message(value[key], depth + 1)
                if found:
                    return found
        return None
    if isinstance(value, list):
        parts = [m for m in (_find_message(v, depth + 1) for v in value[:5]) if m]
        return "; ".join(parts) or None
    return None  # numbers/booleans (``"error": true``) say nothing useful


def platform_message(content: bytes, redact: Redactor = redact_secrets) -> str:
    """The platform's own error text from a response body, redacted, at most ~300 characters.

    >>> platform_message(b'{"error": {"code": 7, "message": "no such table"}}')
    'no such table'
    >>> platform_message(b'{"detail": "invalid filter", "violations": [{"propertyPath": "where", "title": "unknown"}]}')
    'invalid filter (where: unknown)'
    """
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        return _truncate(content.decode("utf-8", "replace"), redact)
    found = _find_message(body)
    violations = body.get("violations") if isinstance(body, dict) else None
    if isinstance(violations, list) and violations:
        # problem details (RFC 7807, Symfony style): the violations name the offending field
        detail = "; ".join(
            f"{v.get('propertyPath')}: {v.get('title') or v.get('message')}" if v.get("propertyPath")
            else str(v.get("title") or v.get("message"))
            for v in violations[:5] if isinstance(v, dict) and (v.get("title") or v.get("message"))
        )
        if detail:
            found = f"{found} ({detail})" if found else detail
    if found is None:
        found = orjson.dumps(body).decode() if body is not None else ""
    return _truncate(found, redact)


def _decode(resp: httpx.Response) -> Any:
    if resp.status_code == 204:
        return None
    return decode_json(resp.content)


def decode_json(data: bytes) -> Any:
    """A page's JSON, decoded with the cyclic GC paused: no young collection mid-page
    (lowcode_sql/gcpause.py)."""
    with paused_gc():
        return orjson.loads(data)


async def send_with_retry(
    policy: RetryPolicy,
    attempt: Callable[[], Awaitable[httpx.Response]],
    *,
    source: str,
    what: str,
    stats: ScanStats | None = None,
    redact: Redactor = redact_secrets,
    fast: Callable[[bytes], Any] | None = None,
    received: list[bytes] | None = None,
) -> Any:
    """Call ``attempt`` until it yields a decodable 2xx answer; return the decoded JSON.

    ``fast(body)``: a decoder tried first on a 2xx body (a page read straight into Arrow); its
    result is returned unless it is None, in which case the JSON is decoded as usual (so a
    malformed page is retried exactly as before). It must not raise, and runs off the loop
    (``loop.off_loop``): it must be thread-safe. ``received``: set to ``[body]`` of the 2xx answer
    returned, unless a 204 (the response cache keeps those bytes).

    ``what`` is ``"METHOD path?query"`` for messages. ``redact`` scrubs secret values from anything
    the platform echoes back (the process-wide registry, plus the source's own short values).
    """
    started = policy.clock()
    failure: tuple[type[FetchError], str, int | None] | None = None
    cause: BaseException | None = None
    attempts = 0
    fatal: FetchError | None = None
    for attempts in range(1, policy.max_attempts + 1):
        wait: float | None = None
        if stats is not None:
            stats.add(requests=1)
        try:
            resp = await attempt()
        except httpx.TimeoutException as exc:
            failure, cause = (RequestTimeout, f"{what}: timed out ({type(exc).__name__})", None), exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            detail = _truncate(str(exc), redact) or "connection dropped"
            failure, cause = (ConnectionFailed, f"{what}: {type(exc).__name__}: {detail}", None), exc
        except httpx.DecodingError as exc:  # a corrupt compressed body: as good as truncated
            failure, cause = (APIError, f"{what}: malformed page body ({type(exc).__name__})", None), exc
        except httpx.HTTPError as exc:
            # Unsupported scheme, proxy errors, an illegal header value (h11 quotes the header):
            # retrying cannot help. Raised below, outside this block, so that the raw exception
            # is not kept as the error's __context__ either.
            fatal, cause = ConnectionFailed(f"{what}: {type(exc).__name__}: {_truncate(str(exc), redact)}",
                                            source=source), exc
        else:
            status = resp.status_code
            if stats is not None:
                stats.add(bytes=len(resp.content))
            if status in policy.retry_statuses:
                if status == 429 and stats is not None:
                    stats.add(throttled=1)
                message = platform_message(resp.content, redact)
                failure, cause = (APIError, f"{what}: HTTP {status}: {message}", status), None
                wait = parse_retry_after(resp.headers.get("retry-after"))
                if wait is not None and wait > policy.max_retry_after:
                    raise APIError(
                        f"{what}: HTTP {status}: the platform asked to wait {wait:g} s before retrying "
                        f"(more than max_retry_after={policy.max_retry_after:g} s); try again later",
                        source=source,
                        status=status,
                    )
            elif status >= 400:
                message = platform_message(resp.content, redact)
                kind = AuthError if status in (401, 403) else APIError
                raise kind(f"{what}: HTTP {status}: {message}", source=source, status=status)
            else:
                if received is not None and status != 204:
                    received[:] = [resp.content]
                if fast is not None and status != 204:
                    got = await off_loop(fast, resp.content)
                    if got is not None:
                        return got
                try:
                    return _decode(resp)
                except orjson.JSONDecodeError as exc:
                    head = _truncate(resp.content[:_HEAD_WINDOW].decode("utf-8", "replace"), redact, _MAX_HEAD)
                    failure = (APIError, f"{what}: malformed JSON page ({len(resp.content)} bytes: {head!r})", status)
                    cause = exc
        if fatal is not None:
            raise fatal from (scrubbed(cause) if cause is not None else None)
        if attempts == policy.max_attempts:
            break
        delay = wait if wait is not None else policy.backoff(attempts)
        if policy.clock() - started + delay > policy.max_total:
            break  # the time budget is spent: fail now rather than sleep past it
        if stats is not None:
            stats.add(retries=1)
        await policy.sleep(delay)
    assert failure is not None
    error, message, code = failure
    tries = f" (after {attempts} attempt{'s' if attempts != 1 else ''})"
    raise error(message + tries, source=source, status=code) from (scrubbed(cause) if cause is not None else None)
