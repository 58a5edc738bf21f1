"""The linear conditional VAE (Section 4.1, Appendix E): whitened objective, statistics, data form.

Encoder q(z|x,y) = N(W1 x + W2 y, Sigma), decoder p(y|z,x) = N(U1 z + U2 x, eta_dec^2 I), prior
N(0, eta_enc^2 I), beta before the KL term.  With A = E[x x^T] = P_A Phi P_A^T, B = E[y y^T] =
P_B Psi P_B^T, x~ = Phi^{-1/2} P_A^T x, y~ = Psi^{-1/2} P_B^T y, the loss (5) becomes, in
V1 = W1 P_A Phi^{1/2}, V2 = W2 D, T2 = U2 P_A Phi^{1/2}, D = P_B Psi^{1/2}, Z = E[x~ y~^T] (d0 x d2):

  L = (1/eta_dec^2)[ ||U1 V1 + T2||^2 + ||U1 V2 - D||^2 + 2 tr((U1 V2 - D)^T (U1 V1 + T2) Z)
                     + tr((U1^T U1 + beta c^2 I) Sigma) + beta c^2 (||V1||^2 + ||V2||^2 + 2 tr(V1 Z V2^T)) ]
      - beta log|Sigma|                                      (App. E, after (30); (5) without -beta d1)

Z is E[x~ y~^T] as the proof uses it (Theorem 2 prints E[y~ x~^T] "in R^{d0 x d2}", which has the
other shape).  E := D (I - Z^T Z) D^T = E[y y^T] - E[y x^T] A^+ E[x y^T] is the covariance of y
left unexplained by x; its eigenvalues are the theta_i of Theorem 2.

Instances carry paired data {"X": N x D0, "Y": N x D2}; there is no spectrum form (the optimum
needs Z and D, not only the theta_i).  The model brings its own Hypothesis strategies: pairs with a
chosen canonical correlation (independent ... x = y), y in the span of x, rank-deficient x and y,
and theta_i placed below / at / just above / above the threshold beta eta_dec^2.
"""
from __future__ import annotations

import numpy as np
import sympy as sp
import torch
from hypothesis import strategies as st
from sympy import Determinant, Identity, MatrixSymbol, Trace, log

from theorems.linear_vae import beta, c, eta_dec, eta_enc
from verifier.batch import STATISTICS_RTOL
from verifier.data_form import DataForm
from verifier.errors import InstanceError
from verifier.instances import Instance
from verifier.matrix_functions import log_det_spd
from verifier.rank import principal_directions
from verifier.spec import Hyperparameter, Model, Variable

# x in R^{D0} (rank of E[xx^T]: d0), y in R^{D2} (rank of E[yy^T]: d2), latent z in R^{d1}.
D0, d0, D2, d2, d1 = sp.symbols("D0 d0 D2 d2 d1", integer=True, positive=True)

U1 = MatrixSymbol("U1", D2, d1)
V1 = MatrixSymbol("V1", d1, d0)
V2 = MatrixSymbol("V2", d1, d2)
T2 = MatrixSymbol("T2", D2, d0)
Sigma = MatrixSymbol("Sigma", d1, d1)
Z = MatrixSymbol("Z", d0, d2)
D = MatrixSymbol("D", D2, d2)


def _sq(M):
    """||M||_F^2 as a trace."""
    return Trace(M.T * M)


_x_part, _y_part = U1 * V1 + T2, U1 * V2 - D
OBJECTIVE = ((_sq(_x_part) + _sq(_y_part) + 2 * Trace(_y_part.T * _x_part * Z)
              + Trace((U1.T * U1 + beta * c**2 * Identity(d1)) * Sigma)
              + beta * c**2 * (_sq(V1) + _sq(V2) + 2 * Trace(V1 * Z * V2.T))) / eta_dec**2
             - beta * log(Determinant(Sigma)))

