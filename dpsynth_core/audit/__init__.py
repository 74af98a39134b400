"""Empirical privacy audit: lower bounds on what a release actually leaks, to compare with what it claims.

- `bounds`: Clopper-Pearson bounds; `epsilon`: eps_LB = ln((TPR_lo - delta) / FPR_hi) from two worlds' scores
  (threshold chosen on a separate half, or a fixed grid with Bonferroni) and the perfect-attack ceiling;
- `gaussian`: mu audit of Gaussian measurements (Gaussian DP); `one_run`: Steinke-Nasr-Jagielski one-run audit;
- `design`, `capture`, `scores`, `harness`: end-to-end audits of the generators through `synthesize_table`;
- `mechanisms`: audits of each `PrivateTable` mechanism against its own budget charge.

A pass (eps_LB <= claimed epsilon) is evidence, not proof: it shows that these attacks on this canary found no
violation at this many runs. See docs/privacy_audit.md for the threat model.
"""

from .bounds import clopper_pearson, lower_bound, upper_bound
from .epsilon import EpsilonAudit, epsilon_lower_bound, perfect_attack_ceiling, scan_audit, split_audit
from .gaussian import MuAudit, gdp_audit, mu_for_rho
from .one_run import OneRunAudit, one_run_audit, one_run_epsilon, one_run_p_value

__all__ = ["EpsilonAudit", "MuAudit", "OneRunAudit", "clopper_pearson", "epsilon_lower_bound", "gdp_audit",
           "lower_bound", "mu_for_rho", "one_run_audit", "one_run_epsilon", "one_run_p_value",
           "perfect_attack_ceiling", "scan_audit", "split_audit", "upper_bound"]
