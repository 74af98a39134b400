{#-
  The body of a single-quoted SQL string literal holding `text` (the caller writes the quotes):
  `comment on table t is '{{ dbt_dpsynth.dpsynth_string_literal(text) }}'`.
  default__ doubles single quotes (standard SQL, DuckDB, Postgres). Snowflake also reads a backslash as an escape
  inside a string, so it is doubled first (a Windows report path would lose its separators otherwise). Spark SQL
  escapes with backslashes only: `''` there ends one literal and starts another, so quotes become `\'`.
-#}
{% macro dpsynth_string_literal(text) %}
  {{ return(adapter.dispatch('dpsynth_string_literal', 'dbt_dpsynth')(text)) }}
{% endmacro %}

{% macro default__dpsynth_string_literal(text) %}{{ return(text | string | replace("'", "''")) }}{% endmacro %}

{% macro snowflake__dpsynth_string_literal(text) %}
  {{ return(text | string | replace("\\", "\\\\") | replace("'", "''")) }}
{% endmacro %}

{% macro spark__dpsynth_string_literal(text) %}
  {{ return(text | string | replace("\\", "\\\\") | replace("'", "\\'")) }}
{% endmacro %}
