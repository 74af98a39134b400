import dbt_dpsynth


def model(dbt, session):
    # A release candidate: AIM (the default generator) at epsilon 1, keeping a 20% holdout the generator never sees
    # so the release can be evaluated. Its metrics land in dpsynth_metrics; the gates in schema.yml read them, and
    # the released model downstream (models/released/nass_aim_eps1.sql) is skipped when a gate fails. Its usage
    # terms and release type (governance: no privacy cost) reach the table comments, the record and the report.
    dbt.config(materialized="table", dpsynth={"epsilon": 1.0, "generator": "aim", "budget_key": "nassCDS",
                                              "target": "dead", "holdout": 0.2, "seed": 7,
                                              "release_type": "internal_test",
                                              "terms": {"purpose": "dashboard development and CI",
                                                        "recipients": ["analytics-team"],
                                                        "contract": "internal data-use policy DUP-7"}})
    return dbt_dpsynth.synthesize(dbt, session, dbt.ref("nassCDS"))
