{#-
  Generic test: the latest privacy evaluation of the tested synthetic model passed every gate.
  One failing row per metric (metric, value, threshold, rule, holdout_value), also printed as one console line each;
  severity/warn_if/error_if/store_failures work as for any dbt test (stored failures go to
  `<target schema>_dpsynth_private` by default: they are non-DP metric values). Overrides of the evaluation's
  decision ({metric: upper bound}; docs/gates.md) go in `config: {meta: {thresholds: ...}}`: dbt hashes argument
  values into a test's unique_id, so a `thresholds` ARGUMENT (still accepted) makes `dbt retry` fail after an edit.
    data_tests:
      - dbt_dpsynth.dpsynth_privacy_gate:
          name: patients_candidate_privacy_gate
          config: {meta: {thresholds: {membership_auc_distance: 0.55}}}
-#}
{% test dpsynth_privacy_gate(model, metrics_relation=none, release_model=none, thresholds={}, require_metrics=true) %}
  {#- store_failures rows are non-DP metric values: by default they go to the private schema too -#}
  {{ config(severity='error', schema='dpsynth_private') }}
  {{ return(adapter.dispatch('test_dpsynth_privacy_gate', 'dbt_dpsynth')(model, metrics_relation, release_model,
                                                                       thresholds, require_metrics)) }}
{% endtest %}

{% macro default__test_dpsynth_privacy_gate(model, metrics_relation, release_model, thresholds, require_metrics) %}
  {#- thresholds from `config: {meta: {thresholds: ...}}` win: config is not part of the test's unique_id, so editing
      them keeps `dbt retry` able to find the failed test (argument values are hashed into the unique_id) -#}
  {%- set merged = dict(thresholds or {}) -%}
  {%- do merged.update((config.get('meta') or {}).get('thresholds') or {}) -%}
  {{ dbt_dpsynth.dpsynth_gate_failures(model, 'privacy', metrics_relation, release_model, merged,
                                       require_metrics) }}
{% endmacro %}
