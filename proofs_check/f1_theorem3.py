"""Appendix F.1: proof of Theorem 3 (MHVAE, Sigma1 = sigma1^2 I unlearnable, Sigma2 learnable, d0 >= d1 = d2).

Notation: k = c^2 beta2/beta1, A = U2^T U2 + k I, B = U2 U2^T + k I.
Restored radicals [r] in (57), (59)-(61) and Theorem 3 (see CLAIMS.md).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .step import ProofStep, StepResult
from ._elbo import reduction_check
from ._hvae import (Binv, NUM1, SYM1, crit, dim1, dim2, flat, hvae_instance, k_, loss42, lossF, lossF1, pair_min_check,
                    shared_P, u49, w47)
from ._numeric import identity_check, inequality_check, jsonable, rand_orth, rand_scalars
from ._symbolic import eye, gradient_check, inv, sym_identity_check

P = "F.1"
h = lambda s: s["ed"] ** 2 / 2
Sig2opt = lambda I: I["beta2"] / I["beta1"] * I["ed"] ** 2 * np.linalg.inv(I["U2"].T @ I["U2"] + k_(I) * np.eye(dim2(I)))


def g56(I):
    s1, th, b2e = I["sigma1"] ** 2, I["th"], I["beta2"] * I["ed"] ** 2
    return lambda l, w: s1 * th ** 2 / (l ** 2 + s1) + I["c"] ** 2 * I["beta2"] * (l ** 2 + s1) / (w ** 2 + k_(I)) + b2e * np.log(w ** 2 + k_(I))


def thm3(I):
    """Theorem 3 (as stated, radicals restored): (lambda*, omega*) for one index."""
    s1, th, b1, b2, ed, ee = I["sigma1"], I["th"], I["beta1"], I["beta2"], I["ed"], I["ee"]
    if th ** 2 >= b2 * ed ** 2 / s1 ** 2 * max(s1 ** 2, b2 / b1 * ed ** 2):
        return (s1 / (np.sqrt(b2) * ed) * np.sqrt(th ** 2 - b2 * ed ** 2),
                np.sqrt(s1 ** 2 * th ** 2 / (b2 * ee ** 2 * ed ** 2) - b2 / b1 * ed ** 2 / ee ** 2))
    if s1 ** 2 >= b2 / b1 * ed ** 2:
        return 0.0, np.sqrt(s1 ** 2 - ed ** 2 * b2 / b1) / ee
    return np.sqrt(max(0.0, s1 / np.sqrt(b1) * (th - np.sqrt(b1) * s1))), 0.0


def scal(rng, case=None):
    """Scalars and one theta; ``case`` forces sigma1^2 >= (beta2/beta1) ed^2 (True) or < (False)."""
    for _ in range(1000):
        I = rand_scalars(rng)
        I["th"] = float(rng.uniform(0.05, 4.0))
        if case is None or (I["sigma1"] ** 2 >= I["beta2"] / I["beta1"] * I["ed"] ** 2) == case:
            return I
    raise RuntimeError("no instance")


def _comm_check(step, seed):
    """After (51): B^{-1} V1 V1^T symmetric => V1V1^T and B^{-1} commute => one orthogonal P diagonalises both,
    so V1 = P Lambda Q^T and U2 = P Omega N^T.  Instances: commuting pairs with a repeated eigenvalue (the hard case)."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    for k in range(40):
        I = flat(rng)
        (d1, d0), d2 = I["V1"].shape, dim2(I)
        Q = rand_orth(rng, d1)
        ev = rng.uniform(0.1, 2, d1)
        ev[1] = ev[0]                                    # repeated eigenvalue of V1 V1^T
        R2 = np.eye(dim1(I))
        R2[:2, :2] = rand_orth(rng, 2)                   # rotate inside the repeated eigenspace
        I["V1"] = Q @ np.diag(np.sqrt(ev)) @ rand_orth(rng, d0)[:d1]
        I["U2"] = Q @ R2 @ np.diag(rng.uniform(0.1, 2, d1)) @ rand_orth(rng, d2)
        S1, S2 = I["V1"] @ I["V1"].T, Binv(I)
        lhs, rhs = step.printed(I)
        r1 = np.linalg.norm(lhs - rhs) / np.linalg.norm(lhs)
        _, Pm = np.linalg.eigh(S1 + np.pi * S2)           # a generic combination of commuting symmetric matrices
        off = lambda M: np.linalg.norm(M - np.diag(np.diag(M))) / np.linalg.norm(M)
        r2 = max(off(Pm.T @ S1 @ Pm), off(Pm.T @ (I["U2"] @ I["U2"].T) @ Pm))
        worst = max(worst, r1, r2)
        if r1 > 1e-9 or r2 > 1e-9:
            return StepResult("REFUTED", "numeric", f"instance {k}: commutator residual {r1:.2e}, off-diagonal residual {r2:.2e}",
                              counterexample={"seed": seed, "instance": k, "values": jsonable(I)})
    return StepResult("VERIFIED", "numeric: 40 commuting pairs with a repeated eigenvalue, rtol 1e-9",
                      f"symmetric B^-1 V1V1^T <=> commuting; one orthogonal P diagonalises V1V1^T and U2U2^T (worst {worst:.1e})")


