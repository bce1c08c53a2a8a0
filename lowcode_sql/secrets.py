"""Secrets and the one redaction mechanism every message passes through.

A ``Secret`` registers its value here when it is created (and again, to keep it fresh, when it is
revealed); the fetch layer registers the tokens that login exchanges return and the ``user:key``
pairs that Basic auth would base64. For each value the registry keeps every form it can take in a
message: raw, stripped, base64 (of the value and of ``a:b`` pairs), URL-encoded (``quote`` with and
without ``/`` safe, ``quote_plus``), JSON-escaped, Python-repr-escaped (``str`` and ``bytes``: h11
quotes header bytes in "Illegal header value b'...'"). Header values are registered as they are
sent (``Bearer <token>``, ``apikey user:key``: dialects build them as ``Secret``s, and the fetch
layer registers each rendered token header), so their own base64 is covered too; synthetic header
forms are not added (the value inside them is masked anyway, and their common beginnings such as
``apikey u`` would make the prefix rule below mask ordinary text).

``redact(text)`` replaces every occurrence of every form (longest first) with ``***``, and also any
8+ character *prefix* of a form: that is what a truncation that ran before redaction leaves (half a
key is still a leak). Every message path calls it before truncating: ``LowcodeSQLError`` (its text
and ``args``), log records (a record factory installed on import, so every logger is covered,
including ``lowcode_sql.*`` children and httpx/httpcore), the CLI's error output, EXPLAIN, and the
retry layer's platform messages. The PostgreSQL wire server should pass any error text it did not
get from a ``LowcodeSQLError`` through ``redact``.

Values shorter than 8 characters are not registered process-wide: replacing ``demo`` or ``test``
in every message of the process would mangle ordinary text (and the sandboxes' demo user is
``demo``). The fetch layer still scrubs such values (4+ characters) from what their own source's
platform echoes (``redact(text, also=...)``).

The registry is bounded (``MAX_VALUES`` least recently registered or revealed values are kept), so
a long-lived server that logs in again every few hours does not grow without end.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from types import TracebackType
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "MASK",
    "MIN_LENGTH",
    "RedactedCause",
    "RedactingFilter",
    "Secret",
    "forms",
    "redact",
    "register",
    "register_pair",
    "scrubbed",
]

MASK = "***"
MIN_LENGTH = 8  # shorter values are not registered process-wide (see the module docstring)
MAX_VALUES = 256
_PREFIX = 8  # a kept prefix this long of a form is masked too

_lock = threading.Lock()
_values: OrderedDict[str, tuple[str, ...]] = OrderedDict()  # value -> its forms
_snapshot: tuple[tuple[str, ...], dict[str, tuple[str, ...]]] | None = None  # (forms longest first, prefix -> forms)


class Secret:
    """A credential value that never prints itself (repr, str, format, logs)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register(value)

    def reveal(self) -> str:
        register(self._value)  # keeps it among the most recently used if the registry is full
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("secret", self._value))


def _b64(raw: str) -> set[str]:
    data = raw.encode()
    return {base64.b64encode(data).decode(), base64.urlsafe_b64encode(data).decode()}


def forms(value: str) -> set[str]:
    """Every text form ``value`` may take in a message or on the wire."""
    out: set[str] = set()
    for v in {value, value.strip()}:
        if not v:
            continue
        out |= {v, quote(v), quote(v, safe=""), quote_plus(v), json.dumps(v)[1:-1],
                json.dumps(v, ensure_ascii=False)[1:-1], repr(v)[1:-1], repr(v.encode())[2:-1]}
        out |= _b64(v)
    return {f for f in out if len(f) >= MIN_LENGTH}


def _touch(key: str) -> bool:
    """Mark ``key`` as recently used; False when it is not registered."""
    with _lock:
        if key in _values:
            _values.move_to_end(key)
            return True
        return False


def _add(key: str, derived: set[str]) -> None:
    global _snapshot
    with _lock:
        _values[key] = tuple(derived)
        while len(_values) > MAX_VALUES:
            _values.popitem(last=False)
        _snapshot = None


