"""Theorem 1 (Section 3; proof in Appendix D.1): linear VAE, unlearnable diagonal Sigma.

With Sigma = diag(sigma_1^2, ..., sigma_d1^2) fixed, the global minimiser of (10) is
U* = R Omega T^T, V* = W* P_A Phi^{1/2} = T Lambda S^T  (4), where Z = R Theta S^T and the
permutation T sorts the sigma_i non-decreasingly (sigma'_1 <= ... <= sigma'_d1).
"""
import sympy as sp

from theorems.linear_vae import (
    Lambda, Omega, R, S, Sigma, T, U, V, Z, beta, c, eta_dec, eta_enc, lam, linear_vae, omega,
    sigma_p, theta, d1,
)
from verifier.spec import (
    DataFormAgreement,
    AllDistinct, AllEqual, AlternativeOptimum, ClosedFormSpectrum, GlobalMinimum, Implication,
    LeftSingularVectors, MatrixRelation, Optimum, PartialRank, RankCount,
    Reduction, RightSingularVectors, SingularValues, SortedVector, SortingBasis, Theorem, ZeroLines,
)

# The threshold theta_i must pass for index i to be active:  sqrt(beta) sigma'_i eta_dec / eta_enc.
threshold = sp.sqrt(beta) * sigma_p * c

# (4), with the square roots the HTML lost put back [r].
omega_star = sp.sqrt(sp.Max(0, sp.sqrt(beta) * eta_dec / (eta_enc * sigma_p) * (theta - threshold)))
lambda_star = sp.sqrt(sp.Max(0, eta_enc * sigma_p / (sp.sqrt(beta) * eta_dec) * (theta - threshold)))

active = sp.StrictGreaterThan(theta, threshold)

THEOREM = Theorem(
    name="theorem1",
    title="Linear VAE with unlearnable diagonal encoder variance",
    source="Theorem 1, Section 3, eq. (4); proof in Appendix D.1",
    model=linear_vae("fixed"),
    index_size=d1,
    indexed=(
        (theta, SingularValues("Z")),                         # theta_i := 0 past d0
        (sigma_p, SortedVector("sigma", ascending=True)),     # sigma'_i, non-decreasing
    ),
    closed_forms=((omega, omega_star), (lam, lambda_star)),
    thresholds=(threshold,),
    optimum=Optimum(
        bases=((R, LeftSingularVectors("Z")), (S, RightSingularVectors("Z")),
               (T, SortingBasis("sigma", d1, ascending=True))),
        diagonals=((Omega, omega), (Lambda, lam)),
        construction=((U, R * Omega * T.T), (V, T * Lambda * S.T)),
    ),
    reduction=Reduction(
        matrices=(("U", omega), ("V", lam), ("Z", theta), ("Sigma", sigma_p**2)),
        variables=(omega, lam),
        equation="(18)",
    ),
    claims=(
        GlobalMinimum("optimum", "(4)",
                      "U* = R Omega T^T, V* = T Lambda S^T with the omega_i*, lambda_i* below minimise (10)"),
        ClosedFormSpectrum("omega", "(4)",
                           "omega_i* = sqrt(max(0, sqrt(beta) eta_dec/(eta_enc sigma'_i) "
                           "(theta_i - sqrt(beta) sigma'_i eta_dec/eta_enc)))",
                           quantity=omega, measured=("singular_values", "U")),
        ClosedFormSpectrum("lambda", "(4)",
                           "lambda_i* = sqrt(max(0, eta_enc sigma'_i/(sqrt(beta) eta_dec) "
                           "(theta_i - sqrt(beta) sigma'_i eta_dec/eta_enc)))",
                           quantity=lam, measured=("singular_values", "V")),
        MatrixRelation("right_singular_vectors", "(4)",
                       "U*V* = R (Omega Lambda) S^T shares its right singular vectors S with Z: (UV)^T Z is symmetric",
                       residual=(U * V).T * Z - Z.T * (U * V)),
        MatrixRelation("left_singular_vectors", "(4)",
                       "U*V* shares its left singular vectors R with Z: (UV) Z^T is symmetric",
                       residual=(U * V) * Z.T - Z * (U * V).T),
        MatrixRelation("T_diagonalises_UtU", "(4)",
                       "T sorts Sigma and diagonalises U*^T U*: U*^T U* commutes with Sigma",
                       residual=U.T * U * Sigma - Sigma * U.T * U),
        MatrixRelation("T_diagonalises_VVt", "(4)",
                       "T sorts Sigma and diagonalises V* V*^T: V* V*^T commutes with Sigma",
                       residual=V * V.T * Sigma - Sigma * V * V.T),
        RankCount("rank", "discussion after Theorem 1",
                  "rank U* = rank V* = #{i : theta_i > sqrt(beta) sigma'_i eta_dec/eta_enc}",
                  matrices=("U", "V"), active=active),
        ZeroLines("collapse_distinct_sigma", "discussion after Theorem 1",
                  "if all sigma_i are distinct, V* has d1 - rank(V*) zero rows (those latents collapse)",
                  when=(AllDistinct("sigma"),), matrix="V", axis="rows"),
        AlternativeOptimum("no_collapse_isotropic", "discussion after Theorem 1; Remark 2",
                           "if Sigma is isotropic, T can be any orthogonal matrix and V* may have no zero "
                           "row although it is low-rank (no posterior collapse)",
                           when=(AllEqual("sigma"), PartialRank(active)), basis=T, matrix="V"),
        Implication("remark2", "Remark 2",
                    "if theta_i < c sigma'_i for all i, then W* = 0 (complete collapse)",
                    premise=sp.StrictLessThan(theta, c * sigma_p), matrix="V"),
        Implication("remark2_corrected", "Remark 2 (corrected)",
                    "if theta_i <= sqrt(beta) c sigma'_i for all i, then W* = 0: the threshold of (4), "
                    "which differs from the printed one when beta < 1",
                    premise=sp.LessThan(theta, threshold), matrix="V", erratum_of="remark2"),
        DataFormAgreement("data_form", "(3) and (10)",
                          "minimising (3) over (U, W) from the data reaches the minimum of (10), and the "
                          "minimisers share their spectra",
                          compare=(("singular_values", "U"), ("singular_values", "V"))),
    ),
    notes="Remark 2 prints the premise theta_i < c sigma'_i without the sqrt(beta) of (4).",
)
