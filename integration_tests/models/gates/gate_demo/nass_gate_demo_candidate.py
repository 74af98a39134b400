import dbt_dpsynth


def model(dbt, session):
    # Demonstrates a FAILING gate without failing CI: a small MST release at epsilon 0.5 whose utility gate (schema.yml)
    # uses a threshold no DP table meets, with severity warn. Run it with `dbt build --selector gate_demo`.
    dbt.config(materialized="table", dpsynth={"epsilon": 0.5, "generator": "mst", "budget_key": "nassCDS_gate_demo",
                                              "holdout": 0.2, "target": "dead", "rows": 3000,
                                              "gates": {"options": {"n_attacks": 100}}})
    return dbt_dpsynth.synthesize(dbt, session, dbt.ref("nassCDS"))
