"""PII scan: which columns of the owner's own table look like direct identifiers or quasi-identifiers.

An owner-facing pre-release check (`dpsynth scan INPUT`, and the dbt run-operation `dpsynth_scan_relation`). It reads
raw values and prints counts of them, so **its output is not differentially private** and stays with the data owner.
It **never feeds a release**: a column kind chosen from the data would itself leak (whether a column holds emails is a
fact about the rows), so dpsynth never picks kinds from values; the owner copies the suggested spec by hand.

What it reports, per column (nothing for ordinary attributes):
* by name: record ids (`patient_id`, `caseid`, `uuid` ...) -> `identifier` (fresh surrogate keys); contact and
  national-id fields (`email`, `phone`, `ssn`, `iban`, `address`, person names ...) -> drop; fine-grained
  quasi-identifiers (date of birth, postcode/zip, geo-coordinates) -> generalise; free-text fields -> drop;
* by type: binary columns -> drop (they cannot be modelled);
* by value (text columns): emails, phone numbers (10-15 digits), US SSNs (valid area/group/serial), IBANs (mod-97
  checksum), IPv4/IPv6 addresses, payment card numbers (Luhn and issuer prefix), person names (a common first name
  followed by a capitalised word, or "Last, First");
* high uniqueness: a text or integer column with a distinct value in nearly every row -> `identifier`.

Coarse demographics (sex, age in years, a state) are quasi-identifiers in the classic sense, but DP synthesis
protects them like every modelled column and they are not reported; the generalise suggestion is kept for columns
whose resolution singles people out (exact birth dates, full postcodes, coordinates), where coarsening also keeps
the domain small enough to model. Continuous measurements and timestamps are naturally unique and are not reported
for uniqueness.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pandas as pd

NOTICE = ("NOT differentially private: this report describes the raw data (counts of matching values). Keep it with "
          "the data owner; never attach it to a release. It does not feed a release: dpsynth never chooses column "
          "kinds from the data (that choice would itself leak); review the suggestions and copy what you agree with "
          "into the spec by hand.")

DIRECT = "direct_identifier"
QUASI = "quasi_identifier"
IDENTIFIER, DROP, GENERALISE = "identifier", "drop", "generalise"
_SUGGESTION_RANK = {DROP: 3, IDENTIFIER: 2, GENERALISE: 1}

DOMINANT_SHARE = 0.5       # a pattern in at least half the non-null values characterises the column
PRESENT_SHARE = 0.01       # ... in at least 1% (and 3 values) of them: the column contains such values
PRESENT_MIN = 3
UNIQUE_SHARE = 0.9         # distinct / non-null at or above this: one value per row, an identifier
UNIQUE_MIN_ROWS = 50
FREE_TEXT_LENGTH = 30      # mean length of a mostly-distinct text column above this: free text

# --------------------------------------------------------------------------------------------------------------------
# Value patterns: a candidate regex (Python), an optional validator (checksums), and the portable SQL regex the dbt
# macro counts (shape only: SQL cannot run the checksums; keep in sync with macros/governance/dpsynth_scan_relation.sql,
# a test compares them). SQL patterns use POSIX classes only ([0-9], no \d or lookarounds) so every engine runs them.
# --------------------------------------------------------------------------------------------------------------------


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(candidate: str) -> bool:
    digits = re.sub(r"[ -]", "", candidate)
    if not digits.isdigit() or not 13 <= len(digits) <= 19 or not _luhn(digits):
        return False
    # issuer prefixes: Visa 4, Mastercard 51-55 / 2221-2720, Amex 34/37, Discover 6011/65, JCB 35, Diners 36/38
    return bool(re.match(r"^(4|5[1-5]|2[2-7]|3[4-8]|6011|65)", digits))


def _iban(candidate: str) -> bool:
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _ssn(candidate: str) -> bool:
    area, group, serial = candidate.split("-")
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


def _phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if not 10 <= len(digits) <= 15:
        return False
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", candidate.strip()):     # a date, not a phone
        return False
    if re.fullmatch(r"(\d{1,3}\.){3}\d{1,3}", candidate.strip()):    # an IPv4 address
        return False
    return not _card(candidate)


def _ip(candidate: str) -> bool:
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


# Common given names (US SSA and UK ONS top lists); a value counts as a person's name when one of them is followed by
# a capitalised word ("Mary Smith", "Dr John A. Smith", "... and James Brown said"), or as "Smith, Mary".
FIRST_NAMES = frozenset("""
James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew Anthony Mark Donald
Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy Ronald Edward Jason Jeffrey Ryan Jacob Gary Nicholas Eric
Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel Gregory Alexander Frank Patrick Raymond Jack Dennis Jerry
Tyler Aaron Jose Adam Nathan Henry Douglas Zachary Peter Kyle Ethan Walter Noah Jeremy Christian Keith Roger Terry
Gerald Harold Sean Austin Carl Arthur Lawrence Dylan Jesse Jordan Bryan Billy Joe Bruce Gabriel Logan Albert Willie Alan
Juan Wayne Elijah Randy Roy Vincent Ralph Eugene Russell Bobby Mason Philip Louis Harry Oliver Jamie Liam Lucas Leo
Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty Margaret Sandra Ashley
Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah Stephanie Rebecca Sharon Laura Cynthia Kathleen Amy
Angela Shirley Anna Brenda Pamela Emma Nicole Helen Samantha Katherine Christine Debra Rachel Carolyn Janet Catherine
Maria Heather Diane Ruth Julie Olivia Joyce Virginia Victoria Kelly Lauren Christina Joan Evelyn Judith Megan Andrea
Cheryl Hannah Jacqueline Martha Gloria Teresa Ann Sara Madison Frances Kathryn Janice Jean Abigail Alice Judy Sophia
Grace Denise Amber Doris Marilyn Danielle Beverly Isabella Theresa Diana Natalie Brittany Charlotte Marie Kayla Alexis
Lori Ava Mia Amelia Isla Poppy Sophie Lily Jessica Chloe Ella Freya Ruby Alfie Charlie Harry Archie Isaac Muhammad
""".split())
_NAME_WORD = r"[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?"
_GIVEN_THEN_NAME = re.compile(rf"\b({_NAME_WORD})\s+(?:[A-Z]\.?\s+)?{_NAME_WORD}\b")
_LAST_COMMA_FIRST = re.compile(rf"^\s*{_NAME_WORD},\s*({_NAME_WORD})\b")


def _has_person_name(value: str) -> bool:
    match = _LAST_COMMA_FIRST.match(value)
    if match and match.group(1) in FIRST_NAMES:
        return True
    return any(m.group(1) in FIRST_NAMES for m in _GIVEN_THEN_NAME.finditer(value))


@dataclass(frozen=True)
class ValuePattern:
    """One kind of identifying value: how it is found, what it means, what to do with a column full of it."""

    name: str
    description: str
    regex: re.Pattern | None
    validate: Callable[[str], bool] | None
    sql: str | None                     # portable shape regex for the dbt macro; None = not counted in SQL
    role: str = DIRECT
    suggestion: str = DROP

    def matches(self, value: str) -> bool:
        if self.regex is None:
            return bool(self.validate and self.validate(value))
        return any(self.validate is None or self.validate(m.group(0)) for m in self.regex.finditer(value))


PATTERNS: dict[str, ValuePattern] = {p.name: p for p in (
    ValuePattern("email", "email addresses", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), None,
                 "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+[.][A-Za-z]{2,}"),
    ValuePattern("phone", "phone numbers", re.compile(r"(?<![\w+])\+?\d[\d ().-]{7,20}\d(?!\w)"), _phone,
                 "(^|[^0-9])([+][0-9]{1,3}[ .-]?)?[(]?[0-9]{3}[)]?[ .-]?[0-9]{3}[ .-]?[0-9]{4}([^0-9]|$)"),
    ValuePattern("us_ssn", "US social security numbers", re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)"), _ssn,
                 "(^|[^0-9])[0-9]{3}-[0-9]{2}-[0-9]{4}([^0-9]|$)"),
    ValuePattern("iban", "IBANs (checksum verified)",
                 re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])"),
                 _iban, "(^|[^A-Za-z0-9])[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}([^A-Za-z0-9]|$)"),
    ValuePattern("ip_address", "IP addresses",
                 re.compile(r"(?<![\w.:])(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})"
                            r"(?![\w.:])"), _ip,
                 "(^|[^0-9.])([0-9]{1,3}[.]){3}[0-9]{1,3}([^0-9.]|$)"),
    ValuePattern("credit_card", "payment card numbers (Luhn checksum)",
                 re.compile(r"(?<![\d-])\d{4}(?:[ -]?\d{4}){2}[ -]?\d{1,7}(?![\d-])"), _card,
                 "(^|[^0-9])[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{1,7}([^0-9]|$)"),
    ValuePattern("person_name", "person names (a common given name followed by a capitalised word)", None,
                 _has_person_name, None),
)}
SQL_PATTERNS: dict[str, str] = {name: p.sql for name, p in PATTERNS.items() if p.sql is not None}

# --------------------------------------------------------------------------------------------------------------------
# Name rules, first match wins: (regex on the normalised name, role, suggestion, reason). The normalised name is the
# column name lower-cased with camelCase and separators turned into single underscores, framed by underscores
# (`PatientID` -> `_patient_id_`), so `_id_` matches a whole word and `caseid` still matches its compact form.
# --------------------------------------------------------------------------------------------------------------------
_ID_OWNERS = ("case|patient|person|user|customer|client|member|account|subject|employee|student|record|visit|claim|"
              "order|encounter|session|device|participant|household|policy|transaction|row|contact|respondent")
NAME_RULES: tuple[tuple[re.Pattern, str, str, str], ...] = tuple((re.compile(p), role, s, why) for p, role, s, why in (
    (r"_e_?mail(_|address)", DIRECT, DROP, "name suggests an email address"),
    (r"_(phone|telephone|mobile|cellphone|fax|msisdn)(_|number)", DIRECT, DROP, "name suggests a phone number"),
    ((r"_(ssn|social_?security|nino|national_?(id|insurance)|passport|tax_?id|tin|nhs_?(no|number)|medicare|"
      r"drivers?_?licen[cs]e|licen[cs]e_?(no|number))_"), DIRECT, DROP, "name suggests a national id"),
    ((r"_(iban|bic|swift|credit_?card|card_?(no|number)|cc_?(no|number)|account_?(no|number)|bank_?account|"
      r"routing_?number)_"), DIRECT, DROP, "name suggests a bank or card number"),
    (r"_(ip|ip_?address|mac_?address|imei|cookie|device_?fingerprint)_", DIRECT, DROP,
     "name suggests a network or device identifier"),
    (r"_(first|last|full|given|family|middle|maiden|sur|nick)_?name_", DIRECT, DROP, "name suggests a person's name"),
    (r"^_((patient|customer|person|user|contact|client|member)_?)?(name|surname|forename)_$", DIRECT, DROP,
     "name suggests a person's name"),
    (r"_((street|home|postal|mailing|billing|shipping|email)_)?(address|addr|street)(_line_?\d*)?_", DIRECT, DROP,
     "name suggests a street address"),
    (r"_(dob|birth_?date|date_?of_?birth|birthday)_", QUASI, GENERALISE,
     "name suggests a date of birth (generalise to a birth year or age band)"),
    (r"_(zip|zip_?code|postcode|post_?code|postal_?code)_", QUASI, GENERALISE,
     "name suggests a full postcode (generalise to its first characters or a region)"),
    (r"_(lat|latitude|lon|lng|longitude|geo_?location|coordinates?)_", QUASI, GENERALISE,
     "name suggests geo-coordinates (generalise to a coarse grid or region)"),
    (r"_(notes?|comments?|free_?text|narrative|remarks?)_$", DIRECT, DROP,
     "name suggests free text (which can hold any identifier)"),
    (rf"_(({_ID_OWNERS})_?)?(id|uuid|guid|mrn|key)_$", DIRECT, IDENTIFIER, "name suggests a record identifier"),
    (rf"_({_ID_OWNERS})_?(id|uuid|guid|no|number|num)_$", DIRECT, IDENTIFIER, "name suggests a record identifier"),
    (r"_(uuid|guid|mrn|pk)_", DIRECT, IDENTIFIER, "name suggests a record identifier"),
))


def normalise_name(name: str) -> str:
    """`PatientID` -> `_patient_id_`, `date-of-birth` -> `_date_of_birth_`, `caseid` -> `_caseid_`."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name))
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", spaced)
    return "_" + re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_") + "_"


