{#-
  The governance verdict on publishing `release` (the candidate's released ledger row, from dpsynth_release_verdict)
  as a released model: the governance block in force for the candidate (its newest released-or-reused row's
  `governance_json`: usage terms, expiry, watermark fingerprint, require_approval) and
  - expiry and withdrawal: a release past its `expires_at`, or withdrawn (`dpsynth_withdraw`), is refused;
  - approval: when `require_approval` (this argument, or the candidate's `dpsynth.require_approval`) the release id
    needs a row in `dpsynth_approvals` (`dpsynth approve` / run-operation `dpsynth_approve`); the newest is returned.
  Returns {problem (none = may publish), governance (dict or none), governance_json, approval (dict or none),
  expires_at, require_approval}.
-#}
{% macro dpsynth_release_governance(candidate, release, require_approval=none) %}
  {{ return(adapter.dispatch('dpsynth_release_governance', 'dbt_dpsynth')(candidate, release, require_approval)) }}
{% endmacro %}

{% macro default__dpsynth_release_governance(candidate, release, require_approval) %}
  {%- set ledger = dbt_dpsynth.dpsynth_ledger_relation('dpsynth_ledger') -%}
  {%- set rid = release['release_id'] -%}
  {%- set newest = run_query("select governance_json, expires_at from " ~ ledger ~ " where release_id = '" ~ rid
                             ~ "' and status in ('released', 'reused') and target_relation = '"
                             ~ (candidate | string | replace("'", "''")) ~ "' order by finished_at desc limit 1") -%}
  {%- set text = newest.rows[0]['governance_json'] if newest.rows | length > 0 else none -%}
  {%- set expires_at = newest.rows[0]['expires_at'] if newest.rows | length > 0 else none -%}
  {%- set governance = fromjson(text) if text else none -%}
  {%- set required = (require_approval is sameas true) or ((governance or {}).get('require_approval') is sameas true) -%}
  {%- set approval = none -%}
  {%- set problem = none -%}
  {%- if required -%}
    {%- set found = run_query("select approved_by, approved_at, note, shown_kind, shown_sha256 from "
                              ~ dbt_dpsynth.dpsynth_ledger_relation('dpsynth_approvals') ~ " where release_id = '" ~ rid
                              ~ "' order by approved_at desc limit 1") -%}
    {%- if found.rows | length > 0 -%}
      {%- set approval = dict(zip(found.column_names, found.rows[0].values())) -%}
    {%- else -%}
      {%- set problem = "release " ~ rid ~ " of candidate " ~ candidate ~ " requires approval and has none. Fix: review its report, then `dpsynth approve <warehouse.duckdb> " ~ rid ~ " --by <name>` or `dbt run-operation dpsynth_approve --args '{release_id: " ~ rid ~ ", by: <name>}'`, and build again (the candidate is reused: no new charge)." -%}
    {%- endif -%}
  {%- endif -%}
  {%- set withdrawn = run_query("select error from " ~ ledger ~ " where release_id = '" ~ rid ~ "' and status = 'withdrawn' limit 1") -%}
  {%- if withdrawn.rows | length > 0 -%}
    {%- set problem = "release " ~ rid ~ " of candidate " ~ candidate ~ " was withdrawn (" ~ withdrawn.rows[0][0] ~ "). Fix: a new candidate release only if allowed (--vars '{dpsynth_refresh: [" ~ candidate.identifier ~ "]}'), or disable this model." -%}
  {%- elif expires_at is not none and expires_at <= dbt_dpsynth.dpsynth_utc_now() -%}
    {%- set problem = "release " ~ rid ~ " of candidate " ~ candidate ~ " expired at " ~ expires_at ~ " UTC. Fix: a new candidate release (--vars '{dpsynth_refresh: [" ~ candidate.identifier ~ "]}'), or a later expiry in its terms / expires_after_days." -%}
  {%- endif -%}
  {{ return({'problem': problem, 'governance': governance, 'governance_json': text, 'approval': approval,
             'expires_at': expires_at, 'require_approval': required}) }}
{% endmacro %}
