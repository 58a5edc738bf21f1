"""Theorem 2 (Section 4.1; proof in Appendix E): linear conditional VAE, learnable diagonal Sigma.

With E := D (I - Z^T Z) D^T = P Theta Q (theta_i non-increasing, theta_i := 0 past d2), the global
minimiser of L_CVAE is U1* = P Omega R^T, Sigma* = beta eta_dec^2 (U1*^T U1* + beta c^2 I)^{-1}, R
orthonormal (R = I here, which makes Sigma* diagonal as the theorem takes it), with (6) and (7).
The remaining matrices are assembled from (7) and (34)-(36):
V2* = (U1*^T U1* + beta c^2 I)^{-1} U1*^T D, V1* = -V2* Z^T, T2* = D Z^T.
"""
import sympy as sp
from sympy import Identity, Inverse

from theorems.cvae import (
    D, E_EXPR, MEAN_SECOND_MOMENT, Sigma, T2, U1, V1, V2, Z, conditional_vae, d1, d2,
)
from theorems.linear_vae import beta, c, eta_dec, eta_enc, omega, sigma_p, theta
from verifier.spec import (
    ClosedFormSpectrum, DataFormAgreement, GlobalMinimum, IdentityBasis, Implication, IndexBound,
    LeftSingularVectors, OnData, Optimum, RankCount, Reduction, RelationAtPrecision, SingularValues, Theorem,
    VanishingCoordinates, ZeroLines,
)
import numpy as np

# theta_i: the i-th singular (= eigen-) value of E; the case split of (6) is at beta eta_dec^2.
threshold = beta * eta_dec**2
active = sp.StrictGreaterThan(theta, threshold)

# (6), with the square roots the HTML lost put back [r].
omega_star = sp.sqrt(sp.Max(0, theta - threshold)) / eta_enc
sigma_star = sp.Piecewise((sp.sqrt(beta) * eta_enc * eta_dec / sp.sqrt(theta), sp.GreaterThan(theta, threshold)),
                          (eta_enc, True))
# Derived here, not printed: the i-th singular value of V2* (K = (I - Z^T Z)^{1/2}) in the per-index problem,
# omega_i sqrt(theta_i) / (omega_i^2 + beta c^2) from (36); needed to state the reduced problem's minimiser.
lambda2 = sp.Symbol("lambda2", nonnegative=True)
lambda2_star = sp.Piecewise((eta_enc * sp.sqrt(theta - threshold) / sp.sqrt(theta), active), (0, True))

M_inv = Inverse(U1.T * U1 + beta * c**2 * Identity(d1))      # (U1^T U1 + beta c^2 I)^{-1}
Sigma_star = beta * eta_dec**2 * M_inv
K2 = Identity(d2) - Z.T * Z                                   # I - Z^T Z

P = sp.MatrixSymbol("P", D.shape[0], D.shape[0])              # eigenvectors of E
R = sp.MatrixSymbol("R", d1, d1)
Omega = sp.MatrixSymbol("Omega", D.shape[0], d1)


def _x_equals_y(instance) -> bool:
    return instance.Y is not None and np.shape(instance.X) == np.shape(instance.Y) and np.array_equal(instance.X, instance.Y)


def _uncorrelated(instance) -> bool:
    """E[x y^T] = 0 to rounding: x and y 'independent' in the sample."""
    if instance.Y is None:
        return False
    X, Y = np.asarray(instance.X), np.asarray(instance.Y)
    cross = np.abs(X.T @ Y).max()
    return bool(cross <= 1e-12 * np.linalg.norm(X) * np.linalg.norm(Y))


_E, _B = SingularValues("E"), SingularValues("B")

