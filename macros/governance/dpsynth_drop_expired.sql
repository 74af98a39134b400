{#-
  Drops every table that carries an expired release (`expires_after_days` or `terms.expires` passed:
  `dpsynth_expired_releases`) and records each drop in the ledger as a 'dropped' event (zero epsilon, never charged:
  withdrawal refunds nothing, DP loss does not expire). Candidate tables and dpsynth_release tables alike.
    dbt run-operation dpsynth_drop_expired                     # drop and record
    dbt run-operation dpsynth_drop_expired --args '{dry_run: true}'   # list only
  The release record, ledger rows and approvals stay; private artefacts follow `dpsynth_apply_retention`.
-#}
{% macro dpsynth_drop_expired(dry_run=false) %}
  {{ return(adapter.dispatch('dpsynth_drop_expired', 'dbt_dpsynth')(dry_run)) }}
{% endmacro %}

{% macro default__dpsynth_drop_expired(dry_run) %}
  {%- set expired = dbt_dpsynth.dpsynth_expired_releases() -%}
  {%- set ledger = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') -%}
  {%- set who = dbt_dpsynth.dpsynth_recorded_by() -%}
  {%- if expired | length == 0 -%}
    {% do log("dbt_dpsynth: no table carries an expired release.", info=true) %}
  {%- endif -%}
  {%- for row in expired -%}
    {%- if dry_run -%}
      {% do log("dbt_dpsynth: would drop " ~ row['target_relation'] ~ " (release " ~ row['release_id'] ~ " expired at " ~ row['expires_at'] ~ " UTC)", info=true) %}
    {%- else -%}
      {%- set now = dbt_dpsynth.dpsynth_utc_now().isoformat(sep=' ') -%}
      {%- set note = "expired at " ~ row['expires_at'] ~ " UTC; table dropped by run-operation dpsynth_drop_expired (" ~ who ~ ")" -%}
      {% call statement('dpsynth_drop_expired', fetch_result=False, auto_begin=False) %}
        drop table if exists {{ row['target_relation'] }}
      {% endcall %}
      {% call statement('dpsynth_record_drop', fetch_result=False, auto_begin=False) %}
        insert into {{ ledger }}
          ({% for c in ['release_id', 'model', 'target_relation', 'budget_key', 'epsilon', 'delta', 'delta_conversion', 'rho', 'epsilon_other', 'started_at', 'finished_at', 'status', 'error', 'expires_at'] %}{{ adapter.quote(c) }}{{ ", " if not loop.last }}{% endfor %})
        values ('{{ row['release_id'] }}', {{ "null" if row['model'] is none else "'" ~ (row['model'] | replace("'", "''")) ~ "'" }},
                '{{ row['target_relation'] | replace("'", "''") }}',
                {{ "null" if row['budget_key'] is none else "'" ~ (row['budget_key'] | replace("'", "''")) ~ "'" }},
                0, 0, 0, 0, 0, cast('{{ now }}' as timestamp), cast('{{ now }}' as timestamp), 'dropped',
                '{{ note | replace("'", "''") }}', cast('{{ row['expires_at'] }}' as timestamp))
      {% endcall %}
      {% do log("dbt_dpsynth: dropped " ~ row['target_relation'] ~ ": release " ~ row['release_id'] ~ " expired at " ~ row['expires_at'] ~ " UTC (recorded in " ~ ledger ~ "; nothing refunded)", info=true) %}
    {%- endif -%}
  {%- endfor -%}
{% endmacro %}
