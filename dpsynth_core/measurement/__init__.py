"""The measurement layer: the only code that touches raw rows."""

from .binning import Binning, CategoricalBinning, NumericBinning
from .engine import Engine, dense_from_groups
from .pandas_engine import PandasEngine
from .private_table import PrivateTable, threshold_for

__all__ = ["Binning", "CategoricalBinning", "Engine", "NumericBinning", "PandasEngine", "PrivateTable",
           "dense_from_groups", "threshold_for"]
