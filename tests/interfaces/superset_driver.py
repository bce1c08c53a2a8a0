"""Run inside Superset's own environment by tests/interfaces/test_superset.py (not a test module):
sets up Superset on a SQLite metadata DB, then goes through the steps a user takes, over Superset's
REST API (Flask's test client: nothing listens), for each database given, and prints one JSON
object with what each step answered.

argv[1]: a JSON object {"workdir": str, "template": str (a migrated metadata DB to start from,
written when missing), "databases": {name: {"uri": str, "schema": str,
"table": str, "slow_sql": str | null}}}.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any


def _setup(workdir: Path, template: Path) -> Any:
    config = workdir / "superset_config.py"
    if template.exists():
        shutil.copyfile(template, workdir / "superset.db")
    config.write_text(
        f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{workdir / 'superset.db'}'\n"
        "SECRET_KEY = 'lowcode-sql-test-only-secret-key-0123456789'\n"
        "WTF_CSRF_ENABLED = False\n"
        "TALISMAN_ENABLED = False\n"
        "PREVENT_UNSAFE_DB_CONNECTIONS = False\n"
        "SQLLAB_CTAS_NO_LIMIT = True\n"
        "DATA_CACHE_CONFIG = {'CACHE_TYPE': 'NullCache'}\n"
        "CACHE_CONFIG = {'CACHE_TYPE': 'NullCache'}\n"
        # Superset's default for these is its metastore cache, which the Flask-Caching that pip
        # resolves today passes an argument it does not take; in-memory is all a test needs
        "FILTER_STATE_CACHE_CONFIG = {'CACHE_TYPE': 'SimpleCache'}\n"
        "EXPLORE_FORM_DATA_CACHE_CONFIG = {'CACHE_TYPE': 'SimpleCache'}\n"
        "FEATURE_FLAGS = {'ENABLE_TEMPLATE_PROCESSING': False}\n"
    )
    os.environ["SUPERSET_CONFIG_PATH"] = str(config)
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()  # `superset db upgrade`
        from superset import appbuilder, security_manager

        appbuilder.add_permissions(update_perms=True)  # `superset init`: the views' permissions,
        security_manager.sync_role_definitions()  # then the roles that hold them
        admin = security_manager.find_role("Admin")
        if security_manager.find_user("admin") is None:
            security_manager.add_user("admin", "Ad", "Min", "admin@example.invalid", admin, password="admin-pass")
    if not template.exists():
        shutil.copyfile(workdir / "superset.db", template)  # before any database is added to it
    return app


class Api:
    def __init__(self, app: Any) -> None:
        self.app = app
        client = app.test_client()
        r = client.post("/api/v1/security/login",
                        json={"username": "admin", "password": "admin-pass", "provider": "db", "refresh": False})
        assert r.status_code == 200, r.get_data(as_text=True)
        self.headers = {"Authorization": f"Bearer {r.get_json()['access_token']}"}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        client = self.app.test_client()  # one per call: calls may come from two threads
        r = client.open(path, method=method, json=body, headers=self.headers)
        try:
            return r.status_code, r.get_json()
        except Exception:
            return r.status_code, r.get_data(as_text=True)[:2000]


def _why_no_dataset(api: Api, db: int, spec: dict[str, Any]) -> str:
    """Why Superset answered "Dataset could not be created" (it logs nothing): reading the table's
    metadata fails, or else it is Superset's own (on SQLite, dataset names are unique across
    databases)."""
    import traceback

    with api.app.app_context():
        from superset import db as meta
        from superset.connectors.sqla.utils import get_physical_table_metadata
        from superset.models.core import Database
        from superset.sql.parse import Table

        try:
            get_physical_table_metadata(meta.session.query(Database).get(db), Table(spec["table"], spec["schema"]),
                                        False)
        except Exception:
            return traceback.format_exc()[:6000]
    return "the table's metadata reads on its own"


def _chart(api: Api, ds: int, columns: list[Any], row_limit: int = 1000) -> tuple[int, Any]:
    body = {
        "datasource": {"id": ds, "type": "table"},
        "force": True,
        "queries": [{"columns": columns, "metrics": ["count"], "orderby": [["count", False]],
                     "row_limit": row_limit, "filters": []}],
        "result_format": "json",
        "result_type": "full",
    }
    status, answer = api.call("POST", "/api/v1/chart/data", body)
    if status != 200:
        return status, answer
    q = answer["result"][0]
    return status, {"data": q["data"], "query": q.get("query")}


def _grain(column: str, grain: str) -> dict[str, Any]:
    return {"timeGrain": grain, "columnType": "BASE_AXIS", "sqlExpression": column, "label": column,
            "expressionType": "SQL"}


def run_database(api: Api, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    status, answer = api.call("POST", "/api/v1/database/", {
        "database_name": name, "sqlalchemy_uri": spec["uri"], "expose_in_sqllab": True, "allow_run_async": False,
        "allow_dml": False})
    out["add_database"] = status
    if status != 201:
        out["error"] = answer
        return out
    db = answer["id"]
    status, answer = api.call("GET", f"/api/v1/database/{db}/schemas/?q=(force:!t)")
    out["schemas"] = answer.get("result") if status == 200 else answer
    status, answer = api.call("POST", "/api/v1/dataset/", {"database": db, "schema": spec["schema"],
                                                          "table_name": spec["table"]})
    out["add_dataset"] = status
    if status != 201:
        out["error"] = [answer, _why_no_dataset(api, db, spec)]
        return out
    ds = answer["id"]
    status, answer = api.call("GET", f"/api/v1/dataset/{ds}")
    out["columns"] = {c["column_name"]: [c["type"], c["is_dttm"]] for c in answer["result"]["columns"]}
    status, answer = api.call("POST", "/api/v1/sqllab/execute/", {
        "database_id": db, "schema": spec["schema"], "runAsync": False, "client_id": f"q{db}a",
        "sql": f"SELECT cat, COUNT(*) AS n FROM {spec['schema']}.{spec['table']} GROUP BY cat ORDER BY cat"})
    out["sqllab"] = [status, answer.get("data") if status == 200 else answer]
    out["chart_group"] = _chart(api, ds, ["cat"])
    out["chart_day"] = _chart(api, ds, [_grain("ts", "P1D")])
    out["chart_year"] = _chart(api, ds, [_grain("ts", "P1Y")])
    if spec.get("slow_sql"):
        out["cancel"] = _cancel(api, db, spec)
    return out


def _cancel(api: Api, db: int, spec: dict[str, Any]) -> dict[str, Any]:
    """SQL Lab's Stop button: the query runs in one thread, Stop is pressed from another."""
    client_id = f"slow{db}"
    result: dict[str, Any] = {}

    def run() -> None:
        t0 = time.monotonic()
        result["status"], answer = api.call("POST", "/api/v1/sqllab/execute/", {
            "database_id": db, "schema": spec["schema"], "runAsync": False, "client_id": client_id,
            "sql": spec["slow_sql"]})
        result["seconds"] = time.monotonic() - t0
        result["answer"] = answer if not isinstance(answer, dict) else {k: answer.get(k) for k in ("status", "errors")}

    t = threading.Thread(target=run)
    t.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _status(api, client_id) != "running":
        time.sleep(0.2)
    time.sleep(1)  # running: its scans are under way on the wire server
    result["stop"] = api.call("POST", "/api/v1/query/stop", {"client_id": client_id})
    t.join(120)
    result["alive"] = t.is_alive()
    result["query_status"] = _status(api, client_id)
    return result


def _status(api: Api, client_id: str) -> str | None:
    """SQL Lab's status of the query ``client_id`` in Superset's metadata DB."""
    with api.app.app_context():
        from superset import db as meta
        from superset.models.sql_lab import Query

        query = meta.session.query(Query).filter_by(client_id=client_id).one_or_none()
        return None if query is None else str(query.status)


def main() -> None:
    args = json.loads(sys.argv[1])
    app = _setup(Path(args["workdir"]), Path(args["template"]))
    with app.app_context():
        from superset.db_engine_specs import get_engine_spec

        spec = get_engine_spec("lowcode")
        report: dict[str, Any] = {"lowcode_spec": f"{spec.__module__}.{spec.__name__}"}
    api = Api(app)
    for name, db in args["databases"].items():
        report[name] = run_database(api, name, db)
    print("@@REPORT@@" + json.dumps(report, default=str))


if __name__ == "__main__":
    main()
