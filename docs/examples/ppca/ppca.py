"""Probabilistic PCA's maximum-likelihood solution (Tipping & Bishop 1999, J. R. Statist. Soc. B 61(3), eqs. (7)-(8)).

x ~ N(0, C) with C = W W^T + s2 I (W: D x q, s2 > 0).  With S the sample covariance, the negative
log-likelihood is (N/2)(D log 2 pi + log|C| + tr(C^-1 S)); its minimiser is

    W_ML = U_q (Lambda_q - s2 I)^(1/2) R   (R any rotation),   s2_ML = (1/(D - q)) sum_{j > q} lambda_j,

with lambda_1 >= ... >= lambda_D the eigenvalues of S and U_q its first q eigenvectors.  Valid for q < rank S
(else s2 -> 0 and the likelihood is unbounded).  Written with verifier.spec's public API only.
"""
import numpy as np
import sympy as sp
from sympy import Determinant, Identity, Inverse, MatrixSymbol, Trace, log

from verifier.spec import (ClosedFormSpectrum, ClosedFormValue, GlobalMinimum, LeftSingularVectors, Model, Optimum,
                           RandomOrthogonalBasis, Reduction, SingularValues, SpectrumReduction, Theorem, Variable,
                           scalar_variable)

# Dimensions: the data's D (named D0 in the instance format), its rank d0, and the latent q.
D0, d0, q = sp.symbols("D0 d0 q", integer=True, positive=True)

# 1. The variables: the loading matrix W (free) and the noise variance s2 (a positive scalar).
W = MatrixSymbol("W", D0, q)
s2_variable, s2 = scalar_variable("s2")
S = MatrixSymbol("S", D0, D0)                        # the data: the sample covariance

# 2. The objective: the negative log-likelihood per sample, without its constants.
C = W * W.T + s2 * Identity(D0)
OBJECTIVE = log(Determinant(C)) + Trace(Inverse(C) * S)


def statistics(instance):
    """S = X^T X / N from a data matrix X (one sample per row), or diag(theta^2) from a spectrum."""
    if instance.X is not None:
        X = np.asarray(instance.X, dtype=float)
        covariance = X.T @ X / len(X)
    else:
        covariance = np.diag(np.square(np.asarray(instance.spectrum, dtype=float)))
        covariance = np.pad(covariance, (0, instance.D0 - len(covariance)))
    return {"S": covariance}, {"D0": covariance.shape[0], "d0": int(np.linalg.matrix_rank(covariance))}


MODEL = Model(
    name="probabilistic PCA", description="x ~ N(0, W W^T + s2 I)", objective=OBJECTIVE, equation="(4)",
    variables=(Variable(W), s2_variable), data=(S,), hyperparameters=(), fixed_vectors=(),
    latent_dims=(q,), data_dims=(D0, d0), statistics=statistics,
    domain=sp.StrictLessThan(q, d0),
    domain_reason="with q >= rank S the noise variance can shrink to 0 and the likelihood is unbounded")

# 3. The per-index quantities and the closed forms: lambda_i (the eigenvalues of S, i <= q), the mean of the
#    discarded ones (one value at every index), and the singular values of W_ML.
lam = sp.Symbol("lambda", nonnegative=True)
discarded_mean = sp.Symbol("discarded_mean", positive=True)
omega = sp.Symbol("omega", nonnegative=True)
s2_ml = sp.Symbol("s2_ml", positive=True)
omega_star = sp.sqrt(sp.Max(0, lam - discarded_mean))            # (7): U_q (Lambda_q - s2 I)^(1/2)

# 4. How the claimed optimum is assembled from them: W = U_q Omega R^T, s2 = s2_ML.
U_basis, R = MatrixSymbol("U_S", D0, D0), MatrixSymbol("R", q, q)
Omega, S2_diagonal = MatrixSymbol("Omega", D0, q), MatrixSymbol("S2", 1, 1)

THEOREM = Theorem(
    name="ppca_ml", title="Probabilistic PCA: the maximum-likelihood W and s2",
    source="Tipping & Bishop (1999), eqs. (7)-(8)", model=MODEL, index_size=q,
    indexed=((lam, SingularValues("S")), (discarded_mean, SpectrumReduction("S", "mean", after="q"))),
    closed_forms=((omega, omega_star), (s2_ml, discarded_mean)),
    thresholds=(sp.Integer(1),),                     # no threshold in the hyperparameters: the scale of the data
    optimum=Optimum(bases=((U_basis, LeftSingularVectors("S")), (R, RandomOrthogonalBasis(q))),
                    diagonals=((Omega, omega), (S2_diagonal, s2_ml)),
                    construction=((W, U_basis * Omega * R.T), (s2_variable.symbol, S2_diagonal))),
    reduction=Reduction(matrices=(("W", omega), ("S", lam), ("s2", discarded_mean)), variables=(omega,),
                        equation="per index, s2 held at s2_ML"),
    claims=(
        GlobalMinimum("optimum", "(7)-(8)", "W_ML, s2_ML minimise the negative log-likelihood"),
        ClosedFormSpectrum("W", "(7)", "singular values of W_ML = sqrt(lambda_i - s2_ML)", quantity=omega,
                           measured=("singular_values", "W")),
        ClosedFormValue("s2", "(8)", "s2_ML = mean of the discarded eigenvalues", quantity=s2_ml,
                        measured=("singular_values", "s2")),
    ),
)
