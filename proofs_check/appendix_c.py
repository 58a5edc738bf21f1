"""Appendix C: sample-wise encoder variances (C.1 CVAE, C.2 MHVAE, and the VAE as a special case).

Only the Sigma_i-dependent part of the per-sample objective enters the derivatives; the data terms do not
depend on Sigma_i.  The per-sample objective is (1/N) sum_i (...), as printed.
"""
from __future__ import annotations

import numpy as np

from .step import ProofStep
from ._hvae import SYM1, NUM1, dim1, dim2, flat, k_, lossF
from ._numeric import identity_check, inequality_check
from ._symbolic import eye, gradient_check, inv, logdet, tr
from ._vae import rand_spd
from .e_theorem2 import cvae_instance, loss5

P = "C"
bc2 = lambda s: s["beta"] * s["c"] ** 2
NS = 2                     # samples in the symbolic per-sample objective


def per_sample(M, s):
    """(1/N) sum_i [(1/ed^2)(tr(U1 Sigma_i U1^T) + beta c^2 tr Sigma_i) - beta log|Sigma_i|] with N = 2 (Sigma_a, Sigma_b)."""
    U1 = M["U1"]
    term = lambda S: (tr(U1 @ S @ U1.T) + bc2(s) * tr(S)) / s["ed"] ** 2 - s["beta"] * logdet(S)
    return (term(M["Sigma"]) + term(M["Sigma_b"])) / NS


SYMC = {"U1": (2, 2), "Sigma": ("spd", 2), "Sigma_b": ("spd", 2)}
NUMC = {"U1": (4, 3), "Sigma": ("spd", 3), "Sigma_b": ("spd", 3)}
SYMH = dict(SYM1, Sigma1=("spd", 2))
NUMH = dict(NUM1, Sigma1=("spd", 3))


def _term(I, S):
    return (np.trace(I["U1"] @ S @ I["U1"].T) + bc2(I) * np.trace(S)) / I["ed"] ** 2 - I["beta"] * np.linalg.slogdet(S)[1]


def cflat(rng):
    J = cvae_instance(rng)
    return dict(J["M"], **J["s"], Pert=rand_spd(rng, J["M"]["Sigma"].shape[0]))


def _sig8(I):
    return I["beta"] * I["ed"] ** 2 * np.linalg.inv(I["U1"].T @ I["U1"] + bc2(I) * np.eye(I["U1"].shape[1]))


def _sig1_9(I):
    R = I["U2"] @ I["W2"] - np.eye(dim1(I))
    return I["beta1"] * I["ed"] ** 2 * np.linalg.inv(I["U1"].T @ I["U1"] + I["beta1"] * R.T @ R + I["c"] ** 2 * I["beta2"] * I["W2"].T @ I["W2"])


