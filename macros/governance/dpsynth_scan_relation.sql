{#-
  Owner-facing PII scan of a relation in the warehouse (run-operation): per column, the non-null and distinct counts
  and, for text columns, how many values contain an email, phone number, US SSN, IBAN, IP address or card number
  (shape only: the Luhn / mod-97 checksums and the person-name heuristic of `dpsynth scan` run in Python).

    dbt run-operation dpsynth_scan_relation --args '{relation: "main.patients"}'

  `relation`: "[database.]schema.identifier" or a Relation. `columns`: optional list restricting the scan.
  The output is NOT differentially private (exact counts of raw values): keep it with the data owner. It does not feed
  a release: nothing here sets a column kind; copy the spec you decide on by hand. The patterns must equal
  dpsynth_core.pii_scan.SQL_PATTERNS (a test compares them).
-#}
{% macro dpsynth_scan_relation(relation, columns=none) %}
  {{ return(adapter.dispatch('dpsynth_scan_relation', 'dbt_dpsynth')(relation, columns)) }}
{% endmacro %}

{% macro default__dpsynth_scan_relation(relation, columns=none) %}
  {%- set patterns = {
      'email': '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+[.][A-Za-z]{2,}',
      'phone': '(^|[^0-9])([+][0-9]{1,3}[ .-]?)?[(]?[0-9]{3}[)]?[ .-]?[0-9]{3}[ .-]?[0-9]{4}([^0-9]|$)',
      'us_ssn': '(^|[^0-9])[0-9]{3}-[0-9]{2}-[0-9]{4}([^0-9]|$)',
      'iban': '(^|[^A-Za-z0-9])[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}([^A-Za-z0-9]|$)',
      'ip_address': '(^|[^0-9.])([0-9]{1,3}[.]){3}[0-9]{1,3}([^0-9.]|$)',
      'credit_card': '(^|[^0-9])[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{1,7}([^0-9]|$)',
  } -%}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {%- if relation is string -%}
    {%- set parts = relation.split('.') -%}
    {%- if parts | length == 2 -%}
      {%- set found = adapter.get_relation(database=target.database, schema=parts[0], identifier=parts[1]) -%}
    {%- elif parts | length == 3 -%}
      {%- set found = adapter.get_relation(database=parts[0], schema=parts[1], identifier=parts[2]) -%}
    {%- else -%}
      {{ exceptions.raise_compiler_error("dbt_dpsynth: dpsynth_scan_relation: relation '" ~ relation ~ "' is not [database.]schema.identifier. Fix: pass --args '{relation: \"main.my_table\"}'.") }}
    {%- endif -%}
    {%- if found is none -%}
      {{ exceptions.raise_compiler_error("dbt_dpsynth: dpsynth_scan_relation: relation '" ~ relation ~ "' does not exist in " ~ target.database ~ ". Fix: pass the schema and name of an existing table or view.") }}
    {%- endif -%}
  {%- else -%}
    {%- set found = relation -%}
  {%- endif -%}
  {%- set all_columns = adapter.get_columns_in_relation(found) -%}
  {%- set scanned = [] -%}
  {%- for col in all_columns if columns is none or col.name in columns -%}
    {%- do scanned.append(col) -%}
  {%- endfor -%}
  {%- set selects = ["count(*) as n_rows"] -%}
  {%- for col in scanned -%}
    {%- set quoted = adapter.quote(col.name) -%}
    {%- do selects.append("count(" ~ quoted ~ ") as c" ~ loop.index ~ "_non_null") -%}
    {%- do selects.append("count(distinct " ~ quoted ~ ") as c" ~ loop.index ~ "_distinct") -%}
    {%- if col.is_string() -%}
      {%- set outer = loop -%}
      {%- for name, pattern in patterns.items() -%}
        {%- do selects.append("sum(case when " ~ dbt_dpsynth.dpsynth_regex_contains(quoted, pattern) ~ " then 1 else 0 end) as c" ~ outer.index ~ "_" ~ name) -%}
      {%- endfor -%}
    {%- endif -%}
  {%- endfor -%}
  {%- set result = run_query("select " ~ (selects | join(", ")) ~ " from " ~ found) -%}
  {%- set row = result.rows[0] -%}
  {%- set lines = ["dpsynth scan " ~ found ~ ": " ~ row['n_rows'] ~ " rows, " ~ (scanned | length) ~ " columns.",
                   "NOT differentially private: exact counts of raw values; keep this with the data owner. It does not feed a release: copy the spec you decide on by hand (dpsynth never chooses column kinds from data)."] -%}
  {%- for col in scanned -%}
    {%- set i = loop.index -%}
    {%- set hits = [] -%}
    {%- if col.is_string() -%}
      {%- for name in patterns -%}
        {%- set n = row['c' ~ i ~ '_' ~ name] or 0 -%}
        {%- if n > 0 -%}{%- do hits.append(name ~ "=" ~ n) -%}{%- endif -%}
      {%- endfor -%}
    {%- endif -%}
    {%- do lines.append("  " ~ col.name ~ " (" ~ col.data_type ~ "): non_null=" ~ row['c' ~ i ~ '_non_null'] ~ " distinct=" ~ row['c' ~ i ~ '_distinct'] ~ ("; matches: " ~ (hits | join(", ")) if hits else "")) -%}
  {%- endfor -%}
  {%- do log(lines | join("\n"), info=True) -%}
  {{ return(lines) }}
{% endmacro %}
