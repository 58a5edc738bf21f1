"""Shared pieces of the two-latent Markovian hierarchical VAE (Appendix F and C.2)."""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from ._elbo import hvae_terms, low_rank_data, whiten
from ._numeric import diag_rect, rand_orth, rand_scalars
from ._shrink import dims
from ._symbolic import eye, fro2, logdet, tr
from ._vae import rand_spd

SIZES = dict(D0=5, d0=4, d1=3, d2=3)        # the instances' sizes (capped while a counterexample is shrunk)


def dim1(I):
    """d1 of an instance (U2 is d1 x d2)."""
    return I["U2"].shape[0]


def dim2(I):
    """d2 of an instance."""
    return I["U2"].shape[1]


def k_(s):
    """c^2 beta2 / beta1, the constant inside B = U2 U2^T + k I and A = U2^T U2 + k I."""
    return s["c"] ** 2 * s["beta2"] / s["beta1"]


def _common(M, s):
    U1, V1, Z, U2, W2, S1 = (M[k] for k in ("U1", "V1", "Z", "U2", "W2", "Sigma1"))
    R = U2 @ W2 - eye(U2.shape[0], U2)
    return (fro2(U1 @ V1 - Z) + tr(U1.T @ U1 @ S1) + s["beta1"] * fro2(R @ V1) + s["beta1"] * tr(R.T @ R @ S1)
            + s["c"] ** 2 * s["beta2"] * (fro2(W2 @ V1) + tr(W2.T @ W2 @ S1)))


def lossF(M, s):
    """App. F: the full MHVAE objective (printed)."""
    U2, S1, S2 = M["U2"], M["Sigma1"], M["Sigma2"]
    n1, n2 = S1.shape[0], S2.shape[0]
    return (_common(M, s) + s["beta1"] * tr(U2.T @ U2 @ S2) + s["c"] ** 2 * s["beta2"] * tr(S2)) / s["ed"] ** 2 \
        - s["beta1"] * n1 - s["beta2"] * n2 - s["beta1"] * logdet(S1) - s["beta2"] * logdet(S2)


def lossF1(M, s):
    """F.1 objective (Sigma1 = sigma1^2 I fixed, Sigma2 learnable)."""
    U2, S2 = M["U2"], M["Sigma2"]
    return (_common(M, s) + s["beta1"] * tr(U2.T @ U2 @ S2) + s["c"] ** 2 * s["beta2"] * tr(S2)) / s["ed"] ** 2 - s["beta2"] * logdet(S2)


def loss42(M, s):
    U2 = M["U2"]
    return _common(M, s) / s["ed"] ** 2 + s["beta2"] * logdet(U2.T @ U2 + k_(s) * eye(U2.shape[1], U2))


def lossF2(M, s):
    """F.2 objective (Sigma1 = sigma1^2 I, Sigma2 = sigma2^2 I fixed)."""
    U2, S2 = M["U2"], M["Sigma2"]
    return (_common(M, s) + s["beta1"] * tr(U2.T @ U2 @ S2)) / s["ed"] ** 2


SYM1 = {"U1": (2, 2), "V1": (2, 2), "Z": (2, 2), "U2": (2, 2), "W2": (2, 2), "Sigma1": ("iso", 2, "sigma1"), "Sigma2": ("spd", 2)}
NUM1 = {"U1": (5, 3), "V1": (3, 4), "Z": (5, 4), "U2": (3, 2), "W2": (2, 3), "Sigma1": ("iso", 3, "sigma1"), "Sigma2": ("spd", 2)}
SYM2 = dict(SYM1, Sigma2=("iso", 2, "sigma2"))
NUM2 = dict(NUM1, Sigma2=("iso", 2, "sigma2"))


def hvae_instance(rng, N=20):
    D0, d0, d1, d2 = dims(**SIZES).values()
    X = low_rank_data(rng, N, D0, d0)
    _, PA, Phi, Xt = whiten(X)
    s = rand_scalars(rng)
    p = dict(U1=rng.standard_normal((D0, d1)), U2=rng.standard_normal((d1, d2)), W1=rng.standard_normal((d1, D0)),
             W2=rng.standard_normal((d2, d1)), Sigma1=rand_spd(rng, d1), Sigma2=rand_spd(rng, d2))
    terms, latents = hvae_terms(p, s, D0)
    M = dict(p, V1=p["W1"] @ PA @ np.diag(np.sqrt(Phi)), Z=X.T @ Xt / N)
    K = D0 * np.log(2 * np.pi * s["ed"] ** 2) + s["beta1"] * d1 * np.log(s["ed"] ** 2) + s["beta2"] * d2 * np.log(s["ee"] ** 2)
    return dict(M=M, s=s, K=K, terms=terms, latents=latents, data=X)