def _by_name(name: str) -> tuple[str, str, str] | None:
    normal = normalise_name(name)
    for pattern, role, suggestion, reason in NAME_RULES:
        if pattern.search(normal):
            return role, suggestion, reason
    return None


# --------------------------------------------------------------------------------------------------------------------
# Scan
# --------------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ColumnFinding:
    """What the scan found about one column; `role` None means nothing to report."""

    column: str
    dtype: str
    non_null: int
    distinct: int
    matches: Mapping[str, int] = field(default_factory=dict)   # pattern -> values matching (non-zero only)
    role: str | None = None
    suggestion: str | None = None
    reasons: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return self.role is not None

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "dtype": self.dtype, "non_null": self.non_null, "distinct": self.distinct,
                "matches": dict(self.matches), "role": self.role, "suggestion": self.suggestion,
                "reasons": list(self.reasons)}


@dataclass(frozen=True)
class ScanReport:
    table: str
    rows: int
    findings: tuple[ColumnFinding, ...]
    notice: str = NOTICE

    @property
    def flagged(self) -> tuple[ColumnFinding, ...]:
        return tuple(f for f in self.findings if f.flagged)

    def suggested_spec(self) -> dict[str, dict[str, str]]:
        """`{column: {kind: identifier}}` for the columns to keep as surrogate keys (what a spec can express)."""
        return {f.column: {"kind": "identifier"} for f in self.flagged if f.suggestion == IDENTIFIER}

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table, "rows": self.rows, "notice": self.notice,
                "findings": [f.to_dict() for f in self.findings], "suggested_spec": self.suggested_spec()}

    def to_yaml(self, style: str = "spec") -> str:
        """The suggested spec as YAML to copy by hand: `spec` (`--spec FILE` of the CLI) or `dbt` (schema.yml
        columns with meta.dpsynth). Columns to drop or generalise are comments: a spec cannot drop a column."""
        lines = ["# dpsynth scan suggestions (" + self.table + "): review before copying; not applied automatically."]
        flagged = self.flagged
        keep = [f for f in flagged if f.suggestion == IDENTIFIER]
        if style == "dbt":
            lines.append("columns:")
            for f in keep:
                reasons = "; ".join(f.reasons)
                lines += [f"  - name: {f.column}", f"    meta: {{dpsynth: {{kind: identifier}}}}   # {reasons}"]
        elif style == "spec":
            lines.append("columns:" + ("" if keep else " {}"))
            lines += [f"  {f.column}: {{kind: identifier}}   # {'; '.join(f.reasons)}" for f in keep]
        else:
            raise ValueError(f"style must be 'spec' or 'dbt', got {style!r}")
        for suggestion, header in ((DROP, "drop before synthesis (leave it out of the model's input SELECT):"),
                                   (GENERALISE, "generalise upstream (compute a coarser column, declare its domain):")):
            chosen = [f for f in flagged if f.suggestion == suggestion]
            if chosen:
                lines.append(f"# {header}")
                lines += [f"#   {f.column}: {'; '.join(f.reasons)}" for f in chosen]
        return "\n".join(lines) + "\n"

    def to_text(self, style: str = "spec") -> str:
        """The report for a terminal: the notice, one line per flagged column, then `to_yaml(style)`."""
        out = [f"dpsynth scan {self.table}: {self.rows} rows scanned, {len(self.findings)} columns.", self.notice, ""]
        width = max([len(f.column) for f in self.findings] + [6])
        for f in self.flagged:
            out.append(f"  {f.column:<{width}}  {f.role:<17}  -> {f.suggestion:<10}  {'; '.join(f.reasons)}")
        quiet = len(self.findings) - len(self.flagged)
        out.append(f"  ({quiet} other column{'s' if quiet != 1 else ''}: nothing found)" if self.flagged
                   else "  nothing found: no column looks like an identifier.")
        out += ["", self.to_yaml(style)]
        return "\n".join(out)


