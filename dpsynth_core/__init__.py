"""dpsynth_core: the warehouse-agnostic differentially private synthesis engine.

Nothing in this package imports DuckDB, dbt, Snowpark or Spark: engines reach raw data only through the
`dpsynth_core.measurement.Engine` protocol, and only `PrivateTable` calls an engine.
"""

__version__ = "0.1.0"
