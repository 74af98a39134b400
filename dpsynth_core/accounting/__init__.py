"""Privacy accounting: zCDP conversions, the per-release budget, and composition across releases."""

from .budget import PrivacyBudget, SpendRecord
from .zcdp import cdp_delta, cdp_eps, cdp_rho, exponential_eps_for_rho, exponential_rho, gaussian_rho, sigma_for_rho

__all__ = ["PrivacyBudget", "SpendRecord", "cdp_delta", "cdp_eps", "cdp_rho", "exponential_eps_for_rho",
           "exponential_rho", "gaussian_rho", "sigma_for_rho"]