THEOREM = Theorem(
    name="theorem2",
    title="Linear conditional VAE with learnable diagonal encoder variance",
    source="Theorem 2, Section 4.1, eqs. (6), (7); proof in Appendix E",
    model=conditional_vae(),
    index_size=d1,
    indexed=((theta, _E),),                                   # theta_i := 0 past d2 (and past rank E)
    closed_forms=((omega, omega_star), (sigma_p, sigma_star), (lambda2, lambda2_star)),
    thresholds=(threshold,),
    optimum=Optimum(
        bases=((P, LeftSingularVectors("E")), (R, IdentityBasis(d1))),
        diagonals=((Omega, omega),),
        construction=((U1, P * Omega * R.T), (Sigma, Sigma_star), (V2, M_inv * U1.T * D), (V1, -V2 * Z.T),
                      (T2, D * Z.T)),
    ),
    # Per index, after (34)-(36) eliminate T2 and V1 (both 0 when Z = 0): E = D^2 = theta.
    reduction=Reduction(
        matrices=(("U1", omega), ("V1", 0), ("V2", lambda2), ("T2", 0), ("Z", 0), ("D", sp.sqrt(theta)),
                  ("Sigma", sigma_p**2)),
        variables=(omega, lambda2, sigma_p),
        equation="(32), one index",
    ),
    claims=(
        GlobalMinimum("optimum", "Theorem 2",
                      "U1* = P Omega R^T, Sigma* = beta eta_dec^2 (U1*^T U1* + beta c^2 I)^-1 and (7) minimise L_CVAE"),
        ClosedFormSpectrum("omega", "(6)", "omega_i* = (1/eta_enc) sqrt(max(0, theta_i - beta eta_dec^2))",
                           quantity=omega, measured=("singular_values", "U1")),
        ClosedFormSpectrum("sigma", "(6)",
                           "sigma'_i = sqrt(beta) eta_enc eta_dec / sqrt(theta_i) if theta_i >= beta eta_dec^2, else "
                           "eta_enc; {sigma'_i} a permutation of {sigma_i}",
                           quantity=sigma_p, measured=("sqrt_eigenvalues", "Sigma")),
        RelationAtPrecision("sigma_star", "Theorem 2; (31)", "Sigma* = beta eta_dec^2 (U1*^T U1* + beta c^2 I)^{-1}",
                       residual=Sigma - Sigma_star),
        RelationAtPrecision("U2_relation", "(7)", "U2* P_A Phi^{1/2} = P_B Psi^{1/2} Z^T", residual=T2 - D * Z.T),
        RelationAtPrecision("W2_relation", "(7)",
                       "W2* P_B Psi^{1/2} (I - Z^T Z) = (U1*^T U1* + beta c^2 I)^{-1} U1*^T P_B Psi^{1/2} (I - Z^T Z)",
                       residual=V2 * K2 - M_inv * U1.T * D * K2),
        RelationAtPrecision("W1_relation", "(7)", "W1* P_A Phi^{1/2} = -W2* P_B Psi^{1/2} Z^T", residual=V1 + V2 * Z.T),
        RelationAtPrecision("left_singular_vectors", "Theorem 2",
                       "U1* = P Omega R^T with P the singular vectors of E: U1* U1*^T commutes with E",
                       residual=U1 * U1.T * E_EXPR - E_EXPR * U1 * U1.T),
        RankCount("rank", "discussion after Theorem 2",
                  "rank U1* = #{i : theta_i > beta eta_dec^2} (the sign of theta_i - beta eta_dec^2 decides)",
                  matrices=("U1",), active=active),
        Implication("complete_collapse", "discussion after Theorem 2",
                    "if theta_i <= beta eta_dec^2 for every i, then U1* = 0", premise=sp.LessThan(theta, threshold),
                    matrix="U1"),
        ZeroLines("remark3_zero_columns", "Remark 3; discussion after Theorem 2",
                  "with diagonal Sigma*, U1* has d1 - rank(U1*) zero columns", matrix="U1", axis="columns"),
        VanishingCoordinates("remark3_coordinates", "Remark 3; discussion after Theorem 2",
                             "for each zero column i of U1*, w_i1^T x + w_i2^T y = 0 for every pair (x, y): that "
                             "latent dimension collapses to the prior N(0, eta_enc^2)",
                             matrix="U1", axis="columns", second_moment=MEAN_SECOND_MOMENT),
        OnData("x_equals_y_E_zero", "discussion after Theorem 2", "if x = y, then E = 0",
               inner=IndexBound("x_equals_y_E_zero", "", "", lhs=_E, rhs=0.0, reference=_B),
               applies=_x_equals_y, condition="x = y"),
        OnData("x_equals_y_U1_zero", "discussion after Theorem 2", "if x = y, then U1* = 0 (complete collapse)",
               inner=Implication("x_equals_y_U1_zero", "", "", premise=sp.LessThan(theta, threshold), matrix="U1"),
               applies=_x_equals_y, condition="x = y"),
        IndexBound("theta_at_most_independent", "discussion after Theorem 2",
                   "x independent of y maximises the theta_i: theta_i(E) <= i-th eigenvalue of E[y y^T], the value "
                   "E takes when E[x y^T] = 0", lhs=_E, rhs=_B),
        OnData("independent_attains", "discussion after Theorem 2",
               "if E[x y^T] = 0, the theta_i are the eigenvalues of E[y y^T] (the maximum)",
               inner=IndexBound("independent_attains", "", "", lhs=_B, rhs=_E), applies=_uncorrelated,
               condition="E[x y^T] = 0"),
        DataFormAgreement("data_form", "(5) and App. E after (30)",
                          "minimising (5) over (W1, W2, U1, U2, Sigma) from the data reaches the whitened objective's "
                          "minimum + (-beta d1), and the minimisers share the spectra of U1 and Sigma",
                          compare=(("singular_values", "U1"), ("sqrt_eigenvalues", "Sigma"))),
    ),
    notes="Z is E[x~ y~^T] (d0 x d2) as the proof uses it; Theorem 2 prints E[y~ x~^T] with the shape d0 x d2. "
          "'Stronger x-y correlation gives more collapse' and 'small beta or eta_dec mitigates collapse' compare "
          "instances: they are property tests (tests/test_table1_cvae.py).",
)
