import dbt_dpsynth


def model(dbt, session):
    # Refused by the quarterly window of its key on purpose (epsilon 1.5 > per_quarter 1.2 of nassCDS_governance):
    # the build shows the policy's one-line refusal, and nothing is charged.
    dbt.config(materialized="table", dpsynth={"epsilon": 1.5, "generator": "mst", "budget_key": "nassCDS_governance",
                                              "rows": 3000, "release_type": "internal_test"})
    return dbt_dpsynth.synthesize(dbt, session, dbt.ref("nassCDS"))
