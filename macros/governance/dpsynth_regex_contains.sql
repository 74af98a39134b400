{#-
  SQL predicate: `expression` contains a match of the regular expression `pattern` (POSIX classes only, no
  backslashes, no single quotes: the patterns of dpsynth_scan_relation run unchanged on every engine).
  default__ wraps the pattern in `.*( ).*` so full-match engines (Snowflake's REGEXP_LIKE) and partial-match ones
  (Postgres 15+) agree.
-#}
{% macro dpsynth_regex_contains(expression, pattern) %}
  {{ return(adapter.dispatch('dpsynth_regex_contains', 'dbt_dpsynth')(expression, pattern)) }}
{% endmacro %}

{% macro default__dpsynth_regex_contains(expression, pattern) -%}
  regexp_like({{ expression }}, '.*({{ pattern }}).*')
{%- endmacro %}

{% macro duckdb__dpsynth_regex_contains(expression, pattern) -%}
  regexp_matches({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__dpsynth_regex_contains(expression, pattern) -%}
  ({{ expression }} rlike '{{ pattern }}')
{%- endmacro %}
