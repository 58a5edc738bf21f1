"""The linear standard VAE (Section 3, Appendix D): objective (10) and its data.

Encoder q(z|x) = N(Wx, Sigma), decoder p(x|z) = N(Uz, eta_dec^2 I), prior N(0, eta_enc^2 I),
beta before the KL term.  With A = E[x x^T] = P_A Phi P_A^T, Z := E[x x~^T] = P_A Phi^{1/2}
and V := W P_A Phi^{1/2}, the loss (3) becomes the matrix objective (10), written here once.
"""
from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import MatrixSymbol, Trace, Determinant, log

import torch

from verifier.data_form import DataForm
from verifier.matrix_functions import log_det_spd
from verifier.rank import principal_directions
from verifier.spec import FixedVector, Hyperparameter, Model, Variable

# Dimensions: x in R^{D0}, rank of E[x x^T] is d0, latent z in R^{d1}.
D0, d0, d1 = sp.symbols("D0 d0 d1", integer=True, positive=True)
beta, eta_enc, eta_dec = sp.symbols("beta eta_enc eta_dec", positive=True)
c = eta_dec / eta_enc

U = MatrixSymbol("U", D0, d1)
V = MatrixSymbol("V", d1, d0)
Z = MatrixSymbol("Z", D0, d0)
Sigma = MatrixSymbol("Sigma", d1, d1)

# Per-index quantities and singular values, shared by Theorems 1 and 4.
theta = sp.Symbol("theta", nonnegative=True)          # i-th singular value of Z
sigma_p = sp.Symbol("sigma_p", positive=True)         # sigma'_i: i-th encoder std (sorted)
omega = sp.Symbol("omega", nonnegative=True)          # i-th singular value of U*
lam = sp.Symbol("lambda", nonnegative=True)           # i-th singular value of V*

# Bases of the SVD structure U* = R Omega T^T, V* = T Lambda S^T.
R = MatrixSymbol("R", D0, D0)
S = MatrixSymbol("S", d0, d0)
T = MatrixSymbol("T", d1, d1)
Omega = MatrixSymbol("Omega", D0, d1)
Lambda = MatrixSymbol("Lambda", d1, d0)

_residual = U * V - Z
# (10): L = (1/eta_dec^2)[||UV - Z||_F^2 + tr(U^T U Sigma) + beta c^2 ||V||_F^2 + beta c^2 tr(Sigma)] - beta log|Sigma|
OBJECTIVE = (Trace(_residual.T * _residual) + Trace(U.T * U * Sigma) + beta * c**2 * Trace(V.T * V)
             + beta * c**2 * Trace(Sigma)) / eta_dec**2 - beta * log(Determinant(Sigma))

HYPERPARAMETERS = (
    Hyperparameter(beta, "weight of the KL term"),
    Hyperparameter(eta_enc, "prior std: p(z) = N(0, eta_enc^2 I)"),
    Hyperparameter(eta_dec, "decoder std: p(x|z) = N(Uz, eta_dec^2 I)"),
)


def z_matrix(instance) -> np.ndarray:
    """The matrix Z = E[x x~^T] = P_A Phi^{1/2} of an instance (D0 x d0, numpy): from its data matrix X
    (whitened over its numerical rank: verifier.rank), or diag(theta) from its spectrum (positive theta
    only).  The models whose data are the linear VAE's (MHVAE, three-latent and per-sample VAE) build
    their statistics from it."""
    if instance.X is not None:
        P_A, Phi, _ = principal_directions(instance.X)
        return P_A * np.sqrt(Phi)
    positive = sorted((t for t in instance.spectrum if t > 0), reverse=True)
    Zm = np.zeros((instance.D0, len(positive)))
    Zm[np.arange(len(positive)), np.arange(len(positive))] = positive
    return Zm


def linear_vae(encoder_variance: str) -> Model:
    """The linear VAE with an unlearnable ('fixed', diag(sigma_i^2)) or learnable diagonal Sigma."""
    if encoder_variance == "fixed":
        variables = (Variable(U), Variable(V))
        data = (Z, Sigma)
        vectors = (FixedVector("sigma", d1, "encoder std sigma_i: Sigma = diag(sigma_1^2, ..., sigma_d1^2)"),)
    elif encoder_variance == "learnable":
        variables = (Variable(U), Variable(V), Variable(Sigma, "positive_diagonal"))
        data = (Z,)
        vectors = ()
    else:
        raise ValueError(f"encoder_variance={encoder_variance!r}; use 'fixed' or 'learnable'")

    def statistics(instance):
        Zm = z_matrix(instance)
        mats = {"Z": Zm}
        if encoder_variance == "fixed":
            mats["Sigma"] = np.diag(np.asarray(instance.vectors["sigma"]) ** 2)
        return mats, {"D0": Zm.shape[0], "d0": Zm.shape[1]}

    return Model(
        name=f"linear VAE, {encoder_variance} diagonal Sigma",
        description=__doc__.strip().splitlines()[0],
        objective=OBJECTIVE,
        equation="(10)",
        variables=variables,
        data=data,
        hyperparameters=HYPERPARAMETERS,
        fixed_vectors=vectors,
        latent_dims=(d1,),
        data_dims=(D0, d0),
        statistics=statistics,
        data_form=_data_form(encoder_variance),
    )


# --------------------------------------------------------------------------- data form (3)

W = MatrixSymbol("W", d1, D0)


def _vae_data_loss(data: dict, p: dict) -> torch.Tensor:
    """(3): (1/eta_dec^2) E_x[||UWx - x||^2 + tr((U^T U + beta c^2 I) Sigma) + beta c^2 ||Wx||^2] - beta log|Sigma|,
    the mean over the N rows of X; Sigma is a parameter (learnable) or the instance's diag(sigma^2)."""
    X, U_, W_ = data["X"], p["U"], p["W"]
    S = p["Sigma"] if "Sigma" in p else data["Sigma"]
    N = X.shape[-2]
    bc2 = data["beta"] * (data["eta_dec"] / data["eta_enc"]) ** 2
    eye = torch.eye(S.shape[-1], dtype=X.dtype, device=X.device)
    reconstruction = ((X @ (U_ @ W_).mT - X) ** 2).sum((-2, -1)) / N
    latent = ((X @ W_.mT) ** 2).sum((-2, -1)) / N
    trace = torch.diagonal((U_.mT @ U_ + bc2[:, None, None] * eye) @ S, dim1=-2, dim2=-1).sum(-1)
    return (reconstruction + trace + bc2 * latent) / data["eta_dec"] ** 2 - data["beta"] * log_det_spd(S)


def _data_form(encoder_variance: str) -> DataForm:
    learnable = encoder_variance == "learnable"

    def raw(instance):
        if instance.X is None:
            return None
        X = np.asarray(instance.X, dtype=np.float64)
        P_A, Phi, _ = principal_directions(X)
        out = {"X": X, "PAh": P_A * np.sqrt(Phi)}
        if not learnable:
            out["Sigma"] = np.diag(np.asarray(instance.vectors["sigma"]) ** 2)
        return out

    def whiten(data, p):
        out = {"U": p["U"], "V": p["W"] @ data["PAh"]}
        if learnable:
            out["Sigma"] = p["Sigma"]
        return out

    parameters = (Variable(U), Variable(W)) + ((Variable(Sigma, "positive_diagonal"),) if learnable else ())
    return DataForm(equation="(3)", parameters=parameters, raw=raw, loss=_vae_data_loss, whiten=whiten,
                    constant=lambda data, dims: torch.zeros_like(data["beta"]))
