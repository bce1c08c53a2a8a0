"""Password authentication for the wire server: SCRAM-SHA-256 (RFC 5802/7677, as PostgreSQL does
it) and md5, against stored verifiers in PostgreSQL's own formats, so hashes can be copied from
``pg_authid.rolpassword``:

* ``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` (base64 parts)
* ``md5<md5(password || user) in hex>``

The server never stores or logs a clear-text password. Channel binding (``SCRAM-SHA-256-PLUS``)
is not offered; clients then use the ``n,,``/``y,,`` GS2 headers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from lowcode_sql.errors import ConfigError

__all__ = ["AuthFailed", "authenticate", "load_users", "md5_hash", "mock_verifier", "scram_hash"]

SCRAM_ITERATIONS = 4096  # PostgreSQL's default scram_iterations


class AuthFailed(Exception):
    """Password authentication failed (the message never says whether the user exists)."""


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


def scram_hash(password: str, *, iterations: int = SCRAM_ITERATIONS, salt: bytes | None = None) -> str:
    """A SCRAM-SHA-256 verifier for ``password`` in PostgreSQL's format."""
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored = hashlib.sha256(_hmac(salted, b"Client Key")).digest()
    server = _hmac(salted, b"Server Key")
    return f"SCRAM-SHA-256${iterations}:{_b64(salt)}${_b64(stored)}:{_b64(server)}"


def md5_hash(user: str, password: str) -> str:
    return "md5" + hashlib.md5((password + user).encode()).hexdigest()


def _parse_scram(verifier: str) -> tuple[int, bytes, bytes, bytes]:
    try:
        head, keys = verifier.split("$", 2)[1:]
        iters, salt = head.split(":")
        stored, server = keys.split(":")
        return int(iters), base64.b64decode(salt), base64.b64decode(stored), base64.b64decode(server)
    except (ValueError, IndexError) as e:
        raise ConfigError("malformed SCRAM-SHA-256 verifier") from e


def load_users(mapping: Mapping[str, str] | None = None, *, env: str | None = None,
               file: str | Path | None = None) -> dict[str, str]:
    """Users and verifiers from a mapping (the ``[serve.users]`` TOML table), the environment
    variable ``env`` (``user=verifier`` pairs separated by newlines or ``;``) and a file of
    ``user:verifier`` or ``user=verifier`` lines. Later sources override earlier ones."""
    users: dict[str, str] = {}
    lines: list[str] = []
    if mapping:
        users.update({str(k): str(v) for k, v in mapping.items()})
    if env and os.environ.get(env):
        lines += os.environ[env].replace(";", "\n").splitlines()
    if file:
        try:
            lines += Path(file).read_text().splitlines()
        except OSError as e:
            raise ConfigError(f"users file {str(file)!r}: {e.strerror}") from None
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        sep = min((i for i in (line.find("="), line.find(":")) if i > 0), default=-1)
        if sep < 0:
            raise ConfigError("a users entry must be 'user=verifier' (see `lowcode-sql serve --hash-password`)")
        users[line[:sep].strip()] = line[sep + 1:].strip()
    for user, verifier in users.items():
        if verifier.startswith("SCRAM-SHA-256$"):
            _parse_scram(verifier)
        elif not (verifier.startswith("md5") and len(verifier) == 35):
            raise ConfigError(f"user {user!r}: the password must be a SCRAM-SHA-256 or md5 verifier, "
                              "never clear text (make one with `lowcode-sql serve --hash-password`)")
    return users


Send = Callable[[int, bytes], Awaitable[None]]  # (auth request code, payload) -> AuthenticationXXX message
Recv = Callable[[], Awaitable[bytes]]  # the next PasswordMessage / SASLResponse payload


