{#-
  Tables that carry an expired release (`dpsynth_release_carriers` whose `expires_at` is at or before `as_of`, default
  now, UTC), as a list of dicts. `relation` (optional) restricts the list to one table. Used by the expiry test and
  dpsynth_drop_expired.
-#}
{% macro dpsynth_expired_releases(relation=none, as_of=none) %}
  {{ return(adapter.dispatch('dpsynth_expired_releases', 'dbt_dpsynth')(relation, as_of)) }}
{% endmacro %}

{% macro default__dpsynth_expired_releases(relation, as_of) %}
  {%- set as_of = as_of or dbt_dpsynth.dpsynth_utc_now() -%}
  {%- set where = "expires_at is not null and expires_at <= cast('" ~ as_of.isoformat(sep=' ') ~ "' as timestamp)"
                  ~ ("" if relation is none else " and target_relation = '" ~ (relation | string | replace("'", "''")) ~ "'") -%}
  {{ return(dbt_dpsynth.dpsynth_release_carriers(where)) }}
{% endmacro %}
