"""Private-PGM style graphical models: domains, factors, junction trees, estimation and sampling.

Reference: McKenna, Sheldon, Miklau (2019), "Graphical-model based estimation and inference for
differential privacy" (library ``mbi``). Numpy only.
"""

from .domain import Domain
from .factor import Factor
from .inference import Measurement, estimate, estimate_total
from .junction_tree import JunctionTree, build_junction_tree, hypothetical_model_size
from .model import GraphicalModel

__all__ = [
    "Domain",
    "Factor",
    "GraphicalModel",
    "JunctionTree",
    "Measurement",
    "build_junction_tree",
    "estimate",
    "estimate_total",
    "hypothetical_model_size",
]
