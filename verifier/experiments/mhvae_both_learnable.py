"""The two-latent MHVAE with Sigma1 and Sigma2 both learnable: where a minimum exists, and what it is.

Three pieces of evidence for theorems/variant_mhvae_both_learnable.py, each with its own standing:

* ``symbolic_evidence`` (sympy, exact): (a) along ``unbounded_path`` (one index) the loss, with Sigma1 and
  Sigma2 at their optimum on the path, is (beta1 - beta2) log eps^2 + O(1): unbounded below iff
  beta1 > beta2; (b) the per-index identity behind the closed form: after eliminating Sigma1, Sigma2
  and W2 the loss is (1/eta_dec^2)[(u v - theta)^2 + q v^2] + beta1 log(u^2 + q) - beta2 log q, and
  with u~ = u/sqrt(q), v~ = sqrt(q) v this is a q-free function plus (beta1 - beta2) log q.
* ``path_losses`` (numeric, the full matrix objective): the loss at points of the path for falling eps.
* ``sweep`` (numeric, the certified minimiser of verifier/numeric.py from random restarts): the global
  minimum over a grid of beta1, beta2/beta1, eta_enc, eta_dec and spectra, compared with the proposed
  closed form (z2 collapsed, z1 = Theorem 4 with eta_enc -> eta_dec, beta -> beta1).  Agreement over the
  grid is evidence, not proof; for beta1 > beta2 the minimiser must run away below the closed form.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass

import numpy as np
import sympy as sp
import torch

from theorems.linear_vae import z_matrix
from theorems.variant_mhvae3_remark1 import certified_minima
from theorems.variant_mhvae_both_learnable import mhvae_both_learnable
from verifier.error_model import LOSS_RTOL, Tolerances
from verifier.errors import UsageError
from verifier.instances import Instance
from verifier.lowering import evaluate

MODEL = mhvae_both_learnable()
# A relative loss gap below TIE_RTOL counts as a tie with the closed form (10x the error model's loss
# tolerance: the minimiser's loss and the closed form's each carry up to LOSS_RTOL x scale); the z2 maps
# count as zero, and omega agrees with its closed form, below ZERO_RTOL x the instance's value scale.
TIE_RTOL, ZERO_RTOL = 10 * LOSS_RTOL, Tolerances().zero_rtol


def _dims(instance: Instance, mats: dict) -> dict:
    out = {sp.Symbol(k, integer=True, positive=True): int(v) for k, v in instance.latent.items()}
    out[sp.Symbol("D0", integer=True, positive=True)], out[sp.Symbol("d0", integer=True, positive=True)] = mats["Z"].shape
    return out


def loss_at(instance: Instance, point: dict) -> float:
    """The App. F objective (both Sigmas learnable) at ``point`` (numpy matrices by name)."""
    mats = {"Z": z_matrix(instance.validate(MODEL))}
    env = {k: torch.as_tensor(np.asarray(v), dtype=torch.float64)[None] for k, v in {**mats, **point}.items()}
    env.update({k: torch.tensor([float(v)], dtype=torch.float64) for k, v in instance.hyper.items()})
    return float(evaluate(MODEL.objective, env, _dims(instance, mats), dtype=torch.float64, device="cpu")[0])


# --------------------------------------------------------------------------- unboundedness


def unbounded_path(instance: Instance, eps: float) -> dict:
    """A point of the path along which the loss falls like (beta1 - beta2) k log eps^2, k = min(d1, d2).

    z2 copies z1 scaled down, U2 W2 = I on k coordinates (W2 = eps I, U2 = I/eps), x is ignored (U1 = V1 = 0),
    and Sigma1 = s I, Sigma2 = t I at their optimum on the path: s = beta1 eta_dec^2 / (c^2 beta2 eps^2)
    (tr(W2^T W2 Sigma1) costs eps^2 s), t = beta2 eta_dec^2 / (beta1 / eps^2 + c^2 beta2) (tr(U2^T U2 Sigma2)
    costs t / eps^2).  Then -beta1 log s - beta2 log t = (beta1 - beta2) k log eps^2 + O(1).
    """
    if not eps > 0:
        raise UsageError(f"eps={eps!r} must be > 0")
    h, (n1, n2) = instance.hyper, (instance.latent["d1"], instance.latent["d2"])
    D0, d0 = z_matrix(instance.validate(MODEL)).shape
    c2 = (h["eta_dec"] / h["eta_enc"]) ** 2
    s = h["beta1"] * h["eta_dec"] ** 2 / (c2 * h["beta2"] * eps**2)
    t = h["beta2"] * h["eta_dec"] ** 2 / (h["beta1"] / eps**2 + c2 * h["beta2"])
    return {"U1": np.zeros((D0, n1)), "V1": np.zeros((n1, d0)), "U2": np.eye(n1, n2) / eps,
            "W2": np.eye(n2, n1) * eps, "Sigma1": s * np.eye(n1), "Sigma2": t * np.eye(n2)}


def path_losses(instance: Instance, eps_values) -> list[float]:
    return [loss_at(instance, unbounded_path(instance, e)) for e in eps_values]


def path_slope(instance: Instance, eps_small: float = 1e-4, eps_smaller: float = 1e-6) -> float:
    """The measured d loss / d log eps^2 between two small eps: (beta1 - beta2) min(d1, d2) expected."""
    a, b = path_losses(instance, (eps_small, eps_smaller))
    return (b - a) / (math.log(eps_smaller**2) - math.log(eps_small**2))


def symbolic_evidence() -> dict:
    """The two exact computations of the module docstring, as strings and booleans."""
    b1, b2, ee, ed, th, eps = sp.symbols("beta1 beta2 eta_enc eta_dec theta epsilon", positive=True)
    c2 = (ed / ee) ** 2
    s = b1 * ed**2 / (c2 * b2 * eps**2)
    t = b2 * ed**2 / (b1 / eps**2 + c2 * b2)
    # One index of the App. F objective at U1 = V1 = 0, U2 = 1/eps, W2 = eps (so U2 W2 - 1 = 0).
    loss = (th**2 + b1 * t / eps**2 + c2 * b2 * (eps**2 * s + t)) / ed**2 - b1 * sp.log(s) - b2 * sp.log(t)
    slope = sp.simplify(sp.limit(loss / sp.log(eps**2), eps, 0))
    # The separation of q (one index, Sigma1, Sigma2, W2 eliminated).
    u, v, q = sp.symbols("u v q", positive=True)
    reduced = ((u * v - th) ** 2 + q * v**2) / ed**2 + b1 * sp.log(u**2 + q) - b2 * sp.log(q)
    ut, vt = u / sp.sqrt(q), sp.sqrt(q) * v
    separated = ((ut * vt - th) ** 2 + vt**2) / ed**2 + b1 * sp.log(ut**2 + 1) + (b1 - b2) * sp.log(q)
    identity = sp.simplify(sp.expand_log(reduced - separated, force=True)) == 0
    # ... and W2's elimination: min over w of beta1 (u2 w - 1)^2 + c^2 beta2 w^2 is beta1 c^2 beta2 / p, p = beta1 u2^2 + c^2 beta2.
    u2, w = sp.symbols("u2 w", positive=True)
    qw = b1 * (u2 * w - 1) ** 2 + c2 * b2 * w**2
    w_star = sp.solve(sp.diff(qw, w), w)[0]
    q_min_ok = sp.simplify(qw.subs(w, w_star) - b1 * c2 * b2 / (b1 * u2**2 + c2 * b2)) == 0
    return {"path_slope_in_log_eps2": str(slope), "slope_is_beta1_minus_beta2": sp.simplify(slope - (b1 - b2)) == 0,
            "q_separates": bool(identity), "w2_elimination": bool(q_min_ok),
            "statement": "loss(path) = (beta1 - beta2) log eps^2 + O(1); reduced loss = f(u~, v~) + (beta1 - beta2) log q"}


# --------------------------------------------------------------------------- the proposed closed form


def closed_form_point(instance: Instance) -> dict:
    """z2 collapsed (U2 = W2 = 0, Sigma2 = eta_enc^2 I), z1 = Theorem 4 with eta_enc -> eta_dec, beta -> beta1."""
    h, (n1, n2) = instance.hyper, (instance.latent["d1"], instance.latent["d2"])
    Zm = z_matrix(instance.validate(MODEL))
    R, theta, St = np.linalg.svd(Zm, full_matrices=True)
    D0, d0 = Zm.shape
    th = np.zeros(n1)
    th[:min(n1, len(theta))] = theta[:n1]
    gap = np.maximum(0.0, th**2 - h["beta1"] * h["eta_dec"] ** 2)
    omega = np.sqrt(gap) / h["eta_dec"]
    lam = np.where(gap > 0, h["eta_dec"] * np.sqrt(gap) / np.where(th > 0, th, 1.0), 0.0)
    sigma = np.where(th >= math.sqrt(h["beta1"]) * h["eta_dec"], math.sqrt(h["beta1"]) * h["eta_dec"] ** 2
                     / np.where(th > 0, th, 1.0), h["eta_dec"])
    Om, La = np.zeros((D0, n1)), np.zeros((n1, d0))
    k = min(D0, n1)
    Om[np.arange(k), np.arange(k)] = omega[:k]
    k = min(n1, d0)
    La[np.arange(k), np.arange(k)] = lam[:k]
    return {"U1": R @ Om, "V1": La @ St, "Sigma1": np.diag(sigma**2), "U2": np.zeros((n1, n2)),
            "W2": np.zeros((n2, n1)), "Sigma2": h["eta_enc"] ** 2 * np.eye(n2)}


# --------------------------------------------------------------------------- the sweep


@dataclass
class SweepPoint:
    beta1: float
    beta2: float
    eta_enc: float
    eta_dec: float
    theta: list
    minimum: float                # the certified minimiser's loss (nan/inf where it ran away)
    certified: bool
    closed_form_loss: float
    relative_gap: float           # (closed form - minimum) / scale: > 0 means the minimiser went lower
    u2_norm: float                # ||U2*|| / value scale at the minimiser
    w2_norm: float
    omega_error: float            # max |singular values of U1* - omega_i*| / value scale
    sigma2_error: float           # max |Sigma2* - eta_enc^2| / eta_enc^2
    verdict: str                  # "closed form", "tie, z2 in use", "below closed form", "disagrees", "uncertified"


def sweep_instances(*, seed: int = 0, size: str = "quick") -> list[Instance]:
    """A grid over beta1, beta2/beta1 (below, at and above 1), eta_enc, eta_dec; d0 = d1 = d2 = 2
    ('quick') or d1 = 2, d2 = 3, d0 = 3 with a finer grid ('thorough'); random spectra across sqrt(beta1) eta_dec."""
    if size not in ("quick", "thorough"):
        raise UsageError(f"size={size!r}; use 'quick' or 'thorough'")
    rng = np.random.default_rng(seed)
    quick = size == "quick"
    beta1s = (0.5, 2.0) if quick else (0.25, 0.5, 1.0, 2.0, 4.0)
    ratios = (0.5, 1.0, 1.5, 3.0) if quick else (0.25, 0.5, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 6.0)
    etas = ((1.0, 1.0), (0.5, 2.0)) if quick else ((1.0, 1.0), (0.5, 2.0), (2.0, 0.5), (1.0, 0.3))
    d1, d2, d0 = (2, 2, 2) if quick else (2, 3, 3)
    out = []
    for b1, r, (ee, ed) in itertools.product(beta1s, ratios, etas):
        thr = math.sqrt(b1) * ed
        theta = sorted(rng.uniform(0.2, 2.5, size=d0) * thr, reverse=True)
        out.append(Instance({"d1": d1, "d2": d2}, {"beta1": b1, "beta2": b1 * r, "eta_enc": ee, "eta_dec": ed}, {},
                            spectrum=tuple(float(x) for x in theta), D0=d0, seed=int(rng.integers(0, 2**16))))
    return out


def _classify(m, cf_loss: float, unit: float, omega_err: float, u2: float, w2: float) -> tuple[float, str]:
    scale = unit**4
    if not math.isfinite(m.loss):
        return math.inf, "below closed form"
    gap = (cf_loss - m.loss) / scale
    if gap > TIE_RTOL:
        return gap, "below closed form"
    if not m.certified:
        return gap, "uncertified"
    if gap < -TIE_RTOL:
        return gap, "disagrees"            # the closed form is lower than a certified local minimum: fine only
    if u2 > ZERO_RTOL or w2 > ZERO_RTOL:   # if the minimiser missed the global one; reported, never hidden
        return gap, "tie, z2 in use"
    return gap, "closed form" if omega_err <= ZERO_RTOL else "disagrees"


def sweep(*, seed: int = 0, size: str = "quick", device: str = "cpu") -> list[SweepPoint]:
    instances = sweep_instances(seed=seed, size=size)
    with np.errstate(all="ignore"):
        minima = certified_minima(MODEL, instances, seed=seed, device=device)
    out = []
    for inst, m in zip(instances, minima):
        cf = closed_form_point(inst)
        cf_loss = loss_at(inst, cf)
        h = inst.hyper
        unit = m.unit
        finite = all(np.all(np.isfinite(v)) for v in m.point.values())
        u2 = m.norms["U2"] / unit if finite else math.nan
        w2 = m.norms["W2"] / unit if finite else math.nan
        if finite:
            sv = np.linalg.svd(m.point["U1"], compute_uv=False)
            omega_err = float(np.max(np.abs(np.sort(sv)[::-1] - np.linalg.svd(cf["U1"], compute_uv=False)))) / unit
            s2err = float(np.max(np.abs(np.diag(m.point["Sigma2"]) - h["eta_enc"] ** 2))) / h["eta_enc"] ** 2
        else:
            omega_err = s2err = math.nan
        gap, verdict = _classify(m, cf_loss, unit, omega_err, u2, w2)
        out.append(SweepPoint(h["beta1"], h["beta2"], h["eta_enc"], h["eta_dec"], list(inst.spectrum), m.loss,
                              m.certified, cf_loss, gap, u2, w2, omega_err, s2err, verdict))
    return out


def summarise(points: list[SweepPoint]) -> dict:
    """Verdict counts by the sign of beta1 - beta2, and whether each region behaves as derived."""
    regions = {"beta1 < beta2": lambda p: p.beta1 < p.beta2, "beta1 = beta2": lambda p: p.beta1 == p.beta2,
               "beta1 > beta2": lambda p: p.beta1 > p.beta2}
    out = {}
    for name, inside in regions.items():
        counts: dict = {}
        for p in points:
            if inside(p):
                counts[p.verdict] = counts.get(p.verdict, 0) + 1
        out[name] = counts
    expected = {"beta1 < beta2": {"closed form", "uncertified"}, "beta1 = beta2": {"closed form", "tie, z2 in use",
                                                                                     "uncertified"},
                "beta1 > beta2": {"below closed form"}}
    consistent = {k: set(v) <= expected[k] for k, v in out.items()}
    return {"counts": out, "as_derived": consistent}


def run(*, seed: int = 0, size: str = "quick", device: str = "cpu") -> dict:
    """Everything above as JSON-ready data (the report's variants section uses it)."""
    points = sweep(seed=seed, size=size, device=device)
    probe = Instance({"d1": 2, "d2": 2}, {"beta1": 2.0, "beta2": 1.0, "eta_enc": 1.0, "eta_dec": 1.0}, {},
                     spectrum=(1.5, 0.5), D0=2)
    eps = [10.0 ** -k for k in range(0, 7)]
    paths = {}
    for b1, b2 in ((2.0, 1.0), (1.5, 1.0), (1.0, 1.0), (1.0, 2.0)):
        inst = Instance(probe.latent, {**probe.hyper, "beta1": b1, "beta2": b2}, {}, spectrum=probe.spectrum, D0=2)
        paths[f"{b1:g},{b2:g}"] = {"eps": eps, "loss": path_losses(inst, eps), "slope": path_slope(inst),
                                   "expected_slope": (b1 - b2) * 2}
    return {"symbolic": symbolic_evidence(), "paths": paths, "sweep": [asdict(p) for p in points],
            "summary": summarise(points)}
