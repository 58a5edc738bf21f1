"""Theorem 5 (App. F.2): two-latent MHVAE with both encoder variances fixed, Sigma1 = sigma1^2 I, Sigma2 = sigma2^2 I.

Assuming d0 >= d1 = d2, the printed optimum is V1* = P Lambda R^T, U2* = P Omega Q^T,
W2* = U2*^T (U2* U2*^T + c^2 I)^{-1}, U1* = Z V1*^T (V1* V1*^T + Sigma1)^{-1}, with lambda_i*, omega_i*
in three cases around m = max{sqrt(sqrt(beta1 beta2) c sigma1 sigma2), beta2 c^2 sigma2^2/(sqrt(beta1) sigma1)}.
As in Theorem 3, R^T is read as S^T, and the printed W2* (and Remark 5's (84)) write c^2 I where the
proof's (66) has c^2 (beta2/beta1) I; the optimum is assembled from (66), the printed form is kept
as a claim beside its erratum.
"""
import sympy as sp

from theorems.linear_vae import R, S, Z, c, lam, omega, theta
from theorems.mhvae import U1, U2, V1, W2, beta1, beta2, d1, d2, mhvae, sigma1, sigma2
from theorems.theorem3_mhvae_fixed_sigma1 import Lambda, Omega, P, Q, U1_star, W2_of, lambda_c
from verifier.spec import (
    ScaledMatrixRelation,
    AlternativeOptimum, ClosedFormSpectrum, GlobalMinimum, IdentityBasis, LeftSingularVectors,
    Optimum, PartialRank, RankCount, Reduction, RightSingularVectors, SingularValues, Theorem,
)

ratio = beta2 / beta1
k_derived = c**2 * ratio                                    # (66)
root_b = sp.sqrt(beta1 * beta2) * c * sigma1 * sigma2       # sqrt(beta1 beta2) c sigma1 sigma2
theta_m1 = sp.sqrt(root_b)
theta_m2 = beta2 * c**2 * sigma2**2 / (sp.sqrt(beta1) * sigma1)
m = sp.Max(theta_m1, theta_m2)

# Theorem 5's three cases, radicals restored [r].
case_1 = sp.GreaterThan(theta, m)
case_2 = sp.GreaterThan(sp.sqrt(beta1) * sigma1, sp.sqrt(beta2) * c * sigma2)
lambda_1 = sp.cbrt(sigma1**2 / (sp.sqrt(beta1 * beta2) * c * sigma2)) * sp.sqrt(theta**sp.Rational(4, 3)
                                                                                - root_b**sp.Rational(2, 3))
omega_1 = sp.cbrt(sp.sqrt(beta2) * c * sigma1 / (beta1 * sigma2**2)) * sp.sqrt(
    theta**sp.Rational(2, 3) - sp.cbrt(beta2**2 * c**4 * sigma2**4 / (beta1 * sigma1**2)))
# >= 0 exactly in case 2; the Max keeps float rounding at the tie sqrt(beta1) sigma1 = sqrt(beta2) c sigma2
# (where omega_2 = 0) from a square root of -1e-16.  (At theta = m, rounding in lambda_1 / omega_1 is
# handled by the engine: a closed form undefined at an instance but defined next to it marks a boundary.)
omega_2 = sp.sqrt(sp.Max(0, sp.sqrt(ratio) * c * sigma1 / sigma2 - ratio * c**2))

lambda_star = sp.Piecewise((lambda_1, case_1), (0, case_2), (lambda_c, True))
omega_star = sp.Piecewise((omega_1, case_1), (omega_2, case_2), (0, True))

omega_positive = sp.Or(sp.StrictGreaterThan(theta, m),
                       sp.StrictGreaterThan(sp.sqrt(beta1) * sigma1, sp.sqrt(beta2) * c * sigma2))
lambda_positive = sp.StrictGreaterThan(lambda_star, 0)

