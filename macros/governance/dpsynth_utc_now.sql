{#- The current time, naive UTC (the ledger's convention), as a Python datetime for comparisons in Jinja. -#}
{% macro dpsynth_utc_now() %}
  {{ return(adapter.dispatch('dpsynth_utc_now', 'dbt_dpsynth')()) }}
{% endmacro %}

{% macro default__dpsynth_utc_now() %}
  {{ return(modules.datetime.datetime.now(modules.pytz.utc).replace(tzinfo=none)) }}
{% endmacro %}
