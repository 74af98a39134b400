-- The metadata macros outside a hook: this invocation's release of nass_mst_eps1 (dpsynth_release_for, read from the
-- ledger at dpsynth_ledger_relation) and the stamp text dpsynth_release_comment makes of it, which the post-hook put
-- on the table (tests/assert_release_stamp_matches_table_comment.sql compares them).
-- depends_on: {{ ref('nass_mst_eps1') }}
{%- set release = dbt_dpsynth.dpsynth_release_for(ref('nass_mst_eps1')) %}
select '{{ ref('nass_mst_eps1') | string | replace("'", "''") }}' as target_relation,
{%- if release is none %}
       cast(null as varchar) as release_id, cast(null as varchar) as stamp
{%- else %}
       '{{ release['release_id'] }}' as release_id, '{{ dbt_dpsynth.dpsynth_release_comment(release) }}' as stamp
{%- endif %}
