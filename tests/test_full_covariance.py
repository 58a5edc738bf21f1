"""A full (SPD) learnable covariance, Sigma = L L^T with L free (cholesky_variable): Theorem 4's linear VAE
with Sigma no longer restricted to a diagonal has the same optimum (Sigma* of (21) is diagonal when T = I),
which the search verifies, and a wrong encoder variance it refutes."""
import dataclasses

import sympy as sp

from theorems.linear_vae import OBJECTIVE, Sigma, d1, sigma_p, theta
from theorems.theorem4_vae_learnable_sigma import THEOREM as T4, threshold
from verifier.spec import ClosedFormSpectrum, GlobalMinimum, Optimum, cholesky_variable
from verifier.verdicts import check_theorem

L_variable, covariance = cholesky_variable("L", d1)
L_diagonal = sp.MatrixSymbol("L_star", d1, d1)

model = dataclasses.replace(T4.model, name="linear VAE, full Sigma = L L^T",
                            objective=OBJECTIVE.xreplace({Sigma: covariance}),
                            variables=T4.model.variables[:2] + (L_variable,), data_form=None)
optimum = Optimum(bases=T4.optimum.bases, diagonals=T4.optimum.diagonals + ((L_diagonal, sigma_p),),
                  construction=T4.optimum.construction[:2] + ((L_variable.symbol, L_diagonal),))
FULL = dataclasses.replace(
    T4, name="theorem4_full_sigma", model=model, optimum=optimum,
    claims=(GlobalMinimum("optimum", "(21)", "the optimum of Theorem 4, over every SPD Sigma"),
            ClosedFormSpectrum("sigma", "(30)", "sqrt of Sigma*'s eigenvalues = singular values of L*",
                               quantity=sigma_p, measured=("singular_values", "L"))))


def test_a_full_covariance_reaches_theorem_4s_optimum():
    verdict = check_theorem(FULL, instances=10, symbolic=False, seed=0)
    assert verdict.status == "VERIFIED", [(c.claim.name, c.detail) for c in verdict.claims]


def test_a_wrong_encoder_variance_under_a_full_covariance_is_refuted():
    wrong = FULL.replace_closed_form(sigma_p, sp.Piecewise((threshold / theta, theta >= threshold), (1, True)),
                                     name="sigma_without_eta_enc")   # eta_enc dropped: wrong unless it is 1
    verdict = check_theorem(wrong, instances=10, claims=["sigma"], symbolic=False, seed=0)
    assert verdict.status == "REFUTED", verdict.claims[0].detail
