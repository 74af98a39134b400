{#- The package's on-run-start hook: create the tables once, record this invocation (its vars), then the caps. -#}
{% macro dpsynth_on_run_start() %}
  {{ return(adapter.dispatch('dpsynth_on_run_start', 'dbt_dpsynth')()) }}
{% endmacro %}

{% macro default__dpsynth_on_run_start() %}
  {% if execute %}
    {% do dbt_dpsynth.dpsynth_create_ledger() %}
    {% do dbt_dpsynth.dpsynth_record_invocation() %}
    {% do dbt_dpsynth.dpsynth_record_budget_caps() %}
    {% do adapter.commit() %}
  {% endif %}
  select 1 as dpsynth_ledger_ready
{% endmacro %}
