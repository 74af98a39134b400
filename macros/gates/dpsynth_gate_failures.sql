{#-
  Shared body of the gate tests: the failing metrics of the latest evaluation of `model` in the metrics table.

  The metrics table (written by the dbt glue, one row per metric; see dpsynth_core.evaluation.EvaluationReport
  .to_records) has the columns release_id, model, metric, kind ('privacy'|'utility'), value, threshold, passed,
  computed_at. Its rows for `model` are those whose `model` column equals `release_model` (default: the tested
  model's identifier) or the tested relation's full name; the latest evaluation is the release_id of the newest row.

  A row is returned (= a failure, named by metric, value and threshold) when
    - `thresholds` overrides the metric's threshold and value > override (every built-in metric is an upper bound), or
    - no override applies and passed = false (the threshold stored by the evaluation, possibly CI-aware), or
    - `require_metrics` and the model has no metrics of this kind at all (fail closed: no evidence, no release).
-#}
{% macro dpsynth_gate_failures(model, kind, metrics_relation=none, release_model=none, thresholds={},
                               require_metrics=true) %}
  {{ return(adapter.dispatch('dpsynth_gate_failures', 'dbt_dpsynth')(model, kind, metrics_relation, release_model,
                                                                    thresholds, require_metrics)) }}
{% endmacro %}

{% macro default__dpsynth_gate_failures(model, kind, metrics_relation, release_model, thresholds, require_metrics) %}
  {%- set metrics = metrics_relation if metrics_relation is not none
                    else dbt_dpsynth.dpsynth_ledger_relation(var('dpsynth_metrics_table', 'dpsynth_metrics')) -%}
  {%- if metrics is string -%}
    {%- set metrics = dbt_dpsynth.dpsynth_ledger_relation(metrics) -%}
  {%- endif -%}
  {%- set names = [release_model if release_model is not none else model.identifier, model | string] -%}
  {%- set label = (names[0] | replace("'", "''")) -%}
  {#- The metrics table is created by the package's on-run-start hook; a missing custom relation is an error
      (fail closed). The adapter's relation cache cannot be asked: it does not see tables made by hooks. -#}
  with overrides as (
    select cast(null as varchar) as metric, cast(null as double) as threshold where false
    {%- for metric, value in thresholds.items() if value is not none %}
    union all select '{{ metric | replace("'", "''") }}', cast({{ value }} as double)
    {%- endfor %}
  ),
  rows_of_model as (
    select * from {{ metrics }}
    where model in ({% for n in names %}'{{ n | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor %})
      and kind = '{{ kind }}'
  ),
  latest as (
    select release_id from rows_of_model order by computed_at desc limit 1
  ),
  gate as (
    select r.release_id, r.metric, r.value, r.passed, r.threshold as stored_threshold, o.threshold as override
    from rows_of_model r left join overrides o on r.metric = o.metric
    where r.release_id is not distinct from (select release_id from latest)
  )
  select cast(release_id as varchar) as release_id, metric, cast(value as double) as value,
         cast(coalesce(override, stored_threshold) as double) as threshold,
         case when override is not null then 'value above threshold (override)'
              else 'value beyond threshold' end as problem
  from gate
  where (override is not null and (value is null or value > override))
     or (override is null and passed = false)
  {%- if require_metrics %}
  union all
  select null, '<no metrics>', null, null, 'no {{ kind }} metrics for {{ label }} in {{ metrics | string | replace("'", "''") }}'
  where not exists (select 1 from rows_of_model)
  {%- endif %}
{% endmacro %}
