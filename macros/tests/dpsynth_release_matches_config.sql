{#-
  Generic test on a synthetic model: it has exactly the source relation's columns (identifiers included, as fresh
  surrogate keys) and as many rows as the release it carries says (its newest 'released' or 'reused' ledger row:
  `rows` in the config when set, else the DP estimate). `expected_rows` additionally pins the count.
    data_tests: [{dbt_dpsynth.dpsynth_release_matches_config: {arguments: {source_model: ref('nassCDS')}}}]
-#}
{% test dpsynth_release_matches_config(model, source_model, expected_rows=none) %}
  {{ config(severity='error') }}
  {{ return(adapter.dispatch('test_dpsynth_release_matches_config', 'dbt_dpsynth')(model, source_model, expected_rows)) }}
{% endtest %}

{% macro default__test_dpsynth_release_matches_config(model, source_model, expected_rows) %}
  {%- set problems = [] -%}
  {%- if execute -%}
    {%- set got = adapter.get_columns_in_relation(model) | map(attribute='name') | map('lower') | list -%}
    {%- set want = adapter.get_columns_in_relation(source_model) | map(attribute='name') | map('lower') | list -%}
    {%- for c in want if c not in got -%}{%- do problems.append('missing column ' ~ c) -%}{%- endfor -%}
    {%- for c in got if c not in want -%}{%- do problems.append('column not in source: ' ~ c) -%}{%- endfor -%}
  {%- endif -%}
  {%- set ledger = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') -%}
  with release as (
    select rows as released_rows
    from {{ ledger }}
    where target_relation = '{{ model | string | replace("'", "''") }}' and status in ('released', 'reused')
    order by finished_at desc
    limit 1
  ),
  actual as (select count(*) as actual_rows from {{ model }})
  select 'row count ' || cast(actual_rows as varchar) || ' differs from the released row count '
         || coalesce(cast(released_rows as varchar), '(no released or reused ledger row)') as problem
  from actual left join release on true
  where released_rows is null or actual_rows <> released_rows
  {%- if expected_rows is not none %}
  union all
  select 'row count ' || cast(actual_rows as varchar) || ' differs from expected_rows {{ expected_rows }}'
  from actual where actual_rows <> {{ expected_rows }}
  {%- endif %}
  {%- for p in problems %}
  union all select '{{ p | replace("'", "''") }}'
  {%- endfor %}
{% endmacro %}
