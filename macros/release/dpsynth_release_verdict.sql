{#-
  Whether `candidate` (a relation) may be released: the release it carries (its newest 'released' or 'reused' ledger
  row) must have gate metrics in `dpsynth_metrics_relation()` and none of them failed (`passed` = false, the
  thresholds of the candidate's `dpsynth.gates` when it was evaluated). Returns a dict: `problem` (none when it may
  be released, else one sentence naming the release, each failing metric with value and threshold, and the fix),
  `release` (the released ledger row, as `dpsynth_release_for` returns it, or none), `metrics` (how many rows),
  `failing` (list of 'metric=value > threshold (kind)').
  With require_gates=false a candidate without metrics (no holdout) may be released; failing metrics still refuse.
-#}
{% macro dpsynth_release_verdict(candidate, require_gates=true) %}
  {{ return(adapter.dispatch('dpsynth_release_verdict', 'dbt_dpsynth')(candidate, require_gates)) }}
{% endmacro %}

{% macro default__dpsynth_release_verdict(candidate, require_gates) %}
  {%- set ledger = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') -%}
  {%- set name = candidate | string | replace("'", "''") -%}
  {%- set newest -%}
    with event as (
      select release_id, status from {{ ledger }}
      where target_relation = '{{ name }}' and status in ('released', 'reused')
      order by finished_at desc limit 1
    )
    select l.release_id, l.epsilon, l.delta, l.generator, l.accountant, l.rho, l.budget_key, l.rows,
           l.cumulative_epsilon, l.cap_epsilon, l.record_json, event.status as event,
           (select r.path from {{ dbt_dpsynth.dpsynth_ledger_relation('dpsynth_reports') }} r
            where r.release_id = l.release_id order by r.written_at desc limit 1) as report
    from {{ ledger }} l join event on l.release_id = event.release_id where l.status = 'released' limit 1
  {%- endset -%}
  {%- set found = run_query(newest) -%}
  {%- if found.rows | length == 0 -%}
    {{ return({'problem': "candidate " ~ candidate ~ " has no released ledger row in " ~ ledger ~ ". Fix: build the candidate first (dbt build --select +" ~ candidate.identifier ~ ").", 'release': none, 'metrics': 0, 'failing': []}) }}
  {%- endif -%}
  {%- set release = dict(zip(found.column_names, found.rows[0].values())) -%}
  {%- set metrics = run_query("select metric, kind, value, threshold, passed from " ~ dbt_dpsynth.dpsynth_metrics_relation()
                              ~ " where release_id = '" ~ release['release_id'] ~ "' order by kind, metric") -%}
  {%- set failing = [] -%}
  {%- for row in metrics.rows if row['passed'] is sameas false -%}
    {%- do failing.append(row['metric'] ~ "=" ~ ('%.4g' | format(row['value']) if row['value'] is number else row['value'])
                          ~ " > " ~ ('%.4g' | format(row['threshold']) if row['threshold'] is number else row['threshold'])
                          ~ " (" ~ row['kind'] ~ ")") -%}
  {%- endfor -%}
  {%- set problem = none -%}
  {%- if failing | length > 0 -%}
    {%- set problem = "release " ~ release['release_id'] ~ " of candidate " ~ candidate ~ " failed " ~ (failing | length) ~ " gate(s): " ~ (failing | join(", ")) ~ ". Fix: a new candidate release that passes (other settings, or --vars '{dpsynth_refresh: [" ~ candidate.identifier ~ "]}'), or thresholds in the candidate's dpsynth.gates." -%}
  {%- elif require_gates and metrics.rows | length == 0 -%}
    {%- set problem = "release " ~ release['release_id'] ~ " of candidate " ~ candidate ~ " has no gate metrics in " ~ dbt_dpsynth.dpsynth_metrics_relation() ~ ". Fix: give the candidate a holdout (dpsynth: {holdout: 0.2}) so it is evaluated, or call dpsynth_release(..., require_gates=false)." -%}
  {%- endif -%}
  {{ return({'problem': problem, 'release': release, 'metrics': metrics.rows | length, 'failing': failing}) }}
{% endmacro %}
