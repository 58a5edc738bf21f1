"""Remark 1's conjecture on the three-latent MHVAE (theorems/mhvae3.py): an experiment, not a proof.

Remark 1 (Section 4.2) conjectures that once a latent collapses completely, every higher latent
becomes inactive.  With three latents that reads: if z2 collapses completely (q(z2|z1) ignores z1,
W2 = 0, and p(z1|z2) ignores z2, U2 = 0), then z3 is inactive (W3 = 0 and U3 = 0); and, one level
down, if z1 collapses completely (V1 = W1 P_A Phi^{1/2} = 0), then z2 and z3 are inactive.

No closed form is known for three latents, so there is no THEOREM here to register: ``sweep``
draws instances over a grid of beta1, beta2, beta3 and sigma1, finds each global minimum with the
verifier's certified minimiser (damped Newton from random restarts, gradient and Hessian
certificate), and counts for each premise how often the conclusion held.  A counterexample is a
certified minimum where the premise holds and the conclusion fails; "no counterexample" over the
sweep is evidence, not proof.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
import torch

from theorems.mhvae3 import mhvae3
from verifier.instances import Instance
from verifier.lowering import evaluate
from verifier.numeric import MinimiserSettings, minimise

# A map counts as zero below ZERO_RTOL x the instance's value scale and as non-zero above
# NONZERO_RTOL x it (the engine's Tolerances use the same pair); in between it is undecided.
ZERO_RTOL, NONZERO_RTOL = 1e-6, 1e-3


@dataclass
class CertifiedMinimum:
    instance: Instance
    loss: float
    certified: bool
    norms: dict                    # Frobenius norm of each map at the minimum
    unit: float                    # value scale: ||Z||_F^{1/2}-like unit the norms are compared with
    point: dict = field(default_factory=dict)   # the minimiser's matrices (numpy)
    data: dict = field(default_factory=dict)    # the instance's data matrices (numpy)


@dataclass
class ConjectureTally:
    premise: str
    conclusion: str
    held: int = 0                  # premise and conclusion both hold
    premise_met: int = 0
    counterexamples: list = field(default_factory=list)   # strict: every optimum has the conclusion fail
    ties: list = field(default_factory=list)              # an optimum with the conclusion holding has equal loss
    undecided: int = 0

    def to_json(self) -> dict:
        return {"premise": self.premise, "conclusion": self.conclusion, "premise_met": self.premise_met,
                "held": self.held, "undecided": self.undecided,
                "counterexamples": [{"instance": m.instance.to_json(), "norms": m.norms} for m in
                                    self.counterexamples[:3]], "counterexample_count": len(self.counterexamples),
                "ties": len(self.ties),
                "tie_examples": [{"instance": m.instance.to_json(), "norms": m.norms} for m in self.ties[:2]]}


def certified_minima(model, instances: list[Instance], *, restarts: int = 4, seed: int = 0,
                     device: str = "cpu") -> list[CertifiedMinimum]:
    """Global minima of ``model`` on instances of equal dimensions, one batch, with their certificates."""
    dtype = torch.float64
    stats = [model.statistics(inst.validate(model)) for inst in instances]
    dims = {sp.Symbol(k, integer=True, positive=True): v for k, v in instances[0].latent.items()}
    dims.update({sp.Symbol(k, integer=True, positive=True): v for k, v in stats[0][1].items()})
    t = lambda a: torch.as_tensor(np.asarray(a), dtype=dtype, device=device)
    data = {m.name: t([s[0][m.name] for s in stats]) for m in model.data}
    data.update({h.symbol.name: t([inst.hyper[h.symbol.name] for inst in instances]) for h in model.hyperparameters})
    eta_dec = data["eta_dec"]
    scale = (data["Z"] ** 2).sum(dim=(-2, -1)) / eta_dec**2 + 1.0
    result = minimise(model, dims, data, scale, [inst.seed for inst in instances],
                      MinimiserSettings(restarts=restarts, seed=seed, device=device, max_iterations=400),
                      init_scale=(scale.cpu() ** 0.25 / math.sqrt(max(dims.values()))),
                      log_center=2 * torch.log(data["eta_enc"]).cpu())
    out = []
    for i, inst in enumerate(instances):
        norms = {k: float(torch.linalg.matrix_norm(v[i])) for k, v in result.point.items()
                 if not k.startswith("Sigma")}
        out.append(CertifiedMinimum(inst, float(result.loss[i]), bool(result.certified[i]), norms,
                                    float(scale[i]) ** 0.25, {k: v[i].cpu().numpy() for k, v in result.point.items()},
                                    {m.name: stats[i][0][m.name] for m in model.data}))
    return out


def _zero(m: CertifiedMinimum, names) -> bool | None:
    """All of ``names`` zero (True), one clearly non-zero (False), else undecided (None)."""
    vals = [m.norms[n] for n in names]
    if all(v <= ZERO_RTOL * m.unit for v in vals):
        return True
    if any(v >= NONZERO_RTOL * m.unit for v in vals):
        return False
    return None


# (premise, conclusion), each a tuple of maps that vanish.
CONJECTURES = (
    (("W2", "U2"), ("W3", "U3")),     # z2 collapsed completely => z3 inactive (Remark 1 one level up)
    (("V1",), ("W2", "U2")),          # z1 collapsed completely => z2 inactive
    (("V1",), ("W3", "U3")),          # z1 collapsed completely => z3 inactive
)


def _loss_at(m: CertifiedMinimum, point: dict) -> float:
    model = mhvae3("fixed" if "sigma1" in m.instance.vectors else "learnable")
    env = {k: torch.as_tensor(v, dtype=torch.float64)[None] for k, v in {**m.data, **point}.items()}
    env.update({k: torch.tensor([float(v)], dtype=torch.float64) for k, v in m.instance.hyper.items()})
    dims = {sp.Symbol(k, integer=True, positive=True): int(v) for k, v in m.instance.latent.items()}
    dims.update({sp.Symbol("D0", integer=True, positive=True): m.data["Z"].shape[0],
                 sp.Symbol("d0", integer=True, positive=True): m.data["Z"].shape[1]})
    return float(evaluate(model.objective, env, dims, dtype=torch.float64, device="cpu")[0])


def inactive_z3_loss(m: CertifiedMinimum) -> float:
    """The lowest loss of two points near m with z3 switched off (U3 = W3 = 0, Sigma3 = eta_enc^2 I):
    the rest of m kept, or in addition z2 switched off (U2 = W2 = 0, Sigma2 = eta_dec^2 I, their optimum
    then).  Both are honest feasible points: a tie with m's loss shows a global minimum with z3 inactive."""
    h = m.instance.hyper
    base = {k: v.copy() for k, v in m.point.items()}
    base["U3"][:], base["W3"][:] = 0.0, 0.0
    base["Sigma3"] = h["eta_enc"] ** 2 * np.eye(base["Sigma3"].shape[0])
    z2_off = {**base, "U2": np.zeros_like(base["U2"]), "W2": np.zeros_like(base["W2"]),
              "Sigma2": h["eta_dec"] ** 2 * np.eye(base["Sigma2"].shape[0])}
    return min(_loss_at(m, base), _loss_at(m, z2_off))


