{#-
  Where the release metrics (`dpsynth_metrics`, NOT DP) live: in the private schema (`dpsynth_private_relation`),
  named by var('dpsynth_metrics_table'). The one place `dpsynth_release` and the gate tests read the location from.
-#}
{% macro dpsynth_metrics_relation() %}
  {{ return(adapter.dispatch('dpsynth_metrics_relation', 'dbt_dpsynth')()) }}
{% endmacro %}

{% macro default__dpsynth_metrics_relation() %}
  {{ return(dbt_dpsynth.dpsynth_private_relation(var('dpsynth_metrics_table', 'dpsynth_metrics'))) }}
{% endmacro %}
