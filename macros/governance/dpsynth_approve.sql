{#-
  Approve a release, in the warehouse (the run-operation twin of `dpsynth approve FILE.duckdb RELEASE_ID --by NAME`):
    dbt run-operation dpsynth_approve --args '{release_id: <id or unique prefix>, by: ana, note: "checked the report"}'
  Appends one row to `dpsynth_approvals` (append-only: nothing updates or deletes it): who, when (UTC), the note, and
  what was shown: `report_sha256` (the SHA-256 of the report file the approver read, e.g. `sha256sum target/dpsynth/
  <model>-<id>.html`) when given, else the SHA-256 of the release record (the ledger's record_json). A model built with
  `dpsynth_release` from a candidate whose config says `require_approval: true` (or `dpsynth_release(..., require_approval=true)`) is built only
  when its candidate's release has such a row; the approval holds for that release id (reuses keep the id, a new
  release needs a new approval). An expired or withdrawn release cannot be approved.
-#}
{% macro dpsynth_approve(release_id, by, note=none, report_sha256=none) %}
  {{ return(adapter.dispatch('dpsynth_approve', 'dbt_dpsynth')(release_id, by, note, report_sha256)) }}
{% endmacro %}

{% macro default__dpsynth_approve(release_id, by, note, report_sha256) %}
  {%- if by is not string or by | trim == '' -%}
    {{ exceptions.raise_compiler_error("dbt_dpsynth: dpsynth_approve needs the approver's name. Fix: --args '{release_id: " ~ release_id ~ ", by: <your name>}'.") }}
  {%- endif -%}
  {%- if release_id is not string or (release_id | length) < 8 or modules.re.match('^[0-9a-fA-F-]+$', release_id) is none -%}
    {{ exceptions.raise_compiler_error("dbt_dpsynth: dpsynth_approve: release_id " ~ release_id ~ " is not a release id. Fix: copy it from `dpsynth ledger FILE` or the model's table comment (release_id=...), at least 8 characters.") }}
  {%- endif -%}
  {%- if report_sha256 is not none and modules.re.match('^[0-9a-f]{64}$', report_sha256 | string) is none -%}
    {{ exceptions.raise_compiler_error("dbt_dpsynth: dpsynth_approve: report_sha256 must be 64 lower-case hex digits (sha256sum of the report file). Fix: --args '{..., report_sha256: $(sha256sum REPORT.html | cut -c1-64)}'.") }}
  {%- endif -%}
  {% do dbt_dpsynth.dpsynth_create_ledger() %}
  {%- set ledger = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') -%}
  {%- set approvals = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_approvals') -%}
  {%- set found = run_query("select release_id, model, target_relation, expires_at from " ~ ledger ~ " where status = 'released' and release_id like '" ~ release_id ~ "%'") -%}
  {%- if found.rows | length != 1 -%}
    {{ exceptions.raise_compiler_error("dbt_dpsynth: dpsynth_approve: release_id " ~ release_id ~ " matches " ~ (found.rows | length) ~ " released ledger rows in " ~ ledger ~ ". Fix: pass the full release_id of a released row (`dpsynth ledger FILE`).") }}
  {%- endif -%}
  {%- set row = found.rows[0] -%}
  {%- set now = dbt_dpsynth.dpsynth_utc_now() -%}
  {%- if row['expires_at'] is not none and row['expires_at'] <= now -%}
    {{ exceptions.raise_compiler_error("dbt_dpsynth: dpsynth_approve: release " ~ row['release_id'] ~ " expired at " ~ row['expires_at'] ~ " UTC; approving it would publish nothing. Fix: make a new release (--vars '{dpsynth_refresh: [<model>]}') and approve that.") }}
  {%- endif -%}
  {%- set full_id = row['release_id'] -%}
  {%- if run_query("select 1 from " ~ ledger ~ " where status = 'withdrawn' and release_id = '" ~ full_id ~ "'").rows | length > 0 -%}
    {{ exceptions.raise_compiler_error("dbt_dpsynth: dpsynth_approve: release " ~ full_id ~ " was withdrawn; it cannot be approved. Fix: approve a new release.") }}
  {%- endif -%}
  {%- set approval_id = local_md5(full_id ~ by ~ now ~ invocation_id) -%}
  {%- set shown_kind = 'report' if report_sha256 is not none else 'release_record' -%}
  {%- set shown = "'" ~ report_sha256 ~ "'" if report_sha256 is not none else dbt_dpsynth.dpsynth_sha256('record_json') -%}
  {% call statement('dpsynth_approve', fetch_result=False, auto_begin=False) %}
    insert into {{ approvals }}
      ({% for c in ['approval_id', 'release_id', 'model', 'target_relation', 'approved_by', 'approved_at', 'note', 'shown_kind', 'shown_sha256', 'shown_path', 'source'] %}{{ dbt_dpsynth.dpsynth_column_name(c) }}{{ ", " if not loop.last }}{% endfor %})
    select '{{ approval_id }}', release_id, model, target_relation, '{{ by | replace("'", "''") }}',
           cast('{{ now.isoformat(sep=' ') }}' as timestamp),
           {{ "null" if note is none else "'" ~ (note | string | replace("'", "''")) ~ "'" }},
           '{{ shown_kind }}', {{ shown }}, null, 'run-operation dpsynth_approve'
    from {{ ledger }} where release_id = '{{ full_id }}' and status = 'released'
  {% endcall %}
  {% do adapter.commit() %}
  {% do log("dbt_dpsynth: approved release " ~ full_id ~ " of " ~ row['target_relation'] ~ " by " ~ by ~ " (shown: " ~ shown_kind ~ "); the next build of its dpsynth_release model publishes it.", info=true) %}
{% endmacro %}
