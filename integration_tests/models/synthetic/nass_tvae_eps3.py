import dbt_dpsynth


def model(dbt, session):
    # DP-TVAE trained with DP-SGD (Opacus). Few epochs so CI stays fast; max_rows is a public bound on the source's
    # size, which fixes the Poisson sampling rate and lets the configuration be validated before any data is read.
    dbt.config(materialized="table", dpsynth={"epsilon": 3.0, "generator": "dp-tvae", "budget_key": "nassCDS",
                                              "max_rows": 30000, "seed": 3,
                                              "options": {"epochs": 2, "batch_size": 512}})
    return dbt_dpsynth.synthesize(dbt, session, dbt.ref("nassCDS"))
