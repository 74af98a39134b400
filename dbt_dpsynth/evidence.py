"""Release reports from a DuckDB warehouse: read the ledger, caps, metrics and evaluation details, hand plain dicts to
`dpsynth_core.report`, write one HTML/JSON/Markdown report per release.

Tables read: `dpsynth_ledger`, `dpsynth_budget_caps`, `dpsynth_approvals` (optional; the ledger's schema),
`dpsynth_metrics` (optional) and
`dpsynth_evaluation_details` (optional; the evaluation's plot data, one JSON document per release, NOT DP like the
metrics) from the private schema (`metrics.private_location`; the ledger's schema for releases made before the
metrics moved there). Used by `dpsynth report`, and by the dbt glue: a Python model writes the report of the release
it carries (new or reused) when it finishes (`write_model_report`, into `report_dir`), and records where in
`dpsynth_reports`, which the table's stamp (`dpsynth_release_for`) and the release catalogue read.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any, Mapping

from dpsynth_core.errors import InputError
from dpsynth_core.report import evidence_from_rows, write_release_report

from .approvals import approvals_by_release, with_approvals
from .ledger import CAPS_TABLE, LEDGER_TABLE, LedgerLocation
from .metrics import METRICS_TABLE, private_location
from .stores import store_for
from .tables import DETAILS, LEDGER, METRICS, REPORTS

DETAILS_TABLE = DETAILS.table
REPORTS_TABLE = REPORTS.table
DEFAULT_OUT_DIR = Path("target") / "dpsynth"
# where dbt models write their reports: a directory (relative paths are taken from the dbt project directory), or
# "off" for none; unset: <project dir>/<target path>/dpsynth
REPORT_DIR_ENV = "DPSYNTH_REPORT_DIR"
_OFF = {"off", "none", "0", "false", "no"}


def _tables(con, schema: str) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                                      [schema]).fetchall()}


def find_ledger(con, schema: str | None = None, where: str = "the database") -> LedgerLocation:
    """The ledger's location: `schema` when given, else the only schema holding a ledger table."""
    schemas = [r[0] for r in con.execute("SELECT DISTINCT table_schema FROM information_schema.tables "
                                         "WHERE table_name = ? ORDER BY 1", [LEDGER_TABLE]).fetchall()]
    if schema:
        schemas = [s for s in schemas if s == schema]
    if len(schemas) != 1:
        raise InputError(f"found the dpsynth ledger in schemas {schemas} of {where}.",
                         fix="pass --schema with one of them." if schemas else "build a dpsynth model first.")
    return LedgerLocation(schemas[0])


def _column_names(con, location: LedgerLocation, table: str) -> set[str]:
    return {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND "
                                      "table_name = ?", [location.schema, table]).fetchall()}


def _rows(con, location: LedgerLocation, table: str, columns) -> list[dict[str, Any]]:
    # columns a newer package version added are read as missing (a report of an older warehouse file still works)
    have = {r[0].lower() for r in con.execute(f"SELECT * FROM {table} LIMIT 0").description}
    names = [n for n, _ in columns if n.lower() in have]
    result = con.execute(f"SELECT {', '.join(location.quote(n) for n in names)} FROM {table}").fetchall()
    return [dict(zip(names, r, strict=True)) for r in result]


def latest_caps(con, location: LedgerLocation) -> dict[str, float]:
    """The most recently recorded cap of each budget key."""
    if CAPS_TABLE not in _tables(con, location.schema):
        return {}
    rows = con.execute(f"SELECT budget_key, cap_epsilon FROM {location.caps} WHERE budget_key IS NOT NULL "
                       "ORDER BY recorded_at").fetchall()
    return {k: float(v) for k, v in rows}


def ensure_evidence_tables(con, location: LedgerLocation) -> None:
    """Create `dpsynth_reports` (the ledger's schema) and `dpsynth_evaluation_details` (the private schema) if missing
    (Python fallback of the on-run-start hook; the writers below create theirs on first use too)."""
    private = private_location(con, location)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {private.schema_name}")
    for table, where in ((DETAILS, private), (REPORTS, location)):
        con.execute(table.create_sql(where.dialect, where.qualify(table.table)))


def write_details(con, location: LedgerLocation, release_id: str, model: str | None,
                  details: Mapping[str, Any], computed_at=None) -> None:
    """Append one release's evaluation details (`EvaluationReport.details`) to `dpsynth_evaluation_details`."""
    import datetime as _dt

    store = store_for(con)
    store.ensure_table(location, DETAILS)
    when = computed_at or _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
    store.insert(location, DETAILS, [{"release_id": release_id, "model": model,
                                      "details_json": json.dumps(details, allow_nan=False), "computed_at": when}])


