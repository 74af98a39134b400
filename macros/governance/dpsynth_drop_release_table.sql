{#-
  Drops the table of one carrier row (`dpsynth_release_carriers`) and appends the event to the ledger: `status`
  'dropped' (expired) or 'withdrawn', zero epsilon, never charged (DP loss does not expire: nothing is refunded), with
  `note` (why, who) in the row's error column. With drop=false only the event is recorded.
-#}
{% macro dpsynth_drop_release_table(row, status, note, drop=true) %}
  {{ return(adapter.dispatch('dpsynth_drop_release_table', 'dbt_dpsynth')(row, status, note, drop)) }}
{% endmacro %}

{% macro default__dpsynth_drop_release_table(row, status, note, drop) %}
  {%- set now = dbt_dpsynth.dpsynth_utc_now().isoformat(sep=' ') -%}
  {%- if drop %}
  {% call statement('dpsynth_drop_release_table', fetch_result=False, auto_begin=False) %}
    drop table if exists {{ row['target_relation'] }}
  {% endcall %}
  {%- endif %}
  {% call statement('dpsynth_record_' ~ status, fetch_result=False, auto_begin=False) %}
    insert into {{ dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') }}
      ({% for c in ['release_id', 'model', 'target_relation', 'budget_key', 'epsilon', 'delta', 'delta_conversion', 'rho', 'epsilon_other', 'started_at', 'finished_at', 'status', 'error', 'expires_at', 'invocation_id'] %}{{ adapter.quote(c) }}{{ ", " if not loop.last }}{% endfor %})
    values ('{{ row['release_id'] }}', {{ "null" if row['model'] is none else "'" ~ (row['model'] | replace("'", "''")) ~ "'" }},
            '{{ row['target_relation'] | replace("'", "''") }}',
            {{ "null" if row['budget_key'] is none else "'" ~ (row['budget_key'] | replace("'", "''")) ~ "'" }},
            0, 0, 0, 0, 0, cast('{{ now }}' as timestamp), cast('{{ now }}' as timestamp), '{{ status }}',
            '{{ note | replace("'", "''") }}',
            {{ "null" if row['expires_at'] is none else "cast('" ~ row['expires_at'] ~ "' as timestamp)" }},
            '{{ invocation_id }}')
  {% endcall %}
{% endmacro %}
