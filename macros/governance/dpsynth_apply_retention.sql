{#-
  Retention of the private artefacts (metrics and details in the private schema, fitted models in the ledger's),
  from var('dpsynth_retention'):
    vars: {dpsynth_retention: {metrics_days: 180, details_days: 90, models_days: 365}}
    dbt run-operation dpsynth_apply_retention [--args '{dry_run: true}']
  Deletes, per table, the rows of releases made more than N days ago that no table carries any more (a newer release
  replaced them, or their table was dropped): `dpsynth_metrics` (metrics_days; NOT DP), `dpsynth_evaluation_details`
  (details_days; NOT DP) and `dpsynth_models` (models_days; a deleted fitted model can no longer be reused, so going
  back to its settings is a new, charged release). The release a table carries keeps its artefacts (the gates and
  reuse need them). A setting left out keeps that table's rows forever. The ledger, the caps history and the approvals
  are never deleted (they are the audit trail). Report files are written outside the warehouse: see
  docs/governance.md (retention).
-#}
{% macro dpsynth_apply_retention(dry_run=false) %}
  {{ return(adapter.dispatch('dpsynth_apply_retention', 'dbt_dpsynth')(dry_run)) }}
{% endmacro %}

{% macro default__dpsynth_apply_retention(dry_run) %}
  {%- set settings = var('dpsynth_retention', {}) or {} -%}
  {%- set tables = {'metrics_days': dbt_dpsynth.dpsynth_metrics_relation(),
                    'details_days': dbt_dpsynth.dpsynth_private_relation('dpsynth_evaluation_details'),
                    'models_days': dbt_dpsynth.dpsynth_ledger_relation('dpsynth_models')} -%}
  {%- if settings is not mapping -%}
    {{ exceptions.raise_compiler_error("dbt_dpsynth: var 'dpsynth_retention' must be a mapping, got " ~ settings ~ ". Fix: write e.g. `dpsynth_retention: {metrics_days: 180, details_days: 90, models_days: 365}`.") }}
  {%- endif -%}
  {%- for name, days in settings.items() -%}
    {%- if name not in tables or days is not number or days is boolean or days < 0 -%}
      {{ exceptions.raise_compiler_error("dbt_dpsynth: var 'dpsynth_retention' has " ~ name ~ "=" ~ days ~ ". Fix: use only " ~ (tables.keys() | join(', ')) ~ ", each a number of days >= 0.") }}
    {%- endif -%}
  {%- endfor -%}
  {%- set ledger = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') -%}
  {%- set now = dbt_dpsynth.dpsynth_utc_now() -%}
  {%- for name, days in settings.items() -%}
    {%- set cutoff = (now - modules.datetime.timedelta(days=days)).isoformat(sep=' ') -%}
    {%- set stale -%}
      select release_id from {{ ledger }} where status = 'released' and finished_at < cast('{{ cutoff }}' as timestamp)
      except
      select release_id from (
        select release_id, status,
               row_number() over (partition by target_relation order by finished_at desc, started_at desc) as recency
        from {{ ledger }}
        where target_relation is not null and status in ('released', 'reused', 'published', 'dropped', 'withdrawn')
      ) carriers where recency = 1 and status not in ('dropped', 'withdrawn')
    {%- endset -%}
    {%- set count = run_query("select count(*) from " ~ tables[name] ~ " where release_id in (" ~ stale ~ ")").columns[0].values()[0] -%}
    {%- if dry_run -%}
      {% do log("dbt_dpsynth: retention " ~ name ~ "=" ~ days ~ ": would delete " ~ count ~ " rows of " ~ tables[name], info=true) %}
    {%- else -%}
      {% call statement('dpsynth_retention_' ~ name, fetch_result=False, auto_begin=False) %}
        delete from {{ tables[name] }} where release_id in ({{ stale }})
      {% endcall %}
      {% do log("dbt_dpsynth: retention " ~ name ~ "=" ~ days ~ ": deleted " ~ count ~ " rows of " ~ tables[name] ~ " (releases older than " ~ cutoff ~ " UTC that no table carries)", info=true) %}
    {%- endif -%}
  {%- endfor -%}
{% endmacro %}
