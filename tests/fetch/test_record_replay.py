"""Recording the HTTP exchanges with every credential redacted, and answering queries from a recording."""

from __future__ import annotations

import base64
import importlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

import lowcode_sql
import lowcode_sql.sandbox
from lowcode_sql.cli import main
from lowcode_sql.config import Config
from lowcode_sql.errors import ConfigError
from lowcode_sql.fetch import loop
from lowcode_sql.fetch.record import REPLAYED_TOKEN, NotRecorded, ReplayTransport
from lowcode_sql.secrets import forms, redact
from tests.recordings.make import QUERIES, plain

RECORDINGS = Path(__file__).resolve().parent.parent / "recordings"
PLATFORMS = sorted(QUERIES)

# credentials with characters every encoding changes: quoted, percent-encoded, JSON-escaped, base64'd
ODD = 'Zk9/q+W"x&y=%41~!'
KNOWN: dict[str, tuple[dict[str, Any], dict[str, str]]] = {  # emulator settings, the credentials
    "coredata": ({"users": {"rec.user@example": ODD}}, {"user": "rec.user@example", "key": ODD}),
    "entu": ({"api_keys": (ODD,)}, {"key": ODD}),
    "totalum": ({"api_keys": (ODD,)}, {"api_key": ODD}),
    "slingr": ({"users": {"recorder@example.com": ODD}}, {"email": "recorder@example.com", "password": ODD}),
    "alumio": ({"tokens": (ODD,)}, {"token": ODD}),
}


