{#-
  Records the caps of var('dpsynth_budgets') ({budget_key: epsilon or policy}) in the caps history
  `dpsynth_budget_caps`, one row per key whose cap or policy is new or differs from the one in force (the key's newest
  row), with the previous cap, where it came from (`--vars` or the project's vars) and who ran the invocation. A plain
  number is the lifetime cap (policy_json null); a policy mapping (`{lifetime: 10, per_quarter: 2, window: 90d,
  window_cap: 2.5, release_types: {public: {max_epsilon: 0.5}}}`, docs/governance.md) is stored as JSON in policy_json
  with its lifetime as cap_epsilon. Keys the var does not name keep their cap and policy: they stay in force until a
  later invocation names the key with another value. Python models read them from this table (a dbt Python model
  cannot read vars) and check the full policy (dpsynth_core.accounting.policy) inside the reservation transaction;
  this macro checks its shape early.
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
  {%- set policy_keys = ['lifetime', 'per_day', 'per_week', 'per_month', 'per_quarter', 'per_year', 'window', 'window_cap', 'release_types'] -%}
  {%- set lifetimes = {} -%}
  {%- set policies = {} -%}
  {%- for key, value in caps.items() -%}
    {%- set cap = value['lifetime'] if value is mapping else value -%}
    {%- if cap is not number or cap is boolean or cap <= 0 -%}
      {{ exceptions.raise_compiler_error("dbt_dpsynth: budget cap for key '" ~ key ~ "' in var 'dpsynth_budgets' is " ~ value ~ "; it must be a positive number (epsilon), or a policy mapping with a positive `lifetime`. A key that has had a cap keeps one: lower it instead. Fix: write `" ~ key ~ ": 3.0` or `" ~ key ~ ": {lifetime: 10, per_quarter: 2}`.") }}
    {%- endif -%}
    {%- if value is mapping -%}
      {%- for setting, cap_value in value.items() -%}
        {%- if setting not in policy_keys -%}
          {{ exceptions.raise_compiler_error("dbt_dpsynth: budget policy of key '" ~ key ~ "' in var 'dpsynth_budgets' has unknown setting '" ~ setting ~ "'. Fix: use only " ~ (policy_keys | join(', ')) ~ " (docs/governance.md).") }}
        {%- elif setting not in ['window', 'release_types'] and (cap_value is not number or cap_value is boolean or cap_value <= 0) -%}
          {{ exceptions.raise_compiler_error("dbt_dpsynth: budget policy of key '" ~ key ~ "' in var 'dpsynth_budgets': " ~ setting ~ " is " ~ cap_value ~ "; it must be a positive number (epsilon). Fix: write e.g. `" ~ setting ~ ": 2`.") }}
        {%- elif setting == 'release_types' and (cap_value is not mapping or (cap_value.values() | reject('mapping') | list | length) > 0) -%}
          {{ exceptions.raise_compiler_error("dbt_dpsynth: budget policy of key '" ~ key ~ "' in var 'dpsynth_budgets': release_types must map each type to {max_epsilon: E}. Fix: write e.g. `release_types: {public: {max_epsilon: 0.5}}`.") }}
        {%- endif -%}
      {%- endfor -%}
      {%- do policies.update({key: value}) -%}
    {%- endif -%}
    {%- do lifetimes.update({key: cap}) -%}
  {%- endfor -%}
  {%- set cli_vars = invocation_args_dict.get('vars') or {} -%}
  {%- if cli_vars is string -%}{%- set cli_vars = fromyaml(cli_vars) or {} -%}{%- endif -%}
  {%- set cli_caps = cli_vars.get('dpsynth_budgets') if cli_vars is mapping else none -%}
  {%- set cli_caps = cli_caps if cli_caps is mapping else {} -%}
  {%- set caps_table = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_budget_caps') -%}
  {%- set in_force = {} -%}
  {%- set policy_in_force = {} -%}
  {%- if caps | length > 0 -%}
    {%- set current = run_query("select c.budget_key, c.cap_epsilon, c.policy_json from " ~ caps_table ~ " c join (select budget_key, max(recorded_at) as recorded_at from " ~ caps_table ~ " where budget_key is not null and cap_epsilon is not null group by budget_key) n on c.budget_key = n.budget_key and c.recorded_at = n.recorded_at") -%}
    {%- for row in current.rows -%}
      {%- do in_force.update({row[0]: row[1] | float}) -%}
      {%- do policy_in_force.update({row[0]: fromjson(row[2]) if row[2] else none}) -%}
    {%- endfor -%}
  {%- endif -%}
  {%- set now = modules.datetime.datetime.now(modules.pytz.utc).replace(tzinfo=none).isoformat(sep=' ') -%}
  {%- set who = dbt_dpsynth.dpsynth_recorded_by() | replace("'", "''") -%}
  {%- set rows = [] -%}
  {%- for key, cap in lifetimes.items() -%}
    {%- set policy = policies.get(key) -%}
    {%- set stored = policy_in_force.get(key) -%}
    {%- set changed = in_force.get(key) is none or (in_force.get(key) - cap) | abs > 1e-12
                      or (policy is none) != (stored is none)
                      or (policy is not none and fromjson(tojson(policy, sort_keys=true)) != stored) -%}
    {%- if changed -%}
      {%- set source = "--vars dpsynth_budgets" if key in cli_caps else "var dpsynth_budgets" -%}
      {%- set previous = in_force.get(key) -%}
      {%- set policy_sql = "null" if policy is none else "'" ~ (tojson(policy, sort_keys=true) | replace("'", "''")) ~ "'" -%}
      {%- if stored is not none and policy is none -%}
        {% do log("dbt_dpsynth: budget key '" ~ key ~ "' had a policy " ~ tojson(stored) ~ "; var 'dpsynth_budgets' now gives it a plain cap " ~ cap ~ ", which replaces the policy (windows and release types no longer apply).", info=true) %}
      {%- endif -%}
      {%- do rows.append("('" ~ invocation_id ~ "', '" ~ (key | replace("'", "''")) ~ "', " ~ cap ~ ", cast('" ~ now ~ "' as timestamp), "
                         ~ ("null" if previous is none else previous) ~ ", '" ~ source ~ "', '" ~ who ~ "', " ~ policy_sql ~ ")") -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if rows | length > 0 %}
  {% call statement('dpsynth_record_budget_caps', fetch_result=False, auto_begin=False) %}
    insert into {{ caps_table }}
      ({% for c in ['invocation_id', 'budget_key', 'cap_epsilon', 'recorded_at', 'previous_cap_epsilon', 'source', 'recorded_by', 'policy_json'] %}{{ dbt_dpsynth.dpsynth_column_name(c) }}{{ ", " if not loop.last }}{% endfor %})
    values {{ rows | join(', ') }}
  {% endcall %}
  {%- endif %}
{% endmacro %}
