"""Shared pieces of the linear standard VAE (Appendix D): objectives, instances, optimum search."""
from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import minimize

from ._elbo import low_rank_data, vae_terms, whiten
from ._numeric import diag_rect, rand_orth, rand_scalars
from ._shrink import dims
from ._symbolic import fro2, logdet, tr


def loss10(M, s):
    """(10): (1/ed^2)[|UV-Z|^2 + tr(U^T U Sigma) + beta c^2 |V|^2 + beta c^2 tr Sigma] - beta log|Sigma|."""
    U, V, Z, Sig = M["U"], M["V"], M["Z"], M["Sigma"]
    k = s["beta"] * s["c"] ** 2
    return (fro2(U @ V - Z) + tr(U.T @ U @ Sig) + k * fro2(V) + k * tr(Sig)) / s["ed"] ** 2 - s["beta"] * logdet(Sig)


def loss11(M, s):
    """(11): (1/ed^2)[|UV-Z|^2 + tr(U^T U Sigma) + beta c^2 |V|^2]  (Sigma fixed)."""
    U, V, Z, Sig = M["U"], M["V"], M["Z"], M["Sigma"]
    return (fro2(U @ V - Z) + tr(U.T @ U @ Sig) + s["beta"] * s["c"] ** 2 * fro2(V)) / s["ed"] ** 2


def rand_spd(rng, n):
    a = rng.standard_normal((n, n))
    return a @ a.T / n + 0.3 * np.eye(n)


def vae_instance(rng, D0=5, d0=4, d1=3, N=20):
    """Data on a d0-dim subspace of R^D0, random (U, W, Sigma): the objects of (3) and (10)."""
    D0, d0, d1 = dims(D0=D0, d0=d0, d1=d1).values()
    X = low_rank_data(rng, N, D0, d0)
    A, PA, Phi, Xt = whiten(X)
    s = rand_scalars(rng)
    U, W, Sig = rng.standard_normal((D0, d1)), rng.standard_normal((d1, D0)), rand_spd(rng, d1)
    V = W @ PA @ np.diag(np.sqrt(Phi))
    Z = X.T @ Xt / N                                   # E[x x~^T]
    terms, latents = vae_terms({"U": U, "W": W, "Sigma": Sig}, s, D0)
    K = D0 * np.log(2 * np.pi * s["ed"] ** 2) + s["beta"] * d1 * (np.log(s["ee"] ** 2) - 1)
    return dict(M={"U": U, "V": V, "Z": Z, "Sigma": Sig}, s=s, K=K, terms=terms, latents=latents, data=X)


def svd_instance(rng, D0=5, d0=4, d1=3, distinct=True):
    """Z = R Theta S^T with known singular values, diagonal Sigma = T Sigma' T^T (T a permutation)."""
    D0, d0, d1 = dims(D0=D0, d0=d0, d1=d1).values()
    s = rand_scalars(rng)
    theta = np.sort(rng.uniform(0.2, 3.0, d0))[::-1]
    R, S = rand_orth(rng, D0), rand_orth(rng, d0)
    Theta = diag_rect(theta, D0, d0)
    sig = rng.uniform(0.3, 1.5, d1) if distinct else np.full(d1, rng.uniform(0.3, 1.5))
    order = np.argsort(sig)
    T = np.zeros((d1, d1))
    T[order, np.arange(d1)] = 1.0                     # Sigma = T Sigma' T^T
    sigp = sig[order]
    return dict(s, Z=R @ Theta @ S.T, R=R, S=S, Theta=Theta, theta=theta, Sigma=np.diag(sig ** 2),
                Sigp=np.diag(sigp ** 2), sigp=sigp, T=T, U=rng.standard_normal((D0, d1)),
                V=rng.standard_normal((d1, d0)))


def v13(I, U=None):
    """V from (13), at the instance's U or at the ``U`` given."""
    U = I["U"] if U is None else U
    return np.linalg.solve(U.T @ U + I["beta"] * I["c"] ** 2 * np.eye(U.shape[1]), U.T @ I["Z"])


def lbfgs_min(fun_torch, shapes, rng, restarts=3):
    """Best local minimum found by BFGS (torch gradients) from random starts."""
    sizes = [int(np.prod(s)) for s in shapes]

    def f(x):
        xt = torch.tensor(x, requires_grad=True)
        parts, k = [], 0
        for shp, n in zip(shapes, sizes):
            parts.append(xt[k:k + n].reshape(shp))
            k += n
        v = fun_torch(*parts)
        g, = torch.autograd.grad(v, xt)
        return float(v.detach()), g.numpy()

    best = np.inf
    for _ in range(restarts):
        x0 = rng.standard_normal(sum(sizes))
        r = minimize(f, x0, jac=True, method="BFGS", options={"maxiter": 2000, "gtol": 1e-9})
        best = min(best, r.fun)
    return best
