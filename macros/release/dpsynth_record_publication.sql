{#-
  Appends the 'published' event to the ledger after a dpsynth_release model was built: `relation` now carries
  `release` (zero epsilon: an event, never charged), with the candidate's governance block and expiry, so the expiry
  test and `dpsynth_drop_expired` find released tables, and the audit narrative shows the publication. `approval`
  (the approval row used, or none) is named in the event's text. A rebuild that publishes the release the table
  already carried (a scheduled build of an unchanged release) records nothing new.
-#}
{% macro dpsynth_record_publication(relation, release, governance, approval=none) %}
  {{ return(adapter.dispatch('dpsynth_record_publication', 'dbt_dpsynth')(relation, release, governance, approval)) }}
{% endmacro %}

{% macro default__dpsynth_record_publication(relation, release, governance, approval) %}
  {%- set carried = dbt_dpsynth.dpsynth_release_carriers("target_relation = '" ~ (relation | string | replace("'", "''")) ~ "'") -%}
  {%- if carried | length > 0 and carried[0]['status'] == 'published' and carried[0]['release_id'] == release['release_id'] -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set gov = governance['governance'] or {} -%}
  {%- set now = dbt_dpsynth.dpsynth_utc_now().isoformat(sep=' ') -%}
  {%- set note = ("approved by " ~ approval['approved_by'] ~ " at " ~ approval['approved_at'] ~ " (shown: " ~ approval['shown_kind'] ~ " sha256 " ~ approval['shown_sha256'][:16] ~ ")") if approval else none -%}
  {%- set values = {
      'release_id': "'" ~ release['release_id'] ~ "'",
      'model': "'" ~ (model.unique_id | replace("'", "''")) ~ "'",
      'target_relation': "'" ~ (relation | string | replace("'", "''")) ~ "'",
      'budget_key': "null" if release['budget_key'] is none else "'" ~ (release['budget_key'] | replace("'", "''")) ~ "'",
      'generator': "'" ~ release['generator'] ~ "'",
      'epsilon': '0', 'delta': '0', 'delta_conversion': '0', 'rho': '0', 'epsilon_other': '0',
      'invocation_id': "'" ~ invocation_id ~ "'",
      'started_at': "cast('" ~ now ~ "' as timestamp)", 'finished_at': "cast('" ~ now ~ "' as timestamp)",
      'status': "'published'",
      'error': "null" if note is none else "'" ~ (note | replace("'", "''")) ~ "'",
      'release_type': "null" if not gov.get('release_type') else "'" ~ gov['release_type'] ~ "'",
      'expires_at': "null" if governance['expires_at'] is none else "cast('" ~ governance['expires_at'] ~ "' as timestamp)",
      'governance_json': "null" if not governance['governance_json'] else "'" ~ (governance['governance_json'] | replace("'", "''")) ~ "'",
      'watermark_fingerprint': "null" if not (gov.get('watermark') or {}).get('key_fingerprint') else "'" ~ gov['watermark']['key_fingerprint'] ~ "'"} -%}
  {% call statement('dpsynth_record_publication', fetch_result=False) %}
    insert into {{ dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') }}
      ({% for c in values %}{{ dbt_dpsynth.dpsynth_column_name(c) }}{{ ", " if not loop.last }}{% endfor %})
    values ({{ values.values() | join(', ') }})
  {% endcall %}
{% endmacro %}
