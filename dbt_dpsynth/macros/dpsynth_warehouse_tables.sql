{#-
  THE column list of the package's own warehouse tables (ledger, budget caps history, invocations, fitted models,
  locations, written reports, approvals in the ledger's schema; metrics and evaluation details in the private schema,
  see dpsynth_private_relation): one list, read by both sides.
  - dbt: `dpsynth_create_ledger` (on-run-start) renders the DDL from `dbt_dpsynth.dpsynth_warehouse_tables()`.
  - Python: `dbt_dpsynth.tables` reads the YAML between the `set` / `endset` lines of this file (shipped as package
    data, so a wheel install has it) and generates the same DDL through the engine's Dialect.create_table_sql.
  Logical types: string, double, bigint, boolean, timestamp (mapped per adapter by `dpsynth_sql_type`, per engine by
  Dialect.sql_types). Column order is the table's column order. Edit the list here only.
-#}
{% macro dpsynth_warehouse_tables() %}
  {{ return(adapter.dispatch('dpsynth_warehouse_tables', 'dbt_dpsynth')()) }}
{% endmacro %}

{% macro default__dpsynth_warehouse_tables() %}
{%- set tables_yaml -%}
ledger:
  table: dpsynth_ledger
  columns:
    - [release_id, string]
    - [source_relation, string]
    - [model, string]
    - [target_relation, string]
    - [budget_key, string]
    - [generator, string]
    - [epsilon, double]
    - [delta, double]
    - [delta_conversion, double]
    - [rho, double]
    - [epsilon_other, double]
    - [accountant, string]
    - [cap_epsilon, double]
    - [cumulative_epsilon, double]
    - [cumulative_epsilon_naive, double]
    - [cumulative_rho, double]
    - [spend_json, string]
    - [record_json, string]
    - [rows, bigint]
    - [seed, bigint]
    - [invocation_id, string]
    - [started_at, timestamp]
    - [finished_at, timestamp]
    - [status, string]
    - [error, string]
    # governance (docs/governance.md): the model's release_type, when the release expires, the governance block in
    # force for this row (terms, approval requirement, watermark key fingerprint; never a secret)
    - [release_type, string]
    - [expires_at, timestamp]
    - [governance_json, string]
    - [watermark_fingerprint, string]
caps:
  # the history of caps: one row each time a key's cap is set or changed (the newest row of a key is in force)
  table: dpsynth_budget_caps
  columns:
    - [invocation_id, string]
    - [budget_key, string]
    - [cap_epsilon, double]
    - [recorded_at, timestamp]
    - [previous_cap_epsilon, double]
    - [source, string]
    - [recorded_by, string]
    - [policy_json, string]
invocations:
  # one row per dbt invocation that ran the package's on-run-start hook: where Python models find the ledger, and
  # the vars they cannot read themselves
  table: dpsynth_invocations
  columns:
    - [invocation_id, string]
    - [started_at, timestamp]
    - [recorded_by, string]
    - [refresh_json, string]
models:
  # fitted models of released rows (model state as text: JSON + arrays as a base64 .npz; never pickle)
  table: dpsynth_models
  columns:
    - [release_id, string]
    - [model, string]
    - [target_relation, string]
    - [fingerprint, string]
    - [fingerprint_json, string]
    - [generator, string]
    - [library_version, string]
    - [sample_seed, bigint]
    - [rows, bigint]
    - [state_sha256, string]
    - [state_text, string]
    - [created_at, timestamp]
metrics:
  table: dpsynth_metrics
  columns:
    - [release_id, string]
    - [model, string]
    - [metric, string]
    - [kind, string]
    - [value, double]
    - [threshold, double]
    - [passed, boolean]
    - [computed_at, timestamp]
    - [rule, string]
    - [holdout_value, double]
details:
  table: dpsynth_evaluation_details
  columns:
    - [release_id, string]
    - [model, string]
    - [details_json, string]
    - [computed_at, timestamp]
reports:
  # one row each time a dbt model wrote the report files of the release it carries (dbt_dpsynth.evidence)
  table: dpsynth_reports
  columns:
    - [release_id, string]
    - [model, string]
    - [invocation_id, string]
    - [path, string]
    - [absolute_path, string]
    - [written_at, timestamp]
locations:
  table: dpsynth_locations
  columns:
    - [invocation_id, string]
    - [role, string]
    - [database_name, string]
    - [schema_name, string]
    - [recorded_at, timestamp]
approvals:
  # append-only: one row per approval of a release (who, when, what was shown: the report's or the record's SHA-256)
  table: dpsynth_approvals
  columns:
    - [approval_id, string]
    - [release_id, string]
    - [model, string]
    - [target_relation, string]
    - [approved_by, string]
    - [approved_at, timestamp]
    - [note, string]
    - [shown_kind, string]
    - [shown_sha256, string]
    - [shown_path, string]
    - [source, string]
{%- endset -%}
{{ return(fromyaml(tables_yaml)) }}
{% endmacro %}
