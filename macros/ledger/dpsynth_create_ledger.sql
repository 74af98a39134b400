{#-
  Creates the package's tables (ledger, metrics, budget caps) if missing. Run once per invocation by the package's
  on-run-start hook (concurrent CREATE TABLE IF NOT EXISTS from several models conflicts on DuckDB's catalog).
  The columns come from `dpsynth_warehouse_tables()` (dbt_dpsynth/macros/dpsynth_warehouse_tables.sql), the same list
  the Python fallback (dbt_dpsynth/tables.py) creates them from.
-#}
{% macro dpsynth_create_ledger() %}
  {{ return(adapter.dispatch('dpsynth_create_ledger', 'dbt_dpsynth')()) }}
{% endmacro %}

{% macro default__dpsynth_create_ledger() %}
  {%- set tables = dbt_dpsynth.dpsynth_warehouse_tables() -%}
  {%- set names = {'ledger': tables['ledger']['table'], 'caps': tables['caps']['table'],
                   'metrics': var('dpsynth_metrics_table', tables['metrics']['table']),
                   'details': tables['details']['table']} -%}
  {% do adapter.create_schema(dbt_dpsynth.dpsynth_ledger_relation(names['ledger'])) %}
  {%- for role in ['ledger', 'metrics', 'caps', 'details'] %}
    {%- set relation = dbt_dpsynth.dpsynth_ledger_relation(names[role]) -%}
    {% call statement('dpsynth_create_' ~ role, fetch_result=False, auto_begin=False) %}
      create table if not exists {{ relation }} (
        {%- for column in tables[role]['columns'] %}
        {{ adapter.quote(column[0]) }} {{ dbt_dpsynth.dpsynth_sql_type(column[1]) }}{{ "," if not loop.last }}
        {%- endfor %}
      )
    {% endcall %}
  {%- endfor %}
{% endmacro %}
