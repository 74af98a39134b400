-- This project's budget key as the package model dpsynth_budget_status reports it (cap, composed spend, remaining,
-- releases, last release; read from the ledger when that model ran, see its `as_of`).
select * from {{ ref('dbt_dpsynth', 'dpsynth_budget_status') }} where budget_key = 'nassCDS'