def _sym54(s):
    w2, lam2 = sp.Symbol("w2", positive=True), sp.Symbol("l2", positive=True)
    k = s["c"] ** 2 * s["beta2"] / s["beta1"]
    lhs = s["ed"] ** 2 * w2 / (w2 + k) - s["c"] ** 2 * w2 * (lam2 + s["sigma1"] ** 2) / (w2 + k) ** 2
    sol = s["c"] ** 2 / s["ed"] ** 2 * (lam2 + s["sigma1"] ** 2) - k           # the printed non-zero root (54)
    return [(lhs.subs(w2, sol), 0)]


def _sym58(s):
    lam = sp.Symbol("lambda", positive=True)
    t = lam ** 2 + s["sigma1"] ** 2
    wk = s["c"] ** 2 / s["ed"] ** 2 * t                      # omega^2 + c^2 beta2/beta1 on the curve (54)
    th = sp.Symbol("theta", positive=True)
    g = s["sigma1"] ** 2 * th ** 2 / t + s["c"] ** 2 * s["beta2"] * t / wk + s["beta2"] * s["ed"] ** 2 * sp.log(wk)
    g58 = s["sigma1"] ** 2 * th ** 2 / t + s["beta2"] * s["ed"] ** 2 * sp.log(t) + s["beta2"] * s["ed"] ** 2 - s["beta2"] * s["ed"] ** 2 * sp.log(s["ee"] ** 2)
    return [(sp.expand_log(g - g58, force=True), 0), (wk, t / s["ee"] ** 2)]


def _sym57(s):
    u = sp.Symbol("u", positive=True)
    thv = sp.sqrt(s["beta1"]) * s["sigma1"] + u             # case theta >= sqrt(beta1) sigma1
    t = sp.Symbol("t", positive=True)
    f = s["sigma1"] ** 2 * thv ** 2 / t + s["beta1"] * t        # g(lambda, 0) in t = lambda^2 + sigma1^2 (constant dropped)
    lam2 = s["sigma1"] / sp.sqrt(s["beta1"]) * (thv - sp.sqrt(s["beta1"]) * s["sigma1"])
    return [(sp.diff(f, t).subs(t, lam2 + s["sigma1"] ** 2), 0)]


