{#-
  One row per budget key, as the ledger stands when the view is QUERIED (a view, not a table: a `dbt build` creates
  it before the synthetic models run, and it still shows their releases afterwards). Same numbers as `dpsynth budget
  FILE` (dbt_dpsynth/budget_status.py; integration_tests/check_budget_status.py compares them after `make demo`).
  spent_epsilon is the ledger's own composition: the `cumulative_epsilon` the ledger computed (rho-composition of every
  charged row of the key, dpsynth_core.accounting.composition) and committed with the key's newest charge. Charged
  statuses: reserved, released, failed ('reused' rows are counted apart and never charged). A key's budget policy
  and its per-window spend are shown by `dpsynth budget` only (zCDP composition within a window is not this view's).
-#}
{{ config(materialized='view') }}
{%- set ledger = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') %}
{%- set caps = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_budget_caps') %}
with charged as (
  select * from {{ ledger }}
  where budget_key is not null and status in ('reserved', 'released', 'failed')
),
spend as (
  select budget_key,
         count(*) as releases,
         count(case when status = 'released' then 1 end) as released,
         count(case when status = 'failed' then 1 end) as failed,
         count(case when status = 'reserved' then 1 end) as reserved,
         sum(epsilon) as spent_epsilon_naive,
         sum(delta) as spent_delta,
         sum(rho) as spent_rho
  from charged
  group by budget_key
),
newest_charge as (
  select budget_key, release_id, model, status, coalesce(finished_at, started_at) as last_at, cumulative_epsilon,
         row_number() over (partition by budget_key order by started_at desc) as recency
  from charged
),
reuse as (
  select budget_key, count(*) as reused, max(finished_at) as last_reused_at
  from {{ ledger }}
  where budget_key is not null and status = 'reused'
  group by budget_key
),
history as (
  select budget_key, cap_epsilon, recorded_at, recorded_by, {{ adapter.quote('source') }} as cap_source,
         previous_cap_epsilon,
         row_number() over (partition by budget_key order by recorded_at desc) as recency,
         count(*) over (partition by budget_key) as changes
  from {{ caps }}
  where budget_key is not null and cap_epsilon is not null
),
ledger_cap as (
  {#- a key capped only on its ledger rows (no history row) keeps that cap: never treated as uncapped -#}
  select budget_key, cap_epsilon,
         row_number() over (partition by budget_key order by started_at desc) as recency
  from {{ ledger }}
  where budget_key is not null and cap_epsilon is not null
),
budget_keys as (
  select budget_key from charged
  union select budget_key from reuse
  union select budget_key from history
  union select budget_key from ledger_cap
),
status as (
  select k.budget_key,
         coalesce(h.cap_epsilon, c.cap_epsilon) as cap_epsilon,
         coalesce(n.cumulative_epsilon, 0.0) as spent_epsilon,
         coalesce(s.spent_epsilon_naive, 0.0) as spent_epsilon_naive,
         coalesce(s.spent_delta, 0.0) as spent_delta,
         coalesce(s.spent_rho, 0.0) as spent_rho,
         coalesce(s.releases, 0) as releases,
         coalesce(s.released, 0) as released,
         coalesce(s.failed, 0) as failed,
         coalesce(s.reserved, 0) as reserved,
         n.release_id as last_release_id,
         n.model as last_release_model,
         n.status as last_release_status,
         n.last_at as last_release_at,
         coalesce(r.reused, 0) as reused,
         r.last_reused_at,
         coalesce(h.changes, 0) as cap_changes,
         h.recorded_at as cap_set_at,
         h.recorded_by as cap_set_by,
         h.cap_source,
         h.previous_cap_epsilon as cap_previous_epsilon
  from budget_keys k
  left join spend s on s.budget_key = k.budget_key
  left join newest_charge n on n.budget_key = k.budget_key and n.recency = 1
  left join reuse r on r.budget_key = k.budget_key
  left join history h on h.budget_key = k.budget_key and h.recency = 1
  left join ledger_cap c on c.budget_key = k.budget_key and c.recency = 1
)
select budget_key, cap_epsilon, spent_epsilon,
       case when cap_epsilon is null then null
            else greatest(cap_epsilon - spent_epsilon, 0.0) end as remaining_epsilon,
       spent_epsilon_naive, spent_delta, spent_rho, releases, released, failed, reserved,
       last_release_id, last_release_model, last_release_status, last_release_at, reused, last_reused_at,
       cap_changes, cap_set_at, cap_set_by, cap_source, cap_previous_epsilon,
       {{ dbt_dpsynth.dpsynth_utc_now_sql() }} as as_of
from status
