-- Every synthetic table carries its release stamp `dpsynth: epsilon=... release_id=...` (dpsynth_comment_release
-- post-hook), naming the release it carries (its newest released or reused ledger row). Returns the tables that do not.
{%- set synthetic = [ref('nass_mst_eps1'), ref('nass_mst_eps5')] %}
{%- set ledger = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') %}
with expected as (
  {%- for rel in synthetic %}
  select '{{ rel.schema }}' as schema_name, '{{ rel.identifier }}' as table_name, '{{ rel | replace("'", "''") }}' as target_relation
  {%- if not loop.last %} union all{% endif %}
  {%- endfor %}
),
latest as (
  select target_relation, release_id,
         row_number() over (partition by target_relation order by finished_at desc) as recency
  from {{ ledger }}
  where status in ('released', 'reused')
)
select e.schema_name, e.table_name, t.comment, l.release_id
from expected e
left join duckdb_tables() t on t.schema_name = e.schema_name and t.table_name = e.table_name
left join latest l on l.target_relation = e.target_relation and l.recency = 1
where t.comment is null
   or t.comment not like 'dpsynth: epsilon=%'
   or l.release_id is null
   or t.comment not like '%release_id=' || l.release_id || '%'
