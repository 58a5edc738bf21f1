"""The negative ELBO computed from the Gaussian densities themselves.

Independent of the paper's algebra: every term is E_z[log N(r; 0, C)] with a
residual r = M z + b that is affine in the joint latent z ~ N(mean, cov), either
in closed form or by Monte Carlo with reparameterised samples z = mean + L eps.
All values are 2 * (-ELBO) averaged over a finite data set (the paper drops the 1/2).
"""
from __future__ import annotations

import numpy as np

LOG2PI = np.log(2 * np.pi)


def e_logn(M, b, C, mean, cov):
    """E_{z ~ N(mean, cov)} log N(M z + b; 0, C), closed form."""
    k = C.shape[0]
    m = M @ mean + b
    Ci = np.linalg.inv(C)
    return -0.5 * (k * LOG2PI + np.linalg.slogdet(C)[1] + m @ Ci @ m + np.trace(Ci @ M @ cov @ M.T))


def logn_samples(r, C):
    """log N(r; 0, C) for rows of r."""
    k = C.shape[0]
    Lc = np.linalg.cholesky(C)
    sol = np.linalg.solve(Lc, r.T)
    return -0.5 * (k * LOG2PI + 2 * np.sum(np.log(np.diag(Lc))) + np.sum(sol * sol, axis=0))


def neg2_elbo(terms, latents, data, exact=True, rng=None, samples=0):
    """2 * (-ELBO) = -2 * mean_n sum_t w_t E log N(M_t z + b_t(x_n); 0, C_t).

    ``latents(x)`` -> (mean, cov) of the joint latent given the datum;
    ``terms`` = list of (weight, M, b(x), C).  Returns the value, and with
    ``exact=False`` also the Monte Carlo standard error.
    """
    if exact:
        tot = 0.0
        for x in data:
            mean, cov = latents(x)
            tot += sum(w * e_logn(M, b(x), C, mean, cov) for w, M, b, C in terms)
        return -2 * tot / len(data)
    per = []
    for x in data:
        mean, cov = latents(x)
        L = np.linalg.cholesky(cov)
        z = mean + rng.standard_normal((samples, len(mean))) @ L.T   # reparameterised samples
        v = np.zeros(samples)
        for w, M, b, C in terms:
            v += w * logn_samples(z @ M.T + b(x), C)
        per.append(-2 * v)
    per = np.stack(per)                         # (N, S)
    est = per.mean()
    se = per.mean(axis=0).std(ddof=1) / np.sqrt(samples)   # samples are iid across s
    return est, se


# ----------------------------------------------------------------- the three models
def vae_terms(p, s, D0):
    """Encoder N(Wx, Sigma), decoder N(Uz, ed^2 I), prior N(0, ee^2 I), beta on the KL."""
    U, W, Sig = p["U"], p["W"], p["Sigma"]
    d1 = W.shape[0]
    terms = [(1.0, -U, lambda x: x, s["ed"] ** 2 * np.eye(D0)),
             (s["beta"], np.eye(d1), lambda x: np.zeros(d1), s["ee"] ** 2 * np.eye(d1)),
             (-s["beta"], np.eye(d1), lambda x: -W @ x, Sig)]
    return terms, (lambda x: (W @ x, Sig))


def cvae_terms(p, s, D0, D2):
    """q(z|x,y) = N(W1 x + W2 y, Sigma), p(y|z,x) = N(U1 z + U2 x, ed^2 I), prior N(0, ee^2 I).
    A datum is the concatenation (x, y)."""
    U1, U2, W1, W2, Sig = p["U1"], p["U2"], p["W1"], p["W2"], p["Sigma"]
    d1 = W1.shape[0]
    X = lambda xy: xy[:D0]
    Y = lambda xy: xy[D0:]
    terms = [(1.0, -U1, lambda xy: Y(xy) - U2 @ X(xy), s["ed"] ** 2 * np.eye(D2)),
             (s["beta"], np.eye(d1), lambda xy: np.zeros(d1), s["ee"] ** 2 * np.eye(d1)),
             (-s["beta"], np.eye(d1), lambda xy: -(W1 @ X(xy) + W2 @ Y(xy)), Sig)]
    return terms, (lambda xy: (W1 @ X(xy) + W2 @ Y(xy), Sig))


def hvae_terms(p, s, D0):
    """q(z1|x)=N(W1x,S1), q(z2|z1)=N(W2 z1,S2), p(z1|z2)=N(U2 z2, ed^2 I), p(x|z1)=N(U1 z1, ed^2 I),
    p(z2)=N(0, ee^2 I); beta1 on the z1 KL, beta2 on the z2 KL.  Joint latent z = (z1, z2)."""
    U1, U2, W1, W2, S1, S2 = p["U1"], p["U2"], p["W1"], p["W2"], p["Sigma1"], p["Sigma2"]
    d1, d2 = W1.shape[0], W2.shape[0]
    I1, I2 = np.eye(d1), np.eye(d2)
    O12, O21 = np.zeros((d1, d2)), np.zeros((d2, d1))
    terms = [(1.0, np.hstack([-U1, np.zeros((D0, d2))]), lambda x: x, s["ed"] ** 2 * np.eye(D0)),
             (s["beta1"], np.hstack([I1, -U2]), lambda x: np.zeros(d1), s["ed"] ** 2 * I1),
             (s["beta2"], np.hstack([O21, I2]), lambda x: np.zeros(d2), s["ee"] ** 2 * I2),
             (-s["beta1"], np.hstack([I1, O12]), lambda x: -W1 @ x, S1),
             (-s["beta2"], np.hstack([-W2, I2]), lambda x: np.zeros(d2), S2)]
    cov = np.block([[S1, S1 @ W2.T], [W2 @ S1, W2 @ S1 @ W2.T + S2]])
    return terms, (lambda x: (np.concatenate([W1 @ x, W2 @ W1 @ x]), cov))