def load_evidence(con, location: LedgerLocation, release_id: str | None = None, where: str = "",
                  invocation_id: str | None = None) -> list:
    """`ReleaseEvidence` of every released row (or of `release_id`, a full id or a unique prefix; or of one dbt
    invocation's releases), oldest first."""
    tables = _tables(con, location.schema)
    ledger = with_approvals(_rows(con, location, location.ledger, LEDGER.columns), approvals_by_release(con, location))
    released = sorted((r for r in ledger if r.get("status") == "released" and r.get("record_json")),
                      key=lambda r: str(r.get("started_at")))
    if invocation_id:
        released = [r for r in released if r.get("invocation_id") == invocation_id]
    if release_id:
        released = [r for r in released if str(r["release_id"]).startswith(release_id)]
        if len(released) != 1:
            raise InputError(f"release id {release_id!r} matches {len(released)} released ledger rows.",
                             fix="pass a full release_id from `dpsynth ledger`.")
    caps = latest_caps(con, location)
    private = private_location(con, location, invocation_id)
    private_tables = _tables(con, private.schema)
    evaluation = private if METRICS_TABLE in private_tables or DETAILS_TABLE in private_tables else location
    tables = private_tables if evaluation is private else tables
    metrics_table = evaluation.qualify(METRICS_TABLE)
    columns = [c for c in METRICS.columns if c[0] in _column_names(con, evaluation, METRICS_TABLE)]
    metrics = _rows(con, evaluation, metrics_table, columns) if METRICS_TABLE in tables else []
    details: dict[str, str] = {}
    if DETAILS_TABLE in tables:
        for rid, doc in con.execute(f"SELECT release_id, details_json FROM {evaluation.qualify(DETAILS_TABLE)} "
                                    "ORDER BY computed_at").fetchall():
            details[str(rid)] = doc
    suffix = f" of {where}" if where else ""
    out = []
    for row in released:
        rid = str(row["release_id"])
        out.append(evidence_from_rows(rid, ledger, caps, metrics, details.get(rid),
                                      metrics_location=f"{metrics_table}{suffix}" if metrics else None))
    return out


def write_reports(con, location: LedgerLocation, out_dir: str | Path = DEFAULT_OUT_DIR, release_id: str | None = None,
                  where: str = "", invocation_id: str | None = None) -> list[dict[str, Path]]:
    """Write the report of each selected release under `out_dir`; returns the paths per release."""
    return [write_release_report(ev, out_dir)
            for ev in load_evidence(con, location, release_id, where=where, invocation_id=invocation_id)]


def _utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


def _dbt_flags():
    try:
        from dbt.flags import get_flags

        return get_flags()
    except Exception:  # noqa: BLE001 - not inside dbt (or a dbt without the flags module)
        return None


def target_path_of(node: Mapping[str, Any] | None, flags=None) -> str:
    """The invocation's target path as the node was compiled into it (`--target-path`, `DBT_TARGET_PATH` or the
    project's setting): `compiled_path` is `<target path>/compiled/<package>/<original_file_path>`. Falls back to
    the `TARGET_PATH` flag, then to "target"."""
    node = node or {}
    compiled = str(node.get("compiled_path") or "")
    suffix = os.path.join("compiled", str(node.get("package_name") or ""), str(node.get("original_file_path") or ""))
    if compiled and node.get("package_name") and node.get("original_file_path") and compiled.endswith(suffix):
        return compiled[: -len(suffix)].rstrip("/\\") or "."
    return str(getattr(flags, "TARGET_PATH", None) or "target")


def report_dir(node: Mapping[str, Any] | None, env: Mapping[str, str] | None = None,
               flags=None) -> tuple[Path, Path] | None:
    """(report directory, dbt project directory) for a model dbt is running, or None when no report is written
    (env `DPSYNTH_REPORT_DIR=off`, or not inside dbt: no project directory to anchor a path to).

    Env `DPSYNTH_REPORT_DIR` names the directory (a relative one is taken from the project directory); unset, it is
    `<project dir>/<target path>/dpsynth`. The working directory of a Python model is not the project's, hence the
    project directory from dbt's flags and the target path from the node (`target_path_of`).
    """
    env = os.environ if env is None else env
    chosen = str(env.get(REPORT_DIR_ENV) or "").strip()
    if chosen.lower() in _OFF:
        return None
    flags = flags if flags is not None else _dbt_flags()
    project = getattr(flags, "PROJECT_DIR", None) if flags is not None else None
    if not project:
        return None
    project_dir = Path(project).resolve()
    base = Path(chosen) if chosen else Path(target_path_of(node, flags)) / "dpsynth"
    return (base if base.is_absolute() else project_dir / base), project_dir


