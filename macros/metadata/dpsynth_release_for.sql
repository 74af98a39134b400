{#-
  The release `relation` carries after this invocation, as a dict (none when the invocation neither released nor
  reused one for it): the newest 'released' or 'reused' ledger row of this invocation for `relation`, resolved to the
  released row of that release_id (a reuse serves a stored release: same release id, same stamp). `event` says which;
  `report` is the path of the release's newest report file (`dpsynth_reports`, written by the model), or none.
  `governance_json` is that event row's governance block (usage terms, expiry, watermark fingerprint in force).
-#}
{% macro dpsynth_release_for(relation) %}
  {{ return(adapter.dispatch('dpsynth_release_for', 'dbt_dpsynth')(relation)) }}
{% endmacro %}

{% macro default__dpsynth_release_for(relation) %}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {%- set ledger = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') -%}
  {%- set reports = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_reports') -%}
  {%- set sql -%}
    with event as (
      select release_id, status, governance_json
      from {{ ledger }}
      where target_relation = '{{ relation | string | replace("'", "''") }}'
        and invocation_id = '{{ invocation_id }}' and status in ('released', 'reused')
      order by finished_at desc
      limit 1
    )
    select l.release_id, l.epsilon, l.delta, l.generator, l.accountant, l.rho, l.budget_key, l.rows,
           l.cumulative_epsilon, l.cap_epsilon, l.record_json, event.status as event, event.governance_json,
           (select r.path from {{ reports }} r where r.release_id = l.release_id
            order by r.written_at desc limit 1) as report
    from {{ ledger }} l join event on l.release_id = event.release_id
    where l.status = 'released'
    limit 1
  {%- endset -%}
  {%- set table = run_query(sql) -%}
  {%- if table.rows | length == 0 -%}{{ return(none) }}{%- endif -%}
  {{ return(dict(zip(table.column_names, table.rows[0].values()))) }}
{% endmacro %}