# ----------------------------------------------------------------- data and whitening
def low_rank_data(rng, N, D, d, scale=1.0):
    """N samples in R^D spanning a d-dimensional subspace (so P_A is D x d, as in the paper)."""
    L = rng.standard_normal((D, d))
    return scale * rng.standard_normal((N, d)) @ L.T


def whiten(X):
    """A = E[x x^T] = P_A Phi P_A^T (positive part), x~ = Phi^{-1/2} P_A^T x."""
    A = X.T @ X / len(X)
    w, P = np.linalg.eigh(A)
    keep = w > 1e-10 * w.max()
    Phi, PA = w[keep][::-1], P[:, keep][:, ::-1]
    Xt = X @ PA / np.sqrt(Phi)
    return A, PA, Phi, Xt


def reduction_check(sampler, n=6, mc_samples=0, n_se=5.0, rtol=1e-10):
    """Check that the printed matrix objective equals 2*(-ELBO) from the densities up to
    the constant the paper drops.  ``sampler(rng)`` -> dict(M=matrix arguments of the
    printed objective, s=scalars, K=the dropped constant, terms=..., latents=..., data=...).
    ``step.printed(M, s)`` is the printed objective.  Exact: closed-form Gaussian
    expectations, relative tolerance ``rtol``.  Monte Carlo: ``mc_samples`` reparameterised
    samples per datum, agreement within ``n_se`` standard errors."""
    from ._numeric import jsonable
    from ._shrink import entries_read, smallest_failing
    from .step import StepResult

    def check(step, seed):
        def exact_gap(inst, statement=step.printed):
            val = float(statement(inst["M"], inst["s"])) + inst["K"]
            ex = neg2_elbo(inst["terms"], inst["latents"], inst["data"])
            return abs(val - ex) / max(abs(ex), 1.0), val, ex

        rng = np.random.default_rng(seed)
        worst = 0.0
        for k in range(n):
            inst = sampler(rng)
            try:
                val = float(step.printed(inst["M"], inst["s"])) + inst["K"]
            except (ValueError, np.linalg.LinAlgError) as e:
                return StepResult("REFUTED", "exact Gaussian expectation", f"printed objective ill-typed: {e}",
                                  counterexample={"seed": seed, "instance": k, "values": jsonable(inst["M"])})
            if mc_samples:
                est, se = neg2_elbo(inst["terms"], inst["latents"], inst["data"], exact=False,
                                    rng=rng, samples=mc_samples)
                z = abs(val - est) / se
                worst = max(worst, z)
                if z > n_se:
                    return StepResult("REFUTED", f"Monte Carlo {mc_samples * len(inst['data']):.0e} samples, {n_se:g} s.e.",
                                      f"objective+const {val:.8g} vs MC {est:.8g} +- {se:.2g} ({z:.1f} s.e.)",
                                      counterexample={"seed": seed, "instance": k, "objective": val, "mc": est,
                                                      "se": se, "values": jsonable(inst["M"]), "scalars": inst["s"]})
            else:
                r, val, ex = exact_gap(inst)
                worst = max(worst, r)
                if r > rtol:
                    small = step.corrected and smallest_failing(  # the correction holds on it: see _shrink
                        sampler, lambda i: exact_gap(i)[0] > rtol and exact_gap(i, step.corrected)[0] <= rtol, seed)
                    inst, how = ((small[0], "dimensions and values shrunk" if small[1] else "dimensions shrunk")
                                 if small else (inst, "not shrunk"))
                    r, val, ex = exact_gap(inst)
                    return StepResult("REFUTED", f"exact Gaussian expectation, rtol {rtol:g}",
                                      f"objective+const {val:.12g} vs 2(-ELBO) {ex:.12g} (relative {r:.2e}) on the "
                                      f"smallest failing instance ({how})",
                                      counterexample={"seed": seed, "instance": k, "shrunk": how, "objective": val,
                                                      "elbo": ex, "values": jsonable(entries_read(
                                                          lambda M: step.printed(M, inst["s"]), inst["M"])),
                                                      "scalars": entries_read(lambda sc: step.printed(inst["M"], sc),
                                                                              inst["s"])})
        if mc_samples:
            return StepResult("VERIFIED", f"Monte Carlo {mc_samples * len(inst['data']):.0e} reparameterised samples per instance, {n_se:g} s.e.",
                              f"{n} instance(s): printed objective + dropped constant within {worst:.2f} s.e. of the MC ELBO")
        return StepResult("VERIFIED", f"exact Gaussian expectation (closed form per density term), rtol {rtol:g}",
                          f"{n} random parameter sets (general SPD covariances): worst relative gap {worst:.1e}")
    return check
