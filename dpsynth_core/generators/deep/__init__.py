"""Deep DP generators (dp-ctgan, dp-tvae) trained with DP-SGD through Opacus. See docs/deep_generators.md.

The release's `BudgetPlan` splits (epsilon, delta) into a zCDP part (domains + the generator's DP histograms) and a
DP-SGD share; the generator's budget node carries the DP-SGD allowance, charged when the training rows are handed out.
torch and opacus are the `[deep]` extra.
"""
