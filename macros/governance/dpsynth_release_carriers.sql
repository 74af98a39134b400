{#-
  The tables that carry a release now, as a list of dicts: for each target relation in the ledger, its newest
  released / reused / published / dropped / withdrawn row, kept when it is not a drop or a withdrawal. Keys:
  target_relation, release_id, status, model, budget_key, expires_at. `where` adds a SQL condition on those columns
  (e.g. "release_id = '...'"). Shared by the expiry test, dpsynth_drop_expired and dpsynth_withdraw.
-#}
{% macro dpsynth_release_carriers(where=none) %}
  {{ return(adapter.dispatch('dpsynth_release_carriers', 'dbt_dpsynth')(where)) }}
{% endmacro %}

{% macro default__dpsynth_release_carriers(where) %}
  {%- set sql -%}
    with carriers as (
      select target_relation, release_id, status, model, budget_key, expires_at,
             row_number() over (partition by target_relation order by finished_at desc, started_at desc) as recency
      from {{ dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') }}
      where target_relation is not null
        and status in ('released', 'reused', 'published', 'dropped', 'withdrawn')
    )
    select target_relation, release_id, status, model, budget_key, expires_at
    from carriers
    where recency = 1 and status not in ('dropped', 'withdrawn'){{ " and (" ~ where ~ ")" if where else "" }}
    order by target_relation
  {%- endset -%}
  {%- set found = run_query(sql) -%}
  {%- set out = [] -%}
  {%- for row in found.rows -%}{%- do out.append(dict(zip(found.column_names, row.values()))) -%}{%- endfor -%}
  {{ return(out) }}
{% endmacro %}
