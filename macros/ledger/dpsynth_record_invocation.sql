{#-
  Records this invocation in `dpsynth_invocations`: its id (Python models find the ledger by it), when, who, and the
  var `dpsynth_refresh` (models that must make a new release instead of reusing theirs: a list of model names, or
  '*' for all). A dbt Python model cannot read vars itself; it reads them from this row.
-#}
{% macro dpsynth_record_invocation() %}
  {{ return(adapter.dispatch('dpsynth_record_invocation', 'dbt_dpsynth')()) }}
{% endmacro %}

{% macro default__dpsynth_record_invocation() %}
  {%- set refresh = var('dpsynth_refresh', []) -%}
  {%- if refresh is string -%}{%- set refresh = [refresh] -%}{%- endif -%}
  {%- if refresh is none -%}{%- set refresh = [] -%}{%- endif -%}
  {%- if refresh is mapping or refresh is not iterable or (refresh | reject('string') | list | length) > 0 -%}
    {{ exceptions.raise_compiler_error("dbt_dpsynth: var 'dpsynth_refresh' must be a list of model names (or '*'), got " ~ refresh ~ ". Fix: --vars '{dpsynth_refresh: [patients_synthetic]}'.") }}
  {%- endif -%}
  {%- set now = modules.datetime.datetime.now(modules.pytz.utc).replace(tzinfo=none).isoformat(sep=' ') -%}
  {% call statement('dpsynth_record_invocation', fetch_result=False, auto_begin=False) %}
    insert into {{ dbt_dpsynth.dpsynth_ledger_relation('dpsynth_invocations') }}
      ({{ dbt_dpsynth.dpsynth_column_name('invocation_id') }}, {{ dbt_dpsynth.dpsynth_column_name('started_at') }}, {{ dbt_dpsynth.dpsynth_column_name('recorded_by') }},
       {{ dbt_dpsynth.dpsynth_column_name('refresh_json') }})
    values ('{{ invocation_id }}', cast('{{ now }}' as timestamp),
            '{{ dbt_dpsynth.dpsynth_recorded_by() | replace("'", "''") }}',
            '{{ refresh | list | tojson | replace("'", "''") }}')
  {% endcall %}
{% endmacro %}
