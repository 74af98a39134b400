{#-
  The SQL type of a logical column type of the package's tables (string, double, bigint, boolean, timestamp), as the
  engine dialects' `sql_types` map them in Python (dpsynth_core.measurement.engine.Dialect). Override per adapter
  (e.g. snowflake__dpsynth_sql_type) where the names differ.
-#}
{% macro dpsynth_sql_type(logical_type) %}
  {{ return(adapter.dispatch('dpsynth_sql_type', 'dbt_dpsynth')(logical_type)) }}
{% endmacro %}

{% macro default__dpsynth_sql_type(logical_type) %}
  {%- set types = {'string': 'varchar', 'double': 'double', 'bigint': 'bigint', 'boolean': 'boolean',
                   'timestamp': 'timestamp'} -%}
  {%- if logical_type not in types -%}
    {{ exceptions.raise_compiler_error("dbt_dpsynth: unknown logical column type '" ~ logical_type ~ "' in dpsynth_warehouse_tables. Fix: use one of " ~ (types.keys() | list) ~ ".") }}
  {%- endif -%}
  {{ return(types[logical_type]) }}
{% endmacro %}

{#- Snowflake: `timestamp` follows the account's TIMESTAMP_TYPE_MAPPING; the ledger stores UTC wall clock, so NTZ. -#}
{% macro snowflake__dpsynth_sql_type(logical_type) %}
  {{ return({'timestamp': 'timestamp_ntz'}.get(logical_type) or dbt_dpsynth.default__dpsynth_sql_type(logical_type)) }}
{% endmacro %}

{#- Spark: `varchar` needs a length there; `string` is its text type. -#}
{% macro spark__dpsynth_sql_type(logical_type) %}
  {{ return({'string': 'string'}.get(logical_type) or dbt_dpsynth.default__dpsynth_sql_type(logical_type)) }}
{% endmacro %}
