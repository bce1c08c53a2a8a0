"""The redaction mechanism itself, the three leaks of the issue as regressions, config refusals,
log records, the CLI over real HTTP, and the sandboxes' demo credentials."""

from __future__ import annotations

import asyncio
import base64
import http.server
import json
import logging
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest

from dialect import Secret as SecretFromDialect
from lowcode_sql import secrets
from lowcode_sql.config import CredentialWarning, load_config
from lowcode_sql.errors import ConfigError, ConnectionFailed, FetchError, LowcodeSQLError
from lowcode_sql.fetch.retry import RetryPolicy, send_with_retry
from lowcode_sql.secrets import Secret, redact
from tests.security.echo_fakes import CASES, echo_text, find_leaks, leak_needles
from tests.security.test_echo_server import exception_texts

KEY = "cdk_live_9TqW3eRt5yUi7oPa1sDf"


def test_secret_moved_and_is_re_exported() -> None:
    assert SecretFromDialect is Secret
    assert repr(Secret(KEY)) == "Secret('***')" and KEY not in f"{Secret(KEY)}"


def test_every_wire_form_is_masked() -> None:
    value = "Zk8#p/Q+w r&é" + "x7Lm"  # characters that URL, JSON and repr encodings all change
    user = "svc.reporting"
    Secret(value)
    secrets.register_pair(user, value)
    for form in (value, quote(value), quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1],
                 json.dumps(value, ensure_ascii=False)[1:-1], repr(value.encode())[2:-1],
                 base64.b64encode(value.encode()).decode(), base64.b64encode(f"{user}:{value}".encode()).decode()):
        assert redact(f"<{form}>") == "<***>", form
    assert redact(f"Bearer {value}") == "Bearer ***"


def test_stripped_and_cut_forms_are_masked() -> None:
    Secret(KEY + "\n")
    assert redact(f"Illegal header value b'apikey zq:{KEY}\\n'") == "Illegal header value b'apikey zq:***'"
    # What a truncation before redaction leaves: any 8+ character prefix of the key.
    for n in range(8, len(KEY)):
        assert KEY[:8] not in redact(f"error: {KEY[:n]}…"), n
    assert redact(f"error: {KEY[:7]}…") == f"error: {KEY[:7]}…"  # 7 characters are not half a key


def test_short_values_are_not_masked_process_wide() -> None:
    Secret("demo")  # the sandbox's demo user: masking "demo" everywhere would mangle messages
    assert redact("database 'demo'") == "database 'demo'"
    assert redact("user demo", also=["demo"]) == "user ***"  # the fetch layer's per-source scrub


@pytest.fixture
def restored_registry() -> Iterator[None]:
    saved = secrets._values.copy()
    yield
    with secrets._lock:
        secrets._values.clear()
        secrets._values.update(saved)
        secrets._snapshot = None


def test_the_registry_is_bounded_and_revealing_keeps_a_value(restored_registry: None) -> None:
    kept = Secret("kept-" + KEY)
    first = "evicted-" + KEY
    Secret(first)
    for i in range(secrets.MAX_VALUES + 5):
        Secret(f"filler-{i:04d}-{KEY}")
        kept.reveal()  # in use: stays registered
    assert len(secrets._values) <= secrets.MAX_VALUES
    assert redact("kept-" + KEY) == "***"
    assert first in redact(first)  # the least recently used value went


def test_errors_are_clean_in_text_args_and_repr() -> None:
    Secret(KEY)
    err = FetchError(f"boom {KEY}", source="crm")
    assert KEY not in str(err) and KEY not in repr(err) and all(KEY not in str(a) for a in err.args)
    assert str(err) == "[crm] boom ***"
    late = "late-registered-" + KEY[::-1]
    err = LowcodeSQLError(f"x {late}")
    Secret(late)  # registered after the error was made: __str__ redacts again
    assert late not in str(err)


