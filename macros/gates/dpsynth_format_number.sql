{#- A metric value for a console line: 4 significant digits, `n/a` for null. -#}
{% macro dpsynth_format_number(value) %}
  {{ return(adapter.dispatch('dpsynth_format_number', 'dbt_dpsynth')(value)) }}
{% endmacro %}

{% macro default__dpsynth_format_number(value) %}
  {%- if value is none -%}{{ return('n/a') }}{%- endif -%}
  {{ return('%.4g' | format(value | float)) }}
{% endmacro %}
