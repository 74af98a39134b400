{#-
  Generic test: every budget key's cumulative spend in the ledger is within its cap in var('dpsynth_budgets').
  Cumulative spend is the composed epsilon (zCDP: rho adds, then the tight rho -> epsilon conversion) that the
  ledger stored when each release was reserved; all statuses are charged (reserved, released, failed).
  Fails with one row per key over its cap, and one row for `budget_key` when it has no cap at all.
    data_tests: [{dbt_dpsynth.dpsynth_budget_within: {arguments: {budget_key: patients}}}]
-#}
{% test dpsynth_budget_within(model, budget_key=none) %}
  {{ config(severity='error') }}
  {{ return(adapter.dispatch('test_dpsynth_budget_within', 'dbt_dpsynth')(model, budget_key)) }}
{% endtest %}

{% macro default__test_dpsynth_budget_within(model, budget_key) %}
  {%- set caps = var('dpsynth_budgets', {}) -%}
  {%- set ledger = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') -%}
  with caps as (
    select cast(null as varchar) as budget_key, cast(null as double) as cap_epsilon where false
    {%- for key, cap in caps.items() if budget_key is none or key == budget_key %}
    union all select '{{ key | replace("'", "''") }}', cast({{ cap }} as double)
    {%- endfor %}
  ),
  spent as (
    select budget_key, max(cumulative_epsilon) as cumulative_epsilon, sum(epsilon) as epsilon_naive_sum,
           count(*) as releases
    from {{ ledger }}
    where status in ('reserved', 'released', 'failed') and budget_key is not null
    {%- if budget_key is not none %} and budget_key = '{{ budget_key | replace("'", "''") }}'{% endif %}
    group by budget_key
  )
  select spent.budget_key, spent.cumulative_epsilon, spent.epsilon_naive_sum, spent.releases, caps.cap_epsilon,
         'cumulative epsilon over cap' as problem
  from spent join caps on spent.budget_key = caps.budget_key
  where spent.cumulative_epsilon > caps.cap_epsilon * (1 + 1e-9)
  {%- if budget_key is not none and budget_key not in caps %}
  union all
  select '{{ budget_key | replace("'", "''") }}', null, null, null, null,
         'budget_key has no cap in var dpsynth_budgets'
  {%- endif %}
{% endmacro %}
