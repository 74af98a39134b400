-- The stamp dpsynth_release_comment renders for this invocation's release of nass_mst_eps1 is the table's comment
-- (written by the dpsynth_comment_release post-hook). Returns the row when they differ or no release was found.
select s.target_relation, s.release_id, s.stamp, t.comment
from {{ ref('nass_mst_eps1_stamp') }} s
left join duckdb_tables() t
  on t.schema_name = '{{ ref('nass_mst_eps1').schema }}' and t.table_name = '{{ ref('nass_mst_eps1').identifier }}'
where s.release_id is null or t.comment is distinct from s.stamp
