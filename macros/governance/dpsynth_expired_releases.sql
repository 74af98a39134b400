{#-
  Tables that carry an expired release, as a list of dicts: for each target relation in the ledger, its newest
  released / reused / published / dropped row; those whose `expires_at` is at or before `as_of` (default: now, UTC)
  and that were not dropped since. Keys: target_relation, release_id, status, model, budget_key, expires_at.
  `relation` (optional) restricts the list to one table. Shared by the expiry test and dpsynth_drop_expired.
-#}
{% macro dpsynth_expired_releases(relation=none, as_of=none) %}
  {{ return(adapter.dispatch('dpsynth_expired_releases', 'dbt_dpsynth')(relation, as_of)) }}
{% endmacro %}

{% macro default__dpsynth_expired_releases(relation, as_of) %}
  {%- set ledger = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') -%}
  {%- set as_of = as_of or dbt_dpsynth.dpsynth_utc_now() -%}
  {%- set only = "" if relation is none else " and target_relation = '" ~ (relation | string | replace("'", "''")) ~ "'" -%}
  {%- set sql -%}
    with carriers as (
      select target_relation, release_id, status, model, budget_key, expires_at,
             row_number() over (partition by target_relation order by finished_at desc, started_at desc) as recency
      from {{ ledger }}
      where target_relation is not null and status in ('released', 'reused', 'published', 'dropped'){{ only }}
    )
    select target_relation, release_id, status, model, budget_key, expires_at
    from carriers
    where recency = 1 and status <> 'dropped' and expires_at is not null
      and expires_at <= cast('{{ as_of.isoformat(sep=' ') }}' as timestamp)
    order by target_relation
  {%- endset -%}
  {%- set found = run_query(sql) -%}
  {%- set out = [] -%}
  {%- for row in found.rows -%}{%- do out.append(dict(zip(found.column_names, row.values()))) -%}{%- endfor -%}
  {{ return(out) }}
{% endmacro %}