THEOREM = Theorem(
    name="theorem5",
    title="Two-latent MHVAE, unlearnable isotropic Sigma1 and Sigma2",
    source="Theorem 5, App. F.2, eqs. (62)-(83); Remark 5, eq. (84)",
    model=mhvae("isotropic"),
    index_size=d1,
    indexed=((theta, SingularValues("Z")),),
    closed_forms=((lam, lambda_star), (omega, omega_star)),
    thresholds=(theta_m1, theta_m2, sp.sqrt(beta1) * sigma1),
    optimum=Optimum(
        bases=((R, LeftSingularVectors("Z")), (S, RightSingularVectors("Z")), (P, IdentityBasis(d1)),
               (Q, IdentityBasis(d2))),
        diagonals=((Lambda, lam), (Omega, omega)),
        construction=((V1, P * Lambda * S.T), (U2, P * Omega * Q.T), (W2, W2_of(k_derived)), (U1, U1_star)),
    ),
    # The per-index problem (76): U1 and W2 at their partial minimisers (68), (66).
    reduction=Reduction(
        matrices=(("V1", lam), ("U2", omega), ("Z", theta),
                  ("U1", theta * lam / (lam**2 + sigma1**2)), ("W2", omega / (omega**2 + k_derived))),
        variables=(lam, omega),
        equation="(76)",
    ),
    claims=(
        GlobalMinimum("optimum", "Theorem 5; (66), (68)",
                      "V1* = P Lambda S^T, U2* = P Omega Q^T, U1* = Z V1*^T (V1* V1*^T + Sigma1)^-1, W2* from (66), "
                      "with lambda_i*, omega_i* below, minimise the objective"),
        ClosedFormSpectrum("lambda", "Theorem 5; (81)",
                           "lambda_i* = (sigma1^2/(sqrt(beta1 beta2) c sigma2))^(1/3) sqrt(theta_i^(4/3) - (sqrt(beta1 "
                           "beta2) c sigma1 sigma2)^(2/3)) if theta_i >= m; 0 if theta_i < m and sqrt(beta1) sigma1 >= "
                           "sqrt(beta2) c sigma2; else sqrt(max(0, sigma1/sqrt(beta1) (theta_i - sqrt(beta1) sigma1)))",
                           quantity=lam, measured=("singular_values", "V1")),
        ClosedFormSpectrum("omega", "Theorem 5; (81)-(83)",
                           "omega_i* = (sqrt(beta2) c sigma1/(beta1 sigma2^2))^(1/3) sqrt(theta_i^(2/3) - (beta2^2 c^4 "
                           "sigma2^4/(beta1 sigma1^2))^(1/3)) if theta_i >= m; sqrt(sqrt(beta2/beta1) c sigma1/sigma2 - "
                           "(beta2/beta1) c^2) if theta_i < m and sqrt(beta1) sigma1 >= sqrt(beta2) c sigma2; else 0",
                           quantity=omega, measured=("singular_values", "U2")),
        ScaledMatrixRelation("U1_star", "Theorem 5; (68)", "U1* = Z V1*^T (V1* V1*^T + Sigma1)^-1", residual=U1 - U1_star),
        ScaledMatrixRelation("W2_star", "Theorem 5", "W2* = U2*^T (U2* U2*^T + c^2 I)^-1 (as printed)",
                       residual=W2 - W2_of(c**2)),
        ScaledMatrixRelation("W2_star_corrected", "(66)",
                       "W2* = U2*^T (U2* U2*^T + c^2 (beta2/beta1) I)^-1: the proof's (66)",
                       residual=W2 - W2_of(k_derived), erratum_of="W2_star"),
        ScaledMatrixRelation("remark5_W2", "Remark 5, (84)", "W2 = U2^T (U2 U2^T + c^2 I)^-1 (as printed)",
                       residual=W2 - W2_of(c**2)),
        ScaledMatrixRelation("remark5_W2_corrected", "Remark 5, (84) (corrected by (66))",
                       "W2 = U2^T (U2 U2^T + c^2 (beta2/beta1) I)^-1", residual=W2 - W2_of(k_derived),
                       erratum_of="remark5_W2"),
        ScaledMatrixRelation("shared_basis_P", "(70)",
                       "V1* V1*^T and U2* U2*^T commute (one orthonormal P diagonalises both)",
                       residual=V1 * V1.T * U2 * U2.T - U2 * U2.T * V1 * V1.T, degree=4),
        ScaledMatrixRelation("V1_right_singular_vectors", "Theorem 5 (V1* = P Lambda R^T, read as S^T)",
                       "the right singular vectors of V1* are those of Z: V1*^T V1* commutes with Z^T Z",
                       residual=V1.T * V1 * Z.T * Z - Z.T * Z * V1.T * V1, degree=4),
        RankCount("rank_V1", "Theorem 5", "rank V1* = #{i : lambda_i* > 0}", matrices=("V1",),
                  active=lambda_positive),
        RankCount("rank_U2", "Theorem 5",
                  "rank U2* = rank W2* = #{i : theta_i > m or sqrt(beta1) sigma1 > sqrt(beta2) c sigma2} "
                  "(the indices with omega_i* > 0)", matrices=("U2", "W2"), active=omega_positive),
        AlternativeOptimum("remark5_z2_no_collapse", "Remark 5",
                           "Sigma2 isotropic: N (= Q) can be any orthonormal matrix, so W2* may have no zero row "
                           "although it is low-rank", when=(PartialRank(omega_positive),), basis=Q, matrix="W2"),
        AlternativeOptimum("remark5_z1_no_collapse", "Remark 5",
                           "P can be any orthonormal matrix, so V1* may have no zero row although it is low-rank",
                           when=(PartialRank(lambda_positive),), basis=P, matrix="V1"),
    ),
    notes="Printed W2* (statement, Remark 5) writes c^2 I for c^2 (beta2/beta1) I.",
)
