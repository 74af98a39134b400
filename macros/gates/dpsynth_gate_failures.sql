{#-
  Shared body of the gate tests: the failing metrics of the latest evaluation of `model` in the metrics table.

  The metrics table (written by the dbt glue into the PRIVATE schema, `dpsynth_private_relation`; one row per metric,
  see dpsynth_core.evaluation.EvaluationReport.to_records) has the columns release_id, model, metric, kind
  ('privacy'|'utility'), value, threshold, passed, computed_at, rule, holdout_value. Its rows for `model` are those
  whose `model` column equals `release_model` (default: the tested model's identifier) or the tested relation's full
  name; the latest evaluation is the release_id of the newest row.

  A row is returned (= a failure: metric, value, threshold, rule, what the holdout achieves) when
    - `thresholds` overrides the metric's threshold ({metric name: upper bound}) and value > override, or
    - no override applies and passed = false (the evaluation's decision, with the thresholds of the model's
      `dpsynth.gates.thresholds`; CI-aware where docs/gates.md says so), or
    - `require_metrics` and the model has no metrics of this kind at all (fail closed: no evidence, no release).
  When the test runs, each failing metric is also logged as one console line (`dpsynth gate FAIL ...`), unless
  var('dpsynth_gate_console_values', true) is false (then only the metric names). Those values are NOT DP.
-#}
{% macro dpsynth_gate_failures(model, kind, metrics_relation=none, release_model=none, thresholds={},
                               require_metrics=true) %}
  {{ return(adapter.dispatch('dpsynth_gate_failures', 'dbt_dpsynth')(model, kind, metrics_relation, release_model,
                                                                    thresholds, require_metrics)) }}
{% endmacro %}

{% macro default__dpsynth_gate_failures(model, kind, metrics_relation, release_model, thresholds, require_metrics) %}
  {%- set metrics = metrics_relation if metrics_relation is not none
                    else dbt_dpsynth.dpsynth_private_relation(var('dpsynth_metrics_table', 'dpsynth_metrics')) -%}
  {%- if metrics is string -%}
    {%- set metrics = dbt_dpsynth.dpsynth_private_relation(metrics) -%}
  {%- endif -%}
  {%- set names = [release_model if release_model is not none else model.identifier, model | string] -%}
  {%- set label = (names[0] | replace("'", "''")) -%}
  {#- The metrics table is created by the package's on-run-start hook; a missing custom relation is an error
      (fail closed). The adapter's relation cache cannot be asked: it does not see tables made by hooks. -#}
  {%- set failures_sql -%}
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
    select r.release_id, r.metric, r.value, r.passed, r.threshold as stored_threshold, o.threshold as override,
           r.rule, r.holdout_value
    from rows_of_model r left join overrides o on r.metric = o.metric
    where r.release_id is not distinct from (select release_id from latest)
  )
  select cast(release_id as varchar) as release_id, metric, cast(value as double) as value,
         cast(coalesce(override, stored_threshold) as double) as threshold,
         case when override is not null then 'override' else cast(rule as varchar) end as rule,
         cast(holdout_value as double) as holdout_value,
         case when override is not null then 'value above threshold (override)'
              else 'value beyond threshold' end as problem
  from gate
  where (override is not null and (value is null or value > override))
     or (override is null and passed = false)
  {%- if require_metrics %}
  union all
  select null, '<no metrics>', null, null, null, null,
         'no {{ kind }} metrics for {{ label }} in {{ metrics | string | replace("'", "''") }}'
  where not exists (select 1 from rows_of_model)
  {%- endif %}
  {%- endset -%}
  {%- if execute -%}
    {%- set failing = run_query(failures_sql) -%}
    {%- for row in failing.rows -%}
      {%- if row['metric'] == '<no metrics>' -%}
        {% do log("dpsynth gate FAIL " ~ names[0] ~ " " ~ kind ~ ": " ~ row['problem'], info=true) %}
      {%- elif var('dpsynth_gate_console_values', true) -%}
        {% do log("dpsynth gate FAIL " ~ names[0] ~ " " ~ kind ~ ": " ~ row['metric'] ~ " = "
                  ~ dbt_dpsynth.dpsynth_format_number(row['value']) ~ " > threshold "
                  ~ dbt_dpsynth.dpsynth_format_number(row['threshold']) ~ " (rule: " ~ (row['rule'] or 'configured')
                  ~ "; the holdout achieves " ~ dbt_dpsynth.dpsynth_format_number(row['holdout_value'])
                  ~ ") [not DP]", info=true) %}
      {%- else -%}
        {% do log("dpsynth gate FAIL " ~ names[0] ~ " " ~ kind ~ ": " ~ row['metric'], info=true) %}
      {%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  {{ failures_sql }}
{% endmacro %}
