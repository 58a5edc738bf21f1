"""Theorem 3 (Section 4.2; proof in App. F.1): two-latent MHVAE, Sigma1 = sigma1^2 I fixed, Sigma2 learnable.

Assuming d0 >= d1 = d2, the printed optimum is V1* = P Lambda R^T, U2* = P Omega Q^T,
W2* = U2*^T (U2* U2*^T + c^2 I)^{-1}, U1* = Z V1*^T (V1* V1*^T + Sigma1)^{-1},
Sigma2* = (beta2/beta1) eta_dec^2 (U2*^T U2* + c^2 I)^{-1}, with lambda_i*, omega_i* in three cases.

Read with care:
* V1 is d1 x d0, so its right factor must be d0 x d0: the R^T of the statement (R is D0 x D0,
  the left singular vectors of Z) is read as S^T, the right ones, as (49) and the proof's
  von Neumann step require; the claim 'V1_right_singular_vectors' says so.
* The proof's own (41) and (47) carry c^2 beta2/beta1 where the statement and Remark 4 write c^2:
  the printed W2*, Sigma2* hold only when beta1 = beta2.  The printed items are kept and the
  derived ones stand beside them as errata; the optimum is assembled from (41) and (47).
* Sigma2 is learnable *diagonal* (the discussion and Remark 4: "since Sigma2 is learnable and
  diagonal"); then U2*^T U2* is diagonal at the optimum (Q = I up to a permutation).
"""
import sympy as sp
from sympy import Identity, Inverse, MatrixSymbol

from theorems.linear_vae import R, S, Z, c, d0, eta_dec, eta_enc, lam, omega, theta
from theorems.mhvae import (
    Sigma2, U1, U2, V1, W2, beta1, beta2, d1, d2, mhvae, sigma1,
)
from verifier.spec import (
    ScaledMatrixRelation,
    AlternativeOptimum, ClosedFormSpectrum, ExpressionRank, GlobalMinimum, IdentityBasis, Implication,
    LeftSingularVectors, Optimum, PartialRank, RankCount, Reduction, Restricted,
    RightSingularVectors, SingularValues, Theorem, ZeroLines,
)

P = MatrixSymbol("P", d1, d1)
Q = MatrixSymbol("Q", d2, d2)
Lambda = MatrixSymbol("Lambda", d1, d0)
Omega = MatrixSymbol("Omega", d1, d2)

ratio = beta2 / beta1
tau_sq = ratio * eta_dec**2                     # sigma1^2 vs (beta2/beta1) eta_dec^2 splits the cases
theta_a = sp.sqrt(beta2) * eta_dec              # (a) when sigma1^2 >= tau^2
theta_b = beta2 * eta_dec**2 / (sp.sqrt(beta1) * sigma1)   # (a) when sigma1^2 < tau^2
theta_c = sp.sqrt(beta1) * sigma1               # lambda > 0 in case (c)

# Theorem 3, cases (a)-(c), radicals restored [r]; the condition of (a) exactly as printed.
case_a = sp.GreaterThan(theta**2, beta2 * eta_dec**2 / sigma1**2 * sp.Max(sigma1**2, tau_sq))
case_b = sp.GreaterThan(sigma1**2, tau_sq)
lambda_a = sigma1 / (sp.sqrt(beta2) * eta_dec) * sp.sqrt(theta**2 - beta2 * eta_dec**2)
omega_a = sp.sqrt(sigma1**2 * theta**2 / (beta2 * eta_enc**2 * eta_dec**2) - ratio * eta_dec**2 / eta_enc**2)
omega_b = sp.sqrt(sigma1**2 - eta_dec**2 * ratio) / eta_enc
lambda_c = sp.sqrt(sp.Max(0, sigma1 / sp.sqrt(beta1) * (theta - sp.sqrt(beta1) * sigma1)))

lambda_star = sp.Piecewise((lambda_a, case_a), (0, case_b), (lambda_c, True))
omega_star = sp.Piecewise((omega_a, case_a), (omega_b, case_b), (0, True))

# The discussion after Theorem 3: omega_i > 0 iff theta_i >= beta2 eta_dec^2 / (sqrt(beta1) sigma1) or
# sigma1^2 >= (beta2/beta1) eta_dec^2; given omega_i > 0, lambda_i > 0 iff theta_i^2 > beta2 eta_dec^2.
omega_positive = sp.Or(sp.GreaterThan(theta, theta_b), sp.GreaterThan(sigma1**2, tau_sq))
omega_zero = sp.And(sp.StrictLessThan(theta, theta_b), sp.StrictLessThan(sigma1**2, tau_sq))   # its negation
both_positive = sp.And(omega_positive, sp.StrictGreaterThan(theta**2, beta2 * eta_dec**2))
lambda_positive = sp.StrictGreaterThan(lambda_star, 0)