@pytest.fixture
def no_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building an emulator fails: a replay must not need one."""

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("a replay built an emulator")

    monkeypatch.setattr(lowcode_sql.sandbox, "get_sandbox", refuse)


def _text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_recording_never_holds_a_credential(platform: str, tmp_path: Path, no_emulator: None) -> None:
    settings, creds = KNOWN[platform]
    sandbox = _emulator(platform, settings)
    con = lowcode_sql.Connection(Config(), record=tmp_path)
    try:
        con.add_source(platform, platform, sandbox=sandbox, secrets=creds)
        want = {sql: con.sql(sql).fetchall() for sql in QUERIES[platform]}
        token = getattr(con.catalog.source(platform).runtime.auth._token, "value", None)
    finally:
        con.close()
    text = _text(tmp_path)
    assert '"status": 200' in text  # the exchanges are there
    values = [*creds.values(), *([token] if token else [])]
    leaks = {f for v in values for f in forms(v)}
    for a in creds.values():  # HTTP Basic / "apikey user:key" pairs, base64'd
        for b in creds.values():
            pair = f"{a}:{b}".encode()
            leaks |= {base64.b64encode(pair).decode(), base64.urlsafe_b64encode(pair).decode()}
    leaks |= {v for v in creds.values() if len(v) >= 4}  # short values too, raw
    assert not [f for f in leaks if f in text], "a credential form is in the recording"
    # and it replays with no emulator and none of those credentials
    with lowcode_sql.connect(None, replay=tmp_path) as con:
        assert {sql: con.sql(sql).fetchall() for sql in QUERIES[platform]} == want


def _emulator(platform: str, settings: dict[str, Any]) -> Any:
    """An emulator built past ``no_emulator`` (the recording side needs one)."""
    return importlib.import_module(lowcode_sql.sandbox.SANDBOXES[platform]).SANDBOX(**settings)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_committed_recording_answers_as_it_did(platform: str, no_emulator: None) -> None:
    # tests/recordings/<platform> (made by tests/recordings/make.py) used as a fixture
    folder = RECORDINGS / platform
    answers = json.loads((folder / "queries.json").read_text(encoding="utf-8"))
    with lowcode_sql.connect(None, replay=folder) as con:
        assert [s for s, *_ in con.tables()] and {s for s, *_ in con.tables()} == {platform}
        for answer in answers:
            assert plain(con.sql(answer["sql"]).fetchall()) == answer["rows"], answer["sql"]
    # a replayed login must not make masked text a secret ("Bearer ***" was registered, and then
    # redacted whole wherever it appeared)
    assert redact("Bearer ***") == "Bearer ***" and redact("token ***") == "token ***"


def test_a_sandbox_source_replays_with_its_config_and_no_emulator(tmp_path: Path, no_emulator: None) -> None:
    sql = "SELECT count(*) FROM coredata.tasks WHERE title LIKE 'A%'"
    con = lowcode_sql.Connection(Config(), record=tmp_path)
    con.add_source("coredata", "coredata", sandbox=_emulator("coredata", {}))
    want = con.sql(sql).fetchall()
    con.close()
    config = {"sources": {"coredata": {"platform": "coredata", "sandbox": True}}}
    with lowcode_sql.connect(config, replay=tmp_path) as con:
        assert con.sql(sql).fetchall() == want
        with pytest.raises(NotRecorded, match=r"GET http://sandbox\.invalid/api/v2/tasks/\?title__startswith=B"):
            con.sql("SELECT count(*) FROM coredata.tasks WHERE title LIKE 'B%'")


def _entry(url: str, body: Any, answer: Any, status: int = 200, login: bool = False) -> dict[str, Any]:
    return {"source": "s", "login": login, "request": {"method": "POST", "url": url, "headers": {}, "json": body},
            "response": {"status": status, "headers": {"content-type": "application/json"}, "json": answer}}


def _ask(transport: ReplayTransport, url: str, body: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.post(url, json=body)

    return loop.run(go())


def test_replay_matching(tmp_path: Path) -> None:
    entries = [_entry("https://h/login", {"email": "***", "password": "***"}, {"token": "***"}, login=True),
               _entry("https://h/q?a=1&token=***", {"b": 1, "a": [1, 2]}, {"n": 1}, status=503),
               _entry("https://h/q?a=1&token=***", {"a": [1, 2], "b": 1}, {"n": 2})]
    for i, e in enumerate(entries, 1):
        (tmp_path / f"{i:05d}.json").write_text(json.dumps(e))
    replay = ReplayTransport(tmp_path)
    # masked parts match anything (the replaying side has other credentials); key order is moot
    login = _ask(replay, "https://h/login", {"password": "pw", "email": "me@x"}).json()
    assert login == {"token": REPLAYED_TOKEN}  # the masked token, as a placeholder
    answers = [_ask(replay, "https://h/q?a=1&token=t0k", {"a": [1, 2], "b": 1}) for _ in range(3)]
    assert [r.status_code for r in answers] == [503, 200, 200]  # in order, then the last again
    for url, body in (("https://h/q?a=2&token=t", {"a": [1, 2], "b": 1}), ("https://h/q?a=1&token=t", {"a": [2]})):
        with pytest.raises(NotRecorded, match="is not in the recording"):
            _ask(replay, url, body)


def test_a_bad_recording_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        ReplayTransport(tmp_path / "missing")
    (tmp_path / "00001.json").write_text('{"request": {}}')
    with pytest.raises(ConfigError, match="not a recorded exchange"):
        ReplayTransport(tmp_path)


def test_recording_appends_to_a_folder(tmp_path: Path) -> None:
    for _ in range(2):
        con = lowcode_sql.Connection(Config(), record=tmp_path)
        con.add_source("alumio", "alumio", sandbox=True)
        con.sql("SELECT count(*) FROM alumio.routes").fetchall()
        con.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["00001.json", "00002.json", "00003.json", "00004.json", "sources.json"]  # 2 requests a run
    second = json.loads((tmp_path / "00003.json").read_text())  # the second run, from its discovery on
    assert "/api/v1/storages?" in second["request"]["url"]


@pytest.mark.slow
def test_cli_record_then_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sql = "SELECT name FROM slingr.companies WHERE is_customer ORDER BY name LIMIT 3"
    assert main(["query", "--demo", "--record", str(tmp_path), "-f", "csv", sql]) == 0
    recorded = capsys.readouterr().out
    assert main(["query", "--replay", str(tmp_path), "-f", "csv", sql]) == 0
    assert capsys.readouterr().out == recorded
    assert main(["query", "--replay", str(tmp_path), "-f", "csv", "SELECT count(*) FROM slingr.contacts"]) == 1
    assert "NotRecorded" in capsys.readouterr().err


def test_serve_records_too(tmp_path: Path) -> None:
    from lowcode_sql.cli import _connect, _parser

    args = _parser().parse_args(["serve", "--demo", "--no-auth", "--record", str(tmp_path)])
    with _connect(args) as con:  # the connection `serve` answers its clients from
        con.sql("SELECT count(*) FROM alumio.routes").fetchall()
    assert any(p.name == "00001.json" for p in tmp_path.iterdir())
    args = _parser().parse_args(["serve", "--no-auth", "--replay", str(tmp_path)])
    with _connect(args) as con:
        assert con.sql("SELECT count(*) FROM alumio.routes").fetchall() == [(11,)]