# A loss difference below this fraction of the loss scale is a tie (the minimiser's own loss tolerance).
TIE_RTOL = 1e-9


def tally(minima: list[CertifiedMinimum]) -> list[ConjectureTally]:
    out = []
    for premise, conclusion in CONJECTURES:
        t = ConjectureTally(" = ".join(premise) + " = 0", " = ".join(conclusion) + " = 0")
        for m in minima:
            if not m.certified:
                t.undecided += 1
                continue
            p, c = _zero(m, premise), _zero(m, conclusion)
            if p is None or (p and c is None):
                t.undecided += 1
            elif p:
                t.premise_met += 1
                if c:
                    t.held += 1
                elif "U3" in conclusion and inactive_z3_loss(m) <= m.loss + TIE_RTOL * m.unit**4:
                    t.ties.append(m)
                else:
                    t.counterexamples.append(m)
        out.append(t)
    return out


def sweep_instances(*, seed: int = 0, sigma1: str = "fixed", size: str = "quick") -> list[Instance]:
    """A grid over beta1, beta2, beta3 (and sigma1 where fixed), each with a random spectrum.

    Only beta2 <= beta3 is drawn (and beta1 <= beta2 when Sigma1 is learnable): elsewhere the objective
    is unbounded below (see ``unbounded_path``) and there is no global minimum to look at.  "quick"
    uses one dimension per latent (d0 = d1 = d2 = d3 = 1), "thorough" two and a finer grid.
    """
    rng = np.random.default_rng(seed)
    betas = (0.5, 2.0) if size == "quick" else (0.25, 0.5, 1.0, 2.0, 4.0)
    sigmas = (0.3, 1.0) if size == "quick" else (0.2, 0.5, 1.0, 2.0)
    d = 1 if size == "quick" else 2
    out = []
    for b1, b2, b3, s1 in itertools.product(betas, betas, betas, sigmas if sigma1 == "fixed" else (None,)):
        if b2 > b3 or (sigma1 == "learnable" and b1 > b2):
            continue
        theta = sorted(rng.uniform(0.05, 3.0, size=d), reverse=True)
        vectors = {"sigma1": (s1,) * d} if sigma1 == "fixed" else {}
        out.append(Instance({"d1": d, "d2": d, "d3": d},
                            {"beta1": b1, "beta2": b2, "beta3": b3, "eta_enc": 1.0, "eta_dec": 1.0},
                            vectors, spectrum=tuple(float(x) for x in theta), D0=d,
                            seed=int(rng.integers(0, 2**16))))
    return out