# --- the three leaks of the issue -------------------------------------------------------------


def test_leak_1_key_with_trailing_newline_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "cdk_live_Nw4Rf8Tg2Yh6Uj0Ik3Ol\n"
    monkeypatch.setenv("CD_KEY", key)
    monkeypatch.setenv("CD_USER", "ana.integration")
    cfg = load_config({"sources": {"crm": {"platform": "coredata", "base_url": "http://x",
                                           "credentials": {"user": "CD_USER", "key": "CD_KEY"}}}})
    with pytest.warns(CredentialWarning) as warned:
        creds = cfg.sources[0].resolve_credentials()
    assert creds["key"].reveal() == key.strip()  # stripped: the header is legal again
    text = str(warned[0].message)
    assert "CD_KEY" in text and "credentials.key" in text and key.strip()[:8] not in text


def test_leak_1_a_header_value_with_a_newline_is_refused_by_name() -> None:
    """A Secret with a newline given in code: refused before httpx/h11 quote it in an error."""
    import dialect
    from lowcode_sql.fetch.runtime import SourceRuntime

    key = "cdk_live_Pq1Wo2Ei3Ru4Ty5\n"
    with pytest.raises(ConfigError, match="Authorization header") as info:
        SourceRuntime("crm", "http://127.0.0.1:9/", dialect.get("coredata")(),
                      {"user": Secret("ana.integration"), "key": Secret(key)})
    assert not find_leaks("\n".join(exception_texts(info.value)), leak_needles(_case(key)))


def test_leak_1_h11_illegal_header_value_is_redacted_and_not_chained() -> None:
    key = "cdk_live_Zx9Cv8Bn7Mm6Lk5\n"
    Secret(key)

    async def attempt() -> httpx.Response:
        try:
            raise ValueError(f"Illegal header value b'apikey ana:{key.strip()}\\n'")  # h11's own text
        except ValueError as inner:
            raise httpx.LocalProtocolError(str(inner)) from inner

    with pytest.raises(ConnectionFailed) as info:
        asyncio.run(send_with_retry(RetryPolicy(max_attempts=1), attempt, source="crm", what="GET x"))
    texts = "\n".join(exception_texts(info.value))
    assert "Illegal header value" in texts and not find_leaks(texts, leak_needles(_case(key)))
    assert info.value.__context__ is None and isinstance(info.value.__cause__, secrets.RedactedCause)


def test_leak_2_a_key_pasted_where_a_variable_name_belongs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CD_USER", "ana")
    for pasted in ("cdk-live-Qa1Ws2Ed3Rf4", "cdk_live_Qa1Ws2Ed3Rf4Tg5"):  # illegal / legal as a name
        monkeypatch.delenv(pasted, raising=False)
        raw = {"sources": {"crm": {"platform": "coredata", "base_url": "http://x",
                                   "credentials": {"user": "CD_USER", "key": pasted}}}}
        with pytest.raises(ConfigError) as info:
            load_config(raw).sources[0].resolve_credentials()
        text = "\n".join(exception_texts(info.value))
        assert "credentials.key" in text and "'crm'" in text
        assert not find_leaks(text, {pasted[i:i + 8] for i in range(len(pasted) - 7)}), text


def test_leak_2_add_source_refuses_a_pasted_key_too() -> None:
    import lowcode_sql

    con = lowcode_sql.connect()
    pasted = {"user": "U", "key": "sk-Aa1Bb2Cc3Dd4"}  # not on the raising line: tracebacks quote source lines
    with pytest.raises(ConfigError, match="is not an environment variable name") as info:
        con.add_source("crm", "coredata", base_url="http://x", credentials=pasted)
    assert "Aa1Bb2Cc" not in "\n".join(exception_texts(info.value))
    con.close()


