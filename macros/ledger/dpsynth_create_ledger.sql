{#-
  DDL of the privacy-budget ledger. Run once per invocation by the package's on-run-start hook (concurrent
  CREATE TABLE IF NOT EXISTS from several models conflicts on DuckDB's catalog). Columns must match
  dbt_dpsynth/ledger.py (LEDGER_COLUMNS, CAPS_COLUMNS) and dbt_dpsynth/metrics.py (METRICS_COLUMNS); tests/dbt
  compares them.
-#}
{% macro dpsynth_create_ledger() %}
  {{ return(adapter.dispatch('dpsynth_create_ledger', 'dbt_dpsynth')()) }}
{% endmacro %}

{% macro default__dpsynth_create_ledger() %}
  {%- set ledger = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') -%}
  {%- set caps = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_budget_caps') -%}
  {% do adapter.create_schema(ledger) %}
  {% call statement('dpsynth_create_ledger', fetch_result=False, auto_begin=False) %}
    create table if not exists {{ ledger }} (
      release_id varchar, source_relation varchar, model varchar, target_relation varchar, budget_key varchar,
      generator varchar, epsilon double, delta double, delta_conversion double, rho double, epsilon_other double,
      accountant varchar,
      cap_epsilon double, cumulative_epsilon double, cumulative_epsilon_naive double, cumulative_rho double,
      spend_json varchar, record_json varchar, rows bigint, seed bigint, invocation_id varchar,
      started_at timestamp, finished_at timestamp, status varchar, error varchar
    )
  {% endcall %}
  {%- set metrics = dbt_dpsynth.dpsynth_ledger_relation(var('dpsynth_metrics_table', 'dpsynth_metrics')) -%}
  {% call statement('dpsynth_create_metrics', fetch_result=False, auto_begin=False) %}
    create table if not exists {{ metrics }} (
      release_id varchar, model varchar, metric varchar, kind varchar, value double, threshold double,
      passed boolean, computed_at timestamp
    )
  {% endcall %}
  {% call statement('dpsynth_create_caps', fetch_result=False, auto_begin=False) %}
    create table if not exists {{ caps }} (
      invocation_id varchar, budget_key varchar, cap_epsilon double, recorded_at timestamp
    )
  {% endcall %}
{% endmacro %}
