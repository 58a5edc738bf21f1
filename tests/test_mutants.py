"""Mutation tests: wrong variants of the closed forms are REFUTED by the machinery that verifies
the right ones (numeric search only here; tests/test_symbolic.py shows the sympy checks catch them too)."""
import pytest
import sympy as sp

from theorems import theorem1_vae_fixed_sigma as t1
from theorems import theorem4_vae_learnable_sigma as t4
from theorems.linear_vae import beta, c, eta_dec, eta_enc, lam, omega, sigma_p, theta, d1
from verifier.judge import REFUTED
from verifier.spec import SortedVector, SortingBasis
from verifier.verdicts import check_theorem


def _threshold_off_by_sqrt_beta():
    wrong = sigma_p * c       # printed threshold is sqrt(beta) sigma' c
    om = sp.sqrt(sp.Max(0, sp.sqrt(beta) * eta_dec / (eta_enc * sigma_p) * (theta - wrong)))
    la = sp.sqrt(sp.Max(0, eta_enc * sigma_p / (sp.sqrt(beta) * eta_dec) * (theta - wrong)))
    return t1.THEOREM.replace_closed_form(omega, om).replace_closed_form(lam, la, name="threshold_off_by_sqrt_beta")


MUTANTS = {
    "dropped_square_root": t1.THEOREM.replace_closed_form(
        omega, sp.Max(0, sp.sqrt(beta) * eta_dec / (eta_enc * sigma_p) * (theta - t1.threshold)),
        name="dropped_square_root"),
    "sigma_paired_in_wrong_order": t1.THEOREM
        .replace_indexed(sigma_p, SortedVector("sigma", ascending=False))
        .replace_basis(t1.T, SortingBasis("sigma", d1, ascending=False), name="sigma_paired_in_wrong_order"),
    "theta_squared_for_theta": t4.THEOREM.replace_closed_form(
        omega, sp.sqrt(sp.Max(0, theta**4 - beta * eta_dec**2)) / eta_enc, name="theta_squared_for_theta"),
    "threshold_off_by_sqrt_beta": _threshold_off_by_sqrt_beta(),
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_is_refuted(name):
    verdict = check_theorem(MUTANTS[name], instances=48, claims=["optimum"], symbolic=False)
    (claim,) = verdict.claims
    assert claim.status == REFUTED, f"{name} was not refuted: {claim.detail}"
    assert claim.counterexample is not None
