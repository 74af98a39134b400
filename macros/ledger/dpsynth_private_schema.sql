{#- The private schema's name: var('dpsynth_private_schema'), default `<ledger schema>_dpsynth_private`. -#}
{% macro dpsynth_private_schema() %}
  {{ return(adapter.dispatch('dpsynth_private_schema', 'dbt_dpsynth')()) }}
{% endmacro %}

{% macro default__dpsynth_private_schema() %}
  {{ return(var('dpsynth_private_schema', var('dpsynth_ledger_schema', target.schema) ~ '_dpsynth_private')) }}
{% endmacro %}
