-- The released table nass_aim_eps1 is a table (whatever +materialized the project sets) stamped with the candidate
-- release it carries: its comment names the candidate's newest released-or-reused release id, the candidate, its
-- release type and its usage terms (the candidate's `terms`).
{%- set released = ref('nass_aim_eps1') %}
{%- set candidate = ref('nass_aim_eps1_candidate') %}
{%- set ledger = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') %}
with carried as (
  select release_id from {{ ledger }}
  where target_relation = '{{ candidate | replace("'", "''") }}' and status in ('released', 'reused')
  order by finished_at desc limit 1
)
select t.table_name, t.comment, c.release_id
from duckdb_tables() t left join carried c on true
where t.schema_name = '{{ released.schema }}' and t.table_name = '{{ released.identifier }}'
  and (c.release_id is null or t.comment not like 'dpsynth: epsilon=%'
       or t.comment not like '%release_id=' || c.release_id || '%'
       or t.comment not like '%released_from={{ candidate | replace("'", "''") }}%'
       or t.comment not like '%release_type=internal_test%'
       or t.comment not like '%terms=[purpose=dashboard development and CI; recipients=analytics-team; contract=%')
union all
select '{{ released.identifier }}', 'not a table', null
where not exists (select 1 from duckdb_tables() where schema_name = '{{ released.schema }}'
                  and table_name = '{{ released.identifier }}')