def test_a_conventional_missing_variable_is_still_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COREDATA_KEY", raising=False)
    raw = {"sources": {"crm": {"platform": "coredata", "base_url": "http://x",
                               "credentials": {"key": "COREDATA_KEY"}}}}
    with pytest.raises(ConfigError, match="the environment variable COREDATA_KEY is missing"):
        load_config(raw).sources[0].resolve_credentials()


def test_leak_3_echoed_header_straddling_the_300_character_cut() -> None:
    key = "cdk_live_Gh5Jk6Lz7Xc8Vb9Nm0"
    Secret(key)
    header = f"authorization: apikey ana.integration:{key}"
    for start in range(300 - len(key) - 2, 303):
        body = json.dumps({"error": "·" * (start - len("authorization: apikey ana.integration:")) + header})

        async def attempt(body: str = body) -> httpx.Response:
            return httpx.Response(400, content=body.encode())

        with pytest.raises(LowcodeSQLError) as info:
            asyncio.run(send_with_retry(RetryPolicy(max_attempts=1), attempt, source="crm", what="GET x"))
        assert not find_leaks("\n".join(exception_texts(info.value)), leak_needles(_case(key))), start


def _case(key: str) -> Any:
    from tests.security.echo_fakes import Case

    return Case("coredata", {"key": key.strip()}, "projects")


# --- logs --------------------------------------------------------------------------------------


def test_log_records_from_any_logger_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    Secret(KEY)
    names = ("lowcode_sql", "lowcode_sql.fetch.deep.child", "httpx", "httpcore.http11", "someone.else")
    for name in names:
        # `lowcode-sql serve` quiets httpx/httpcore to WARNING for the process; a test running it
        # in-process earlier in this worker must not hide these records
        caplog.set_level(logging.DEBUG, logger=name)
    for name in names:
        logging.getLogger(name).debug("sent %s with %r", f"apikey u:{KEY}", {"key": KEY})
    try:
        raise httpx.LocalProtocolError(f"Illegal header value b'apikey u:{KEY}\\n'")
    except httpx.HTTPError:
        logging.getLogger("lowcode_sql.pgwire").exception("request failed")
    logging.getLogger("lowcode_sql.x").debug("stack", stack_info=True)
    assert len(caplog.records) == 7
    texts = [caplog.text, *(r.getMessage() for r in caplog.records), *(r.exc_text or "" for r in caplog.records)]
    assert "Illegal header value" in caplog.text
    assert not find_leaks("\n".join(texts), {KEY[i:i + 8] for i in range(len(KEY) - 7)})


def test_unrelated_log_records_keep_their_arguments(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("lowcode_sql.x").debug("rows %d", 5)
    assert caplog.records[0].args == (5,) and caplog.records[0].getMessage() == "rows 5"


# --- the CLI over real HTTP ----------------------------------------------------------------------


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    """Answers logins, and every other request with a 400 that echoes it (padded to the cut)."""

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        case = CASES[self.path.split("/")[1]]
        if case.login_path and self.path.split("?")[0].endswith("/" + case.login_path):
            answer = {"token": case.token, "accounts": [{"_id": "acme", "name": "acme"}]}
            return self._send(200, json.dumps(answer).encode())
        request = httpx.Request(self.command, "http://echo" + self.path, headers=list(self.headers.items()),
                                content=body)
        echo = echo_text(request, case)
        first = min(echo.find(v) for v in case.secret_values if v in echo)
        self._send(400, json.dumps({"error": "·" * max(0, 296 - first) + echo}).encode())

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo_http() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_cli_over_real_http_prints_no_secret(echo_http: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str],
                                             caplog: pytest.LogCaptureFixture) -> None:
    from lowcode_sql.cli import main

    caplog.set_level(logging.DEBUG)
    lines = []
    for platform, case in CASES.items():
        creds = {}
        for cred, value in case.credentials.items():
            var = f"LC_{platform.upper()}_{cred.upper()}"
            # the key read from a file keeps its newline: stripped, with a warning naming the variable
            monkeypatch.setenv(var, value + ("\n" if platform == "coredata" and cred == "key" else ""))
            creds[cred] = var
        options = "{" + ", ".join(f"{k} = {json.dumps(v)}" for k, v in case.options.items()) + "}"
        lines.append(textwrap.dedent(f"""
            [sources.{platform}_src]
            platform = "{platform}"
            base_url = "{echo_http}/{platform}/"
            credentials = {{ {", ".join(f'{k} = "{v}"' for k, v in creds.items())} }}
            options = {options}
        """))
    cfg = tmp_path / "lowcode.toml"
    cfg.write_text("\n".join(lines))
    needles = set().union(*(leak_needles(c) for c in CASES.values()))
    for platform, case in CASES.items():
        sql = f"SELECT * FROM {platform}_src.{case.table}"
        runs = [["query", "-c", str(cfg), sql]]
        if platform in ("coredata", "entu"):  # a static key and a login exchange: enough for these paths
            runs += [["explain", "-c", str(cfg), "--count", sql], ["--debug", "query", "-c", str(cfg), sql]]
        for argv in runs:
            # every source is set up at connect: the coredata key's newline warns each time
            with pytest.warns(CredentialWarning, match="LC_COREDATA_KEY"):
                code = main(argv)
            out, err = capsys.readouterr()
            assert code == 1 and "HTTP 400" in err, (argv, err)
            assert "***" in err
            assert not find_leaks(out + err, needles), (argv, err)
    assert not find_leaks(caplog.text, needles)


