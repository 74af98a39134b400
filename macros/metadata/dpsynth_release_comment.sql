{#- Table comment text for a ledger row (SQL-escaped): `dpsynth: epsilon=<e> delta=<d> generator=<g> release_id=<id> ...
    report=<path of the release report>` (the report part when the row has one, see dpsynth_release_for). -#}
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
      ~ " ledger=" ~ dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger')
      ~ (" report=" ~ release['report'] if release.get('report') else "") -%}
  {{ return(text | replace("'", "''")) }}
{% endmacro %}
