{#-
  Release facts as catalog stats, so the dbt docs site shows them on each synthetic model (its "Details" panel lists a
  node's catalog stats; it never shows a table comment). dbt reads a stat from catalog columns named
  `stats:<id>:label|value|description|include`; the values here are parsed from the table's `dpsynth:` stamp (the
  comment `dpsynth_comment_release` / `dpsynth_release` write: epsilon, delta, generator, release id, the budget key's
  composed spend and cap, the release report's path), i.e. the release the table carries, as the warehouse says.

  `dpsynth_catalog_stats(catalog_sql)` wraps a catalog query (one row per column with `table_comment`) and adds the
  stats columns. The package's `duckdb__get_catalog` / `duckdb__get_catalog_relations` below are dbt-duckdb's catalog
  queries wrapped so; dbt uses them when the root project lets the package override dbt's catalog macros:

    dispatch:
      - macro_namespace: dbt
        search_order: ['<your project>', 'dbt_dpsynth', 'dbt']

  Without that, dbt's own catalog runs and the stamp is still in catalog.json as the table comment (metadata.comment).
-#}
{% macro dpsynth_catalog_stats(catalog_sql) %}
  {{ return(adapter.dispatch('dpsynth_catalog_stats', 'dbt_dpsynth')(catalog_sql)) }}
{% endmacro %}

{% macro default__dpsynth_catalog_stats(catalog_sql) %}{{ return(catalog_sql) }}{% endmacro %}

{% macro duckdb__dpsynth_catalog_stats(catalog_sql) %}
  {%- set stats = [
      ('dpsynth_epsilon', 'dpsynth epsilon', "regexp_extract(table_comment, '^dpsynth: epsilon=([^ ]+)', 1)",
       'epsilon of the release the table carries (requested; never exceeded), from its dpsynth stamp'),
      ('dpsynth_delta', 'dpsynth delta', "regexp_extract(table_comment, ' delta=([^ ]+)', 1)",
       'delta of the release (conversion + thresholding)'),
      ('dpsynth_generator', 'dpsynth generator', "regexp_extract(table_comment, ' generator=([^ ]+)', 1)",
       'the DP generator of the release'),
      ('dpsynth_release_id', 'dpsynth release id', "regexp_extract(table_comment, ' release_id=([^ ]+)', 1)",
       'the release in the dpsynth ledger'),
      ('dpsynth_budget', 'dpsynth budget key',
       "regexp_extract(table_comment, ' budget_key=([^ ]+)', 1) || ': composed epsilon '
        || printf('%.4g', try_cast(regexp_extract(table_comment, ' cumulative_epsilon=([^ ]+)', 1) as double))
        || coalesce(' of cap ' || printf('%g', try_cast(nullif(regexp_extract(table_comment, ' cap_epsilon=([^ ]+)', 1), '') as double)), ' (no cap)')",
       'the budget key and its composed epsilon after the release, against its cap'),
      ('dpsynth_report', 'dpsynth release report', "nullif(regexp_extract(table_comment, ' report=([^ ]+)', 1), '')",
       'the release report (HTML; sensitive where the release was evaluated), relative to the dbt project directory'),
  ] -%}
  select dpsynth_catalog.*
  {%- for id, label, value, description in stats %},
         '{{ label }}' as "stats:{{ id }}:label",
         case when table_comment like 'dpsynth: %' then {{ value }} end as "stats:{{ id }}:value",
         '{{ description }}' as "stats:{{ id }}:description",
         coalesce(table_comment like 'dpsynth: %', false) as "stats:{{ id }}:include"
  {%- endfor %}
  from ({{ catalog_sql }}) dpsynth_catalog
{% endmacro %}

{#- dbt-duckdb's catalog queries (dbt/include/duckdb/macros/catalog.sql) with the dpsynth stats added. -#}
{% macro duckdb__get_catalog(information_schema, schemas) -%}
  {% set query %}
    with tables as (
      {{ dbt.duckdb__get_catalog_tables_sql(information_schema) }}
      {{ dbt.duckdb__get_catalog_schemas_where_clause_sql(schemas) }}
    ),
    columns as (
      {{ dbt.duckdb__get_catalog_columns_sql(information_schema) }}
      {{ dbt.duckdb__get_catalog_schemas_where_clause_sql(schemas) }}
    )
    {{ dbt_dpsynth.dpsynth_catalog_stats(dbt.duckdb__get_catalog_results_sql()) }}
  {% endset %}
  {{ return(run_query(query)) }}
{%- endmacro %}

{% macro duckdb__get_catalog_relations(information_schema, relations) -%}
  {% set query %}
    with tables as (
      {{ dbt.duckdb__get_catalog_tables_sql(information_schema) }}
      {{ dbt.duckdb__get_catalog_relations_where_clause_sql(relations) }}
    ),
    columns as (
      {{ dbt.duckdb__get_catalog_columns_sql(information_schema) }}
      {{ dbt.duckdb__get_catalog_relations_where_clause_sql(relations) }}
    )
    {{ dbt_dpsynth.dpsynth_catalog_stats(dbt.duckdb__get_catalog_results_sql()) }}
  {% endset %}
  {{ return(run_query(query)) }}
{%- endmacro %}
