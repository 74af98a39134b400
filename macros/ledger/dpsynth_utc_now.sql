{#- The current time in UTC as a timestamp without time zone (the ledger's convention), evaluated when the query runs. -#}
{% macro dpsynth_utc_now() %}
  {{ return(adapter.dispatch('dpsynth_utc_now', 'dbt_dpsynth')()) }}
{% endmacro %}

{% macro default__dpsynth_utc_now() %}cast({{ dbt.current_timestamp() }} as timestamp){% endmacro %}

{% macro duckdb__dpsynth_utc_now() %}timezone('UTC', now()){% endmacro %}
