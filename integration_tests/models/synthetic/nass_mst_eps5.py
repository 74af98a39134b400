import dbt_dpsynth


def model(dbt, session):
    dbt.config(materialized="table", dpsynth={"epsilon": 5.0, "generator": "mst", "budget_key": "nassCDS", "seed": 5})
    return dbt_dpsynth.synthesize(dbt, session, dbt.ref("nassCDS"))
