{#- SQL expression: the hex SHA-256 of a text expression (UTF-8), equal to Python's hashlib.sha256(text).hexdigest(). -#}
{% macro dpsynth_sha256(expression) %}
  {{ return(adapter.dispatch('dpsynth_sha256', 'dbt_dpsynth')(expression)) }}
{% endmacro %}

{% macro default__dpsynth_sha256(expression) %}sha256({{ expression }}){% endmacro %}
{% macro snowflake__dpsynth_sha256(expression) %}sha2({{ expression }}, 256){% endmacro %}
{% macro spark__dpsynth_sha256(expression) %}sha2({{ expression }}, 256){% endmacro %}
{% macro databricks__dpsynth_sha256(expression) %}sha2({{ expression }}, 256){% endmacro %}
