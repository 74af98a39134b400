{#-
  Generic test: every budget key's cumulative spend in the ledger is within its cap in force.
  The cap in force is the key's newest row in the caps history `dpsynth_budget_caps` (recorded from
  var('dpsynth_budgets') by the on-run-start hook; a key the var omits keeps its cap), else the newest cap on one of its
  ledger rows. Cumulative spend is the composed epsilon (zCDP: rho adds, then the tight rho -> epsilon conversion)
  that the ledger stored when each release was reserved; every release attempt is charged (reserved, released,
  failed); 'reused' rows are not.
  Fails with one row per key over its cap, and one row for `budget_key` when it has never had a cap.
    data_tests: [{dbt_dpsynth.dpsynth_budget_within: {arguments: {budget_key: patients}}}]
-#}
{% test dpsynth_budget_within(model, budget_key=none) %}
  {{ config(severity='error') }}
  {{ return(adapter.dispatch('test_dpsynth_budget_within', 'dbt_dpsynth')(model, budget_key)) }}
{% endtest %}

{% macro default__test_dpsynth_budget_within(model, budget_key) %}
  {%- set ledger = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') -%}
  {%- set caps_table = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_budget_caps') -%}
  {%- set key_filter = "" if budget_key is none else " and budget_key = '" ~ (budget_key | replace("'", "''")) ~ "'" -%}
  with history as (
    select budget_key, cap_epsilon, recorded_at, 1 as priority
    from {{ caps_table }} where budget_key is not null and cap_epsilon is not null{{ key_filter }}
    union all
    select budget_key, cap_epsilon, started_at, 0 as priority
    from {{ ledger }} where budget_key is not null and cap_epsilon is not null{{ key_filter }}
  ),
  ranked as (
    select budget_key, cap_epsilon,
           row_number() over (partition by budget_key order by priority desc, recorded_at desc) as recency
    from history
  ),
  caps as (select budget_key, cap_epsilon from ranked where recency = 1),
  spent as (
    select budget_key, max(cumulative_epsilon) as cumulative_epsilon, sum(epsilon) as epsilon_naive_sum,
           count(*) as releases
    from {{ ledger }}
    where status in ('reserved', 'released', 'failed') and budget_key is not null{{ key_filter }}
    group by budget_key
  )
  select spent.budget_key, spent.cumulative_epsilon, spent.epsilon_naive_sum, spent.releases, caps.cap_epsilon,
         'cumulative epsilon over cap' as problem
  from spent join caps on spent.budget_key = caps.budget_key
  where spent.cumulative_epsilon > caps.cap_epsilon * (1 + 1e-9)
  {%- if budget_key is not none %}
  union all
  select '{{ budget_key | replace("'", "''") }}', null, null, null, null, 'budget_key has never had a cap'
  where not exists (select 1 from caps)
  {%- endif %}
{% endmacro %}
