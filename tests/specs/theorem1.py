"""Theorem 1 (linear VAE, unlearnable diagonal Sigma) as pytest items, one per claim, through the package's
pytest plugin (pyproject: ``verifier_specs``): each claim's search under the active Hypothesis profile.
Remark 2 as printed is a documented erratum: an xfail(strict) while ``remark2_corrected`` verifies."""
from theorems.theorem1_vae_fixed_sigma import THEOREM  # noqa: F401
