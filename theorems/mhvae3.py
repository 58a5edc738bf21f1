"""A linear Markovian hierarchical VAE with three latents: the matrix objective of Section 4.2 / App. F, extended.

Encoders q(z1|x) = N(W1 x, Sigma1), q(z2|z1) = N(W2 z1, Sigma2), q(z3|z2) = N(W3 z2, Sigma3); decoders
p(x|z1) = N(U1 z1, eta_dec^2 I), p(z1|z2) = N(U2 z2, eta_dec^2 I), p(z2|z3) = N(U3 z3, eta_dec^2 I);
prior p(z3) = N(0, eta_enc^2 I); beta_k before the term of z_k.  With V1 := W1 P_A Phi^{1/2} and
Z = P_A Phi^{1/2} (so that x = Z x~ with E[x~ x~^T] = I), the negative ELBO is, as in App. F
(constants -beta_k d_k dropped, every term times 2):

  (1/eta_dec^2) E||x - U1 z1||^2                        -> ||U1 V1 - Z||^2 + tr(U1^T U1 Sigma1)
  + beta1 [(1/eta_dec^2) E||z1 - U2 z2||^2 - log|Sigma1|]
        -> ||(U2 W2 - I) V1||^2 + tr((U2 W2 - I)^T (U2 W2 - I) Sigma1) + tr(U2^T U2 Sigma2)
  + beta2 [(1/eta_dec^2) E||z2 - U3 z3||^2 - log|Sigma2|]                       (new: z2's prior is p(z2|z3))
        -> ||(U3 W3 - I) W2 V1||^2 + tr((U3 W3 - I)^T (U3 W3 - I) C2) + tr(U3^T U3 Sigma3)
  + beta3 [(1/eta_enc^2) E||z3||^2 - log|Sigma3|]
        -> c^2 (||W3 W2 V1||^2 + tr(W3^T W3 C2) + tr Sigma3)

where C2 = W2 Sigma1 W2^T + Sigma2 is the covariance of z2 given x.  The first two lines are the
two-latent objective of App. F term for term; with two latents the z2 term is the last line's
shape (prior N(0, eta_enc^2 I)), which is why it carries c^2 there and not here.
``tests/test_variants.py`` checks this objective against a Monte Carlo estimate of the ELBO.
"""
from __future__ import annotations

import sympy as sp
from sympy import Determinant, Identity, MatrixSymbol, Trace, log

from theorems.linear_vae import D0, Z, z_matrix, c, d0, eta_dec, eta_enc
from verifier.spec import FixedVector, Hyperparameter, Model, Variable

d1, d2, d3 = sp.symbols("d1 d2 d3", integer=True, positive=True)
beta1, beta2, beta3 = sp.symbols("beta1 beta2 beta3", positive=True)

U1, V1 = MatrixSymbol("U1", D0, d1), MatrixSymbol("V1", d1, d0)
U2, W2 = MatrixSymbol("U2", d1, d2), MatrixSymbol("W2", d2, d1)
U3, W3 = MatrixSymbol("U3", d2, d3), MatrixSymbol("W3", d3, d2)
Sigma1, Sigma2, Sigma3 = (MatrixSymbol(f"Sigma{k}", d, d) for k, d in ((1, d1), (2, d2), (3, d3)))


def _sq(M):
    """||M||_F^2 as a trace."""
    return Trace(M.T * M)


_E2 = U2 * W2 - Identity(d1)                     # z1 - U2 z2 = -(E2) z1 - U2 e2
_E3 = U3 * W3 - Identity(d2)                     # z2 - U3 z3 = -(E3) z2 - U3 e3
_C2 = W2 * Sigma1 * W2.T + Sigma2                # Cov(z2 | x)

RECONSTRUCTION = _sq(U1 * V1 - Z) + Trace(U1.T * U1 * Sigma1)
Z1_TERM = _sq(_E2 * V1) + Trace(_E2.T * _E2 * Sigma1) + Trace(U2.T * U2 * Sigma2)
Z2_TERM = _sq(_E3 * W2 * V1) + Trace(_E3.T * _E3 * _C2) + Trace(U3.T * U3 * Sigma3)
Z3_TERM = c**2 * (_sq(W3 * W2 * V1) + Trace(W3.T * W3 * _C2) + Trace(Sigma3))

OBJECTIVE = ((RECONSTRUCTION + beta1 * Z1_TERM + beta2 * Z2_TERM + beta3 * Z3_TERM) / eta_dec**2
             - beta1 * log(Determinant(Sigma1)) - beta2 * log(Determinant(Sigma2))
             - beta3 * log(Determinant(Sigma3)))

HYPERPARAMETERS = (
    Hyperparameter(beta1, "weight of the z1 term"),
    Hyperparameter(beta2, "weight of the z2 term"),
    Hyperparameter(beta3, "weight of the z3 term (KL to the prior)"),
    Hyperparameter(eta_enc, "prior std: p(z3) = N(0, eta_enc^2 I)"),
    Hyperparameter(eta_dec, "decoder std of x, z1 and z2"),
)


def mhvae3(sigma1: str = "fixed") -> Model:
    """Three-latent MHVAE; Sigma2, Sigma3 learnable diagonal, Sigma1 'fixed' (diag(sigma1_i^2)) or 'learnable'."""
    maps = tuple(Variable(m) for m in (U1, V1, U2, W2, U3, W3))
    learned = (Variable(Sigma2, "positive_diagonal"), Variable(Sigma3, "positive_diagonal"))
    if sigma1 == "fixed":
        variables, data = maps + learned, (Z, Sigma1)
        vectors = (FixedVector("sigma1", d1, "encoder std of z1: Sigma1 = diag(sigma1_i^2)"),)
    elif sigma1 == "learnable":
        variables, data, vectors = maps + (Variable(Sigma1, "positive_diagonal"),) + learned, (Z,), ()
    else:
        raise ValueError(f"sigma1={sigma1!r}; use 'fixed' or 'learnable'")

    def statistics(instance):
        Zm = z_matrix(instance)
        mats = {"Z": Zm}
        if sigma1 == "fixed":
            import numpy as np
            mats["Sigma1"] = np.diag(np.asarray(instance.vectors["sigma1"], dtype=np.float64) ** 2)
        return mats, {"D0": Zm.shape[0], "d0": Zm.shape[1]}

    return Model(
        name=f"three-latent linear MHVAE, {sigma1} Sigma1, learnable Sigma2 and Sigma3",
        description=__doc__.strip().splitlines()[0],
        objective=OBJECTIVE,
        equation="App. F objective, extended to three latents",
        variables=variables,
        data=data,
        hyperparameters=HYPERPARAMETERS,
        fixed_vectors=vectors,
        latent_dims=(d1, d2, d3),
        data_dims=(D0, d0),
        statistics=statistics,
    )
