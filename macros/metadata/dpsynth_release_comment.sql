{#- Table comment text for a ledger row (SQL-escaped): `dpsynth: epsilon=<e> delta=<d> generator=<g> release_id=<id> ...` -#}
{% macro dpsynth_release_comment(release) %}
  {{ return(adapter.dispatch('dpsynth_release_comment', 'dbt_dpsynth')(release)) }}
{% endmacro %}

{% macro default__dpsynth_release_comment(release) %}
  {%- set text = "dpsynth: epsilon=" ~ release['epsilon'] ~ " delta=" ~ release['delta']
      ~ " generator=" ~ release['generator'] ~ " release_id=" ~ release['release_id']
      ~ " accountant=" ~ release['accountant'] ~ " rho=" ~ release['rho']
      ~ " budget_key=" ~ release['budget_key'] ~ " rows=" ~ release['rows']
      ~ " cumulative_epsilon=" ~ release['cumulative_epsilon']
      ~ (" cap_epsilon=" ~ release['cap_epsilon'] if release['cap_epsilon'] is not none else "")
      ~ " ledger=" ~ dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') -%}
  {{ return(text | replace("'", "''")) }}
{% endmacro %}
