{#-
  The released model of a candidate, in one line (models/released/patients.sql):

    {{ dbt_dpsynth.dpsynth_release(ref('patients_candidate')) }}

  It always builds a TABLE (materialization `dpsynth_release`, set by this macro in the model's own config, which wins
  over a project's `+materialized: view`), and only from a candidate whose release passed its gates
  (`dpsynth_release_verdict`, read from the metrics table): otherwise the model fails with one line naming the
  failing metrics, and the previous table stays exactly as it was. A view could not do this: it would select from
  the candidate table that failed. The table is stamped with the release it carries:
    dpsynth: epsilon=... release_id=<the candidate's release> ... released_from=<candidate> gates=passed(<n> metrics)
  Governance (`dpsynth_release_governance`): a release past its expiry is refused, and when the candidate's config says
  `require_approval: true` (or this macro's require_approval=true) the table is built only once the candidate's
  release id has an approval row (`dpsynth approve` / run-operation `dpsynth_approve`); otherwise the model fails in
  one line and the previous table stays. The stamp then also carries release_type, expires_at, the watermark key
  fingerprint, the usage terms and `approved_by=`; a 'published' ledger event records the publication.
  Arguments: candidate (a ref), require_gates (default true: a candidate without metrics, i.e. without a holdout,
  is refused too), require_approval (default: the candidate's `require_approval`; true forces it).
-#}
{% macro dpsynth_release(candidate, require_gates=true, require_approval=none) %}
  {{ return(adapter.dispatch('dpsynth_release', 'dbt_dpsynth')(candidate, require_gates, require_approval)) }}
{% endmacro %}

{% macro default__dpsynth_release(candidate, require_gates, require_approval) %}
  {{ config(materialized='dpsynth_release', dpsynth_require_gates=require_gates,
            dpsynth_require_approval=require_approval) }}
  select * from {{ candidate }}
{% endmacro %}

{#- The materialization: the verdict first (nothing is written when it refuses), then build-and-swap like a table. -#}
{% materialization dpsynth_release, default %}
  {%- set candidates = [] -%}
  {%- for uid in model.depends_on.nodes if uid.startswith('model.') -%}
    {%- set node = graph.nodes[uid] -%}
    {%- do candidates.append(api.Relation.create(database=node.database, schema=node.schema,
                                                 identifier=node.alias or node.name)) -%}
  {%- endfor -%}
  {%- if candidates | length != 1 -%}
    {{ exceptions.raise_compiler_error("dbt_dpsynth: " ~ this ~ " must read exactly one candidate model, it reads " ~ (candidates | length) ~ ". Fix: write the model as {{ dbt_dpsynth.dpsynth_release(ref('<candidate>')) }}.") }}
  {%- endif -%}
  {%- set candidate = candidates[0] -%}
  {%- set verdict = dbt_dpsynth.dpsynth_release_verdict(candidate, config.get('dpsynth_require_gates', true)) -%}
  {%- if verdict['problem'] is not none -%}
    {{ exceptions.raise_compiler_error("dbt_dpsynth: not releasing " ~ this ~ ": " ~ verdict['problem'] ~ " The previous table is kept.") }}
  {%- endif -%}
  {%- set governance = dbt_dpsynth.dpsynth_release_governance(candidate, verdict['release'],
                                                              config.get('dpsynth_require_approval')) -%}
  {%- if governance['problem'] is not none -%}
    {{ exceptions.raise_compiler_error("dbt_dpsynth: not releasing " ~ this ~ ": " ~ governance['problem'] ~ " The previous table is kept.") }}
  {%- endif -%}
  {%- set stamped = dict(verdict['release'], governance_json=governance['governance_json']) -%}
  {%- set approval = governance['approval'] -%}

  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
  {%- set backup_relation = make_backup_relation(target_relation,
                                                 'table' if existing_relation is none else existing_relation.type) -%}
  {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
  {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {% call statement('main') -%}
    {{ get_create_table_as_sql(False, intermediate_relation, sql) }}
  {%- endcall %}
  {% if existing_relation is not none %}
    {{ adapter.rename_relation(existing_relation, backup_relation) }}
  {% endif %}
  {{ adapter.rename_relation(intermediate_relation, target_relation) }}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do persist_docs(target_relation, model) %}
  {% call statement('dpsynth_stamp_release') -%}
    comment on table {{ target_relation }} is '{{ dbt_dpsynth.dpsynth_release_comment(stamped)
      ~ " released_from=" ~ (candidate | string | replace("'", "''"))
      ~ " gates=" ~ ("passed(" ~ verdict['metrics'] ~ " metrics)" if verdict['metrics'] else "none")
      ~ (" approved_by=" ~ (approval['approved_by'] | replace("'", "''") | replace(" ", "_")) if approval else "") }}'
  {%- endcall %}
  {% do dbt_dpsynth.dpsynth_record_publication(target_relation, verdict['release'], governance, approval) %}
  {{ adapter.commit() }}
  {{ drop_relation_if_exists(backup_relation) }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {% do log("dbt_dpsynth: " ~ this ~ " now carries release " ~ verdict['release']['release_id'] ~ " of " ~ candidate
            ~ " (" ~ verdict['metrics'] ~ " gate metrics, none failing"
            ~ ("; approved by " ~ approval['approved_by'] if approval else "") ~ ")", info=true) %}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
