"""The dbt-duckdb plugin shipped with the project (``lowcode_sql.dbt``, issue 19 §3): ``dbt run``
and ``dbt test`` on a two-model project whose sources are a CoreData emulator served over real
HTTP, in a second environment holding dbt-core and dbt-duckdb (``tests/cached_venv.py``:
``$LOWCODE_DBT_PYTHON``, ``$LOWCODE_DBT_VENV``). dbt-core 1.10: from 1.11 on, installing it
downloads a parser from GitHub at build time, and CI reaches PyPI only."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import duckdb
import pytest

import lowcode_sql
from lowcode_sql.sandbox.coredata import CoreDataSandbox
from tests.cached_venv import cached_python, engine_requirements
from tests.served import CD_ENV, coredata_config

DBT = ["dbt-core>=1.10,<1.11", "dbt-duckdb>=1.9,<1.12"]

# a filter DuckDB offers to a scan (a comparison with a constant; LIKE is not offered through
# attach: README) so that the request shows it
ACTIVE = "select id, title, status from {src} where created >= timestamp '2020-06-01'"
PER_PROJECT = ("select p.id as project_id, count(t.id) as tasks from {active} p "
               "left join {tasks} t on t.project.id = p.id group by 1")


def _project(root: Path, config: Path) -> None:
    (root / "models").mkdir()
    (root / "dbt_project.yml").write_text(textwrap.dedent("""\
        name: lowcode_demo
        version: "1.0"
        profile: lowcode_demo
        model-paths: ["models"]
        models:
          lowcode_demo:
            +materialized: table
        """))
    (root / "profiles.yml").write_text(textwrap.dedent(f"""\
        lowcode_demo:
          target: dev
          outputs:
            dev:
              type: duckdb
              path: {root / "dev.duckdb"}
              threads: 1
              plugins:
                - module: lowcode_sql.dbt
                  config:
                    config: {config}
        """))
    # each source is an attached catalog: database = the source's name, schema main (README)
    (root / "models" / "schema.yml").write_text(textwrap.dedent("""\
        version: 2
        sources:
          - name: crm
            database: crm
            schema: main
            tables:
              - name: projects
              - name: tasks
        models:
          - name: active_projects
            columns:
              - name: id
                data_tests: [unique, not_null]
          - name: tasks_per_project
            columns:
              - name: project_id
                data_tests: [unique, not_null]
        """))
    (root / "models" / "active_projects.sql").write_text(ACTIVE.format(src="{{ source('crm', 'projects') }}"))
    (root / "models" / "tasks_per_project.sql").write_text(
        PER_PROJECT.format(active="{{ ref('active_projects') }}", tasks="{{ source('crm', 'tasks') }}"))


@pytest.mark.slow
@pytest.mark.timeout(2400)  # the first run builds a venv and pip-installs dbt (minutes)
def test_dbt_run_and_test_through_the_plugin(tmp_path, monkeypatch):
    python = cached_python("dbt", [*engine_requirements(), *DBT])
    dbt = str(Path(python).parent / "dbt")
    sandbox = CoreDataSandbox()
    with sandbox.serve() as server:
        config = coredata_config(tmp_path / "lowcode.toml", server.url)
        project = tmp_path / "project"
        project.mkdir()
        _project(project, config)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env.update(CD_ENV, DBT_SEND_ANONYMOUS_USAGE_STATS="false")
        args = ["--profiles-dir", str(project), "--project-dir", str(project)]
        for command in ("run", "test"):
            done = subprocess.run([dbt, command, *args], capture_output=True, text=True, timeout=600, env=env,
                                  cwd=project)
            assert done.returncode == 0, f"dbt {command}:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
            assert "ERROR=0" in done.stdout, done.stdout[-2000:]
        # the model's filter reached the API (pushdown through the plugin's attach)
        projects = [e for e in sandbox.stats.log if e.path.rstrip("/").endswith("projects")]
        assert projects and all(("created__gte", "2020-06-01T00:00:00") in e.query for e in projects), projects

        for name, value in CD_ENV.items():
            monkeypatch.setenv(name, value)
        with lowcode_sql.connect(config) as con:
            want_active = sorted(con.sql(ACTIVE.format(src="crm.projects")).fetchall())
            want_per = sorted(con.sql(PER_PROJECT.format(active=f"({ACTIVE.format(src='crm.projects')})",
                                                         tasks="crm.tasks")).fetchall())
    with duckdb.connect(str(project / "dev.duckdb"), read_only=True) as built:
        assert sorted(built.sql("SELECT * FROM main.active_projects").fetchall()) == want_active
        assert sorted(built.sql("SELECT * FROM main.tasks_per_project").fetchall()) == want_per
    assert want_active and sum(n for _, n in want_per) > 0
