{#-
  Where the ledger tables live: `target.database`.`var('dpsynth_ledger_schema', target.schema)`.
  `table` is 'dpsynth_ledger' (one row per release) or 'dpsynth_budget_caps' (caps per invocation).
  Python models find the same place through the marker row `dpsynth_record_budget_caps` writes.
-#}
{% macro dpsynth_ledger_relation(table='dpsynth_ledger') %}
  {{ return(adapter.dispatch('dpsynth_ledger_relation', 'dbt_dpsynth')(table)) }}
{% endmacro %}

{% macro default__dpsynth_ledger_relation(table) %}
  {{ return(api.Relation.create(database=target.database,
                                schema=var('dpsynth_ledger_schema', target.schema),
                                identifier=table)) }}
{% endmacro %}