STEPS = (
    ProofStep(P, "(F) loss", "2(-ELBO) from the densities = App. F objective + D0 log(2 pi ed^2) + beta1 d1 log ed^2 + beta2 d2 log ee^2, exactly",
              lossF, reduction_check(hvae_instance, n=6)),
    ProofStep(P, "(F) loss MC", "the same reduction against a Monte Carlo ELBO (reparameterised z1, z2)",
              lossF, reduction_check(hvae_instance, n=1, mc_samples=25000)),
    ProofStep(P, "(F.1) loss", "with Sigma1 = sigma1^2 I fixed, the F.1 objective differs from App. F's by a constant",
              lossF1, identity_check(flat, n=30, what="constant difference",
                                     relate=lambda f, I: (lossF(I, I) - f(I, I), lossF(dict(I, U2=I["U2b"], V1=I["V1b"]), I) - f(dict(I, U2=I["U2b"], V1=I["V1b"]), I),
                                                          abs(lossF(I, I)) + 1))),
    ProofStep(P, "(41) dSigma2", "(1/2) dL/dSigma2 = (beta1/ed^2)(U2^T U2 + c^2 (beta2/beta1) I) - beta2 Sigma2^{-1} (as printed)",
              lambda M, s: s["beta1"] / s["ed"] ** 2 * (M["U2"].T @ M["U2"] + k_(s) * eye(M["U2"].shape[1], M["U2"])) - s["beta2"] * inv(M["Sigma2"]),
              gradient_check(lossF1, "Sigma2", lambda s: sp.Rational(1, 2) if isinstance(s["beta1"], sp.Basic) else 0.5, SYM1, NUM1),
              corrected=lambda M, s: (s["beta1"] / s["ed"] ** 2 * (M["U2"].T @ M["U2"] + k_(s) * eye(M["U2"].shape[1], M["U2"])) - s["beta2"] * inv(M["Sigma2"])) / 2,
              corrected_text="dL/dSigma2 (no factor 1/2) = (beta1/ed^2)(U2^T U2 + c^2(beta2/beta1) I) - beta2 Sigma2^{-1}; the root (41) is unaffected"),
    ProofStep(P, "(41)", "Sigma2 = (beta2/beta1) ed^2 (U2^T U2 + c^2 (beta2/beta1) I)^{-1}",
              Sig2opt, identity_check(flat, n=30, what="stationarity",
                                      relate=lambda f, I: ((I["beta1"] * I["U2"].T @ I["U2"] + I["c"] ** 2 * I["beta2"] * np.eye(dim2(I))) / I["ed"] ** 2, I["beta2"] * np.linalg.inv(f(I))))),
    ProofStep(P, "(42)", "L(Sigma2*) = L' + const, L' = (1/ed^2)[...] + beta2 log|U2^T U2 + c^2 (beta2/beta1) I|",
              loss42, identity_check(flat, n=30, what="constant difference",
                                     relate=lambda f, I: (lossF1(dict(I, Sigma2=Sig2opt(I)), I) - f(I, I),
                                                          I["beta2"] * dim2(I) * (1 - np.log(I["beta2"] / I["beta1"] * I["ed"] ** 2)), abs(f(I, I)) + 1))),
    ProofStep(P, "(43)", "(ed^2/2) dL'/dV1 = U1^T(U1V1 - Z) + beta1 (U2W2 - I)^T(U2W2 - I)V1 + beta2 c^2 W2^T W2 V1",
              lambda M, s: M["U1"].T @ (M["U1"] @ M["V1"] - M["Z"]) + s["beta1"] * (M["U2"] @ M["W2"] - eye(M["U2"].shape[0], M["U2"])).T @ (M["U2"] @ M["W2"] - eye(M["U2"].shape[0], M["U2"])) @ M["V1"]
              + s["beta2"] * s["c"] ** 2 * M["W2"].T @ M["W2"] @ M["V1"],
              gradient_check(loss42, "V1", h, SYM1, NUM1)),
    ProofStep(P, "(44)", "(ed^2/2) dL'/dU1 = (U1V1 - Z)V1^T + U1 Sigma1",
              lambda M, s: (M["U1"] @ M["V1"] - M["Z"]) @ M["V1"].T + M["U1"] @ M["Sigma1"], gradient_check(loss42, "U1", h, SYM1, NUM1)),
    ProofStep(P, "(45)", "(ed^2/2) dL'/dU2 = beta1(U2W2 - I)V1V1^T W2^T + beta2 ed^2 U2 (U2^T U2 + k I)^{-1} + beta1 (U2W2 - I) Sigma1 W2^T",
              lambda M, s: s["beta1"] * (M["U2"] @ M["W2"] - eye(M["U2"].shape[0], M["U2"])) @ M["V1"] @ M["V1"].T @ M["W2"].T
              + s["beta2"] * s["ed"] ** 2 * M["U2"] @ inv(M["U2"].T @ M["U2"] + k_(s) * eye(M["U2"].shape[1], M["U2"]))
              + s["beta1"] * (M["U2"] @ M["W2"] - eye(M["U2"].shape[0], M["U2"])) @ M["Sigma1"] @ M["W2"].T,
              gradient_check(loss42, "U2", h, SYM1, NUM1)),
    ProofStep(P, "(46)", "(ed^2/2) dL'/dW2 = beta1 U2^T(U2W2 - I)V1V1^T + beta1 U2^T(U2W2 - I)Sigma1 + beta2 c^2 W2 V1V1^T + beta2 c^2 W2 Sigma1",
              lambda M, s: s["beta1"] * M["U2"].T @ (M["U2"] @ M["W2"] - eye(M["U2"].shape[0], M["U2"])) @ (M["V1"] @ M["V1"].T + M["Sigma1"])
              + s["beta2"] * s["c"] ** 2 * M["W2"] @ (M["V1"] @ M["V1"].T + M["Sigma1"]),
              gradient_check(loss42, "W2", h, SYM1, NUM1)),
    ProofStep(P, "(47)", "(46) = 0 <=> W2 = -(beta1/(beta2 c^2)) U2^T(U2W2 - I) <=> W2 = (U2^T U2 + k I)^{-1} U2^T = U2^T (U2 U2^T + k I)^{-1}",
              lambda I: (np.linalg.inv(I["U2"].T @ I["U2"] + k_(I) * np.eye(dim2(I))) @ I["U2"].T, I["U2"].T @ Binv(I)),
              identity_check(flat, n=30, relate=lambda f, I: (lambda W, W2: [(W, W2), (W, -I["beta1"] / (I["beta2"] * I["c"] ** 2) * I["U2"].T @ (I["U2"] @ W - np.eye(dim1(I))))])(*f(I)))),
    ProofStep(P, "(48)", "U2W2 - I = -k (U2U2^T + k I)^{-1} at (47)",
              lambda I: -k_(I) * Binv(I), identity_check(flat, n=30, relate=lambda f, I: (I["U2"] @ w47(I) - np.eye(dim1(I)), f(I)))),
    ProofStep(P, "(49)", "(44) = 0 <=> U1 = Z V1^T (V1V1^T + Sigma1)^{-1}",
              u49, identity_check(flat, n=30, relate=lambda f, I: (f(I) @ I["V1"] @ I["V1"].T + f(I) @ I["Sigma1"], I["Z"] @ I["V1"].T))),
    ProofStep(P, "(50)", "with (47)-(48), (43) = U1^T U1 V1 - U1^T Z + (c^4 beta2^2/beta1) B^{-2} V1 + c^2 beta2 B^{-1}U2U2^T B^{-1} V1 = U1^T U1 V1 + c^2 beta2 B^{-1} V1 - U1^T Z",
              lambda I: [(I["U1"].T @ I["U1"] @ I["V1"] - I["U1"].T @ I["Z"] + I["c"] ** 4 * I["beta2"] ** 2 / I["beta1"] * Binv(I) @ Binv(I) @ I["V1"]
                          + I["c"] ** 2 * I["beta2"] * Binv(I) @ I["U2"] @ I["U2"].T @ Binv(I) @ I["V1"],
                          I["U1"].T @ I["U1"] @ I["V1"] + I["c"] ** 2 * I["beta2"] * Binv(I) @ I["V1"] - I["U1"].T @ I["Z"])],
              identity_check(lambda rng: (lambda J: dict(J, W2=w47(J)))(flat(rng)), n=30,
                             relate=lambda f, I: f(I) + [(f(I)[0][0], I["U1"].T @ (I["U1"] @ I["V1"] - I["Z"]) + I["beta1"] * (I["U2"] @ I["W2"] - np.eye(dim1(I))).T @ (I["U2"] @ I["W2"] - np.eye(dim1(I))) @ I["V1"]
                                                          + I["beta2"] * I["c"] ** 2 * I["W2"].T @ I["W2"] @ I["V1"])])),
    ProofStep(P, "(51)", "(50) => c^2 beta2 B^{-1} V1V1^T = U1^T Z V1^T - U1^T U1 V1 V1^T; with (44) this = U1^T U1 Sigma1",
              lambda I: [(I["c"] ** 2 * I["beta2"] * Binv(I) @ I["V1"] @ I["V1"].T, I["U1"].T @ I["Z"] @ I["V1"].T - I["U1"].T @ I["U1"] @ I["V1"] @ I["V1"].T),
                         (I["U1"].T @ (I["Z"] - I["U1"] @ I["V1"]) @ I["V1"].T, I["U1"].T @ I["U1"] @ I["Sigma1"])],
              identity_check(lambda rng: (lambda J: dict(J, V1=np.linalg.solve(J["U1"].T @ J["U1"] + J["c"] ** 2 * J["beta2"] * Binv(J), J["U1"].T @ J["Z"])))(flat(rng)),
                             n=30, relate=lambda f, I: [f(I)[0], f(dict(I, U1=u49(I)))[1]])),
    ProofStep(P, "after (51)", "Sigma1 isotropic: B^{-1}V1V1^T symmetric, so V1V1^T and B^{-1} commute and are simultaneously orthogonally diagonalisable",
              lambda I: (Binv(I) @ I["V1"] @ I["V1"].T, I["V1"] @ I["V1"].T @ Binv(I)), _comm_check),
    ProofStep(P, "(52)", "U2^T (45): beta2 ed^2 U2^T U2 A^{-1} = -beta1 U2^T(U2W2 - I)(V1V1^T + sigma1^2 I)W2^T = c^2 beta2 U2^T B^{-1}(V1V1^T + sigma1^2 I)B^{-T} U2",
              lambda I: [(-I["beta1"] * I["U2"].T @ (I["U2"] @ I["W2"] - np.eye(dim1(I))) @ (I["V1"] @ I["V1"].T + I["Sigma1"]) @ I["W2"].T,
                          I["c"] ** 2 * I["beta2"] * I["U2"].T @ Binv(I) @ (I["V1"] @ I["V1"].T + I["Sigma1"]) @ Binv(I).T @ I["U2"])],
              identity_check(lambda rng: crit(rng), n=30)),
    ProofStep(P, "(53)", "with V1 = P Lambda Q^T, U2 = P Omega N^T: ed^2 w_i^2/(w_i^2 + k) = c^2 w_i^2 (lambda_i^2 + sigma1^2)/(w_i^2 + k)^2 is the diagonal form of (52) (per index)",
              lambda I: (I["ed"] ** 2 * I["om"] ** 2 / (I["om"] ** 2 + k_(I)), I["c"] ** 2 * I["om"] ** 2 * (I["lam"] ** 2 + I["sigma1"] ** 2) / (I["om"] ** 2 + k_(I)) ** 2),
              identity_check(lambda rng: shared_P(rng), n=30, what="diagonal form",
                             relate=lambda f, I: (lambda a, b: [(I["N"].T @ (I["beta2"] * I["ed"] ** 2 * I["U2"].T @ I["U2"] @ np.linalg.inv(I["U2"].T @ I["U2"] + k_(I) * np.eye(dim2(I)))) @ I["N"] / I["beta2"], np.diag(a)),
                                                                (I["N"].T @ (I["c"] ** 2 * I["beta2"] * I["U2"].T @ Binv(I) @ (I["V1"] @ I["V1"].T + I["Sigma1"]) @ Binv(I) @ I["U2"]) @ I["N"] / I["beta2"], np.diag(b))])(*f(I)))),
    ProofStep(P, "(54)", "(53) <=> w_i = 0 or w_i^2 + k = (c^2/ed^2)(lambda_i^2 + sigma1^2)", _sym54, sym_identity_check()),
    ProofStep(P, "(55)", "with (47), (49): ed^2 L' - ed^2 beta2 log|A| = |Z|^2 - tr(U1^T Z V1^T) + c^2 beta2 tr(B^{-1}(V1V1^T + Sigma1))",
              lambda I: (np.sum(I["Z"] ** 2) - np.trace(I["U1"].T @ I["Z"] @ I["V1"].T) + I["c"] ** 2 * I["beta2"] * np.trace(Binv(I) @ (I["V1"] @ I["V1"].T + I["Sigma1"]))) / I["ed"] ** 2
              + I["beta2"] * np.linalg.slogdet(I["U2"].T @ I["U2"] + k_(I) * np.eye(dim2(I)))[1],
              identity_check(lambda rng: crit(rng), n=30, relate=lambda f, I: (f(I), loss42(I, I)))),
    ProofStep(P, "(55) components", "tr(U1^T Z V1^T) = tr(V1^T(V1V1^T + sigma1^2 I)^{-1}V1 Z^T Z) <= sum lambda_i^2 theta_i^2/(lambda_i^2 + sigma1^2) (von Neumann)",
              lambda I: (lambda lam, th: (np.trace(I["V1"].T @ np.linalg.inv(I["V1"] @ I["V1"].T + I["Sigma1"]) @ I["V1"] @ I["Z"].T @ I["Z"]),
                                          np.sum(lam ** 2 * th[:len(lam)] ** 2 / (lam ** 2 + I["sigma1"] ** 2))))(np.linalg.svd(I["V1"], compute_uv=False), np.linalg.svd(I["Z"], compute_uv=False)),
              inequality_check(lambda rng: crit(rng), n=200)),
    ProofStep(P, "(55) trace", "with the shared P: tr(B^{-1}(V1V1^T + sigma1^2 I)) = sum (lambda_i^2 + sigma1^2)/(w_i^2 + k); log|A| = sum log(w_i^2 + k)",
              lambda I: [(np.trace(Binv(I) @ (I["V1"] @ I["V1"].T + I["Sigma1"])), np.sum((I["lam"] ** 2 + I["sigma1"] ** 2) / (I["om"] ** 2 + k_(I)))),
                         (np.linalg.slogdet(I["U2"].T @ I["U2"] + k_(I) * np.eye(dim2(I)))[1], np.sum(np.log(I["om"] ** 2 + k_(I))))],
              identity_check(lambda rng: shared_P(rng), n=30)),
    ProofStep(P, "(56) last", "sum_{i<=d0} theta^2 - sum_{i<=d1} lambda^2 theta^2/(lambda^2+sigma1^2) + ... = sum_{i=d1}^{d0} theta_i^2 + sum g(lambda_i, w_i)",
              lambda I: (np.sum(I["theta"] ** 2) - np.sum(I["lam"] ** 2 * I["theta"][:len(I["lam"])] ** 2 / (I["lam"] ** 2 + I["sigma1"] ** 2)),
                         np.sum(I["theta"][len(I["lam"]) - 1:] ** 2) + np.sum(I["sigma1"] ** 2 * I["theta"][:len(I["lam"])] ** 2 / (I["lam"] ** 2 + I["sigma1"] ** 2))),
              identity_check(lambda rng: (lambda J: dict(J, theta=np.sort(rng.uniform(0.1, 3, J["V1"].shape[1]))[::-1]))(shared_P(rng)), n=30),
              corrected=lambda I: (np.sum(I["theta"] ** 2) - np.sum(I["lam"] ** 2 * I["theta"][:len(I["lam"])] ** 2 / (I["lam"] ** 2 + I["sigma1"] ** 2)),
                                   np.sum(I["theta"][len(I["lam"]):] ** 2) + np.sum(I["sigma1"] ** 2 * I["theta"][:len(I["lam"])] ** 2 / (I["lam"] ** 2 + I["sigma1"] ** 2))),
              corrected_text="the tail sum runs over i = d1+1, ..., d0"),
    ProofStep(P, "(57) sympy", "g(lambda, 0) = sigma1^2 theta^2/t + beta1 t + const (t = lambda^2 + sigma1^2) is stationary at lambda*^2 = (sigma1/sqrt(beta1))(theta - sqrt(beta1) sigma1) [r]",
              _sym57, sym_identity_check()),
    ProofStep(P, "(57)", "g(lambda, 0) is minimised over lambda >= 0 at lambda* = sqrt(max(0, (sigma1/sqrt(beta1))(theta - sqrt(beta1) sigma1))) [r]",
              lambda I: (np.sqrt(max(0.0, I["sigma1"] / np.sqrt(I["beta1"]) * (I["th"] - np.sqrt(I["beta1"]) * I["sigma1"]))), 0.0),
              pair_min_check(scal, lambda I: (lambda g: (lambda l, w: g(l, 0 * w)))(g56(I)), n=25, what="lambda* on omega = 0")),
    ProofStep(P, "(58)", "on the curve (54): g = sigma1^2 theta^2/t + beta2 ed^2 log t + beta2 ed^2 - beta2 ed^2 log ee^2, and w^2 + k = t/ee^2", _sym58, sym_identity_check()),
    ProofStep(P, "(59)", "if sigma1^2 >= (beta2/beta1) ed^2: lambda* = (sigma1/(sqrt(beta2) ed)) sqrt(max(0, theta^2 - beta2 ed^2)), "
              "w* = sqrt(max((sigma1^2 - (beta2/beta1) ed^2)/ee^2, sigma1^2 theta^2/(beta2 ee^2 ed^2) - c^2 beta2/beta1)) is the global minimiser of g [r]",
              lambda I: (I["sigma1"] / (np.sqrt(I["beta2"]) * I["ed"]) * np.sqrt(max(0.0, I["th"] ** 2 - I["beta2"] * I["ed"] ** 2)),
                         np.sqrt(max((I["sigma1"] ** 2 - I["beta2"] / I["beta1"] * I["ed"] ** 2) / I["ee"] ** 2,
                                     I["sigma1"] ** 2 * I["th"] ** 2 / (I["beta2"] * I["ee"] ** 2 * I["ed"] ** 2) - k_(I)))),
              pair_min_check(lambda rng: scal(rng, True), g56, n=25)),
    ProofStep(P, "(60)", "if sigma1^2 < (beta2/beta1) ed^2 and t0 = sigma1^2 theta^2/(beta2 ed^2) < (beta2/beta1) ed^2: w* = 0, lambda* as in (57), globally [r]",
              lambda I: (np.sqrt(max(0.0, I["sigma1"] / np.sqrt(I["beta1"]) * (I["th"] - np.sqrt(I["beta1"]) * I["sigma1"]))), 0.0),
              pair_min_check(lambda rng: next(J for J in iter(lambda: scal(rng, False), None)
                                              if J["sigma1"] ** 2 * J["th"] ** 2 / (J["beta2"] * J["ed"] ** 2) < J["beta2"] / J["beta1"] * J["ed"] ** 2), g56, n=25)),
    ProofStep(P, "(61)", "if sigma1^2 < (beta2/beta1) ed^2 and t0 >= (beta2/beta1) ed^2: lambda* = (sigma1/(sqrt(beta2) ed)) sqrt(theta^2 - beta2 ed^2), "
              "w* = sqrt(sigma1^2 theta^2/(beta2 ee^2 ed^2) - (beta2/beta1) c^2), globally [r]",
              lambda I: (I["sigma1"] / (np.sqrt(I["beta2"]) * I["ed"]) * np.sqrt(I["th"] ** 2 - I["beta2"] * I["ed"] ** 2),
                         np.sqrt(I["sigma1"] ** 2 * I["th"] ** 2 / (I["beta2"] * I["ee"] ** 2 * I["ed"] ** 2) - k_(I))),
              pair_min_check(lambda rng: next(J for J in iter(lambda: dict(scal(rng, False), th=float(rng.uniform(0.05, 12.0))), None)
                                              if J["sigma1"] ** 2 * J["th"] ** 2 / (J["beta2"] * J["ed"] ** 2) >= J["beta2"] / J["beta1"] * J["ed"] ** 2), g56, n=25)),
    ProofStep(P, "Theorem 3", "the case formulas (a)-(c) of Theorem 3 give the global minimiser of g for every index [r]",
              thm3, pair_min_check(scal, g56, n=40)),
    ProofStep(P, "Remark 4", "diagonal Sigma2: Sigma2* = ed^2 (U2^T U2 + c^2 I)^{-1}",
              lambda I: I["ed"] ** 2 * np.linalg.inv(I["U2"].T @ I["U2"] + I["c"] ** 2 * np.eye(dim2(I))),
              identity_check(flat, n=30, relate=lambda f, I: (f(I), Sig2opt(I))),
              corrected=lambda I: I["beta2"] / I["beta1"] * I["ed"] ** 2 * np.linalg.inv(I["U2"].T @ I["U2"] + k_(I) * np.eye(dim2(I))),
              corrected_text="Sigma2* = (beta2/beta1) ed^2 (U2^T U2 + c^2 (beta2/beta1) I)^{-1}, i.e. (41); the printed form holds only for beta1 = beta2"),
)
