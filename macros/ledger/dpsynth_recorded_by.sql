{#-
  Who runs this invocation, for the caps history and the invocations table: env DPSYNTH_RECORDED_BY, else the
  warehouse user of the target, else the OS user. Bookkeeping, not authentication.
-#}
{% macro dpsynth_recorded_by() %}
  {{ return(adapter.dispatch('dpsynth_recorded_by', 'dbt_dpsynth')()) }}
{% endmacro %}

{% macro default__dpsynth_recorded_by() %}
  {{ return(env_var('DPSYNTH_RECORDED_BY', '') or target.get('user') or env_var('USER', '')
            or env_var('USERNAME', '') or 'unknown') }}
{% endmacro %}
