"""Issue 17 §3: the README runs as written.

Every fenced ``python`` and ``sh`` block of README.md runs against the emulators, unless the line
before it is ``<!-- readme-test: skip (reason) -->`` (a real account, a long-running server, a venv
build tested elsewhere). ``lowcode.toml`` in the working directory declares the sources the README
uses (``crm``: CoreData) as in-process sandboxes. Every unlabeled block that starts with
``$ lowcode-sql ...`` is a sample output: the command is run and its output must equal the rest of
the block.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from lowcode_sql.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SKIP = re.compile(r"<!--\s*readme-test:\s*skip\b")
CONFIG = """
[sources.crm]
platform = "coredata"
sandbox = true
"""


@dataclass
class Block:
    lang: str
    text: str
    line: int  # 1-based line of the opening fence
    skipped: bool


def blocks(markdown: str) -> list[Block]:
    out: list[Block] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        out.append(Block(m.group(1), "\n".join(lines[i + 1:end]), i + 1, bool(SKIP.search(before))))
        i = end + 1
    return out


ALL = blocks(README)
CODE = [b for b in ALL if b.lang in ("python", "sh")]
SAMPLES = [b for b in ALL if b.lang == "" and b.text.startswith("$ lowcode-sql ")]


def test_the_parser_sees_the_blocks():
    assert len([b for b in CODE if b.lang == "python"]) >= 4
    assert len(SAMPLES) >= 1
    # a skip marker must say why, and be used only sparingly (a real account, a server, a venv)
    assert sum(b.skipped for b in CODE) <= 4
    for m in re.finditer(r"<!--\s*readme-test:[^>]*-->", README):
        assert re.search(r"skip \(.+\)", m.group(0)), m.group(0)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    (tmp_path / "lowcode.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOWCODE_SQL_CONFIG", raising=False)
    monkeypatch.setenv("LOWCODE_SQL_SANDBOX_SAMPLE", "business")  # what a user gets (tests/conftest.py picks traps)
    return tmp_path


@pytest.mark.parametrize("block", [b for b in CODE if b.lang == "python" and not b.skipped],
                         ids=lambda b: f"README.md:{b.line}")
def test_python_block_runs(block: Block, workdir: Path, capsys) -> None:
    code = compile(block.text, f"README.md:{block.line}", "exec")
    namespace: dict[str, object] = {"__name__": "__readme__"}
    try:
        exec(code, namespace)  # the README's own code, which is the point
    finally:
        # close what the block opened, so the next one starts clean
        for value in namespace.values():
            close = getattr(value, "close", None)
            if callable(close) and type(value).__module__.startswith(("lowcode_sql", "duckdb")):
                close()


@pytest.mark.slow
@pytest.mark.parametrize("block", [b for b in CODE if b.lang == "sh" and not b.skipped] or
                         [pytest.param(None, marks=pytest.mark.skip("every sh block is marked"))],
                         ids=lambda b: f"README.md:{b.line}" if b else "none")
def test_sh_block_runs(block: Block, workdir: Path) -> None:
    bindir = Path(sys.executable).parent
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", block.text], cwd=workdir, capture_output=True,
                          text=True, timeout=120, env={"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(workdir)})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


@pytest.mark.parametrize("block", SAMPLES, ids=lambda b: f"README.md:{b.line}")
def test_sample_output_matches_real_output(block: Block, workdir: Path, capsys) -> None:
    command, *expected = block.text.splitlines()
    argv = shlex.split(command.removeprefix("$ "))[1:]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.rstrip("\n").splitlines() == expected, f"README.md:{block.line} has drifted; real output:\n{out}"


def test_result_df_and_pl_say_how_to_install(monkeypatch):
    import lowcode_sql

    with lowcode_sql.demo() as con:
        r = con.sql("SELECT 1 AS a")
        for module, method in (("pandas", r.df), ("polars", r.pl)):
            monkeypatch.setitem(sys.modules, module, None)  # as if not installed
            with pytest.raises(ImportError, match=re.escape(f"pip install 'lowcode-sql[{module}]'")):
                method()
        monkeypatch.undo()
        assert r.df()["a"].tolist() == [1]


def test_readme_lists_the_cli_formats():
    usage = next(b.text for b in ALL if b.lang == "" and b.text.startswith("lowcode-sql query"))
    assert "-f table|csv|json|jsonl|parquet" in usage
    assert "--analyze" in usage