def _text_values(series: pd.Series) -> pd.Series | None:
    """The non-null values of a text column as str (None for non-text columns)."""
    if pd.api.types.is_string_dtype(series.dtype) or series.dtype == object:
        values = series.dropna()
        if values.map(lambda v: isinstance(v, (bytes, bytearray, memoryview))).any():
            return None
        return values.astype(str)
    return None


def _is_binary(series: pd.Series) -> bool:
    if series.dtype != object:
        return False
    values = series.dropna()
    return bool(len(values)) and values.map(lambda v: isinstance(v, (bytes, bytearray, memoryview))).all()


def scan_column(name: str, series: pd.Series) -> ColumnFinding:
    """Scan one column: name rules, type, value patterns, uniqueness; the strongest suggestion wins."""
    non_null = int(series.notna().sum())
    try:
        distinct = int(series.nunique(dropna=True))
    except TypeError:                                   # unhashable values (nested)
        distinct = non_null
    reasons: list[tuple[str, str, str]] = []            # (role, suggestion, reason)
    by_name = _by_name(name)
    if by_name:
        reasons.append(by_name)
    if _is_binary(series):
        reasons.append((DIRECT, DROP, "binary values cannot be modelled"))
    matches: dict[str, int] = {}
    text = _text_values(series)
    if text is not None and len(text):
        unique_text = pd.Series(text.unique())
        counts = text.value_counts()
        for pattern in PATTERNS.values():
            hit = unique_text[unique_text.map(pattern.matches)]
            count = int(counts[hit].sum()) if len(hit) else 0
            if count:
                matches[pattern.name] = count
            if count >= max(PRESENT_MIN, PRESENT_SHARE * len(text)):
                share = count / len(text)
                what = "in" if share >= DOMINANT_SHARE else "inside text of"
                reasons.append((pattern.role, pattern.suggestion,
                                f"{pattern.description} {what} {count} of {len(text)} values"))
    numeric_or_time = (pd.api.types.is_float_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(series.dtype)
                       or pd.api.types.is_bool_dtype(series.dtype))
    if not numeric_or_time and non_null >= UNIQUE_MIN_ROWS and distinct >= UNIQUE_SHARE * non_null:
        mean_length = float(text.str.len().mean()) if text is not None and len(text) else 0.0
        if text is not None and mean_length > FREE_TEXT_LENGTH and text.str.contains(" ").mean() > 0.5:
            what = f"free text: {distinct} distinct of {non_null} values, mean length {mean_length:.0f}"
            reasons.append((DIRECT, DROP, what))
        elif by_name and by_name[1] == GENERALISE:
            reasons.append((QUASI, GENERALISE, f"{distinct} distinct of {non_null} values (nearly one per row)"))
        else:
            reasons.append((DIRECT, IDENTIFIER, f"{distinct} distinct of {non_null} values (one per row)"))
    if not reasons:
        return ColumnFinding(name, str(series.dtype), non_null, distinct, matches)
    role = DIRECT if any(r[0] == DIRECT for r in reasons) else QUASI
    suggestion = max((r[1] for r in reasons), key=_SUGGESTION_RANK.__getitem__)
    return ColumnFinding(name, str(series.dtype), non_null, distinct, matches, role, suggestion,
                         tuple(r[2] for r in reasons))


def scan_frame(frame: pd.DataFrame, *, table: str = "table") -> ScanReport:
    """Scan every column of `frame` (the owner's raw table, or a sample of it). Not DP; never feeds a release."""
    return ScanReport(table, len(frame), tuple(scan_column(str(c), frame[c]) for c in frame.columns))
