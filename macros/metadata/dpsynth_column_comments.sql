{#-
  Per-column comments (kind and where its domain came from: public spec, DP discovery, surrogate keys), from the
  release record in the ledger row. default__ emits nothing (not every warehouse has COMMENT ON COLUMN).
-#}
{% macro dpsynth_column_comments(relation, release) %}
  {{ return(adapter.dispatch('dpsynth_column_comments', 'dbt_dpsynth')(relation, release)) }}
{% endmacro %}

{% macro default__dpsynth_column_comments(relation, release) %}{% endmacro %}

{#- The column name is quoted here, not with adapter.quote: that one does not double an embedded `"` (a name like
    a"b would end the identifier early). -#}
{% macro duckdb__dpsynth_column_comments(relation, release) %}
  {%- set record = fromjson(release['record_json'] or '{}') -%}
  {%- for name, info in (record.get('columns') or {}).items() %}
  comment on column {{ relation }}.{{ '"' ~ (name | replace('"', '""')) ~ '"' }} is '{{ ("dpsynth: synthetic (" ~ release["generator"] ~ ", epsilon=" ~ release["epsilon"] ~ "); kind=" ~ info.get("kind") ~ " domain=" ~ info.get("domain")) | replace("'", "''") }}';
  {%- endfor %}
{% endmacro %}

{#- Snowflake: COMMENT ON COLUMN; the name quoted as it is stored (a synthetic table keeps the source's names). -#}
{% macro snowflake__dpsynth_column_comments(relation, release) %}
  {%- set record = fromjson(release['record_json'] or '{}') -%}
  {%- for name, info in (record.get('columns') or {}).items() %}
  comment on column {{ relation }}.{{ '"' ~ (name | replace('"', '""')) ~ '"' }} is '{{ dbt_dpsynth.dpsynth_string_literal("dpsynth: synthetic (" ~ release["generator"] ~ ", epsilon=" ~ release["epsilon"] ~ "); kind=" ~ info.get("kind") ~ " domain=" ~ info.get("domain")) }}';
  {%- endfor %}
{% endmacro %}

{#- Spark / Databricks: no COMMENT ON COLUMN; ALTER TABLE ... ALTER COLUMN ... COMMENT, names in backticks. -#}
{% macro spark__dpsynth_column_comments(relation, release) %}
  {%- set record = fromjson(release['record_json'] or '{}') -%}
  {%- for name, info in (record.get('columns') or {}).items() %}
  alter table {{ relation }} alter column {{ '`' ~ (name | replace('`', '``')) ~ '`' }} comment '{{ dbt_dpsynth.dpsynth_string_literal("dpsynth: synthetic (" ~ release["generator"] ~ ", epsilon=" ~ release["epsilon"] ~ "); kind=" ~ info.get("kind") ~ " domain=" ~ info.get("domain")) }}';
  {%- endfor %}
{% endmacro %}
