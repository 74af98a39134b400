{#-
  The package's second on-run-end hook: names the release reports the Python models of this invocation wrote (one
  per release they made or reused; rows of `dpsynth_reports`), so the end of a `dbt build` says where they are. The
  reports of evaluated releases hold non-DP measurements of real rows: handle them like the metrics table.
-#}
{% macro dpsynth_report_paths() %}
  {{ return(adapter.dispatch('dpsynth_report_paths', 'dbt_dpsynth')()) }}
{% endmacro %}

{% macro default__dpsynth_report_paths() %}
  {% if execute %}
    {#- the table exists: the package's on-run-start hook creates it (dpsynth_create_ledger) -#}
    {%- set reports = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_reports') -%}
    {%- set found = run_query("select path from " ~ reports ~ " where invocation_id = '" ~ invocation_id
                              ~ "' order by written_at") -%}
    {%- if found.rows | length > 0 -%}
      {% do log("dbt_dpsynth: " ~ (found.rows | length) ~ " release report(s) of this invocation (HTML; .json and .md beside; sensitive where a release was evaluated): " ~ (found.columns[0].values() | join(", ")), info=true) %}
    {%- endif -%}
  {% endif %}
  select 1 as dpsynth_reports_listed
{% endmacro %}
