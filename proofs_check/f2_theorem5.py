"""Appendix F.2: proof of Theorem 5 (MHVAE, Sigma1 = sigma1^2 I and Sigma2 = sigma2^2 I unlearnable, d0 >= d1 = d2).

Notation: k = c^2 beta2/beta1, B = U2 U2^T + k I.  Restored radicals/cube roots [r]: the curve after (77)
w^2 + k = (c/sigma2) sqrt(beta2/beta1) t with t = sqrt(lambda^2 + sigma1^2); (80) t0 = (sigma1^2 theta^2/(c sigma2 sqrt(beta1 beta2)))^{1/3};
g3 = 3 (c sigma1 sigma2 theta sqrt(beta1 beta2))^{2/3} - c^2 sigma2^2 beta2; (81) and Theorem 5 as in CLAIMS.md.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import sympy as sp

from .step import ProofStep
from ._hvae import (Binv, NUM2, SYM2, crit, dim1, flat, k_, lossF, lossF2, pair_min_check, shared_P, w47)
from ._numeric import identity_check, inequality_check, rand_scalars
from ._symbolic import eye, gradient_check, sym_identity_check
from . import f1_theorem3 as F1

P = "F.2"
h = lambda s: s["ed"] ** 2 / 2
I1 = lambda U: eye(U.shape[0], U)


def g76(I):
    s1, th, s2 = I["sigma1"] ** 2, I["th"], I["sigma2"] ** 2
    return lambda l, w: s1 * th ** 2 / (l ** 2 + s1) + I["c"] ** 2 * I["beta2"] * (l ** 2 + s1) / (w ** 2 + k_(I)) + I["beta1"] * s2 * w ** 2


def thm5(I):
    s1, s2, th, b1, b2, c = I["sigma1"], I["sigma2"], I["th"], I["beta1"], I["beta2"], I["c"]
    a = np.sqrt(b1 * b2) * c * s1 * s2
    m = max(np.sqrt(a), b2 * c ** 2 * s2 ** 2 / (np.sqrt(b1) * s1))
    if th >= m:
        lam = (s1 ** 2 / (np.sqrt(b1 * b2) * c * s2)) ** (1 / 3) * np.sqrt(th ** (4 / 3) - a ** (2 / 3))
        om = (np.sqrt(b2) * c * s1 / (b1 * s2 ** 2)) ** (1 / 3) * np.sqrt(th ** (2 / 3) - (b2 ** 2 * c ** 4 * s2 ** 4 / (b1 * s1 ** 2)) ** (1 / 3))
        return lam, om
    if np.sqrt(b1) * s1 >= np.sqrt(b2) * c * s2:
        return 0.0, np.sqrt(np.sqrt(b2 / b1) * c * s1 / s2 - b2 / b1 * c ** 2)
    return np.sqrt(max(0.0, s1 / np.sqrt(b1) * (th - np.sqrt(b1) * s1))), 0.0


def scal(rng):
    I = rand_scalars(rng)
    I["th"] = float(rng.uniform(0.05, 5.0))
    return I


def S():
    s = {k: sp.Symbol(k, positive=True) for k in ("beta1", "beta2", "sigma1", "sigma2", "c", "theta", "t", "lambda")}
    return s


def _sym_curve(_):
    s = S()
    b1, b2, s1, s2, c, th, lam = (s[k] for k in ("beta1", "beta2", "sigma1", "sigma2", "c", "theta", "lambda"))
    t = sp.sqrt(lam ** 2 + s1 ** 2)
    k = c ** 2 * b2 / b1
    wk = c / s2 * sp.sqrt(b2 / b1) * t                       # w^2 + k on the curve (75)
    g = s1 ** 2 * th ** 2 / t ** 2 + c ** 2 * b2 * t ** 2 / wk + b1 * s2 ** 2 * (wk - k)
    h78 = s1 ** 2 * th ** 2 / t ** 2 + 2 * c * s2 * sp.sqrt(b1 * b2) * t - b2 * c ** 2 * s2 ** 2
    return [(g, h78), (c ** 2 * b2 / b1 * t ** 2, s2 ** 2 * wk ** 2)]       # also: the curve solves (75)


def _sym_79_81(_):
    s = S()
    b1, b2, s1, s2, c, th, t = (s[k] for k in ("beta1", "beta2", "sigma1", "sigma2", "c", "theta", "t"))
    hh = s1 ** 2 * th ** 2 / t ** 2 + 2 * c * s2 * sp.sqrt(b1 * b2) * t - b2 * c ** 2 * s2 ** 2
    dh = -2 * s1 ** 2 * th ** 2 / t ** 3 + 2 * c * s2 * sp.sqrt(b1 * b2)
    t0 = (s1 ** 2 * th ** 2 / (c * s2 * sp.sqrt(b1 * b2))) ** sp.Rational(1, 3)
    a = sp.sqrt(b1 * b2) * c * s1 * s2
    lam2 = (s1 ** 2 / (sp.sqrt(b1 * b2) * c * s2)) ** sp.Rational(2, 3) * (th ** sp.Rational(4, 3) - a ** sp.Rational(2, 3))
    om2 = (sp.sqrt(b2) * c * s1 / (b1 * s2 ** 2)) ** sp.Rational(2, 3) * (th ** sp.Rational(2, 3) - (b2 ** 2 * c ** 4 * s2 ** 4 / (b1 * s1 ** 2)) ** sp.Rational(1, 3))
    g3 = 3 * (c * s1 * s2 * th * sp.sqrt(b1 * b2)) ** sp.Rational(2, 3) - c ** 2 * s2 ** 2 * b2
    g4 = th ** 2 + 2 * c * s1 * s2 * sp.sqrt(b1 * b2) - b2 * c ** 2 * s2 ** 2
    return [(sp.diff(hh, t), dh),                                  # (79)
            (dh.subs(t, t0), 0),                                   # (80)
            (hh.subs(t, t0), g3),                                  # g3
            (lam2, t0 ** 2 - s1 ** 2),                             # (81) lambda
            (om2, c / s2 * sp.sqrt(b2 / b1) * t0 - c ** 2 * b2 / b1),   # (81) omega
            (hh.subs(t, s1), g4),                                  # (82)
            (th ** 2 + b1 * s1 ** 2 - g4, (sp.sqrt(b1) * s1 - sp.sqrt(b2) * c * s2) ** 2)]   # g2 - g4 is a square


def _amgm(I):
    s1, s2, th, b1, b2, c = I["sigma1"], I["sigma2"], I["th"], I["beta1"], I["beta2"], I["c"]
    g3 = 3 * (c * s1 * s2 * th * np.sqrt(b1 * b2)) ** (2 / 3) - c ** 2 * s2 ** 2 * b2
    g1, g2 = 2 * np.sqrt(b1) * s1 * th, th ** 2 + b1 * s1 ** 2
    return (g3, min(g1, g2))


def _renumber(step, eq, sampler=None):
    return dataclasses.replace(step, proof=P, equation=eq)


_f1 = {s.equation: s for s in F1.STEPS}

STEPS = (
    ProofStep(P, "(F.2) loss", "with Sigma1 = sigma1^2 I, Sigma2 = sigma2^2 I fixed, the F.2 objective differs from App. F's by a constant",
              lossF2, identity_check(lambda rng: flat(rng, True), n=30, what="constant difference",
                                     relate=lambda f, I: (lossF(I, I) - f(I, I), lossF(dict(I, U2=I["U2b"], V1=I["V1b"]), I) - f(dict(I, U2=I["U2b"], V1=I["V1b"]), I),
                                                          abs(lossF(I, I)) + 1))),
    ProofStep(P, "(62)", "(ed^2/2) dL/dV1 = U1^T(U1V1 - Z) + beta1 (U2W2 - I)^T(U2W2 - I)V1 + c^2 beta2 W2^T W2 V1",
              _f1["(43)"].printed, gradient_check(lossF2, "V1", h, SYM2, NUM2)),
    ProofStep(P, "(63)", "(ed^2/2) dL/dU1 = (U1V1 - Z)V1^T + U1 Sigma1", _f1["(44)"].printed, gradient_check(lossF2, "U1", h, SYM2, NUM2)),
    ProofStep(P, "(64)", "(ed^2/2) dL/dU2 = beta1(U2W2 - I)V1V1^T W2^T + beta1 U2 Sigma2 + beta1(U2W2 - I)Sigma1 W2^T",
              lambda M, s: s["beta1"] * (M["U2"] @ M["W2"] - I1(M["U2"])) @ M["V1"] @ M["V1"].T @ M["W2"].T + s["beta1"] * M["U2"] @ M["Sigma2"]
              + s["beta1"] * (M["U2"] @ M["W2"] - I1(M["U2"])) @ M["Sigma1"] @ M["W2"].T,
              gradient_check(lossF2, "U2", h, SYM2, NUM2)),
    ProofStep(P, "(65)", "(ed^2/2) dL/dW2 = beta1 U2^T(U2W2 - I)V1V1^T + beta1 U2^T(U2W2 - I)Sigma1 + c^2 beta2 W2 V1V1^T + c^2 beta2 W2 Sigma1",
              _f1["(46)"].printed, gradient_check(lossF2, "W2", h, SYM2, NUM2)),
    _renumber(_f1["(47)"], "(66)"), _renumber(_f1["(48)"], "(67)"), _renumber(_f1["(49)"], "(68)"),
    _renumber(_f1["(50)"], "(69)"), _renumber(_f1["(51)"], "(70)"),
    ProofStep(P, "(71) line 2", "at (66): c^2 beta2 |W2 V1|^2 = c^2 beta2 |U2^T (U2U2^T + c^2 I)^{-1} V1|^2 (as printed)",
              lambda I: I["U2"].T @ np.linalg.inv(I["U2"] @ I["U2"].T + I["c"] ** 2 * np.eye(dim1(I))),
              identity_check(lambda rng: flat(rng, True), n=30, relate=lambda f, I: (np.sum((f(I) @ I["V1"]) ** 2), np.sum((w47(I) @ I["V1"]) ** 2))),
              corrected=lambda I: I["U2"].T @ np.linalg.inv(I["U2"] @ I["U2"].T + k_(I) * np.eye(dim1(I))),
              corrected_text="W2 = U2^T (U2U2^T + c^2 (beta2/beta1) I)^{-1} as in (66); the printed c^2 I holds only for beta1 = beta2"),
    ProofStep(P, "(71)", "with (66), (68): |U1V1 - Z|^2 + beta1 |(U2W2 - I)V1|^2 + c^2 beta2 |W2V1|^2 = -tr(U1^T U1 Sigma1) - tr(U1^T Z V1^T) + |Z|^2 + c^2 beta2 tr(V1^T B^{-1} V1)",
              lambda I: (np.sum((I["U1"] @ I["V1"] - I["Z"]) ** 2) + I["beta1"] * np.sum(((I["U2"] @ I["W2"] - np.eye(dim1(I))) @ I["V1"]) ** 2) + I["c"] ** 2 * I["beta2"] * np.sum((I["W2"] @ I["V1"]) ** 2),
                         -np.trace(I["U1"].T @ I["U1"] @ I["Sigma1"]) - np.trace(I["U1"].T @ I["Z"] @ I["V1"].T) + np.sum(I["Z"] ** 2) + I["c"] ** 2 * I["beta2"] * np.trace(I["V1"].T @ Binv(I) @ I["V1"])),
              identity_check(lambda rng: crit(rng, True), n=30)),
    ProofStep(P, "(72)", "at (66): beta1 tr((U2W2 - I)Sigma1(U2W2 - I)^T) + c^2 beta2 tr(W2 Sigma1 W2^T) = c^2 beta2 tr(Sigma1 B^{-1})",
              lambda I: (I["beta1"] * np.trace((I["U2"] @ I["W2"] - np.eye(dim1(I))) @ I["Sigma1"] @ (I["U2"] @ I["W2"] - np.eye(dim1(I))).T) + I["c"] ** 2 * I["beta2"] * np.trace(I["W2"] @ I["Sigma1"] @ I["W2"].T),
                         I["c"] ** 2 * I["beta2"] * np.trace(I["Sigma1"] @ Binv(I))),
              identity_check(lambda rng: crit(rng, True), n=30)),
    ProofStep(P, "(73) line 1", "ed^2 L = |Z|^2 - tr(U1^T Z V1^T) + c^2 beta2 tr(V1^T B^{-1} V1) + beta1 tr(U2 Sigma2 U2^T) + c^2 beta2 tr(Sigma1 (U2U2^T + (ed^2/ee^2) I)^{-1}) (as printed)",
              lambda I: np.sum(I["Z"] ** 2) - np.trace(I["U1"].T @ I["Z"] @ I["V1"].T) + I["c"] ** 2 * I["beta2"] * np.trace(I["V1"].T @ Binv(I) @ I["V1"])
              + I["beta1"] * np.trace(I["U2"] @ I["Sigma2"] @ I["U2"].T) + I["c"] ** 2 * I["beta2"] * np.trace(I["Sigma1"] @ np.linalg.inv(I["U2"] @ I["U2"].T + I["c"] ** 2 * np.eye(dim1(I)))),
              identity_check(lambda rng: crit(rng, True), n=30, relate=lambda f, I: (f(I), I["ed"] ** 2 * lossF2(I, I))),
              corrected=lambda I: np.sum(I["Z"] ** 2) - np.trace(I["U1"].T @ I["Z"] @ I["V1"].T) + I["c"] ** 2 * I["beta2"] * np.trace(I["V1"].T @ Binv(I) @ I["V1"])
              + I["beta1"] * np.trace(I["U2"] @ I["Sigma2"] @ I["U2"].T) + I["c"] ** 2 * I["beta2"] * np.trace(I["Sigma1"] @ Binv(I)),
              corrected_text="the last term is c^2 beta2 tr(Sigma1 (U2U2^T + c^2 (beta2/beta1) I)^{-1}) (from (72)); the printed ed^2/ee^2 = c^2 drops beta2/beta1"),
    ProofStep(P, "(73)", "ed^2 L = |Z|^2 - tr(U1^T Z V1^T) + beta1 tr(U2 Sigma2 U2^T) + c^2 beta2 tr(B^{-1}(V1V1^T + Sigma1))",
              lambda I: np.sum(I["Z"] ** 2) - np.trace(I["U1"].T @ I["Z"] @ I["V1"].T) + I["beta1"] * np.trace(I["U2"] @ I["Sigma2"] @ I["U2"].T)
              + I["c"] ** 2 * I["beta2"] * np.trace(Binv(I) @ (I["V1"] @ I["V1"].T + I["Sigma1"])),
              identity_check(lambda rng: crit(rng, True), n=30, relate=lambda f, I: (f(I), I["ed"] ** 2 * lossF2(I, I)))),
    _renumber(_f1["after (51)"], "after (73)"),
    ProofStep(P, "(74)", "U2^T (64)/beta1 = 0 <=> sigma2^2 U2^T U2 = -U2^T(U2W2 - I)(V1V1^T + sigma1^2 I)W2^T = (c^2 beta2/beta1) U2^T B^{-1}(V1V1^T + sigma1^2 I)B^{-T} U2",
              lambda I: [(I["U2"].T @ (I["U2"] @ I["W2"] - np.eye(dim1(I))) @ (I["V1"] @ I["V1"].T + I["Sigma1"]) @ I["W2"].T + I["sigma2"] ** 2 * I["U2"].T @ I["U2"],
                          I["U2"].T @ ((I["U2"] @ I["W2"] - np.eye(dim1(I))) @ I["V1"] @ I["V1"].T @ I["W2"].T + I["U2"] @ I["Sigma2"]
                                       + (I["U2"] @ I["W2"] - np.eye(dim1(I))) @ I["Sigma1"] @ I["W2"].T)),
                         (-I["U2"].T @ (I["U2"] @ I["W2"] - np.eye(dim1(I))) @ (I["V1"] @ I["V1"].T + I["Sigma1"]) @ I["W2"].T,
                          I["c"] ** 2 * I["beta2"] / I["beta1"] * I["U2"].T @ Binv(I) @ (I["V1"] @ I["V1"].T + I["Sigma1"]) @ Binv(I).T @ I["U2"])],
              identity_check(lambda rng: crit(rng, True), n=30)),
    ProofStep(P, "(75)", "with the shared P: sigma2^2 w_i^2 = (c^2 beta2/beta1) w_i^2 (lambda_i^2 + sigma1^2)/(w_i^2 + k)^2 is the diagonal form of (74)",
              lambda I: (I["sigma2"] ** 2 * I["om"] ** 2, I["c"] ** 2 * I["beta2"] / I["beta1"] * I["om"] ** 2 * (I["lam"] ** 2 + I["sigma1"] ** 2) / (I["om"] ** 2 + k_(I)) ** 2),
              identity_check(lambda rng: shared_P(rng, True), n=30, what="diagonal form",
                             relate=lambda f, I: (lambda a, b: [(I["N"].T @ (I["sigma2"] ** 2 * I["U2"].T @ I["U2"]) @ I["N"], np.diag(a)),
                                                                (I["N"].T @ (I["c"] ** 2 * I["beta2"] / I["beta1"] * I["U2"].T @ Binv(I) @ (I["V1"] @ I["V1"].T + I["Sigma1"]) @ Binv(I) @ I["U2"]) @ I["N"], np.diag(b))])(*f(I)))),
    ProofStep(P, "(76) >=", "ed^2 L >= sum theta^2 - sum lambda^2 theta^2/(lambda^2 + sigma1^2) + beta1 sigma2^2 sum w^2 + sum c^2 beta2 (lambda^2 + sigma1^2)/(w^2 + k)",
              lambda I: (lambda lam, th: (np.sum(th ** 2) - np.sum(lam ** 2 * th[:len(lam)] ** 2 / (lam ** 2 + I["sigma1"] ** 2)) + I["beta1"] * I["sigma2"] ** 2 * np.sum(I["om"] ** 2)
                                          + np.sum(I["c"] ** 2 * I["beta2"] * (I["lam"] ** 2 + I["sigma1"] ** 2) / (I["om"] ** 2 + k_(I))), I["ed"] ** 2 * lossF2(I, I)))(
                  np.linalg.svd(I["V1"], compute_uv=False), np.linalg.svd(I["Z"], compute_uv=False)),
              inequality_check(lambda rng: shared_P(rng, True), n=200)),
    dataclasses.replace(_f1["(56) last"], proof=P, equation="(76) last"),
    ProofStep(P, "(77)", "g(lambda, 0) = sigma1^2 theta^2/(lambda^2 + sigma1^2) + beta1(lambda^2 + sigma1^2) is minimised at lambda* = sqrt(max(0, (sigma1/sqrt(beta1))(theta - sqrt(beta1) sigma1))) [r]",
              lambda I: (np.sqrt(max(0.0, I["sigma1"] / np.sqrt(I["beta1"]) * (I["th"] - np.sqrt(I["beta1"]) * I["sigma1"]))), 0.0),
              pair_min_check(scal, lambda I: (lambda g: (lambda l, w: g(l, 0 * w)))(g76(I)), n=25, what="lambda* on omega = 0")),
    ProofStep(P, "(77) values", "g1 = g(lambda*, 0) = 2 sqrt(beta1) sigma1 theta when theta >= sqrt(beta1) sigma1; g2 = theta^2 + beta1 sigma1^2 otherwise [r]",
              lambda I: (2 * np.sqrt(I["beta1"]) * I["sigma1"] * I["th"] if I["th"] >= np.sqrt(I["beta1"]) * I["sigma1"] else I["th"] ** 2 + I["beta1"] * I["sigma1"] ** 2),
              identity_check(scal, n=40, relate=lambda f, I: (f(I), g76(I)(np.sqrt(max(0.0, I["sigma1"] / np.sqrt(I["beta1"]) * (I["th"] - np.sqrt(I["beta1"]) * I["sigma1"]))), 0.0)))),
    ProofStep(P, "(78)", "on the curve (75), w^2 + k = (c/sigma2) sqrt(beta2/beta1) t, t = sqrt(lambda^2 + sigma1^2): g = sigma1^2 theta^2/t^2 + 2 c sigma2 sqrt(beta1 beta2) t - beta2 c^2 sigma2^2 [r]",
              _sym_curve, sym_identity_check()),
    ProofStep(P, "(78) domain", "w^2 >= 0 on the curve means t >= max(sigma1, c sigma2) (as printed)",
              lambda I: max(I["sigma1"], I["c"] * I["sigma2"]),
              identity_check(scal, n=40, what="feasibility threshold",
                             relate=lambda f, I: (f(I), max(I["sigma1"], k_(I) * I["sigma2"] / (I["c"] * np.sqrt(I["beta2"] / I["beta1"]))))),
              corrected=lambda I: max(I["sigma1"], I["c"] * I["sigma2"] * np.sqrt(I["beta2"] / I["beta1"])),
              corrected_text="t >= max(sigma1, c sigma2 sqrt(beta2/beta1)) (as used from (80) on)"),
    ProofStep(P, "(79)-(82) sympy", "h'(t) (79); h'(t0) = 0 at t0 = (sigma1^2 theta^2/(c sigma2 sqrt(beta1 beta2)))^{1/3} (80); h(t0) = g3; (81) lambda*^2 = t0^2 - sigma1^2 and "
              "w*^2 = (c/sigma2) sqrt(beta2/beta1) t0 - k in the printed cube-root forms; h(sigma1) = g4 (82); g2 - g4 = (sqrt(beta1) sigma1 - sqrt(beta2) c sigma2)^2 >= 0 [r]",
              _sym_79_81, sym_identity_check()),
    ProofStep(P, "(80) cases", "t0 >= max(sigma1, c sigma2 sqrt(beta2/beta1)) <=> theta >= sqrt(sqrt(beta1 beta2) c sigma1 sigma2) and theta >= beta2 c^2 sigma2^2/(sqrt(beta1) sigma1) [r]",
              lambda I: float(I["th"] >= max(np.sqrt(np.sqrt(I["beta1"] * I["beta2"]) * I["c"] * I["sigma1"] * I["sigma2"]), I["beta2"] * I["c"] ** 2 * I["sigma2"] ** 2 / (np.sqrt(I["beta1"]) * I["sigma1"]))),
              identity_check(scal, n=400, what="equivalence",
                             relate=lambda f, I: (f(I), float((I["sigma1"] ** 2 * I["th"] ** 2 / (I["c"] * I["sigma2"] * np.sqrt(I["beta1"] * I["beta2"]))) ** (1 / 3)
                                                            >= max(I["sigma1"], I["c"] * I["sigma2"] * np.sqrt(I["beta2"] / I["beta1"]))), 1.0))),
    ProofStep(P, "g1-g3, g2-g3", "g3 <= g1 and g3 <= g2 (AM-GM; printed as 'Cauchy-Schwarz')", _amgm, inequality_check(scal, n=400)),
    ProofStep(P, "Theorem 5", "the case formulas of Theorem 5 give the global minimiser of g(lambda, w) in (76) for every index [r]",
              thm5, pair_min_check(scal, g76, n=40)),
    ProofStep(P, "(84) Remark 5", "W2 = U2^T (U2U2^T + c^2 I)^{-1} (as printed)",
              lambda I: I["U2"].T @ np.linalg.inv(I["U2"] @ I["U2"].T + I["c"] ** 2 * np.eye(dim1(I))),
              identity_check(lambda rng: flat(rng, True), n=30, relate=lambda f, I: (f(I), w47(I))),
              corrected=lambda I: I["U2"].T @ Binv(I),
              corrected_text="W2 = U2^T (U2U2^T + c^2 (beta2/beta1) I)^{-1} = N Omega^T (Omega Omega^T + c^2 (beta2/beta1) I)^{-1} P^T, i.e. (66)"),
)