def register(value: str) -> None:
    """Remember ``value`` (and its forms) so that ``redact`` masks it from now on."""
    if isinstance(value, str) and len(value.strip()) >= MIN_LENGTH and not _touch(value):
        _add(value, forms(value))


def register_pair(user: str, key: str) -> None:
    """Remember base64 of ``user:key`` (HTTP Basic auth), whatever the length of either part."""
    if (not user and not key) or _touch("\0pair\0" + user + "\0" + key):
        return
    pairs = {f"{user}:{key}", f"{user.strip()}:{key.strip()}"}
    derived = set().union(*(_b64(p) for p in pairs)) | {p for p in pairs if len(p) >= MIN_LENGTH}
    _add("\0pair\0" + user + "\0" + key, {f for f in derived if len(f) >= MIN_LENGTH})


def _current() -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    global _snapshot
    with _lock:
        if _snapshot is None:
            every = sorted({f for fs in _values.values() for f in fs}, key=len, reverse=True)
            prefixes: dict[str, list[str]] = {}
            for f in every:
                if len(f) > _PREFIX:
                    prefixes.setdefault(f[:_PREFIX], []).append(f)
            _snapshot = (tuple(every), {p: tuple(fs) for p, fs in prefixes.items()})
        return _snapshot


def _mask_prefixes(text: str, prefixes: dict[str, tuple[str, ...]]) -> str:
    """Mask any run that starts like a form for 8+ characters (what a cut leaves of it)."""
    for head, candidates in prefixes.items():
        start = text.find(head)
        while start != -1:
            length = max(_common(text, start, f) for f in candidates)
            text = text[:start] + MASK + text[start + length:]
            start = text.find(head, start + len(MASK))
    return text


def _common(text: str, start: int, form: str) -> int:
    n = 0
    limit = min(len(form), len(text) - start)
    while n < limit and text[start + n] == form[n]:
        n += 1
    return n


def redact(text: str, also: Iterable[str] = ()) -> str:
    """``text`` with every registered secret form (and ``also``'s values) replaced by ``***``.

    Call it before truncating anything: the prefix rule catches a cut secret, but only from its
    first 8 characters on.
    """
    if not isinstance(text, str):
        text = str(text)
    every, prefixes = _current()
    extra = sorted({a for a in also if len(a) >= 4} - set(every), key=len, reverse=True)
    if not every and not extra:
        return text
    for f in every:
        if f in text:
            text = text.replace(f, MASK)
    for a in extra:
        if a in text:
            text = text.replace(a, MASK)
    return _mask_prefixes(text, prefixes) if prefixes else text


class RedactedCause(Exception):
    """Stands in for a foreign exception (httpx, h11, ...) whose text may quote a secret: the
    type's name and the redacted text, with the original traceback (frames, not values)."""


def scrubbed(exc: BaseException) -> RedactedCause:
    """A clean stand-in for ``exc`` to chain with ``raise ... from scrubbed(exc)``; the original,
    and its own ``__cause__``/``__context__`` chain, are not kept."""
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    out = RedactedCause(f"{name}: {redact(str(exc))}")
    tb: TracebackType | None = exc.__traceback__
    return out.with_traceback(tb)


# --- logging ---------------------------------------------------------------------------------


class RedactingFilter(logging.Filter):
    """Redacts a record's message (after %-formatting) and its exception and stack text.

    Installed process-wide through the log record factory (a logger's own filters do not see
    records propagated from its children); attach it to your handlers too if you like."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it later; scrub the parts
        message = None
    if message is not None:
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
    else:
        record.msg = redact(str(record.msg))
        if isinstance(record.args, tuple):
            record.args = tuple(redact(str(a)) for a in record.args)
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        # The formatter would render the chain (causes included) verbatim: render it now, clean.
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _install_record_factory() -> None:
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_lowcode_sql_redacting", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    # a marker attribute on a function object, which has no declared attributes to type
    factory._lowcode_sql_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_install_record_factory()
logging.getLogger("lowcode_sql").addFilter(RedactingFilter())