def unbounded_path(instance: Instance, eps: float) -> float:
    """The loss at a point of a path along which it falls without bound when beta2 > beta3.

    z2 ignores z1 and x (W2 = 0, U2 = 0, Sigma2 = s I) and z3 copies z2 scaled down (W3 = eps I,
    U3 = I/eps, so U3 W3 = I), Sigma3 = t I.  With t = beta3 eps^2 / beta2 and s = beta2 / (beta3 c^2 eps^2)
    the terms other than the log-determinants stay bounded and the loss is
    const + (beta2 - beta3) d2 log(eps^2) + O(eps^2): -> -infinity as eps -> 0 if beta2 > beta3.
    (With beta2 = beta3, the unweighted ELBO, it is bounded.)  U1 = V1 = 0 and Sigma1 = I where learnable.
    """
    model = mhvae3("fixed" if "sigma1" in instance.vectors else "learnable")
    mats, data_dims = model.statistics(instance.validate(model))
    h = instance.hyper
    c2 = (h["eta_dec"] / h["eta_enc"]) ** 2
    d = {k: instance.latent[k] for k in ("d1", "d2", "d3")}
    t, s = h["beta3"] * eps**2 / h["beta2"], h["beta2"] / (h["beta3"] * c2 * eps**2)
    point = {"U1": np.zeros((data_dims["D0"], d["d1"])), "V1": np.zeros((d["d1"], data_dims["d0"])),
             "U2": np.zeros((d["d1"], d["d2"])), "W2": np.zeros((d["d2"], d["d1"])),
             "U3": np.eye(d["d2"], d["d3"]) / eps, "W3": np.eye(d["d3"], d["d2"]) * eps,
             "Sigma2": s * np.eye(d["d2"]), "Sigma3": t * np.eye(d["d3"]), "Sigma1": np.eye(d["d1"]), **mats}
    env = {k: torch.as_tensor(v, dtype=torch.float64)[None] for k, v in point.items()}
    env.update({k: torch.tensor([float(v)], dtype=torch.float64) for k, v in h.items()})
    dims = {sp.Symbol(k, integer=True, positive=True): v for k, v in {**d, **data_dims}.items()}
    return float(evaluate(model.objective, env, dims, dtype=torch.float64, device="cpu")[0])


def run(*, seed: int = 0, size: str = "quick", device: str = "cpu", batch: int = 32) -> dict:
    """The conjecture tallies for fixed and for learnable Sigma1, as JSON-ready data."""
    report = {}
    for sigma1 in ("fixed", "learnable"):
        model = mhvae3(sigma1)
        instances = sweep_instances(seed=seed, sigma1=sigma1, size=size)
        minima = []
        for k in range(0, len(instances), batch):
            minima += certified_minima(model, instances[k:k + batch], seed=seed, device=device)
        report[sigma1] = {"instances": len(minima), "certified": sum(m.certified for m in minima),
                          "conjectures": [t.to_json() for t in tally(minima)]}
    return report
