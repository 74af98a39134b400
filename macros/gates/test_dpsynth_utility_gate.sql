{#-
  Generic test: the latest utility evaluation of the tested synthetic model passed every gate.
  One failing row per metric (metric, value, threshold); severity/warn_if/error_if/store_failures work as for any
  dbt test. `thresholds` overrides stored thresholds ({metric: upper bound}); see docs/gates.md for metric names.
    data_tests:
      - dbt_dpsynth.dpsynth_utility_gate:
          arguments: {thresholds: {marginal_tvd_2way: 0.08}}
-#}
{% test dpsynth_utility_gate(model, metrics_relation=none, release_model=none, thresholds={}, require_metrics=true) %}
  {{ config(severity='error') }}
  {{ return(adapter.dispatch('test_dpsynth_utility_gate', 'dbt_dpsynth')(model, metrics_relation, release_model,
                                                                       thresholds, require_metrics)) }}
{% endtest %}

{% macro default__test_dpsynth_utility_gate(model, metrics_relation, release_model, thresholds, require_metrics) %}
  {{ dbt_dpsynth.dpsynth_gate_failures(model, 'utility', metrics_relation, release_model, thresholds,
                                       require_metrics) }}
{% endmacro %}
