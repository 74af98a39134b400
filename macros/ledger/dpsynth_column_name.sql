{#-
  A column name of the package's own tables (ledger, caps, invocations, approvals, ...) in DDL and DML.
  default__ quotes it (`adapter.quote`). On Snowflake a quoted lower-case name is case-sensitive ("release_id"),
  which neither plain SQL (`select release_id ...` reads RELEASE_ID) nor the Snowpark store (DataFrame columns, see
  dbt_dpsynth/stores/snowpark.py) would find: there the names stay unquoted and are stored upper-case. The names are
  plain snake_case words, so leaving them unquoted is safe.
-#}
{% macro dpsynth_column_name(name) %}
  {{ return(adapter.dispatch('dpsynth_column_name', 'dbt_dpsynth')(name)) }}
{% endmacro %}

{% macro default__dpsynth_column_name(name) %}{{ return(adapter.quote(name)) }}{% endmacro %}

{% macro snowflake__dpsynth_column_name(name) %}{{ return(name) }}{% endmacro %}
