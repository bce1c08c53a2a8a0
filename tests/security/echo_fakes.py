"""A hostile fake platform: its error bodies echo the request (URL, headers, body) in every encoding
a secret can take, padded so that a secret straddles the truncation points of our messages.

Each of the five platforms is driven through its real dialect auth path: the static headers of
CoreData/Totalum/Alumio, and the login exchanges of Entu (API key -> JWT) and Slingr (email and
password -> token), where the issued token is a secret too.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

import httpx

PAD = "·"  # a pad character that is in no secret


@dataclass(frozen=True)
class Case:
    platform: str
    credentials: dict[str, str]
    table: str
    options: dict[str, Any] = field(default_factory=dict)
    login_path: str | None = None  # the login exchange's path (token platforms)
    token: str | None = None  # what the fake's login answers

    @property
    def secret_values(self) -> list[str]:
        return [*self.credentials.values(), *([self.token] if self.token else [])]

    @property
    def primary(self) -> str:
        """The secret whose position the padding sweeps (the token, where there is one)."""
        return self.token or max(self.credentials.values(), key=len)


def _jwt(exp: float) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    claims = {"exp": int(exp), "db": "acme", "sub": "u7Qz"}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.Sg9xWq4Lr2Tn8Vb"


CASES: dict[str, Case] = {
    "coredata": Case("coredata", {"user": "ana.rvq7-ops", "key": "cdk_live_4f9aQ7xZ2mB8nK3pL6wR1tY5"}, "projects"),
    "entu": Case("entu", {"key": "EntuKey-Gx81vP0qT5sR9wN2"}, "book", {"db": "acme"}, "api/auth",
                 _jwt(time.time() + 12 * 3600)),
    "totalum": Case("totalum", {"api_key": "sk-totalum-Hh3Jk8Lm2Nq7Rs1Tv"}, "clientes"),
    "slingr": Case("slingr", {"email": "ops.robot@corp-mail.example", "password": "S3cure+Passw0rd/Quartz&%"},
                   "companies", {"entities": ["companies"]}, "auth/login", "slingr-tok-Yb72Wc4Xd9Ze1Af6"),
    "alumio": Case("alumio", {"token": "alu_pat_Kq5Mr8Ns3Pt6Qu9Rv"}, "tasks"),
}


def encodings(value: str) -> list[str]:
    """The forms of ``value`` a server might echo (and the test looks for)."""
    return [value, base64.b64encode(value.encode()).decode(), quote(value, safe=""), quote_plus(value),
            json.dumps(value)[1:-1], repr(value.encode())[2:-1]]


def leak_needles(case: Case) -> set[str]:
    """Every form of every secret of ``case`` and every 8-character piece of each: half a key is a
    leak. Computed here independently of ``lowcode_sql.secrets``."""
    values = case.secret_values
    forms = {f for v in values for f in encodings(v)}
    for a in values:  # HTTP Basic: base64("user:key")
        for b in values:
            if a != b:
                forms.add(base64.b64encode(f"{a}:{b}".encode()).decode())
    out: set[str] = set()
    for f in forms:
        out |= {f[i:i + 8] for i in range(len(f) - 7)}
    return out


def find_leaks(text: str, needles: set[str]) -> list[str]:
    """The needles (8-character pieces) found in ``text``."""
    return sorted({text[i:i + 8] for i in range(len(text) - 7)} & needles)


def echo_text(request: httpx.Request, case: Case) -> str:
    """What a careless server puts in its error: the URL, every header raw and encoded, the body,
    and (as if it decoded a Basic header) base64 of the credential pairs."""
    # The auth headers first, so that padding can move them across the 80-character cut too.
    auth = [(k, v) for k, v in request.headers.items() if k.lower() in ("authorization", "api-key", "token")]
    parts = [f"{name}: {value}" for name, value in auth]
    body = request.content.decode("utf-8", "replace")
    if body:
        parts.append(f"body: {body}")
    parts.append(f"{request.method} {request.url}")
    parts.extend(f"{name}: {value}" for name, value in request.headers.items() if (name, value) not in auth)
    parts.extend(f"{name}~{form}" for name, value in auth for form in encodings(value)[1:])
    values = list(case.credentials.values())
    if len(values) == 2:
        parts.append("basic: " + base64.b64encode(f"{values[0]}:{values[1]}".encode()).decode())
    return " | ".join(parts)


@dataclass
class EchoServer:
    """An httpx handler. ``status``: the error status every non-login request gets (``login_status``
    for the login); ``pad``: characters before the echo; ``shape``: ``json`` ({"error": ...}),
    ``text`` (a non-JSON error body), ``page`` (a 200 whose body is not JSON: a malformed page) or
    ``raise`` (the transport fails with an exception quoting the request)."""

    case: Case
    status: int = 400
    pad: int = 0
    shape: str = "json"
    login_status: int = 200
    requests: int = 0
    last_echo: str = ""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        case = self.case
        if case.login_path and request.url.path.endswith("/" + case.login_path) and self.login_status == 200:
            if case.platform == "entu":
                return httpx.Response(200, json={"token": case.token, "accounts": [{"_id": "acme", "name": "acme"}]})
            return httpx.Response(200, json={"token": case.token})
        echo = echo_text(request, case)
        self.last_echo = echo
        text = PAD * self.pad + echo
        status = self.login_status if self.login_status != 200 else self.status
        if self.shape == "raise":
            raise httpx.ReadError(text, request=request)
        if self.shape == "page":
            return httpx.Response(200, content=text.encode(), headers={"content-type": "application/json"})
        if self.shape == "text":
            return httpx.Response(status, content=text.encode(), headers={"content-type": "text/plain"})
        return httpx.Response(status, json={"error": text})


class FakeSandbox:
    """What ``add_source(..., sandbox=obj)`` needs: a transport (and no demo options)."""

    DEMO_OPTIONS: dict[str, Any] = {}

    def __init__(self, server: EchoServer) -> None:
        self.server = server

    def transport(self) -> httpx.AsyncBaseTransport:
        return httpx.MockTransport(self.server)
