"""Deep DP generators (dp-ctgan, dp-tvae) trained with DP-SGD through Opacus. See docs/deep_generators.md.

The release's (epsilon, delta) is split by `SynthesisConfig.budget_plan` (zCDP preprocessing share + DP-SGD share);
the generators receive `sgd_epsilon`/`sgd_delta` as options and their preprocessing rho in `fit`.
"""
