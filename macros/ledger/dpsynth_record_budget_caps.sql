{#-
  Records the caps of var('dpsynth_budgets') ({budget_key: epsilon}) in the caps history `dpsynth_budget_caps`, one
  row per key whose cap is new or differs from the cap in force (the key's newest row), with the previous cap, where
  it came from (`--vars` or the project's vars) and who ran the invocation. Keys the var does not name keep their cap:
  a cap once recorded stays in force until a later invocation names the key with another value. Python models read
  the caps in force from this table (a dbt Python model cannot read vars).
-#}
{% macro dpsynth_record_budget_caps() %}
  {{ return(adapter.dispatch('dpsynth_record_budget_caps', 'dbt_dpsynth')()) }}
{% endmacro %}

{% macro default__dpsynth_record_budget_caps() %}
  {%- set caps = var('dpsynth_budgets', {}) -%}
  {%- if caps is none -%}{%- set caps = {} -%}{%- endif -%}
  {%- if caps is not mapping -%}
    {{ exceptions.raise_compiler_error("dbt_dpsynth: var 'dpsynth_budgets' must be a mapping {budget_key: epsilon}, got " ~ caps ~ ". Fix: write `vars: {dpsynth_budgets: {patients: 3.0}}` in dbt_project.yml.") }}
  {%- endif -%}
  {%- for key, cap in caps.items() -%}
    {%- if cap is not number or cap is boolean or cap <= 0 -%}
      {{ exceptions.raise_compiler_error("dbt_dpsynth: budget cap for key '" ~ key ~ "' in var 'dpsynth_budgets' is " ~ cap ~ "; it must be a positive number (epsilon). A key that has had a cap keeps one: lower it instead. Fix: write `" ~ key ~ ": 3.0`.") }}
    {%- endif -%}
  {%- endfor -%}
  {%- set cli_vars = invocation_args_dict.get('vars') or {} -%}
  {%- if cli_vars is string -%}{%- set cli_vars = fromyaml(cli_vars) or {} -%}{%- endif -%}
  {%- set cli_caps = cli_vars.get('dpsynth_budgets') if cli_vars is mapping else none -%}
  {%- set cli_caps = cli_caps if cli_caps is mapping else {} -%}
  {%- set caps_table = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_budget_caps') -%}
  {%- set in_force = {} -%}
  {%- if caps | length > 0 -%}
    {%- set current = run_query("select c.budget_key, c.cap_epsilon from " ~ caps_table ~ " c join (select budget_key, max(recorded_at) as recorded_at from " ~ caps_table ~ " where budget_key is not null and cap_epsilon is not null group by budget_key) n on c.budget_key = n.budget_key and c.recorded_at = n.recorded_at") -%}
    {%- for row in current.rows -%}{%- do in_force.update({row[0]: row[1] | float}) -%}{%- endfor -%}
  {%- endif -%}
  {%- set now = modules.datetime.datetime.now(modules.pytz.utc).replace(tzinfo=none).isoformat(sep=' ') -%}
  {%- set who = dbt_dpsynth.dpsynth_recorded_by() | replace("'", "''") -%}
  {%- set rows = [] -%}
  {%- for key, cap in caps.items() if in_force.get(key) is none or (in_force.get(key) - cap) | abs > 1e-12 -%}
    {%- set source = "--vars dpsynth_budgets" if key in cli_caps else "var dpsynth_budgets" -%}
    {%- set previous = in_force.get(key) -%}
    {%- do rows.append("('" ~ invocation_id ~ "', '" ~ (key | replace("'", "''")) ~ "', " ~ cap ~ ", cast('" ~ now ~ "' as timestamp), "
                       ~ ("null" if previous is none else previous) ~ ", '" ~ source ~ "', '" ~ who ~ "', null)") -%}
  {%- endfor -%}
  {%- if rows | length > 0 %}
  {% call statement('dpsynth_record_budget_caps', fetch_result=False, auto_begin=False) %}
    insert into {{ caps_table }}
      ({% for c in ['invocation_id', 'budget_key', 'cap_epsilon', 'recorded_at', 'previous_cap_epsilon', 'source', 'recorded_by', 'policy_json'] %}{{ adapter.quote(c) }}{{ ", " if not loop.last }}{% endfor %})
    values {{ rows | join(', ') }}
  {% endcall %}
  {%- endif %}
{% endmacro %}
