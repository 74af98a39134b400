{#-
  Post-hook (use with `transaction: false`, so it runs after persist_docs and sticks):
    post-hook: [{sql: "{{ dbt_dpsynth.dpsynth_comment_release() }}", transaction: false}]
  Stamps the synthetic table with the release it carries after this invocation (released or reused), from the ledger:
    dpsynth: epsilon=<e> delta=<d> generator=<g> release_id=<id> accountant=<a> rho=<r> budget_key=<k> rows=<n> ...
  followed by per-column comments where the adapter supports them (dpsynth_column_comments).
-#}
{% macro dpsynth_comment_release(relation=none) %}
  {{ return(adapter.dispatch('dpsynth_comment_release', 'dbt_dpsynth')(relation or this)) }}
{% endmacro %}

{% macro default__dpsynth_comment_release(relation) %}
  {%- set release = dbt_dpsynth.dpsynth_release_for(relation) -%}
  {%- if release is none -%}
    {#- nothing to stamp (not executing, e.g. at parse time, or the model made no release): say so only when it ran -#}
    {%- if execute -%}
      {% do log("dbt_dpsynth: no released or reused ledger row for " ~ relation ~ " in this invocation; table not stamped.", info=true) %}
    {%- endif %}
    select 1 as dpsynth_no_release
  {%- else -%}
    comment on table {{ relation }} is '{{ dbt_dpsynth.dpsynth_release_comment(release) }}';
    {{ dbt_dpsynth.dpsynth_column_comments(relation, release) }}
  {%- endif -%}
{% endmacro %}
