"""dbt model config + column meta -> SynthesisConfig, column specs, budget settings.

Where the settings come from (later wins, per key):

1. the model's `meta: {dpsynth: {...}}`,
2. the model's `config: {dpsynth: {...}}` (schema.yml, dbt_project.yml `+dpsynth`, or `dbt.config(dpsynth=...)` in the
   model file — dbt replaces the whole dict, it does not merge it),
3. keyword overrides passed to `dbt_dpsynth.synthesize(...)`.

Column specs: `dpsynth.columns: {col: {kind: ...}}` in the model config, overridden per column by the column's
`meta: {dpsynth: {...}}` in schema.yml.

How Python reaches the node (the one seam that depends on another project, `find_node`): dbt writes into a Python
model only the config keys the model file itself reads with a literal `dbt.config.get("key")` /
`dbt.config.meta_get("key")` (dbt-core's `build_config_dict`), and column meta not at all, so a library function
cannot see `dpsynth` or the column specs through the documented `dbt` object; no dbt-duckdb plugin hook sees Python
models either. dbt-duckdb runs the model inside `submit_python_job(handle, parsed_model, compiled_code)` (the
`parsed_model` argument of dbt-adapters' `BaseAdapter.submit_python_job`, kept by every dbt-duckdb environment), whose
`parsed_model` is the full node. `find_node` takes it from the call stack and, when dbt's per-thread log context
names the running node, checks that it is that node. `tests/dbt/test_config.py` drives the installed dbt-duckdb's
real `submit_python_job` and fails naming its version if this stops working. Elsewhere (other adapters) the glue
falls back to `dbt.config.get("dpsynth")` / `dbt.config.meta_get("dpsynth")`, which work when the model file reads
them literally.
"""

from __future__ import annotations

import importlib.metadata
import inspect
from dataclasses import dataclass
from typing import Any, Mapping

from dpsynth_core.config import SynthesisConfig
from dpsynth_core.errors import ConfigError, SpecError
from dpsynth_core.governance import GOVERNANCE_KEYS, Governance

from .refresh import RefreshPolicy

# Settings the dbt glue reads itself; everything else goes to SynthesisConfig (which rejects unknown keys).
GLUE_KEYS = ("columns", "ledger_schema", "gates", "refresh") + GOVERNANCE_KEYS
CAPS_CONFIG_KEY = "dpsynth_budgets"     # model config key holding caps when the on-run-start hook did not record any
_MAX_FRAMES = 64


def find_node(max_frames: int = _MAX_FRAMES) -> dict[str, Any] | None:
    """The running model's node dict (dbt-duckdb's `parsed_model`), found on the call stack; None elsewhere.

    Args:
        max_frames: how many frames up to look (the model function runs a few frames below `submit_python_job`).

    Returns:
        A copy of the node (config, columns with their meta, refs, ...), or None when no frame holds one (not run by
        dbt-duckdb, or a dbt-duckdb that no longer passes `parsed_model`: see `node_seam_hint`).
    """
    running = running_node_id()
    frame = inspect.currentframe()
    try:
        depth = 0
        while frame is not None and depth < max_frames:
            candidate = frame.f_locals.get("parsed_model")
            if (isinstance(candidate, Mapping) and "config" in candidate and "columns" in candidate
                    and (running is None or candidate.get("unique_id") in (None, running))):
                return dict(candidate)
            frame, depth = frame.f_back, depth + 1
        return None
    finally:
        del frame


def running_node_id() -> str | None:
    """unique_id of the node dbt is running in this thread (dbt's log context), None outside dbt."""
    try:
        from dbt_common.events.contextvars import get_node_info
    except ImportError:   # dbt not installed: plain Python
        return None
    return (get_node_info() or {}).get("unique_id") or None


def dbt_duckdb_version() -> str | None:
    """The installed dbt-duckdb version, None when it is not installed."""
    try:
        return importlib.metadata.version("dbt-duckdb")
    except importlib.metadata.PackageNotFoundError:
        return None


def node_seam_hint() -> str:
    """What to say when a model run by dbt has no node: names the dbt-duckdb version whose stack was searched."""
    version = dbt_duckdb_version()
    if version is None:
        return ("outside dbt-duckdb the model file must read its settings literally: "
                '`dbt.config.get("dpsynth")` (column meta is not available then; put specs in dpsynth.columns)')
    return (f"dbt_dpsynth found no `parsed_model` node on the call stack of dbt-duckdb {version} (it reads the "
            "argument of submit_python_job); if this dbt-duckdb changed that, pin dbt-duckdb to a version the "
            'tests pass with, or read the settings literally in the model file: `dbt.config.get("dpsynth")`')


