{#-
  One row per ledger row (every status), as the ledger stands when the view is queried, with the path of the release's
  newest report (dpsynth_reports: written by the model that made or reused the release; null when none was written).
  The same rows as `dpsynth ledger FILE` (dbt_dpsynth/budget_status.py `release_catalogue`).
-#}
{{ config(materialized='view') }}
{%- set ledger = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') %}
{%- set reports = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_reports') %}
with report as (
  select release_id, path,
         row_number() over (partition by release_id order by written_at desc) as recency
  from {{ reports }}
)
select l.release_id, l.model, l.target_relation, l.source_relation, l.budget_key, l.generator, l.epsilon, l.delta,
       l.accountant, l.status, l.{{ adapter.quote('rows') }}, l.started_at, l.finished_at, l.invocation_id,
       r.path as report_path,
       {{ dbt_dpsynth.dpsynth_utc_now_sql() }} as as_of
from {{ ledger }} l
left join report r on r.release_id = l.release_id and r.recency = 1