def flat(rng, iso2=False):
    D0, d0, d1, d2 = dims(**SIZES).values()
    s = rand_scalars(rng)
    I = dict(s, U1=rng.standard_normal((D0, d1)), V1=rng.standard_normal((d1, d0)), Z=rng.standard_normal((D0, d0)),
             U2=rng.standard_normal((d1, d2)), W2=rng.standard_normal((d2, d1)), Sigma1=s["sigma1"] ** 2 * np.eye(d1),
             Sigma2=s["sigma2"] ** 2 * np.eye(d2) if iso2 else rand_spd(rng, d2))
    I["U2b"], I["V1b"] = rng.standard_normal((d1, d2)), rng.standard_normal((d1, d0))
    return I


def Binv(I):
    return np.linalg.inv(I["U2"] @ I["U2"].T + k_(I) * np.eye(dim1(I)))


def w47(I):
    return I["U2"].T @ Binv(I)


def u49(I):
    return I["Z"] @ I["V1"].T @ np.linalg.inv(I["V1"] @ I["V1"].T + I["Sigma1"])


def crit(rng, iso2=False):
    """W2 from (47), U1 from (49): the hypotheses used from (50) on."""
    I = flat(rng, iso2)
    I["W2"] = w47(I)
    I["U1"] = u49(I)
    return I


def shared_P(rng, iso2=False):
    """V1 = P Lambda Q^T, U2 = P Omega N^T sharing P (the conclusion after (51)); W2 from (47), U1 from (49)."""
    I = flat(rng, iso2)
    (d1, d0), d2 = I["V1"].shape, dim2(I)
    Pm, Q, Nn = rand_orth(rng, d1), rand_orth(rng, d0), rand_orth(rng, d2)
    lam, om = rng.uniform(0.1, 2, d1), rng.uniform(0.1, 2, d1)
    I.update(P=Pm, lam=lam, om=om, V1=Pm @ diag_rect(lam, d1, d0) @ Q.T, U2=Pm @ diag_rect(om, d1, d2) @ Nn.T, N=Nn)
    I["W2"] = w47(I)
    I["U1"] = u49(I)
    return I


def g_min_2d(g, lmax=8.0, wmax=8.0, n=500):
    """Global minimum of g(lam, w) over [0, lmax] x [0, wmax]: grid + bounded refinement."""
    L, W = np.meshgrid(np.linspace(0, lmax, n), np.linspace(0, wmax, n), indexing="ij")
    G = g(L, W)
    i = np.unravel_index(np.nanargmin(G), G.shape)
    x0 = np.array([L[i], W[i]])
    r = minimize(lambda x: g(x[0], x[1]), x0, method="L-BFGS-B", bounds=[(0, lmax), (0, wmax)],
                 options={"ftol": 1e-15, "gtol": 1e-12})
    return min(float(G[i]), float(r.fun)), (r.x if r.fun < G[i] else x0)


def pair_min_check(sampler, g_of, n=40, rtol=1e-7, what="(lambda*, omega*)"):
    """printed(I) -> (lam*, w*): claimed global minimiser of g_of(I)(lam, w) over lam, w >= 0."""
    from .step import StepResult
    from ._numeric import jsonable
    from ._shrink import shrunk

    def judge(I, statement):
        g = g_of(I)
        with np.errstate(invalid="ignore", divide="ignore"):
            lam, w = (float(v) for v in statement(I))
            gc = float(g(lam, w)) if lam >= 0 and w >= 0 else np.nan
        gmin, x = g_min_2d(g)
        return lam, w, gc, gmin, x, not np.isfinite(gc) or gc - gmin > rtol * max(abs(gmin), 1.0)

    def check(step, seed):
        rng = np.random.default_rng(seed)
        worst = 0.0

        for k in range(n):
            I = sampler(rng)
            lam, w, gc, gmin, x, bad = judge(I, step.printed)
            scale = max(abs(gmin), 1.0)
            if bad:
                # the shrunk instance must fail the same way: a finite claimed value beaten, or none at all
                I, how = shrunk(step, sampler, lambda stmt, i: (j := judge(i, stmt))[-1]
                                and (stmt is not step.printed or np.isfinite(j[2]) == np.isfinite(gc)), seed, I)
                lam, w, gc, gmin, x, _ = judge(I, step.printed)
                return StepResult("REFUTED", f"numeric: 2-d global search (500x500 grid + L-BFGS-B) on {n} instances",
                                  f"instance {k} fails; on the smallest failing instance ({how}) the claimed {what} = "
                                  f"({lam:.6g}, {w:.6g}) gives g = {gc:.10g}, but g{tuple(np.round(x, 6))} = {gmin:.10g}",
                                  counterexample={"seed": seed, "instance": k, "shrunk": how, "claimed": [lam, w],
                                                  "found": list(map(float, x)),
                                                  "g_claimed": gc, "g_found": gmin, "values": jsonable(I)})
            worst = max(worst, (gc - gmin) / scale)
        return StepResult("VERIFIED", f"numeric: 2-d global search (500x500 grid + L-BFGS-B) on {n} random instances, rtol {rtol:g}",
                          f"claimed {what} never beaten (largest g(claimed) - g(min), relative: {worst:.1e})")
    check.judge = lambda statement, I: judge(I, statement)[-1]
    return check
