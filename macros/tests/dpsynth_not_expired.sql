{#-
  Generic test: the release the tested table carries has not expired (`expires_after_days` on the model, or its
  `terms.expires`), nor expires within `within_days` days (default 0). One failing row per expired release, naming it
  and its expiry; `config: {severity: warn}` turns it into a warning. Works on synthetic (Python) models and on
  dpsynth_release models (their 'published' ledger event). A table whose release has no expiry passes.
    data_tests: [{dbt_dpsynth.dpsynth_not_expired: {arguments: {within_days: 7}, config: {severity: warn}}}]
  Expired tables are dropped, and the drop recorded, by `dbt run-operation dpsynth_drop_expired`.
-#}
{% test dpsynth_not_expired(model, within_days=0) %}
  {{ config(severity='error') }}
  {{ return(adapter.dispatch('test_dpsynth_not_expired', 'dbt_dpsynth')(model, within_days)) }}
{% endtest %}

{% macro default__test_dpsynth_not_expired(model, within_days) %}
  {%- set rows = [] -%}
  {%- if execute -%}
    {%- set as_of = dbt_dpsynth.dpsynth_utc_now() + modules.datetime.timedelta(days=within_days | float) -%}
    {%- set rows = dbt_dpsynth.dpsynth_expired_releases(model, as_of) -%}
  {%- endif -%}
  select cast(null as varchar) as release_id, cast(null as varchar) as problem where false
  {%- for row in rows %}
  union all
  select '{{ row['release_id'] }}', 'release expires at {{ row['expires_at'] }} UTC{{ " (within " ~ within_days ~ " days)" if within_days else "" }}; drop it with dbt run-operation dpsynth_drop_expired, or make a new release'
  {%- endfor %}
{% endmacro %}
