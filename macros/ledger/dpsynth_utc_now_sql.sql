{#-
  SQL expression: the current time in UTC as a timestamp without time zone (the ledger's convention), evaluated when
  the query runs. (`dpsynth_utc_now` is the same instant as a Python datetime, for comparisons in Jinja.)
  Snowflake's CURRENT_TIMESTAMP is a TIMESTAMP_LTZ in the session's time zone, and a plain cast keeps that wall
  clock; Spark's is an instant shown in the session time zone: both are converted to UTC explicitly.
-#}
{% macro dpsynth_utc_now_sql() %}
  {{ return(adapter.dispatch('dpsynth_utc_now_sql', 'dbt_dpsynth')()) }}
{% endmacro %}

{% macro default__dpsynth_utc_now_sql() %}cast({{ dbt.current_timestamp() }} as timestamp){% endmacro %}

{% macro duckdb__dpsynth_utc_now_sql() %}timezone('UTC', now()){% endmacro %}

{% macro snowflake__dpsynth_utc_now_sql() %}convert_timezone('UTC', current_timestamp())::timestamp_ntz{% endmacro %}

{% macro spark__dpsynth_utc_now_sql() %}to_utc_timestamp(current_timestamp(), current_timezone()){% endmacro %}