# E = D (I - Z^T Z) D^T and the second moment of the encoder mean W1 x + W2 y = V1 x~ + V2 y~.
E_EXPR = D * (Identity(d2) - Z.T * Z) * D.T
MEAN_SECOND_MOMENT = V1 * V1.T + V2 * V2.T + V1 * Z * V2.T + V2 * Z.T * V1.T

HYPERPARAMETERS = (
    Hyperparameter(beta, "weight of the KL term"),
    Hyperparameter(eta_enc, "prior std: p(z|x) = N(0, eta_enc^2 I)"),
    Hyperparameter(eta_dec, "decoder std: p(y|z,x) = N(U1 z + U2 x, eta_dec^2 I)"),
)


# --------------------------------------------------------------------------- statistics


def _paired(instance) -> tuple[np.ndarray, np.ndarray]:
    if instance.X is None or instance.Y is None:
        raise InstanceError('the conditional VAE needs paired data: data = {"X": N x D0, "Y": N x D2} '
                            "(one sample a row, rows paired); it has no spectrum form")
    X, Y = np.asarray(instance.X, dtype=np.float64), np.asarray(instance.Y, dtype=np.float64)
    if not np.any(Y):
        raise InstanceError("data.Y is all zeros: E[y y^T] has no positive eigenvalue")
    return X, Y


