"""DP domain resolution (what each column's codes mean) and decoding back into the source's representation."""

from .domains import DEFAULT_OTHER_LABEL, ColumnDomain, TableDomain
from .plan import STAGE_WEIGHTS, DomainPlan, column_stages, domain_share_for, infers_kind
from .resolve import PreprocessOptions, resolve_domains

__all__ = ["ColumnDomain", "DEFAULT_OTHER_LABEL", "DomainPlan", "PreprocessOptions", "STAGE_WEIGHTS", "TableDomain",
           "column_stages", "domain_share_for",
           "infers_kind", "resolve_domains"]
