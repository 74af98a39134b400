-- The approved release of nass_governance_candidate: built only once its release id has an approval row
-- (dpsynth approve / run-operation dpsynth_approve); stamped with the usage terms and the approver.
{{ dbt_dpsynth.dpsynth_release(ref('nass_governance_candidate'), require_gates=false) }}