def _as_dict(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a mapping, got {value!r}.", fix="write `dpsynth: {epsilon: 1.0, ...}`.")
    return dict(value)


def _config_get(dbt, key: str) -> Any:
    try:
        return dbt.config.get(key)
    except Exception:  # noqa: BLE001 - a dbt object without config support simply has no value
        return None


def _meta_get(dbt, key: str) -> Any:
    getter = getattr(getattr(dbt, "config", None), "meta_get", None)
    if getter is None:
        return None
    try:
        return getter(key)
    except Exception:  # noqa: BLE001
        return None


def raw_settings(node: Mapping[str, Any] | None, dbt=None, overrides: Mapping[str, Any] | None = None
                 ) -> dict[str, Any]:
    """The merged `dpsynth` dict for one model (see module docstring for the order)."""
    merged: dict[str, Any] = {}
    if node is not None:
        config = node.get("config") or {}
        merged.update(_as_dict((config.get("meta") or {}).get("dpsynth"), "meta.dpsynth"))
        merged.update(_as_dict((node.get("meta") or {}).get("dpsynth"), "meta.dpsynth"))
        merged.update(_as_dict(config.get("dpsynth"), "config dpsynth"))
    elif dbt is not None:
        merged.update(_as_dict(_meta_get(dbt, "dpsynth"), "meta.dpsynth"))
        merged.update(_as_dict(_config_get(dbt, "dpsynth"), "config dpsynth"))
    merged.update(dict(overrides or {}))
    return merged


def column_specs(node: Mapping[str, Any] | None, settings: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`{column: spec dict}`: model-config `columns` overridden per column by schema.yml column meta."""
    columns = {str(k): dict(v or {}) for k, v in _as_dict(settings.get("columns"), "dpsynth.columns").items()}
    for name, col in ((node or {}).get("columns") or {}).items():
        meta = (col or {}).get("meta") or ((col or {}).get("config") or {}).get("meta") or {}
        spec = meta.get("dpsynth")
        if spec is not None:
            columns[str(col.get("name") or name)] = _as_dict(spec, f"column {name!r} meta.dpsynth")
    return columns


def align_to_schema(columns: Mapping[str, Any], schema, table: str) -> dict[str, Any]:
    """Map spec names onto the relation's column names case-insensitively (DuckDB and dbt YAML disagree on case)."""
    names = [c[0] for c in schema]
    by_lower: dict[str, list[str]] = {}
    for name in names:
        by_lower.setdefault(name.lower(), []).append(name)
    out: dict[str, Any] = {}
    for name, spec in columns.items():
        if name in names:
            out[name] = spec
            continue
        matches = by_lower.get(name.lower(), [])
        if len(matches) == 1:
            out[matches[0]] = spec
        else:
            raise SpecError(f"a column spec names {name!r}, which the relation does not have "
                            f"(it has {names}).", table=table, column=name,
                            fix="fix the name in schema.yml / dpsynth.columns, or drop the spec.")
    return out


@dataclass(frozen=True)
class ModelSettings:
    """Everything the glue needs for one release, validated before any data is read."""

    synthesis: SynthesisConfig
    columns: dict[str, dict[str, Any]]
    budget_key: str
    ledger_schema: str | None
    caps_from_config: dict[str, Any] | None
    gates: dict[str, Any] | None = None
    refresh: RefreshPolicy = RefreshPolicy()
    governance: Governance = Governance()


def model_settings(raw: Mapping[str, Any], node: Mapping[str, Any] | None, source_name: str,
                   model_name: str) -> ModelSettings:
    """Validate the merged settings. `source_name` names the source relation (default budget key)."""
    raw = dict(raw)
    if not raw:
        seam = f" (or: {node_seam_hint()})" if node is None and running_node_id() is not None else ""
        raise ConfigError("no dpsynth settings found for this model.", table=model_name,
                          fix='add `dbt.config(materialized="table", dpsynth={"epsilon": 1.0})` to the model, or '
                              f"`config: {{dpsynth: {{epsilon: 1.0}}}}` in its schema.yml entry{seam}.")
    synthesis_raw = {k: v for k, v in raw.items() if k not in GLUE_KEYS}
    synthesis = SynthesisConfig.from_dict(synthesis_raw, table=source_name)
    budget_key = synthesis.budget_key or source_name
    synthesis.budget_key = budget_key
    caps = ((node or {}).get("config") or {}).get(CAPS_CONFIG_KEY) if node is not None else None
    ledger_schema = raw.get("ledger_schema")
    if ledger_schema is not None and not isinstance(ledger_schema, str):
        raise ConfigError(f"ledger_schema={ledger_schema!r} must be a schema name.", table=model_name,
                          fix="write `ledger_schema: main` or drop it.")
    return ModelSettings(synthesis=synthesis, columns=column_specs(node, raw), budget_key=str(budget_key),
                         ledger_schema=ledger_schema, caps_from_config=caps, gates=raw.get("gates"),
                         refresh=RefreshPolicy.parse(raw.get("refresh"), model_name),
                         governance=Governance.parse(raw, model_name))


def source_identity(node: Mapping[str, Any] | None, relation, override: str | None = None) -> tuple[str, str]:
    """(short name for messages and the default budget key, fully qualified id for the ledger).

    A model that refs/sources exactly one relation is named after it; otherwise pass `relation_name=`.
    """
    if override:
        return override, override
    deps = list(((node or {}).get("depends_on") or {}).get("nodes") or [])
    refs = list((node or {}).get("refs") or [])
    sources = list((node or {}).get("sources") or [])
    if len(refs) + len(sources) == 1:
        short = refs[0]["name"] if refs else str(sources[0][-1])
        return short, (deps[0] if len(deps) == 1 else short)
    alias = _relation_name(relation)
    if node is not None and len(refs) + len(sources) > 1:
        raise ConfigError(f"the model reads {len(refs) + len(sources)} relations, so the source of the release is "
                          "ambiguous.", table=str(node.get("name")),
                          fix='pass relation_name="<source>" to dbt_dpsynth.synthesize(...).')
    return alias.rsplit(".", 1)[-1].strip('"'), alias


def _relation_name(relation) -> str:
    """The name a relation carries: a DuckDB relation's `alias`, a Snowpark Table's `table_name` (`dbt.ref` on
    dbt-snowflake: `database.schema.table`), else "relation"."""
    for attribute in ("alias", "table_name"):   # a Snowpark DataFrame's `alias` is a method: skipped
        name = getattr(relation, attribute, None)
        if isinstance(name, str) and name:
            return name
    return "relation"
