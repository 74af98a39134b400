{#-
  Table comment text for a ledger row (SQL-escaped):
    `dpsynth: epsilon=<e> delta=<d> generator=<g> release_id=<id> ... ledger=<ledger> report=<path>`
  (the report part when the row has one, see dpsynth_release_for) followed, when the release has governance
  settings, by `release_type=<t> expires_at=<utc> watermark=<key fingerprint> terms=[purpose=...; recipients=...;
  contract=...; expires=...]`. The governance block is the row's `governance_json` when given (the event row in
  force: a reuse carries the current terms), else the record's.
-#}
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
  {%- set gov = fromjson(release.get('governance_json') or 'null') -%}
  {%- if gov is none -%}{%- set gov = (fromjson(release.get('record_json') or '{}') or {}).get('governance') -%}{%- endif -%}
  {%- if gov -%}
    {%- set mark = gov.get('watermark') or {} -%}
    {%- set text = text
        ~ (" release_type=" ~ gov['release_type'] if gov.get('release_type') else "")
        ~ (" expires_at=" ~ (gov['expires_at'][:19] | replace(' ', 'T')) ~ "Z" if gov.get('expires_at') else "")
        ~ (" watermark=" ~ mark['key_fingerprint'] if mark.get('key_fingerprint') else "")
        ~ (" terms=[" ~ gov['terms_text'] ~ "]" if gov.get('terms_text') else "") -%}
  {%- endif -%}
  {{ return(dbt_dpsynth.dpsynth_string_literal(text)) }}
{% endmacro %}
