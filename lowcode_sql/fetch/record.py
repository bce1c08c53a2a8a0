"""Recordings of the HTTP a connection sends, with every credential redacted, and their replay.

``connect(..., record=DIR)`` (``--record DIR`` on ``query``, ``serve`` and every command that
connects) writes each request/response pair the engine exchanges with a platform to
``DIR/NNNNN.json``::

    {"source": "crm", "login": false,
     "request":  {"method": "GET", "url": "https://h/api/v2/tasks/?offset=0", "headers": {...}, "json": ...},
     "response": {"status": 200, "headers": {...}, "json": {...}}}

A body is ``"json"`` when it parses, else ``"text"``. ``sources.json`` notes each source's platform,
base URL and dialect options, so a replay needs no config (and no emulator for a sandbox source).

Credentials never reach the disk: every URL, header value and body passes the source's redaction
(``lowcode_sql.secrets``: every form of every credential, raw, URL-encoded, base64 of ``user:key``,
JSON-escaped, and the tokens logins return, learnt from the login answer before it is written); the
values of headers, query parameters and JSON keys named like credentials (``Authorization``,
``Cookie``, ``api-key``, ``token``, ``password``...) are masked whatever they hold, and so is every
string of a login request's body. A masked value reads ``***``.

``ReplayTransport(DIR)`` (``connect(..., replay=DIR)``, ``--replay DIR``) is an httpx transport
that answers from such a folder: a request matches a recorded one by method, URL and body, where a
masked ``***`` matches anything (the credentials of the replaying side are placeholders: the
recording's owner's are not needed). The same request recorded several times is answered in the
recorded order, the last answer again once they are used up (a query run twice). A request that
was never recorded raises ``NotRecorded``, which names it. A login's masked token is answered as
``REPLAYED_TOKEN``: were it ``***``, the header ``Bearer ***`` would be registered as a secret.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import httpx

from lowcode_sql import secrets
from lowcode_sql.errors import ConfigError, FetchError
from lowcode_sql.secrets import MASK

__all__ = ["NotRecorded", "Recorder", "ReplayTransport", "load_recording", "read_sources"]

Redactor = Callable[[str], str]

#: header and JSON key names whose values are credentials whatever they hold
SENSITIVE = re.compile(r"authori[sz]ation|cookie|token|secret|passw|api[-_]?key|apikey|session|credential|"
                       r"^key$|signature", re.I)
_SKIPPED_HEADERS = {"content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive"}
_FILE = re.compile(r"^(\d+)\.json$")
SOURCES_FILE = "sources.json"
REPLAYED_TOKEN = "replayed-token-placeholder"  # a masked login token, as a replay hands it out


class NotRecorded(FetchError):
    """A replayed connection sent a request the recording does not hold."""


class Recorder:
    """Writes one redacted JSON file per exchange into a folder (created if missing)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory).expanduser()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError(f"cannot record into {str(self.directory)!r}: {e.strerror}") from None
        if not self.directory.is_dir():
            raise ConfigError(f"cannot record into {str(self.directory)!r}: not a directory")
        found = [int(m.group(1)) for p in self.directory.iterdir() if (m := _FILE.match(p.name))]
        self._next = max(found, default=0) + 1  # a second run into the same folder appends
        self._lock = threading.Lock()

    def describe(self, source: str, platform: str, base_url: str, options: Mapping[str, Any]) -> None:
        """Note a source in ``sources.json`` (platform, base URL, dialect options): a replay needs
        no config of its own, and replays a sandbox source with the options it was recorded with."""
        with self._lock:
            known = read_sources(self.directory)
            known[source] = {"platform": platform, "base_url": base_url, "options": dict(options)}
            text = secrets.redact(json.dumps(known, indent=1, ensure_ascii=False, default=str))
            (self.directory / SOURCES_FILE).write_text(text + "\n", encoding="utf-8")

    def record(self, source: str, request: httpx.Request, response: httpx.Response, redact: Redactor, *,
               login: bool = False) -> Path:
        """Write one exchange (``response`` already read); ``redact`` is the source's redaction."""
        entry = {
            "source": source,
            "login": login,
            "request": {"method": request.method, "url": _url(str(request.url), redact),
                        "headers": _headers(request.headers, redact),
                        **_body(request.content, redact, mask_all=login, mask_keys=True)},
            "response": {"status": response.status_code, "headers": _headers(response.headers, redact),
                         **_body(response.content, redact, mask_all=False, mask_keys=login)},
        }
        text = redact(json.dumps(entry, indent=1, ensure_ascii=False)) + "\n"  # and once more, whole
        with self._lock:
            while True:
                path = self.directory / f"{self._next:05d}.json"
                self._next += 1
                try:
                    with open(path, "x", encoding="utf-8") as fh:
                        fh.write(text)
                    return path
                except FileExistsError:  # another process records into the same folder
                    continue


def _url(url: str, redact: Redactor) -> str:
    """The URL with the values of credential-named query parameters masked (``?token=...``)."""
    base, sep, query = url.partition("?")
    if sep:
        params = [p.partition("=") for p in query.split("&")]
        query = "&".join(f"{n}={MASK}" if eq and SENSITIVE.search(unquote_plus(n)) else n + eq + v
                         for n, eq, v in params)
    return redact(base + sep + query)


