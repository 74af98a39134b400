"""End-to-end DP preprocessing: every domain is declared public or discovered with a charged DP mechanism."""

from .domains import ColumnDomain, PreprocessOptions, TableDomain, resolve_domains

__all__ = ["ColumnDomain", "PreprocessOptions", "TableDomain", "resolve_domains"]
