import dbt_dpsynth


def model(dbt, session):
    dbt.config(materialized="table", dpsynth={"epsilon": 1.0, "generator": "mst", "budget_key": "nassCDS"})
    return dbt_dpsynth.synthesize(dbt, session, dbt.ref("nassCDS"))
