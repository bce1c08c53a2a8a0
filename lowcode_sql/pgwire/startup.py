"""The startup phase of a client connection: SSLRequest / GSSENCRequest, CancelRequest, the
StartupMessage's parameters (user, client_encoding, ``options=-c name=value``), authentication
(SCRAM-SHA-256 / md5 / trust, ``auth``), then the parameters PostgreSQL reports and BackendKeyData."""

from __future__ import annotations

import logging
import re
import struct
from typing import TYPE_CHECKING

from lowcode_sql.pgwire import protocol as p
from lowcode_sql.pgwire.auth import AuthFailed, authenticate
from lowcode_sql.pgwire.errors import PGError
from lowcode_sql.pgwire.pgcatalog import DEFAULT_SETTINGS
from lowcode_sql.pgwire.utility import REPORTED, check_setting, client_encoding

if TYPE_CHECKING:
    from lowcode_sql.pgwire.session import Session

__all__ = ["startup"]

log = logging.getLogger("lowcode_sql.pgwire")


async def startup(session: Session) -> bool:
    """The startup phase: SSLRequest (TLS if the server has a certificate), GSSENCRequest (declined),
    CancelRequest (routed to the server), then the StartupMessage's parameters and authentication.
    False if the connection ends here (a cancel request, a refusal)."""
    while True:
        code, payload = await p.read_startup(session.reader)
        if code == p.SSL_REQUEST:
            if session.server.ssl_context is not None and not session.tls:
                await session.send(b"S")
                await session.writer.start_tls(session.server.ssl_context)
                session.tls = True
            else:
                await session.send(b"N")
            continue
        if code == p.GSSENC_REQUEST:
            await session.send(b"N")
            continue
        if code == p.CANCEL_REQUEST:
            pid, secret = struct.unpack("!ii", payload[:8])
            session.server.cancel(pid, secret)
            return False
        if code != p.PROTOCOL_3:
            await session.fatal("0A000", f"unsupported frontend protocol {code >> 16}.{code & 0xFFFF}")
            return False
        break
    parts = payload.split(b"\x00")
    params = {parts[i].decode(): parts[i + 1].decode() for i in range(0, len(parts) - 1, 2) if parts[i]}
    session.user = params.get("user", "")
    if not session.user:
        await session.fatal("28000", "no PostgreSQL user name specified in startup packet")
        return False
    if session.server.require_tls and not session.tls:
        await session.fatal("28000", "this server accepts only TLS connections (started with --require-tls): "
                                     "connect with sslmode=require")
        return False
    for key, val in params.items():
        if key.lower() in ("application_name", "client_encoding", "datestyle", "timezone"):
            session.settings[key.lower()] = val
    # `options=-c search_path=x -c ...` (pgJDBC's currentSchema, libpq's PGOPTIONS)
    for m in re.finditer(r"(?:-c\s*|--)([A-Za-z_.]+)=((?:\\ |\S)+)", params.get("options", "")):
        try:
            check_setting(m.group(1).lower())
        except PGError:
            log.warning("user %r: ignored the startup option %s (a DuckDB setting)", session.user, m.group(1))
            continue
        session.settings[m.group(1).lower()] = m.group(2).replace("\\ ", " ")
    try:
        session.settings["client_encoding"] = client_encoding(session.settings["client_encoding"])
    except PGError as e:
        await session.fatal(e.code, str(e))
        return False
    if session.server.auth != "trust":
        async def send_auth(code: int, data: bytes) -> None:
            await session.send(p.message(b"R", struct.pack("!i", code) + data))

        async def recv() -> bytes:
            kind, body = await p.read_message(session.reader)
            if kind != b"p":
                raise AuthFailed("expected a password message")
            return body

        try:
            await authenticate(session.user, session.server.users, send_auth, recv,
                               allow_md5=session.server.auth == "md5", secret=session.server.auth_secret)
        except AuthFailed as e:
            # the reason stays in the log: the client's answer must not tell which users exist
            log.info("authentication failed for user %r: %s", session.user, e)
            await session.fatal("28P01", f'password authentication failed for user "{session.user}"')
            return False
    session.pid, session.secret = session.server.register(session)
    out = [p.message(b"R", struct.pack("!i", 0))]
    session.settings.setdefault("search_path", "")
    if session.settings["search_path"] == DEFAULT_SETTINGS["search_path"]:
        session.settings["search_path"] = ", ".join(session.server.catalog.schemas) or "public"
    session.settings["session_authorization"] = session.user
    session.settings["in_hot_standby"] = "off"
    for key, name in REPORTED.items():
        out.append(p.parameter_status(name, session.settings.get(key, "")))
    out.append(p.message(b"K", struct.pack("!ii", session.pid, session.secret)))
    out.append(p.ready_for_query("I"))
    await session.send(b"".join(out))
    return True
