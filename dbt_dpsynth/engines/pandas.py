"""pandas engine adapter: `dpsynth_core.measurement.pandas_engine.PandasEngine` for in-memory DataFrames (tests, small
files, evaluation). Not a push-down engine: a dbt model passing a pandas frame is refused (`pushdown_only`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dpsynth_core.measurement.pandas_engine import PandasEngine

from .base import RelationEngine


class PandasFrameEngine(RelationEngine, PandasEngine):
    """`PandasEngine` as an engine adapter (same answers, same dialect)."""

    relation_types = ("pandas.DataFrame",)
    pushdown = False

    @classmethod
    def accepts(cls, relation: Any) -> bool:
        return isinstance(relation, pd.DataFrame)

    @classmethod
    def from_relation(cls, relation: pd.DataFrame, relation_name: str, session: Any = None) -> "PandasFrameEngine":
        return cls(relation, relation_name)
