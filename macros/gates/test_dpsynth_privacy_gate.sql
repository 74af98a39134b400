{#-
  Generic test: the latest privacy evaluation of the tested synthetic model passed every gate.
  One failing row per metric (metric, value, threshold, rule, holdout_value), also printed as one console line each;
  severity/warn_if/error_if/store_failures work as for any dbt test (stored failures go to
  `<target schema>_dpsynth_private` by default: they are non-DP metric values). Give the test a fixed `name:` so
  `dbt retry` finds it after you edit `thresholds` (dbt puts argument values into
  generated test names). `thresholds` overrides stored thresholds ({metric: upper bound}); see docs/gates.md.
    data_tests:
      - dbt_dpsynth.dpsynth_privacy_gate:
          name: patients_candidate_privacy_gate
          arguments: {thresholds: {membership_auc_distance: 0.55}}
          config: {severity: warn}
-#}
{% test dpsynth_privacy_gate(model, metrics_relation=none, release_model=none, thresholds={}, require_metrics=true) %}
  {#- store_failures rows are non-DP metric values: by default they go to the private schema too -#}
  {{ config(severity='error', schema='dpsynth_private') }}
  {{ return(adapter.dispatch('test_dpsynth_privacy_gate', 'dbt_dpsynth')(model, metrics_relation, release_model,
                                                                       thresholds, require_metrics)) }}
{% endtest %}

{% macro default__test_dpsynth_privacy_gate(model, metrics_relation, release_model, thresholds, require_metrics) %}
  {{ dbt_dpsynth.dpsynth_gate_failures(model, 'privacy', metrics_relation, release_model, thresholds,
                                       require_metrics) }}
{% endmacro %}
