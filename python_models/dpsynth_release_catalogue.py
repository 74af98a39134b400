import dbt_dpsynth


def model(dbt, session):
    # One row per release attempt in the ledger: id, model, target, generator, epsilon, delta, status, rows, times.
    dbt.config(materialized="table")
    return dbt_dpsynth.release_catalogue_table(dbt, session)
