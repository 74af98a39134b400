{#-
  Creates the package's tables if missing, and adds columns a newer package version lists to tables an older one
  created: ledger, caps history, invocations, fitted models, locations and reports in the ledger's schema; metrics
  and evaluation details in the private schema (`dpsynth_private_relation`), whose name is recorded in
  `dpsynth_locations` for this invocation. Run once per invocation by the package's on-run-start hook (concurrent
  CREATE TABLE IF NOT EXISTS from several models conflicts on DuckDB's catalog). The columns come from
  `dpsynth_warehouse_tables()` (dbt_dpsynth/macros/dpsynth_warehouse_tables.sql), the same list the Python fallback
  (dbt_dpsynth/tables.py) creates them from.
-#}
{% macro dpsynth_create_ledger() %}
  {{ return(adapter.dispatch('dpsynth_create_ledger', 'dbt_dpsynth')()) }}
{% endmacro %}

{% macro default__dpsynth_create_ledger() %}
  {%- set tables = dbt_dpsynth.dpsynth_warehouse_tables() -%}
  {%- set private_roles = ['metrics', 'details'] -%}
  {% do adapter.create_schema(dbt_dpsynth.dpsynth_ledger_relation(tables['ledger']['table'])) %}
  {% do adapter.create_schema(dbt_dpsynth.dpsynth_private_relation(tables['metrics']['table'])) %}
  {%- set locations = dbt_dpsynth.dpsynth_ledger_relation(tables['locations']['table']) -%}
  {%- for role, spec in tables.items() %}
    {%- set name = var('dpsynth_metrics_table', spec['table']) if role == 'metrics' else spec['table'] -%}
    {%- set relation = dbt_dpsynth.dpsynth_private_relation(name) if role in private_roles
                       else dbt_dpsynth.dpsynth_ledger_relation(name) -%}
    {% call statement('dpsynth_create_' ~ role, fetch_result=False, auto_begin=False) %}
      create table if not exists {{ relation }} (
        {%- for column in spec['columns'] %}
        {{ dbt_dpsynth.dpsynth_column_name(column[0]) }} {{ dbt_dpsynth.dpsynth_sql_type(column[1]) }}{{ "," if not loop.last }}
        {%- endfor %}
      )
    {% endcall %}
    {%- set existing = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- for column in spec['columns'] if column[0] | lower not in existing %}
      {% call statement('dpsynth_add_' ~ role ~ '_' ~ column[0], fetch_result=False, auto_begin=False) %}
        alter table {{ relation }} add column {{ dbt_dpsynth.dpsynth_column_name(column[0]) }} {{ dbt_dpsynth.dpsynth_sql_type(column[1]) }}
      {% endcall %}
    {%- endfor %}
  {%- endfor %}
  {% call statement('dpsynth_record_locations', fetch_result=False, auto_begin=False) %}
    insert into {{ locations }} values ('{{ invocation_id }}', 'private',
      {{ "'" ~ (target.database | replace("'", "''")) ~ "'" if target.database else "null" }},
      '{{ dbt_dpsynth.dpsynth_string_literal(dbt_dpsynth.dpsynth_private_schema()) }}', {{ dbt_dpsynth.dpsynth_utc_now_sql() }})
  {% endcall %}
{% endmacro %}
