"""Release evidence: utility and privacy metrics of a synthetic table against its real train sample and a holdout.

NOT differentially private: every metric here is an exact statistic of real rows. The report is for the people who
sign off a release; the synthetic table's (epsilon, delta) guarantee does not cover it. Works on pandas DataFrames;
the caller decides where the real rows come from (the measurement layer's boundary).
"""

from .evaluate import evaluate
from .gates import EvaluationOptions, GateConfig, load_gates
from .prepared import Prepared, prepare
from .result import METRIC_RECORD_COLUMNS, EvaluationReport, MetricResult

__all__ = ["evaluate", "EvaluationOptions", "GateConfig", "load_gates", "Prepared", "prepare",
           "METRIC_RECORD_COLUMNS", "EvaluationReport", "MetricResult"]
