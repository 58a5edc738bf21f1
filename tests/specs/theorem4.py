"""Theorem 4 (linear VAE, learnable Sigma) as pytest items, one per claim, through the package's pytest
plugin (pyproject: ``verifier_specs``): each claim's search under the active Hypothesis profile."""
from theorems.theorem4_vae_learnable_sigma import THEOREM  # noqa: F401
