{#-
  Drops every table that carries an expired release (`expires_after_days` or `terms.expires` passed:
  `dpsynth_expired_releases`) and records each drop in the ledger as a 'dropped' event (zero epsilon, never charged:
  dropping refunds nothing, DP loss does not expire). Candidate tables and dpsynth_release tables alike.
    dbt run-operation dpsynth_drop_expired                            # drop and record
    dbt run-operation dpsynth_drop_expired --args '{dry_run: true}'   # list only
  The release record, ledger rows and approvals stay; private artefacts follow `dpsynth_apply_retention`. A rebuild
  of the candidate is then refused (an expired release is not served again) until a new release is asked for.
-#}
{% macro dpsynth_drop_expired(dry_run=false) %}
  {{ return(adapter.dispatch('dpsynth_drop_expired', 'dbt_dpsynth')(dry_run)) }}
{% endmacro %}

{% macro default__dpsynth_drop_expired(dry_run) %}
  {%- set expired = dbt_dpsynth.dpsynth_expired_releases() -%}
  {%- set who = dbt_dpsynth.dpsynth_recorded_by() -%}
  {%- if expired | length == 0 -%}
    {% do log("dbt_dpsynth: no table carries an expired release.", info=true) %}
  {%- endif -%}
  {%- for row in expired -%}
    {%- if dry_run -%}
      {% do log("dbt_dpsynth: would drop " ~ row['target_relation'] ~ " (release " ~ row['release_id'] ~ " expired at " ~ row['expires_at'] ~ " UTC)", info=true) %}
    {%- else -%}
      {% do dbt_dpsynth.dpsynth_drop_release_table(row, 'dropped', "expired at " ~ row['expires_at'] ~ " UTC; table dropped by run-operation dpsynth_drop_expired (" ~ who ~ ")") %}
      {% do log("dbt_dpsynth: dropped " ~ row['target_relation'] ~ ": release " ~ row['release_id'] ~ " expired at " ~ row['expires_at'] ~ " UTC (recorded in the ledger; nothing refunded)", info=true) %}
    {%- endif -%}
  {%- endfor -%}
{% endmacro %}