def _shown_path(path: Path, project_dir: Path | None) -> str:
    """`path` relative to the project directory when it lies under it (what the table stamp shows), else absolute."""
    if project_dir is not None:
        try:
            return path.resolve().relative_to(project_dir).as_posix()
        except ValueError:
            pass
    return str(path.resolve())


def record_report(con, location: LedgerLocation, release_id: str, model: str | None, invocation_id: str | None,
                  path: str, absolute_path: str) -> None:
    """Append one row to `dpsynth_reports` (created when missing)."""
    store = store_for(con)
    store.ensure_table(location, REPORTS)
    store.insert(location, REPORTS, [dict(zip(REPORTS.names, (release_id, model, invocation_id, path, absolute_path,
                                                              _utcnow()), strict=True))])


def write_model_report(con, location: LedgerLocation, release_id: str, model: str | None, out_dir: Path,
                       project_dir: Path | None = None, invocation_id: str | None = None) -> dict[str, Path]:
    """Write the report of `release_id` (as the warehouse holds it now: ledger, caps, metrics, details) under
    `out_dir` and record it in `dpsynth_reports`. Returns the paths (html, json, md); `paths['shown']` is the HTML
    path as the table stamp shows it (relative to `project_dir` when under it)."""
    from dataclasses import replace

    from dpsynth_core.report import write_release_report
    from dpsynth_core.report.build import file_stem

    (evidence,) = load_evidence(con, location, release_id)
    row = evidence.release_row or {}
    html = Path(out_dir) / f"{file_stem(row.get('model') or evidence.record.get('relation'), evidence.release_id)}.html"
    shown = _shown_path(html, project_dir)
    paths = write_release_report(replace(evidence, written_to=shown), out_dir)
    record_report(con, location, evidence.release_id, model, invocation_id, shown, str(paths["html"].resolve()))
    return {**paths, "shown": Path(shown)}


def reports_written(con, location: LedgerLocation, invocation_id: str | None = None) -> list[dict[str, Any]]:
    """Rows of `dpsynth_reports` (newest invocation's when `invocation_id` is None), oldest first."""
    if REPORTS_TABLE not in _tables(con, location.schema):
        return []
    table = location.qualify(REPORTS_TABLE)
    if invocation_id is None:
        newest = con.execute(f"SELECT invocation_id FROM {table} ORDER BY written_at DESC LIMIT 1").fetchall()
        if not newest:
            return []
        invocation_id = newest[0][0]
    names = REPORTS.names
    rows = con.execute(f"SELECT {', '.join(location.quote(n) for n in names)} FROM {table} WHERE invocation_id = ? "
                       "ORDER BY written_at", [invocation_id]).fetchall()
    return [dict(zip(names, r, strict=True)) for r in rows]


def store_details(con, location: LedgerLocation, release_id: str, model: str, report, log) -> None:
    """The dbt glue's evaluation step: the evaluation's plot data (`report.details`, NOT DP like the metrics) beside
    the metrics, for the release report."""
    if report.details is not None:
        write_details(con, location, release_id, model, report.details)
        log.info(f"dpsynth: {model}: evaluation plot data (not DP) in {location.qualify(DETAILS_TABLE)}")


def write_for_model(book, release_id: str, model_id: str, model_name: str, node: Mapping[str, Any] | None,
                    invocation_id: str | None, log) -> Path | None:
    """The dbt glue's last step: write the report (HTML, JSON, Markdown) of the release the model now carries, new
    or reused, into `report_dir(node)`, and record its path for the table's stamp. Returns the path as shown.

    A report that cannot be written is a warning, never an error: the release and its ledger row stand, and
    `dpsynth report WAREHOUSE.duckdb` writes it later from the warehouse.
    """
    where = report_dir(node)
    if where is None:
        log.info(f"dpsynth: {model_name}: no release report written here (env {REPORT_DIR_ENV}=off, or not run by "
                 "dbt); `dpsynth report WAREHOUSE.duckdb` writes it from the ledger.")
        return None
    out_dir, project_dir = where
    try:
        paths = write_model_report(book.con, book.location, release_id, model_id, out_dir, project_dir,
                                   invocation_id)
    except Exception as err:  # noqa: BLE001 - the release is made; its report is evidence written after the fact
        why = str(err) if isinstance(err, OSError) else type(err).__name__   # no rendered value reaches the log
        log.warning(f"dpsynth: {model_name}: the report of release {release_id} was not written ({why}); the "
                    "release stands. `dpsynth report WAREHOUSE.duckdb` writes it from the ledger.")
        return None
    log.info(f"dpsynth: {model_name}: release report {paths['shown']} (also .json, .md)")
    return paths["shown"]