# --- the sandboxes' demo credentials still work ----------------------------------------------


def test_demo_credentials_keep_working() -> None:
    import lowcode_sql

    with lowcode_sql.demo() as con:
        for sql in ("SELECT count(*) FROM coredata.projects", "SELECT count(*) FROM entu.book",
                    "SELECT count(*) FROM slingr.companies", "SELECT count(*) FROM alumio.tasks"):
            assert con.sql(sql).fetchall()[0][0] > 0, sql
        assert con.tables("totalum")


@pytest.mark.parametrize("offset", [0, 150, 190, 195, 199, 205])
def test_malformed_page_parse_error_is_redacted_before_its_cut(offset: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # A dialect's page parser failing with a message that quotes the body (which may echo a header):
    # the scan cuts that message at 200 characters, so it must redact first, and chain no raw exception.
    import lowcode_sql
    from dialect.coredata import CoreData

    Secret(KEY)

    def broken(self: Any, table: Any, body: Any) -> Any:
        raise ValueError("x" * offset + KEY + " and more")

    monkeypatch.setattr(CoreData, "parse_page", broken)
    # every page through parse_page: a page read straight into Arrow never calls it
    monkeypatch.setattr(CoreData, "page_layout", lambda self, table, request: None)
    con = lowcode_sql.connect()
    con.add_source("crm", "coredata", sandbox=True)
    with pytest.raises(FetchError) as info:
        con.sql("SELECT id FROM crm.projects")
    texts = exception_texts(info.value)
    assert "malformed page" in str(info.value)
    assert not [t for t in texts if KEY[:8] in t or KEY[-8:] in t], texts


def test_wire_error_messages_pass_the_redaction_point() -> None:
    # The wire server's errors (pgwire/errors.py) turn DuckDB's and Python's own exceptions into
    # client messages; those are not LowcodeSQLErrors, so the mapping must redact them itself.
    import duckdb

    from lowcode_sql.pgwire.errors import PGError, sqlstate

    Secret(KEY)
    for exc in (duckdb.ConversionException(f"Could not convert string '{KEY}' to INT32"),
                duckdb.Error(f"something about {KEY}"), ValueError(f"bad value {KEY[:-3]}"),
                PGError("42000", f"echo {KEY}", hint=f"hint {KEY}")):
        code, message, hint = sqlstate(exc)
        assert KEY[:8] not in message and KEY[:8] not in (hint or ""), (code, message, hint)
