{#- The latest released ledger row of `relation` in this invocation, as a dict (none when there is none). -#}
{% macro dpsynth_release_for(relation) %}
  {{ return(adapter.dispatch('dpsynth_release_for', 'dbt_dpsynth')(relation)) }}
{% endmacro %}

{% macro default__dpsynth_release_for(relation) %}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {%- set sql -%}
    select release_id, epsilon, delta, generator, accountant, rho, budget_key, rows, cumulative_epsilon,
           cap_epsilon, record_json
    from {{ dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') }}
    where target_relation = '{{ relation | string | replace("'", "''") }}'
      and invocation_id = '{{ invocation_id }}' and status = 'released'
    order by finished_at desc
    limit 1
  {%- endset -%}
  {%- set table = run_query(sql) -%}
  {%- if table.rows | length == 0 -%}{{ return(none) }}{%- endif -%}
  {{ return(dict(zip(table.column_names, table.rows[0].values()))) }}
{% endmacro %}
