"""Appendix C: one learnable encoder variance per training sample (linear VAE case).

Appendix C claims that with a separate Sigma_n per sample, every Sigma_n* is equal at the optimum,
  (8)  Sigma_n* = beta eta_dec^2 (U*^T U* + beta c^2 I)^{-1},
so the problem is equivalent to one shared learnable Sigma (Theorem 4): the same minimum value and
U* = R Omega T^T, V* = T Lambda S^T with Theorem 4's omega_i*, lambda_i* (roots put back [r]).
It also says the VAE case follows from the MHVAE formula (9) with U2 = W2 = Sigma2 = 0, which gives
Sigma_n = beta eta_dec^2 (U^T U + beta I)^{-1}: there the z1-prior has variance eta_dec^2, not eta_enc^2.

``samplewise_theorem(n)`` builds the spec for N = n samples (theorems/samplewise_vae.py says why N is
fixed per build); ``THEOREM`` is the registered N = 3.  The per-index reduction keeps one standard
deviation sigma_n per sample, so the symbolic global-minimum check searches every critical point with
unequal sigma_n too, rather than assuming them equal.
"""
from __future__ import annotations

import sympy as sp
from sympy import Identity, Inverse

from theorems.linear_vae import Lambda, Omega, R, S, T, U, V, beta, c, d1, eta_dec, lam, omega, theta
from theorems.samplewise_vae import sample_variances, samplewise_vae
from theorems.theorem4_vae_learnable_sigma import lambda_star, omega_star, sigma_star, threshold
from verifier.spec import (
    ClosedFormSpectrum, GlobalMinimum, IdentityBasis, LeftSingularVectors, MatrixRelationFamily, Optimum,
    Reduction, RightSingularVectors, SingularValues, Theorem,
)

# (8): the stationary point of each sample's Sigma_n-terms, the same expression for every n.
SIGMA_8 = beta * eta_dec**2 * Inverse(U.T * U + beta * c**2 * Identity(d1))
# (9) with U2 = W2 = 0 (the printed route to the VAE): beta1 eta_dec^2 (U1^T U1 + beta1 I)^{-1}.
SIGMA_9_VAE = beta * eta_dec**2 * Inverse(U.T * U + beta * Identity(d1))


def sample_stds(n_samples: int) -> tuple[sp.Symbol, ...]:
    """sigma_{n,i}: the i-th standard deviation of Sigma_n, one reduction variable per sample."""
    return tuple(sp.Symbol(f"sigma_{n}", positive=True) for n in range(1, n_samples + 1))


def samplewise_theorem(n_samples: int, *, claimed_variance: sp.Expr = SIGMA_8, name: str = "appendix_c") -> Theorem:
    """Appendix C for N = ``n_samples``; ``claimed_variance`` is the claimed Sigma_n*, (8) as printed."""
    model = samplewise_vae(n_samples)
    variances = sample_variances(n_samples)
    stds = sample_stds(n_samples)
    first = variances[0]
    return Theorem(
        name=name,
        title=f"Linear VAE with one learnable diagonal encoder variance per sample (N={n_samples})",
        source="Appendix C, eqs. (8), (9); Theorem 4, Appendix D.2",
        model=model,
        index_size=d1,
        indexed=((theta, SingularValues("Z")),),
        # Each sample's sigma_n carries Theorem 4's (30): the claim that they all agree with the shared one.
        closed_forms=((omega, omega_star), (lam, lambda_star)) + tuple((s, sigma_star) for s in stds),
        thresholds=(threshold,),
        optimum=Optimum(
            bases=((R, LeftSingularVectors("Z")), (S, RightSingularVectors("Z")), (T, IdentityBasis(d1))),
            diagonals=((Omega, omega), (Lambda, lam)),
            construction=((U, R * Omega * T.T), (V, T * Lambda * S.T))
            + tuple((v, claimed_variance) for v in variances),
        ),
        reduction=Reduction(
            matrices=(("U", omega), ("V", lam), ("Z", theta))
            + tuple((v.name, s**2) for v, s in zip(variances, stds)),
            variables=(omega, lam) + stds,
            equation="(27) with one sigma_n per sample",
        ),
        claims=(
            GlobalMinimum("optimum", "Appendix C; Theorem 4",
                          "U* = R Omega T^T, V* = T Lambda S^T (Theorem 4) with Sigma_n* = (8) for every n minimise "
                          "the per-sample objective; its minimum equals that of the shared-variance problem (10)"),
        ) + _all_equal(variances) + (
            MatrixRelationFamily("sigma_8", "(8)",
                                 "Sigma_n* = beta eta_dec^2 (U*^T U* + beta c^2 I)^{-1} for every sample n",
                                 residuals=tuple(v - claimed_variance for v in variances)),
            MatrixRelationFamily("sigma_9_vae_case", "(9), end of Appendix C",
                                 "the VAE follows from (9) with U2 = W2 = Sigma2 = 0: "
                                 "Sigma_n* = beta eta_dec^2 (U*^T U* + beta I)^{-1} for every n",
                                 residuals=tuple(v - SIGMA_9_VAE for v in variances)),
            MatrixRelationFamily("sigma_9_vae_case_corrected", "(9), end of Appendix C (corrected)",
                                 "(9) with U2 = W2 = 0 describes a z1-prior N(0, eta_dec^2 I); for the VAE's prior "
                                 "N(0, eta_enc^2 I) the identity carries c^2 = (eta_dec/eta_enc)^2, which is (8): "
                                 "Sigma_n* = beta eta_dec^2 (U*^T U* + beta c^2 I)^{-1}",
                                 residuals=tuple(v - SIGMA_8 for v in variances), erratum_of="sigma_9_vae_case"),
            ClosedFormSpectrum("omega", "Appendix C; Theorem 4",
                               "the U* spectrum is the shared-variance one: "
                               "omega_i* = (1/eta_enc) sqrt(max(0, theta_i^2 - beta eta_dec^2))",
                               quantity=omega, measured=("singular_values", "U")),
            ClosedFormSpectrum("lambda", "Appendix C; Theorem 4",
                               "the V* spectrum is the shared-variance one: "
                               "lambda_i* = (eta_enc/theta_i) sqrt(max(0, theta_i^2 - beta eta_dec^2))",
                               quantity=lam, measured=("singular_values", "V")),
            ClosedFormSpectrum("sigma", "Appendix C; (30)",
                               "the spectrum of Sigma_1* (hence, with all_equal, of every Sigma_n*) is the shared "
                               "one: sigma'_i = sqrt(beta) eta_enc eta_dec / theta_i if theta_i >= sqrt(beta) "
                               "eta_dec, else eta_enc",
                               quantity=stds[0], measured=("sqrt_eigenvalues", first.name)),
        ),
        notes="The VAE case of (9) (U2 = W2 = 0) has the z1-prior variance eta_dec^2; it matches (8) only when "
              "eta_enc = eta_dec.",
    )


def _all_equal(variances) -> tuple:
    """Claim (a); with one sample there is nothing to compare, so no claim."""
    if len(variances) < 2:
        return ()
    return (MatrixRelationFamily("all_equal", "Appendix C, after (8)",
                                 "Sigma_n* = Sigma_1* for every sample n at the global minimum",
                                 residuals=tuple(v - variances[0] for v in variances[1:])),)


THEOREM = samplewise_theorem(3)
