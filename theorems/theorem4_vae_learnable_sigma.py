"""Theorem 4 (Appendix D.2): linear VAE, learnable diagonal Sigma.

U* = R Omega T^T, V* = T Lambda S^T, Sigma* = beta eta_dec^2 (U*^T U* + beta c^2 I)^{-1}  (21),
T orthonormal (any; T = I here, which makes Sigma* diagonal as the collapse claim assumes).
"""
import sympy as sp

from theorems.linear_vae import (
    Lambda, Omega, R, S, Sigma, T, U, V, Z, beta, c, eta_dec, eta_enc, lam, linear_vae, omega,
    sigma_p, theta, d1,
)
from sympy import Identity, Inverse
from verifier.spec import (
    DataFormAgreement,
    ClosedFormSpectrum, GlobalMinimum, IdentityBasis, LeftSingularVectors, MatrixRelation, Optimum,
    RankCount, Reduction, RightSingularVectors, SingularValues, Theorem, ZeroLines,
)

threshold = sp.sqrt(beta) * eta_dec
active = sp.StrictGreaterThan(theta, threshold)

# Printed with max(0, .) under the root [r]; written piecewise so that theta_i = 0 (past d0)
# gives 0 rather than 0/0 in lambda_i*.
omega_star = sp.sqrt(sp.Max(0, theta**2 - beta * eta_dec**2)) / eta_enc
lambda_star = sp.Piecewise((eta_enc / theta * sp.sqrt(theta**2 - beta * eta_dec**2), active), (0, True))
# (30): sigma'_i = sqrt(beta) eta_enc eta_dec / theta_i if theta_i >= sqrt(beta) eta_dec, else eta_enc [r]
sigma_star = sp.Piecewise((sp.sqrt(beta) * eta_enc * eta_dec / theta, sp.GreaterThan(theta, threshold)),
                          (eta_enc, True))

Sigma_star = beta * eta_dec**2 * Inverse(U.T * U + beta * c**2 * Identity(d1))

THEOREM = Theorem(
    name="theorem4",
    title="Linear VAE with learnable diagonal encoder variance",
    source="Theorem 4, Appendix D.2, eqs. (21), (30)",
    model=linear_vae("learnable"),
    index_size=d1,
    indexed=((theta, SingularValues("Z")),),
    closed_forms=((omega, omega_star), (lam, lambda_star), (sigma_p, sigma_star)),
    thresholds=(threshold,),
    optimum=Optimum(
        bases=((R, LeftSingularVectors("Z")), (S, RightSingularVectors("Z")), (T, IdentityBasis(d1))),
        diagonals=((Omega, omega), (Lambda, lam)),
        construction=((U, R * Omega * T.T), (V, T * Lambda * S.T), (Sigma, Sigma_star)),
    ),
    reduction=Reduction(
        matrices=(("U", omega), ("V", lam), ("Z", theta), ("Sigma", sigma_p**2)),
        variables=(omega, lam, sigma_p),
        equation="(27)",
    ),
    claims=(
        GlobalMinimum("optimum", "Theorem 4",
                      "U* = R Omega T^T, V* = T Lambda S^T, Sigma* = beta eta_dec^2 (U*^T U* + beta c^2 I)^-1 "
                      "minimise (10) over U, V and diagonal Sigma"),
        ClosedFormSpectrum("omega", "Theorem 4",
                           "omega_i* = (1/eta_enc) sqrt(max(0, theta_i^2 - beta eta_dec^2))",
                           quantity=omega, measured=("singular_values", "U")),
        ClosedFormSpectrum("lambda", "Theorem 4",
                           "lambda_i* = (eta_enc/theta_i) sqrt(max(0, theta_i^2 - beta eta_dec^2))",
                           quantity=lam, measured=("singular_values", "V")),
        ClosedFormSpectrum("sigma", "(30)",
                           "sigma'_i = sqrt(beta) eta_enc eta_dec / theta_i if theta_i >= sqrt(beta) eta_dec, "
                           "else eta_enc; {sigma'_i} a permutation of {sigma_i}",
                           quantity=sigma_p, measured=("sqrt_eigenvalues", "Sigma")),
        MatrixRelation("sigma_star", "(21)", "Sigma* = beta eta_dec^2 (U*^T U* + beta c^2 I)^{-1}",
                       residual=Sigma - Sigma_star),
        MatrixRelation("right_singular_vectors", "Theorem 4",
                       "U*V* shares its right singular vectors S with Z: (UV)^T Z is symmetric",
                       residual=(U * V).T * Z - Z.T * (U * V)),
        MatrixRelation("left_singular_vectors", "Theorem 4",
                       "U*V* shares its left singular vectors R with Z: (UV) Z^T is symmetric",
                       residual=(U * V) * Z.T - Z * (U * V).T),
        RankCount("rank", "discussion after Theorem 4",
                  "rank U* = rank V* = #{i : theta_i > sqrt(beta) eta_dec}", matrices=("U", "V"), active=active),
        ZeroLines("collapse", "Section 3, after Theorem 1; end of D.2",
                  "with learnable diagonal Sigma, U* has d1 - rank(U*) zero columns and the matching rows "
                  "of V* are zero: those latents collapse to the prior N(0, eta_enc^2)",
                  matrix="U", axis="columns", matching=("rows", "V")),
        DataFormAgreement("data_form", "(3) and (10)",
                          "minimising (3) over (U, W, Sigma) from the data reaches the minimum of (10), and "
                          "the minimisers share their spectra",
                          compare=(("singular_values", "U"), ("singular_values", "V"), ("sqrt_eigenvalues", "Sigma"))),
    ),
)
