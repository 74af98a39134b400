{#-
  Records, for this invocation, the caps of var('dpsynth_budgets') ({budget_key: epsilon}) plus a marker row
  (budget_key null) so Python models can find the ledger. Python models read caps from here: a dbt Python model
  cannot read vars itself.
-#}
{% macro dpsynth_record_budget_caps() %}
  {{ return(adapter.dispatch('dpsynth_record_budget_caps', 'dbt_dpsynth')()) }}
{% endmacro %}

{% macro default__dpsynth_record_budget_caps() %}
  {%- set caps = var('dpsynth_budgets', {}) -%}
  {%- if caps is not mapping -%}
    {{ exceptions.raise_compiler_error("dbt_dpsynth: var 'dpsynth_budgets' must be a mapping {budget_key: epsilon}, got " ~ caps ~ ". Fix: write `vars: {dpsynth_budgets: {patients: 3.0}}` in dbt_project.yml.") }}
  {%- endif -%}
  {%- set rows = ["('" ~ invocation_id ~ "', null, null, current_timestamp)"] -%}
  {%- for key, cap in caps.items() -%}
    {%- if cap is not number or cap <= 0 -%}
      {{ exceptions.raise_compiler_error("dbt_dpsynth: budget cap for key '" ~ key ~ "' in var 'dpsynth_budgets' is " ~ cap ~ "; it must be a positive number (epsilon). Fix: write `" ~ key ~ ": 3.0`.") }}
    {%- endif -%}
    {%- do rows.append("('" ~ invocation_id ~ "', '" ~ (key | replace("'", "''")) ~ "', " ~ cap ~ ", current_timestamp)") -%}
  {%- endfor -%}
  {% call statement('dpsynth_record_budget_caps', fetch_result=False, auto_begin=False) %}
    insert into {{ dbt_dpsynth.dpsynth_ledger_relation('dpsynth_budget_caps') }} values {{ rows | join(', ') }}
  {% endcall %}
{% endmacro %}
