"""Wrong versions of the fixed-Sigma CVAE closed form (theorems/variant_cvae_fixed_sigma.py).

Each must be REFUTED by the same machinery that verifies the derived form; ``WITNESSES`` holds an
instance per mutant on which the wrong form and the right one differ by construction (derived from
the thresholds, not found by search), so that a report can show the refutation in one minimisation.
"""
from __future__ import annotations

import sympy as sp

from theorems.linear_vae import beta, c, omega, sigma_p, theta
from theorems.theorem2_cvae_learnable_sigma import lambda2
from theorems.variant_cvae_fixed_sigma import THEOREM, T, d1
from verifier.experiments.cvae_fixed_vs_learnable import paired_instance
from verifier.spec import SortedVector, SortingBasis


def _with_gap(gap: sp.Expr, name: str):
    """The closed forms of omega and lambda2 with sqrt(theta) - sqrt(beta) c sigma' replaced by ``gap``."""
    omega_m = sp.sqrt(sp.Max(0, sp.sqrt(beta) * c / sigma_p * gap))
    lambda_m = sp.sqrt(sp.Max(0, sigma_p / (sp.sqrt(beta) * c) * gap))
    return THEOREM.replace_closed_form(omega, omega_m, name=name).replace_closed_form(lambda2, lambda_m)


def mutants() -> dict:
    return {
        # the largest theta_i paired with the largest sigma'_i (Theorem 1 pairs it with the smallest)
        "wrong_pairing": THEOREM.replace_indexed(sigma_p, SortedVector("sigma", ascending=False), name="wrong_pairing")
                                .replace_basis(T, SortingBasis("sigma", d1, ascending=False)),
        # the threshold sqrt(beta) c sigma'_i on sqrt(theta_i) written without its sqrt(beta)
        "threshold_without_sqrt_beta": _with_gap(sp.sqrt(theta) - c * sigma_p, "threshold_without_sqrt_beta"),
        # Theorem 1 applied verbatim: theta_i where the CVAE reduction gives sqrt(theta_i)
        "theta_for_sqrt_theta": _with_gap(theta - sp.sqrt(beta) * c * sigma_p, "theta_for_sqrt_theta"),
    }


# theta = (1.5, 0.8), beta = c = 1: sigma = (0.5, 1.3) activates index 1 only when theta_1 meets sigma' = 0.5
# (1.5 > 0.25, 0.8 < 1.69), the wrong pairing activates theta_2 instead (0.8 > 0.25); beta = 0.25 moves the
# sqrt(theta) threshold from 0.5 sigma' to sigma'; theta_1 = 1.5 differs from its square root.
WITNESSES = {
    "wrong_pairing": paired_instance((1.5, 0.8), (0.5, 1.3)),
    "threshold_without_sqrt_beta": paired_instance((1.5, 0.8), (0.9, 1.2), beta=0.25),
    "theta_for_sqrt_theta": paired_instance((1.5, 0.8), (0.5, 1.3)),
}
