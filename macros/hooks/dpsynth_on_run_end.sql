{#-
  The package's on-run-end hook: stamps every Python model built successfully in this invocation that has a released
  ledger row (same comment as the dpsynth_comment_release post-hook). So a project that only writes the three-line
  model still gets `dpsynth: epsilon=...` on its tables; the post-hook stamps earlier, while the run goes on.
-#}
{% macro dpsynth_on_run_end(results) %}
  {{ return(adapter.dispatch('dpsynth_on_run_end', 'dbt_dpsynth')(results)) }}
{% endmacro %}

{% macro default__dpsynth_on_run_end(results) %}
  {% if execute %}
    {% for res in results if res.status == 'success' and res.node.resource_type == 'model'
                            and res.node.language == 'python' and res.node.relation_name %}
      {%- set release = dbt_dpsynth.dpsynth_release_for(res.node.relation_name) -%}
      {%- if release is not none -%}
        {% do run_query(dbt_dpsynth.dpsynth_comment_release(res.node.relation_name)) %}
      {%- endif -%}
    {% endfor %}
  {% endif %}
  select 1 as dpsynth_releases_stamped
{% endmacro %}
