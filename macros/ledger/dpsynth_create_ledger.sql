{#-
  Creates the package's tables if missing: ledger, budget caps and locations in the ledger's schema; metrics and
  evaluation details in the private schema (`dpsynth_private_relation`), whose name is recorded in `dpsynth_locations`
  for this invocation. Run once per invocation by the package's on-run-start hook (concurrent CREATE TABLE IF NOT
  EXISTS from several models conflicts on DuckDB's catalog). The columns come from `dpsynth_warehouse_tables()`
  (dbt_dpsynth/macros/dpsynth_warehouse_tables.sql), the same list the Python fallback (dbt_dpsynth/tables.py) creates
  them from.
-#}
{% macro dpsynth_create_ledger() %}
  {{ return(adapter.dispatch('dpsynth_create_ledger', 'dbt_dpsynth')()) }}
{% endmacro %}

{% macro default__dpsynth_create_ledger() %}
  {%- set tables = dbt_dpsynth.dpsynth_warehouse_tables() -%}
  {%- set relations = {
        'ledger': dbt_dpsynth.dpsynth_ledger_relation(tables['ledger']['table']),
        'caps': dbt_dpsynth.dpsynth_ledger_relation(tables['caps']['table']),
        'locations': dbt_dpsynth.dpsynth_ledger_relation(tables['locations']['table']),
        'metrics': dbt_dpsynth.dpsynth_private_relation(var('dpsynth_metrics_table', tables['metrics']['table'])),
        'details': dbt_dpsynth.dpsynth_private_relation(tables['details']['table'])} -%}
  {% do adapter.create_schema(relations['ledger']) %}
  {% do adapter.create_schema(relations['metrics']) %}
  {%- for role in ['ledger', 'metrics', 'caps', 'details', 'locations'] %}
    {% call statement('dpsynth_create_' ~ role, fetch_result=False, auto_begin=False) %}
      create table if not exists {{ relations[role] }} (
        {%- for column in tables[role]['columns'] %}
        {{ adapter.quote(column[0]) }} {{ dbt_dpsynth.dpsynth_sql_type(column[1]) }}{{ "," if not loop.last }}
        {%- endfor %}
      )
    {% endcall %}
  {%- endfor %}
  {% call statement('dpsynth_record_locations', fetch_result=False, auto_begin=False) %}
    insert into {{ relations['locations'] }} values ('{{ invocation_id }}', 'private',
      {{ "'" ~ (target.database | replace("'", "''")) ~ "'" if target.database else "null" }},
      '{{ dbt_dpsynth.dpsynth_private_schema() | replace("'", "''") }}', current_timestamp)
  {% endcall %}
{% endmacro %}
