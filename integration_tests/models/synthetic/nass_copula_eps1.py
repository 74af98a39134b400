import dbt_dpsynth


def model(dbt, session):
    # DP Gaussian copula: DP 1-way marginals + DP correlation of normal scores (the fast option for wide tables).
    dbt.config(materialized="table", dpsynth={"epsilon": 1.0, "generator": "copula", "budget_key": "nassCDS"})
    return dbt_dpsynth.synthesize(dbt, session, dbt.ref("nassCDS"))
