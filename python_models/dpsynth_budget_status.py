import dbt_dpsynth


def model(dbt, session):
    # One row per budget key: cap, composed epsilon spent, remaining, releases, last release (from the ledger only).
    dbt.config(materialized="table")
    return dbt_dpsynth.budget_status_table(dbt, session)
