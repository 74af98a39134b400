{#-
  Where the evaluation's metrics and details live: a PRIVATE schema, apart from the synthetic tables and the ledger,
  `target.database`.`var('dpsynth_private_schema', <ledger schema> ~ '_dpsynth_private')` (default
  `<target schema>_dpsynth_private`). The metrics are exact, non-DP statistics of real rows: grant this schema to the
  people who approve releases only. The on-run-start hook creates it and records it in `dpsynth_locations` (role
  'private') so Python models, which cannot read vars, find it.
-#}
{% macro dpsynth_private_relation(table='dpsynth_metrics') %}
  {{ return(adapter.dispatch('dpsynth_private_relation', 'dbt_dpsynth')(table)) }}
{% endmacro %}

{% macro default__dpsynth_private_relation(table) %}
  {{ return(api.Relation.create(database=target.database, schema=dbt_dpsynth.dpsynth_private_schema(),
                                identifier=table)) }}
{% endmacro %}
