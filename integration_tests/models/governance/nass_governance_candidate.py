import dbt_dpsynth


def model(dbt, session):
    # A release candidate that must be approved before its released model (nass_governance_released) is built, with
    # usage terms carried into the table comment, the release record and the report. Its key's policy caps each
    # quarter (dbt_project.yml: nassCDS_governance). Run with `dbt build --selector governance_demo`, then
    # `dbt run-operation dpsynth_approve --args '{release_id: <id>, by: <name>}'` and build again.
    dbt.config(materialized="table", dpsynth={
        "epsilon": 0.5, "generator": "mst", "budget_key": "nassCDS_governance", "rows": 3000,
        "options": {"iters": 100}, "release_type": "vendor_share", "require_approval": True,
        "expires_after_days": 365,
        "terms": {"purpose": "vendor QA of the crash-analysis dashboard", "recipients": ["acme-analytics"],
                  "contract": "DEMO-MSA-001", "expires": "2030-12-31"}})
    return dbt_dpsynth.synthesize(dbt, session, dbt.ref("nassCDS"))