def whitening(X: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
    """P_A Phi^{1/2}, P_B Psi^{1/2}, Z = E[x~ y~^T], E = D (I - Z^T Z) D^T and B = E[y y^T] from paired rows,
    each of x and y over its numerical rank (verifier.rank: a rounding-level direction whitened back to unit
    size would put a canonical correlation above 1 and make the objective indefinite)."""
    N = X.shape[0]
    P_A, Phi, Xt = principal_directions(X)
    P_B, Psi, Yt = principal_directions(Y)
    Zm = Xt.T @ Yt / N
    Dm = P_B * np.sqrt(Psi)
    Em = Dm @ (np.eye(len(Psi)) - Zm.T @ Zm) @ Dm.T
    # The whitened samples' second moments are I in exact arithmetic; how far they are from it is the
    # rounding the statistics carry (about eps x cond(E[x x^T]); 1e-11 for a badly conditioned X).
    rounding = max(np.linalg.norm(Xt.T @ Xt / N - np.eye(len(Phi)), 2),
                   np.linalg.norm(Yt.T @ Yt / N - np.eye(len(Psi)), 2))
    return {"Z": Zm, "D": Dm, "E": 0.5 * (Em + Em.T), "B": Y.T @ Y / N, "PAh": P_A * np.sqrt(Phi), "PBh": Dm,
            STATISTICS_RTOL: float(rounding)}


def statistics(instance):
    X, Y = _paired(instance)
    w = whitening(X, Y)
    mats = {k: w[k] for k in ("Z", "D", "E", "B", STATISTICS_RTOL)}
    return mats, {"D0": X.shape[1], "d0": w["Z"].shape[0], "D2": Y.shape[1], "d2": w["Z"].shape[1]}


# --------------------------------------------------------------------------- data form (5)

W1d = MatrixSymbol("W1", d1, D0)
W2d = MatrixSymbol("W2", d1, D2)
U2d = MatrixSymbol("U2", D2, D0)


def _raw(instance):
    if instance.X is None:
        return None
    X, Y = _paired(instance)
    w = whitening(X, Y)
    return {"X": X, "Y": Y, "PAh": w["PAh"], "PBh": w["PBh"]}


def data_loss(data: dict, p: dict) -> torch.Tensor:
    """(5): (1/eta_dec^2) E[||(U1W1 + U2)x + (U1W2 - I)y||^2 + tr(U1 Sigma U1^T)
    + beta c^2 (||W1x + W2y||^2 + tr Sigma)] - beta d1 - beta log|Sigma|, the mean over the N rows."""
    X, Y = data["X"], data["Y"]
    ee, ed = data["eta_enc"], data["eta_dec"]
    N = X.shape[-2]
    U1_, W1_, W2_, U2_, S = p["U1"], p["W1"], p["W2"], p["U2"], p["Sigma"]
    eye = torch.eye(Y.shape[-1], dtype=X.dtype, device=X.device)
    residual = X @ (U1_ @ W1_ + U2_).mT + Y @ (U1_ @ W2_ - eye).mT
    mean = X @ W1_.mT + Y @ W2_.mT
    bc2 = data["beta"] * (ed / ee) ** 2
    d1_ = S.shape[-1]
    inner = ((residual ** 2).sum((-2, -1)) / N + torch.diagonal(U1_ @ S @ U1_.mT, dim1=-2, dim2=-1).sum(-1)
             + bc2 * ((mean ** 2).sum((-2, -1)) / N + torch.diagonal(S, dim1=-2, dim2=-1).sum(-1)))
    return inner / ed ** 2 - data["beta"] * d1_ - data["beta"] * log_det_spd(S)


def _whiten(data: dict, p: dict) -> dict:
    return {"U1": p["U1"], "V1": p["W1"] @ data["PAh"], "V2": p["W2"] @ data["PBh"], "T2": p["U2"] @ data["PAh"],
            "Sigma": p["Sigma"]}


DATA_FORM = DataForm(
    equation="(5)",
    parameters=(Variable(U1), Variable(W1d), Variable(W2d), Variable(U2d), Variable(Sigma, "positive_diagonal")),
    raw=_raw,
    loss=data_loss,
    whiten=_whiten,
    # (5) keeps -beta d1, which the whitened objective drops
    constant=lambda data, dims: -data["beta"] * dims[d1],
)


# --------------------------------------------------------------------------- strategies

# A hyperparameter value (public: a variant of the CVAE draws its hyperparameters as the CVAE does).
positive = st.one_of(st.sampled_from([1.0, 0.5, 2.0]), st.floats(0.3, 3.0))
CORRELATIONS = ("independent", "weak", "strong", "near_one")


def _orthonormal(rng, rows: int, cols: int) -> np.ndarray:
    return np.linalg.qr(rng.standard_normal((rows, cols)))[0][:, :cols]


@st.composite
def dimensions(draw, theorem, max_dim: int = 4):
    """(latent, dims) with d0 <= D0, d2 <= D2 (rank-deficient x or y when smaller), d1 on either side."""
    D0_, D2_ = draw(st.integers(1, max_dim)), draw(st.integers(1, max_dim))
    dims = {"D0": D0_, "d0": draw(st.integers(1, D0_)), "D2": D2_, "d2": draw(st.integers(1, D2_))}
    return {"d1": draw(st.integers(1, max_dim))}, dims


def _targets(draw, thr: float, n: int) -> list[float]:
    """theta_1..theta_n relative to the threshold thr = beta eta_dec^2, in a drawn regime."""
    regime = draw(st.sampled_from(["below", "at_threshold", "just_above", "above", "mixed"]))
    u = lambda a, b: draw(st.floats(a, b))
    if regime == "below":
        return [thr * u(0.05, 0.95) for _ in range(n)]
    if regime == "just_above":
        return [thr * u(1.01, 1.5) for _ in range(n)]
    if regime == "above":
        return [thr * u(1.05, 4.0) for _ in range(n)]
    if regime == "at_threshold":
        k = draw(st.integers(0, n - 1))
        return [thr * u(1.2, 3.0) for _ in range(k)] + [thr] + [thr * u(0.1, 0.9) for _ in range(n - k - 1)]
    return [thr * u(0.1, 3.0) for _ in range(n)]


def correlations(draw, n: int) -> list[float]:
    """n canonical correlations of x and y at one drawn level (independent, weak, strong, near one), drawn
    with ``draw`` inside a composite strategy (public: a CVAE variant pairs its data as the CVAE does)."""
    level = draw(st.sampled_from(CORRELATIONS))
    hi = {"independent": 0.0, "weak": 0.3, "strong": 0.9, "near_one": 0.999}[level]
    lo = {"independent": 0.0, "weak": 0.0, "strong": 0.5, "near_one": 0.99}[level]
    return [draw(st.floats(lo, hi)) if hi > 0 else 0.0 for _ in range(n)]


def canonical_pair(rng, N: int, phi, psi, rho, D0_: int, D2_: int) -> tuple[np.ndarray, np.ndarray]:
    """Paired rows with E[xx^T] eigenvalues phi, E[yy^T] eigenvalues psi and canonical correlations rho:
    Z = E[x~ y~^T] = diag(rho) in the constructed bases, so E has eigenvalues psi_k (1 - rho_k^2)
    (psi_k past the rho's).  Needs N >= len(phi) + len(psi); the spans are random subspaces."""
    k0, k2 = len(phi), len(psi)
    Q = _orthonormal(rng, N, k0 + k2)
    a, q = Q[:, :k0], Q[:, k0:]
    b = q.copy()
    for k, r in enumerate(rho):
        b[:, k] = r * a[:, k] + np.sqrt(1 - r * r) * q[:, k]
    X = np.sqrt(N) * (a * np.sqrt(phi)) @ _orthonormal(rng, D0_, k0).T
    Y = np.sqrt(N) * (b * np.sqrt(psi)) @ _orthonormal(rng, D2_, k2).T
    return X, Y


@st.composite
def instances_with(draw, theorem, latent: dict, dims: dict, mode: str | None = None):
    """One CVAE instance of the given dimensions; ``mode`` fixes how (x, y) are drawn, else drawn."""
    hyper = {h.symbol.name: draw(positive) for h in theorem.model.hyperparameters}
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    mode = mode or draw(st.sampled_from(["threshold", "threshold", "threshold", "x_equals_y", "y_in_span_x",
                                         "gaussian"]))
    D0_, d0_, D2_, d2_ = dims["D0"], dims["d0"], dims["D2"], dims["d2"]
    scale = draw(st.sampled_from([1.0, 0.1, 3.0]))
    if mode == "threshold":
        thr = hyper["beta"] * hyper["eta_dec"] ** 2
        theta = _targets(draw, thr, d2_)
        rho = correlations(draw, min(d0_, d2_))
        psi = [t / (1 - rho[k] ** 2) if k < len(rho) else t for k, t in enumerate(theta)]
        phi = [draw(st.floats(0.1, 4.0)) for _ in range(d0_)]
        N = draw(st.integers(d0_ + d2_, d0_ + d2_ + 3))
        X, Y = canonical_pair(rng, N, phi, psi, rho, D0_, D2_)
    else:
        N = draw(st.integers(max(d0_, d2_) + 1, max(D0_, D2_) + 6))
        X = scale * rng.standard_normal((N, d0_)) @ rng.standard_normal((d0_, D0_))
        if mode == "x_equals_y":
            Y = X.copy()
        elif mode == "y_in_span_x":
            Y = X @ rng.standard_normal((D0_, D2_))
        else:
            noise = rng.standard_normal((N, d2_)) @ rng.standard_normal((d2_, D2_))
            Y = draw(st.floats(0.0, 2.0)) * X @ rng.standard_normal((D0_, D2_)) + scale * noise
    return Instance(dict(latent), hyper, {}, X=X, Y=Y, seed=seed)


def _instance_strategy(theorem, latent, dims):
    return instances_with(theorem, latent, dims)


def conditional_vae() -> Model:
    return Model(
        name="linear conditional VAE, learnable diagonal Sigma",
        description=__doc__.strip().splitlines()[0],
        objective=OBJECTIVE,
        equation="App. E, after (30)",
        variables=(Variable(U1), Variable(V1), Variable(V2), Variable(T2), Variable(Sigma, "positive_diagonal")),
        data=(Z, D),
        hyperparameters=HYPERPARAMETERS,
        fixed_vectors=(),
        latent_dims=(d1,),
        data_dims=(D0, d0, D2, d2),
        statistics=statistics,
        data_kind="xy",
        dimensions_strategy=dimensions,
        instance_strategy=_instance_strategy,
        data_form=DATA_FORM,
    )
