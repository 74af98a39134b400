{#-
  Withdraws a release (threat model runbook: a contract ended or was breached, a misconfiguration, a defect):
    dbt run-operation dpsynth_withdraw --args '{release_id: <id>, by: ana, reason: "contract ended"}'
  Drops every table that carries it now (its candidate table and dpsynth_release tables) and appends a 'withdrawn'
  ledger event per table (who, why; zero epsilon, never charged: withdrawal refunds nothing, copies may exist and DP
  loss does not expire). A withdrawn release is never served again: a rebuild of its candidate is refused, its
  released models refuse it, and it cannot be approved. Revoking grants and notifying recipients stay with you.
-#}
{% macro dpsynth_withdraw(release_id, by, reason) %}
  {{ return(adapter.dispatch('dpsynth_withdraw', 'dbt_dpsynth')(release_id, by, reason)) }}
{% endmacro %}

{% macro default__dpsynth_withdraw(release_id, by, reason) %}
  {%- if by is not string or by | trim == '' or reason is not string or reason | trim == '' -%}
    {{ exceptions.raise_compiler_error("dbt_dpsynth: dpsynth_withdraw needs who and why. Fix: --args '{release_id: " ~ release_id ~ ", by: <name>, reason: <why>}'.") }}
  {%- endif -%}
  {%- if release_id is not string or modules.re.match('^[0-9a-fA-F-]{8,}$', release_id) is none -%}
    {{ exceptions.raise_compiler_error("dbt_dpsynth: dpsynth_withdraw: " ~ release_id ~ " is not a release id. Fix: copy the full release_id from `dpsynth ledger FILE` or the table comment.") }}
  {%- endif -%}
  {%- set ledger = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') -%}
  {%- set released = run_query("select release_id, model, target_relation, budget_key, expires_at from " ~ ledger ~ " where status = 'released' and release_id = '" ~ release_id ~ "'") -%}
  {%- if released.rows | length != 1 -%}
    {{ exceptions.raise_compiler_error("dbt_dpsynth: dpsynth_withdraw: no released ledger row has release_id " ~ release_id ~ " in " ~ ledger ~ ". Fix: pass the full release_id of a released row.") }}
  {%- endif -%}
  {%- set note = "withdrawn by " ~ by ~ ": " ~ reason -%}
  {%- set carriers = dbt_dpsynth.dpsynth_release_carriers("release_id = '" ~ release_id ~ "'") -%}
  {%- for row in carriers -%}
    {% do dbt_dpsynth.dpsynth_drop_release_table(row, 'withdrawn', note) %}
    {% do log("dbt_dpsynth: withdrew release " ~ release_id ~ ": dropped " ~ row['target_relation'] ~ " (recorded in the ledger; nothing refunded)", info=true) %}
  {%- endfor -%}
  {%- if carriers | length == 0 -%}
    {%- set row = dict(zip(released.column_names, released.rows[0].values())) -%}
    {% do dbt_dpsynth.dpsynth_drop_release_table(row, 'withdrawn', note, drop=false) %}
    {% do log("dbt_dpsynth: withdrew release " ~ release_id ~ " (no table carries it now; recorded in the ledger)", info=true) %}
  {%- endif -%}
  {% do adapter.commit() %}
{% endmacro %}
