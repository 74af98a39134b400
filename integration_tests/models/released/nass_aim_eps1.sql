-- The released table consumers read: always a table, built only from a candidate release that passed its gates
-- (otherwise this model fails and the previous table stays), stamped with the candidate release it carries.
{{ dbt_dpsynth.dpsynth_release(ref('nass_aim_eps1_candidate')) }}