def _headers(headers: httpx.Headers, redact: Redactor) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in _SKIPPED_HEADERS:
            continue
        out[name] = MASK if SENSITIVE.search(name) else redact(value)
    return out


def _body(content: bytes, redact: Redactor, *, mask_all: bool, mask_keys: bool) -> dict[str, Any]:
    if not content:
        return {}
    text = redact(content.decode("utf-8", "replace"))
    try:
        value = json.loads(text)
    except ValueError:
        return {"text": text}
    return {"json": _mask(value, mask_all, mask_keys)}


def _mask(value: Any, every_string: bool, by_key: bool) -> Any:
    if isinstance(value, dict):
        return {k: MASK if by_key and v is not None and SENSITIVE.search(str(k)) else _mask(v, every_string, by_key)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, every_string, by_key) for v in value]
    if every_string and isinstance(value, str):
        return MASK
    return value


def _unmask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _unmask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unmask(v) for v in value]
    return REPLAYED_TOKEN if value == MASK else value


# --- replay ------------------------------------------------------------------------------------


def load_recording(directory: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The exchanges of a recording folder, in recorded order."""
    path = Path(directory).expanduser()
    if not path.is_dir():
        raise ConfigError(f"no recording at {str(path)!r}: not a directory")
    files = sorted((int(m.group(1)), p) for p in path.iterdir() if (m := _FILE.match(p.name)))
    out = []
    for _, p in files:
        try:
            entry = json.loads(p.read_text(encoding="utf-8"))
            ok = (isinstance(entry.get("request"), dict) and isinstance(entry.get("response"), dict)
                  and isinstance(entry["request"].get("method"), str) and isinstance(entry["request"].get("url"), str)
                  and isinstance(entry["response"].get("status"), int))
        except (OSError, ValueError, AttributeError) as e:
            raise ConfigError(f"recording {p.name} in {str(path)!r} cannot be read ({type(e).__name__})") from None
        if not ok:
            raise ConfigError(f"recording {p.name} in {str(path)!r} is not a recorded exchange "
                              "(request method and url, response status)")
        out.append(entry)
    return out


def read_sources(directory: Path) -> dict[str, Any]:
    """``sources.json`` of a recording: source name -> platform, base_url, options."""
    path = directory / SOURCES_FILE
    if not path.exists():
        return {}
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(f"{SOURCES_FILE} in {str(directory)!r} cannot be read ({type(e).__name__})") from None
    if not isinstance(known, dict) or not all(
            isinstance(d, dict) and isinstance(d.get("platform"), str) and isinstance(d.get("base_url"), str)
            and isinstance(d.get("options", {}), dict) for d in known.values()):
        raise ConfigError(f"{SOURCES_FILE} in {str(directory)!r} does not describe sources "
                          "(name -> platform, base_url, options)")
    return known


def _canonical_body(content: bytes | None, value: Any = None, text: str | None = None) -> str:
    """One text per body, whatever its key order or spacing."""
    if content is not None:
        if not content:
            return ""
        try:
            value = json.loads(content)
        except ValueError:
            return content.decode("utf-8", "replace")
    elif text is not None:
        return text
    elif value is None:
        return ""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _pattern(text: str) -> re.Pattern[str]:
    """``text`` as a regex in which each masked run (``***``, JSON-quoted or not) matches anything."""
    return re.compile(".*?".join(re.escape(part) for part in text.split(MASK)), re.S)


class ReplayTransport(httpx.AsyncBaseTransport):
    """An httpx transport answering from a recording folder (module docstring)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = str(directory)
        self._entries = load_recording(directory)
        self.sources = read_sources(Path(directory).expanduser())
        self._keys = []
        for e in self._entries:
            req = e["request"]
            body = _canonical_body(None, req.get("json"), req.get("text"))
            self._keys.append((req["method"].upper(), _pattern(req["url"]), _pattern(body)))
        self._used = [0] * len(self._entries)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = await request.aread()
        return self.answer(request.method, str(request.url), content, request)

    def answer(self, method: str, url: str, content: bytes, request: httpx.Request | None = None) -> httpx.Response:
        body = _canonical_body(content)
        with self._lock:
            matches = [i for i, (m, u, b) in enumerate(self._keys)
                       if m == method.upper() and u.fullmatch(url) and b.fullmatch(body)]
            if not matches:
                shown = f" with body {body[:200]}" if body else ""
                raise NotRecorded(f"{method} {url}{shown} is not in the recording {self.directory!r} "
                                  f"({len(self._entries)} recorded requests): record the query again")
            fresh = [i for i in matches if self._used[i] == 0]
            i = fresh[0] if fresh else matches[-1]
            self._used[i] += 1
        resp = self._entries[i]["response"]
        if "json" in resp:
            value = resp["json"]
            if self._entries[i].get("login"):
                # The token is masked: hand out a placeholder, or the auth session would register
                # "***" (in "Bearer ***") as a secret and mask every redacted text again.
                value = _unmask(value)
            data = json.dumps(value, ensure_ascii=False).encode()
        else:
            data = str(resp.get("text", "")).encode()
        headers = {k: v for k, v in dict(resp.get("headers") or {}).items() if k.lower() not in _SKIPPED_HEADERS}
        return httpx.Response(int(resp["status"]), headers=headers, content=data, request=request)