def mock_verifier(user: str, secret: bytes) -> str:
    """The SCRAM verifier an unknown user is challenged with, as PostgreSQL does (auth-scram.c,
    ``scram_mock_salt``): the salt is derived from the user name and the server's secret, so
    repeated probes of one name see one stable salt, like a real user's, and the iteration count
    is the default every verifier made by ``scram_hash`` has. The keys are random: no password
    matches, and no PBKDF2 runs, so an unknown user costs the server what a known one does."""
    salt = hmac.new(secret, b"lowcode-sql mock salt\x00" + user.encode(), hashlib.sha256).digest()[:16]
    return (f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{_b64(salt)}$"
            f"{_b64(secrets.token_bytes(32))}:{_b64(secrets.token_bytes(32))}")


async def authenticate(user: str, users: Mapping[str, str], send: Send, recv: Recv, *, allow_md5: bool,
                       secret: bytes | None = None) -> None:
    """Run the exchange for ``user``; raise ``AuthFailed`` unless the password matches. An unknown
    user (and a user with an md5 verifier where md5 is off) gets a SCRAM exchange over a mock
    verifier (``mock_verifier``) that fails like a wrong password: the answers do not tell which
    users exist. ``secret`` keys the mock salts (the server's, stable while it runs)."""
    verifier = users.get(user)
    if verifier is not None and verifier.startswith("md5"):
        if allow_md5:
            await _md5(user, verifier, send, recv)
            return
        why = "the user has an md5 verifier and md5 is disabled (start the server with --auth md5)"
    elif verifier is None:
        why = "no such user"
    else:
        await _scram(verifier, send, recv, known=True)
        return
    try:
        await _scram(mock_verifier(user, secret or _PROCESS_SECRET), send, recv, known=False)
    except AuthFailed:
        raise AuthFailed(why) from None  # for the server log only: the client sees 28P01 either way


_PROCESS_SECRET = secrets.token_bytes(32)  # for callers that pass no server secret


async def _md5(user: str, verifier: str, send: Send, recv: Recv) -> None:
    salt = os.urandom(4)
    await send(5, salt)
    answer = (await recv()).rstrip(b"\x00").decode(errors="replace")
    expected = "md5" + hashlib.md5(verifier[3:].encode() + salt).hexdigest()
    if not hmac.compare_digest(answer, expected):
        raise AuthFailed("password authentication failed")


async def _scram(verifier: str, send: Send, recv: Recv, *, known: bool) -> None:
    iterations, salt, stored_key, server_key = _parse_scram(verifier)
    await send(10, b"SCRAM-SHA-256\x00\x00")
    data = await recv()
    mech_end = data.index(b"\x00")
    if data[:mech_end] != b"SCRAM-SHA-256":
        raise AuthFailed("unsupported SASL mechanism")
    client_first = data[mech_end + 5:].decode()  # skip the int32 length
    gs2, _, client_first_bare = client_first.partition(",,")  # "n,," or "y,," (+ empty authzid)
    if gs2 not in ("n", "y"):
        raise AuthFailed("channel binding is not supported")
    attrs = dict(kv.split("=", 1) for kv in client_first_bare.split(",") if "=" in kv)
    client_nonce = attrs.get("r", "")
    nonce = client_nonce + _b64(os.urandom(18))
    server_first = f"r={nonce},s={_b64(salt)},i={iterations}"
    await send(11, server_first.encode())
    client_final = (await recv()).decode()
    without_proof, _, proof_b64 = client_final.rpartition(",p=")
    fattrs = dict(kv.split("=", 1) for kv in without_proof.split(",") if "=" in kv)
    if fattrs.get("r") != nonce or fattrs.get("c") != _b64(f"{gs2},,".encode()):
        raise AuthFailed("password authentication failed")
    auth_message = f"{client_first_bare},{server_first},{without_proof}".encode()
    try:
        proof = base64.b64decode(proof_b64)
    except ValueError:
        raise AuthFailed("password authentication failed") from None
    signature = _hmac(stored_key, auth_message)
    client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=False))
    if not known or len(proof) != 32 or not hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key):
        raise AuthFailed("password authentication failed")
    await send(12, f"v={_b64(_hmac(server_key, auth_message))}".encode())