STEPS = (
    ProofStep(P, "C.1 derivative", "-dELBO/dSigma_i = (1/ed^2)(U1^T U1 + beta c^2 I) - beta Sigma_i^{-1} (as printed, for -ELBO = (1/N) sum_i ...)",
              lambda M, s: (M["U1"].T @ M["U1"] + bc2(s) * eye(M["U1"].shape[1], M["U1"])) / s["ed"] ** 2 - s["beta"] * inv(M["Sigma"]),
              gradient_check(per_sample, "Sigma", lambda s: 1, SYMC, NUMC),
              corrected=lambda M, s: ((M["U1"].T @ M["U1"] + bc2(s) * eye(M["U1"].shape[1], M["U1"])) / s["ed"] ** 2 - s["beta"] * inv(M["Sigma"])) / NS,
              corrected_text="-N dELBO/dSigma_i = (1/ed^2)(U1^T U1 + beta c^2 I) - beta Sigma_i^{-1} (factor N, as C.2 writes); the root (8) is unaffected"),
    ProofStep(P, "(8)", "Sigma_i = beta ed^2 (U1^T U1 + beta c^2 I)^{-1}: the stationary point, the same for every i",
              _sig8, identity_check(cflat, n=30, what="stationarity",
                                    relate=lambda f, I: ((I["U1"].T @ I["U1"] + bc2(I) * np.eye(I["U1"].shape[1])) / I["ed"] ** 2, I["beta"] * np.linalg.inv(f(I))))),
    ProofStep(P, "(8) minimum", "the stationary point (8) minimises each sample's Sigma_i-term (convex in Sigma_i)",
              lambda I: (_term(I, _sig8(I)), _term(I, I["Pert"])),
              inequality_check(cflat, n=200)),
    ProofStep(P, "after (8)", "with every Sigma_i at (8), the per-sample objective equals (5) with the shared Sigma* (so the two problems are equivalent)",
              lambda I: loss5(dict(I, Sigma=_sig8(I)), I),
              identity_check(cflat, n=20, relate=lambda f, I: (f(I), loss5(I, I) - _term(I, I["Sigma"]) + _term(I, _sig8(I)), abs(f(I)) + 1))),
    ProofStep(P, "C.2 dSigma1", "-N dELBO/dSigma_{1,i} = (1/ed^2)(U1^T U1 + beta1 (U2W2 - I)^T(U2W2 - I) + c^2 beta2 W2^T W2) - beta1 Sigma_{1,i}^{-1}",
              lambda M, s: (M["U1"].T @ M["U1"] + s["beta1"] * (M["U2"] @ M["W2"] - eye(M["U2"].shape[0], M["U2"])).T @ (M["U2"] @ M["W2"] - eye(M["U2"].shape[0], M["U2"]))
                            + s["c"] ** 2 * s["beta2"] * M["W2"].T @ M["W2"]) / s["ed"] ** 2 - s["beta1"] * inv(M["Sigma1"]),
              gradient_check(lossF, "Sigma1", lambda s: 1, SYMH, NUMH)),
    ProofStep(P, "C.2 Sigma1", "Sigma_{1,i} = beta1 ed^2 (U1^T U1 + beta1 (U2W2 - I)^T(U2W2 - I) + c^2 beta2 W2^T W2)^{-1}",
              _sig1_9, identity_check(flat, n=30, what="stationarity",
                                      relate=lambda f, I: (lambda R: ((I["U1"].T @ I["U1"] + I["beta1"] * R.T @ R + I["c"] ** 2 * I["beta2"] * I["W2"].T @ I["W2"]) / I["ed"] ** 2,
                                                                      I["beta1"] * np.linalg.inv(f(I))))(I["U2"] @ I["W2"] - np.eye(dim1(I))))),
    ProofStep(P, "C.2 dSigma2", "-N dELBO/dSigma_{2,i} = (1/ed^2)(beta1 U2^T U2 + c^2 beta2 I) - beta2 Sigma_{2,i}^{-1}",
              lambda M, s: (s["beta1"] * M["U2"].T @ M["U2"] + s["c"] ** 2 * s["beta2"] * eye(M["U2"].shape[1], M["U2"])) / s["ed"] ** 2 - s["beta2"] * inv(M["Sigma2"]),
              gradient_check(lossF, "Sigma2", lambda s: 1, SYMH, NUMH)),
    ProofStep(P, "(9)", "Sigma_{2,i} = (beta2/beta1) ed^2 (U2^T U2 + c^2 (beta2/beta1) I)^{-1}",
              lambda I: I["beta2"] / I["beta1"] * I["ed"] ** 2 * np.linalg.inv(I["U2"].T @ I["U2"] + k_(I) * np.eye(dim2(I))),
              identity_check(flat, n=30, what="stationarity",
                             relate=lambda f, I: ((I["beta1"] * I["U2"].T @ I["U2"] + I["c"] ** 2 * I["beta2"] * np.eye(dim2(I))) / I["ed"] ** 2, I["beta2"] * np.linalg.inv(f(I))))),
    ProofStep(P, "VAE case", "U2 = W2 = 0 in C.2 gives Sigma_i = beta ed^2 (U^T U + beta c^2 I)^{-1} with c = 1 (a VAE whose prior has variance ed^2, cf. Remark 1)",
              lambda I: _sig1_9(dict(I, U2=0 * I["U2"], W2=0 * I["W2"])),
              identity_check(flat, n=30, relate=lambda f, I: (f(I), I["beta1"] * I["ed"] ** 2 * np.linalg.inv(I["U1"].T @ I["U1"] + I["beta1"] * 1.0 ** 2 * np.eye(dim1(I)))))),
)
