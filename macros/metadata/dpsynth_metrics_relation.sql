{#-
  Where the release metrics (`dpsynth_metrics`, NOT DP) live: beside the ledger, named by var('dpsynth_metrics_table').
  The one place `dpsynth_release` reads the location from (if the metrics move, e.g. to a private schema, change it
  here).
-#}
{% macro dpsynth_metrics_relation() %}
  {{ return(adapter.dispatch('dpsynth_metrics_relation', 'dbt_dpsynth')()) }}
{% endmacro %}

{% macro default__dpsynth_metrics_relation() %}
  {{ return(dbt_dpsynth.dpsynth_ledger_relation(var('dpsynth_metrics_table', 'dpsynth_metrics'))) }}
{% endmacro %}