# Remark 1: with z2 collapsed completely the model is a standard VAE with prior N(0, eta_dec^2 I):
# Theorem 1's lambda_i* with eta_enc -> eta_dec, beta -> beta1, sigma'_i -> sigma1.
lambda_vae = sp.Symbol("lambda_vae", nonnegative=True)
lambda_vae_star = sp.sqrt(sp.Max(0, sigma1 / sp.sqrt(beta1) * (theta - sp.sqrt(beta1) * sigma1)))

k_printed = c**2                                 # what the statement and Remark 4 write
k_derived = c**2 * ratio                         # (41), (47)
W2_of = lambda k: U2.T * Inverse(U2 * U2.T + k * Identity(d1))
Sigma2_of = lambda scale, k: scale * Inverse(U2.T * U2 + k * Identity(d2))
U1_star = Z * V1.T * Inverse(V1 * V1.T + sigma1**2 * Identity(d1))

THEOREM = Theorem(
    name="theorem3",
    title="Two-latent MHVAE, unlearnable isotropic Sigma1, learnable diagonal Sigma2",
    source="Theorem 3, Section 4.2; proof in App. F.1, eqs. (41)-(61); Remarks 1 and 4",
    model=mhvae("learnable"),
    index_size=d1,
    indexed=((theta, SingularValues("Z")),),
    closed_forms=((lam, lambda_star), (omega, omega_star), (lambda_vae, lambda_vae_star)),
    thresholds=(theta_a, theta_b, theta_c),
    optimum=Optimum(
        bases=((R, LeftSingularVectors("Z")), (S, RightSingularVectors("Z")), (P, IdentityBasis(d1)),
               (Q, IdentityBasis(d2))),
        diagonals=((Lambda, lam), (Omega, omega)),
        construction=((V1, P * Lambda * S.T), (U2, P * Omega * Q.T), (W2, W2_of(k_derived)),
                      (U1, U1_star), (Sigma2, Sigma2_of(ratio * eta_dec**2, k_derived))),
    ),
    # The per-index problem (56): U1, W2 and Sigma2 at their partial minimisers (49), (47), (41)
    # (each strictly convex in that variable), leaving g(lambda, omega).
    reduction=Reduction(
        matrices=(("V1", lam), ("U2", omega), ("Z", theta),
                  ("U1", theta * lam / (lam**2 + sigma1**2)),
                  ("W2", omega / (omega**2 + k_derived)),
                  ("Sigma2", ratio * eta_dec**2 / (omega**2 + k_derived))),
        variables=(lam, omega),
        equation="(56)",
    ),
    claims=(
        GlobalMinimum("optimum", "Theorem 3; (41), (47), (49)",
                      "V1* = P Lambda S^T, U2* = P Omega Q^T, U1* = Z V1*^T (V1* V1*^T + Sigma1)^-1, with W2* and "
                      "Sigma2* from (47), (41), minimise the objective"),
        ClosedFormSpectrum("lambda", "Theorem 3 (a)-(c)",
                           "lambda_i* = sigma1/(sqrt(beta2) eta_dec) sqrt(theta_i^2 - beta2 eta_dec^2) in (a); 0 in (b); "
                           "sqrt(max(0, sigma1/sqrt(beta1) (theta_i - sqrt(beta1) sigma1))) in (c)",
                           quantity=lam, measured=("singular_values", "V1")),
        ClosedFormSpectrum("omega", "Theorem 3 (a)-(c)",
                           "omega_i* = sqrt(sigma1^2 theta_i^2/(beta2 eta_enc^2 eta_dec^2) - (beta2/beta1) eta_dec^2/"
                           "eta_enc^2) in (a); sqrt(sigma1^2 - eta_dec^2 beta2/beta1)/eta_enc in (b); 0 in (c)",
                           quantity=omega, measured=("singular_values", "U2")),
        ScaledMatrixRelation("U1_star", "Theorem 3; (49)", "U1* = Z V1*^T (V1* V1*^T + Sigma1)^-1",
                       residual=U1 - U1_star),
        ScaledMatrixRelation("W2_star", "Theorem 3", "W2* = U2*^T (U2* U2*^T + c^2 I)^-1 (as printed)",
                       residual=W2 - W2_of(k_printed)),
        ScaledMatrixRelation("W2_star_corrected", "(47)",
                       "W2* = U2*^T (U2* U2*^T + c^2 (beta2/beta1) I)^-1: the proof's (47); differs from the "
                       "statement's c^2 I unless beta1 = beta2", residual=W2 - W2_of(k_derived),
                       erratum_of="W2_star"),
        ScaledMatrixRelation("Sigma2_star", "Theorem 3",
                       "Sigma2* = (beta2/beta1) eta_dec^2 (U2*^T U2* + c^2 I)^-1 (as printed)",
                       residual=Sigma2 - Sigma2_of(ratio * eta_dec**2, k_printed), degree=2),
        ScaledMatrixRelation("Sigma2_star_corrected", "(41)",
                       "Sigma2* = (beta2/beta1) eta_dec^2 (U2*^T U2* + c^2 (beta2/beta1) I)^-1: the proof's (41)",
                       residual=Sigma2 - Sigma2_of(ratio * eta_dec**2, k_derived), degree=2, erratum_of="Sigma2_star"),
        ScaledMatrixRelation("shared_basis_P", "(51)",
                       "V1* V1*^T and U2* U2*^T commute (one orthonormal P diagonalises both: V1* = P Lambda ., "
                       "U2* = P Omega .)", residual=V1 * V1.T * U2 * U2.T - U2 * U2.T * V1 * V1.T, degree=4),
        ScaledMatrixRelation("V1_right_singular_vectors", "Theorem 3 (V1* = P Lambda R^T, read as S^T)",
                       "the right singular vectors of V1* are those of Z (printed R^T; R is D0 x D0, so S^T): "
                       "V1*^T V1* commutes with Z^T Z", residual=V1.T * V1 * Z.T * Z - Z.T * Z * V1.T * V1, degree=4),
        RankCount("rank_V1", "Theorem 3", "rank V1* = #{i : lambda_i* > 0}", matrices=("V1",),
                  active=lambda_positive),
        RankCount("omega_positive_iff", "discussion after Theorem 3",
                  "omega_i* > 0 iff theta_i >= beta2 eta_dec^2/(sqrt(beta1) sigma1) or sigma1^2 >= (beta2/beta1) "
                  "eta_dec^2: rank U2* = rank W2* = number of such i", matrices=("U2", "W2"), active=omega_positive),
        ExpressionRank("lambda_positive_given_omega", "discussion after Theorem 3",
                       "given omega_i* > 0, lambda_i* > 0 iff theta_i^2 > beta2 eta_dec^2: rank(U2*^T V1*) = "
                       "#{i : omega_i* > 0 and theta_i^2 > beta2 eta_dec^2}", expression=U2.T * V1,
                       active=both_positive),
        ZeroLines("z2_collapse", "discussion after Theorem 3; Remark 4",
                  "with diagonal Sigma2, U2* has d2 - rank(U2*) zero columns and the matching rows of W2* are zero: "
                  "those z2 dimensions collapse to the prior", matrix="U2", axis="columns", matching=("rows", "W2")),
        ScaledMatrixRelation("U2_orthogonal_columns", "Remark 4",
                       "U2*^T U2* commutes with the diagonal Sigma2* (U2* = T Omega': orthogonal columns)",
                       residual=U2.T * U2 * Sigma2 - Sigma2 * U2.T * U2, degree=4),
        ScaledMatrixRelation("remark4_Sigma2", "Remark 4", "Sigma2* = eta_dec^2 (U2^T U2 + c^2 I)^-1 (as printed)",
                       residual=Sigma2 - Sigma2_of(eta_dec**2, k_printed), degree=2),
        ScaledMatrixRelation("remark4_Sigma2_corrected", "Remark 4 (corrected by (41))",
                       "Sigma2* = (beta2/beta1) eta_dec^2 (U2^T U2 + c^2 (beta2/beta1) I)^-1; the printed form is "
                       "the case beta1 = beta2", residual=Sigma2 - Sigma2_of(ratio * eta_dec**2, k_derived), degree=2,
                       erratum_of="remark4_Sigma2"),
        ScaledMatrixRelation("remark4_W2", "Remark 4", "W2 = U2^T (U2 U2^T + c^2 I)^-1 (as printed)",
                       residual=W2 - W2_of(k_printed)),
        ScaledMatrixRelation("remark4_W2_corrected", "Remark 4 (corrected by (47))",
                       "W2 = U2^T (U2 U2^T + c^2 (beta2/beta1) I)^-1", residual=W2 - W2_of(k_derived),
                       erratum_of="remark4_W2"),
        AlternativeOptimum("z1_no_collapse", "discussion after Theorem 3; Remark 4",
                           "Sigma1 isotropic: P can be any orthonormal matrix, so V1* may have no zero row although "
                           "it is low-rank (z1 need not collapse)",
                           when=(PartialRank(lambda_positive),), basis=P, matrix="V1"),
        Implication("remark1_U2_zero", "Remark 1",
                    "if omega_i* = 0 for every i (z2 collapses completely), all columns of U2* are zero: "
                    "p(z1|z2) = N(0, eta_dec^2 I)", premise=omega_zero, matrix="U2"),
        Restricted("remark1_standard_vae", "Remark 1",
                   "if z2 collapses completely, the model acts as a standard VAE with prior N(0, eta_dec^2 I): "
                   "V1*'s singular values are Theorem 1's with eta_enc -> eta_dec, beta -> beta1, sigma -> sigma1",
                   inner=ClosedFormSpectrum("remark1_standard_vae", "Remark 1", "", quantity=lambda_vae,
                                            measured=("singular_values", "V1")),
                   premise=omega_zero),
    ),
    notes="Printed W2*, Sigma2* (statement and Remark 4) write c^2 I for c^2 (beta2/beta1) I; V1* = P Lambda R^T "
          "names R (D0 x D0) where S (d0 x d0) fits.",
)
