{#- SQL expression: the current time in UTC as a timestamp without time zone (the ledger's convention), evaluated when
    the query runs. `dpsynth_utc_now` (macros/governance) is the same instant as a Python datetime for Jinja. -#}
{% macro dpsynth_utc_now_sql() %}
  {{ return(adapter.dispatch('dpsynth_utc_now_sql', 'dbt_dpsynth')()) }}
{% endmacro %}

{% macro default__dpsynth_utc_now_sql() %}cast({{ dbt.current_timestamp() }} as timestamp){% endmacro %}

{% macro duckdb__dpsynth_utc_now_sql() %}timezone('UTC', now()){% endmacro %}
