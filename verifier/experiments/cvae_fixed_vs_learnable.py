"""Does an unlearnable encoder variance make the CVAE collapse less?  Both models on the same data.

Table 1 says an unlearnable Sigma mitigates collapse in the CVAE.  theorems/variant_cvae_fixed_sigma.py
derives the fixed-Sigma optimum: latent i is active iff theta_i > beta c^2 sigma'_i^2, against
theta_i > beta eta_dec^2 for the learnable Sigma of Theorem 2.  So the fixed-Sigma CVAE collapses no
more dimensions when every sigma_i <= eta_enc, and can collapse more when sigma_i > eta_enc.  This
module measures both sides: the certified minimisers of both objectives (not the closed forms) on
the same paired data, the number of latent dimensions each leaves unused (d1 - rank U1*), and the
counts the two closed forms predict.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from theorems.cvae import canonical_pair
from theorems.theorem2_cvae_learnable_sigma import THEOREM as LEARNABLE
from theorems.variant_cvae_fixed_sigma import THEOREM as FIXED
from verifier.error_model import Tolerances
from verifier.instances import Instance
from verifier.pipeline import Pipeline

# Singular values below ZERO x the reference are zero, above NONZERO x it non-zero (the error model's band).
ZERO, NONZERO = Tolerances().zero_rtol, Tolerances().nonzero_rtol


def paired_instance(theta, sigma, *, beta=1.0, eta_enc=1.0, eta_dec=1.0, rho=0.5, seed=0) -> Instance:
    """Paired (x, y) whose E has eigenvalues ``theta`` (d0 = d2 = len(theta), canonical correlation rho)."""
    rng = np.random.default_rng(seed)
    k = len(theta)
    psi = [t / (1 - rho**2) for t in theta]
    X, Y = canonical_pair(rng, 2 * k + 2, [1.0] * k, psi, [rho] * k, k, k)
    return Instance({"d1": len(sigma)}, {"beta": beta, "eta_enc": eta_enc, "eta_dec": eta_dec},
                    {"sigma": tuple(sigma)}, X=X, Y=Y, seed=seed)


def _unused(U1: np.ndarray, unit: float) -> int | None:
    """d1 - rank(U1), or None where a singular value falls in the undecided band."""
    sv = np.linalg.svd(U1, compute_uv=False)
    ref = max(float(sv.max()) if sv.size else 0.0, unit)
    if np.any((sv > ZERO * ref) & (sv < NONZERO * ref)):
        return None
    return U1.shape[1] - int(np.sum(sv >= NONZERO * ref))


def compare(instances: list[Instance]) -> list[dict]:
    """Per instance: collapsed dimensions at the certified minimum of each model, and as predicted."""
    fixed = Pipeline(FIXED).run(instances)
    learn = Pipeline(LEARNABLE).run([dataclasses.replace(i, vectors={}) for i in instances])
    out = []
    for inst, f, l in zip(instances, fixed, learn):
        h, sig = inst.hyper, np.sort(np.asarray(inst.vectors["sigma"]))
        theta = np.asarray(f.claimed["theta"])
        unit = max(abs(f.minimiser["loss"]), 1.0) ** 0.25
        c2 = (h["eta_dec"] / h["eta_enc"]) ** 2
        out.append({
            "instance": inst.to_json(), "theta": theta.tolist(), "sigma": sig.tolist(),
            "sigma_at_most_eta_enc": bool(sig.max() <= h["eta_enc"]),
            "certified": f.minimiser["certified"] and l.minimiser["certified"],
            "collapsed_fixed": _unused(np.asarray(f.minimiser["matrices"]["U1"]), unit),
            "collapsed_learnable": _unused(np.asarray(l.minimiser["matrices"]["U1"]), unit),
            "predicted_fixed": int(len(sig) - np.sum(theta > h["beta"] * c2 * sig**2)),
            "predicted_learnable": int(len(sig) - np.sum(theta > h["beta"] * h["eta_dec"] ** 2)),
        })
    return out


def standard_instances(seed: int = 0, extra: int = 0) -> list[Instance]:
    """theta = (1.5, 0.8) with beta = eta = 1 (learnable: one dimension collapses) and sigma below, at and
    above eta_enc; ``extra`` random draws with every sigma_i <= eta_enc (the premise of the claim)."""
    out = [paired_instance((1.5, 0.8), s, seed=seed) for s in ((0.5, 0.7), (0.9, 1.0), (1.0, 1.0), (1.3, 1.6))]
    rng = np.random.default_rng(seed)
    for k in range(extra):
        b, ee, ed = rng.uniform(0.3, 3.0, size=3)
        thr = b * ed**2
        theta = sorted(rng.uniform(0.2, 3.0, size=2) * thr, reverse=True)
        sigma = rng.uniform(0.2, 1.0, size=2) * ee
        out.append(paired_instance(theta, sigma, beta=b, eta_enc=ee, eta_dec=ed, rho=float(rng.uniform(0, 0.9)),
                                   seed=seed + k + 1))
    return out


def summarise(rows: list[dict]) -> dict:
    """The claim 'sigma_i <= eta_enc for all i => the fixed-Sigma CVAE collapses no more than Theorem 2's' on
    the measured counts, and the instances beyond its premise where fixed Sigma collapses more."""
    decided = [r for r in rows if r["certified"] and None not in (r["collapsed_fixed"], r["collapsed_learnable"])]
    premise = [r for r in decided if r["sigma_at_most_eta_enc"]]
    violations = [r for r in premise if r["collapsed_fixed"] > r["collapsed_learnable"]]
    more = [r for r in decided if not r["sigma_at_most_eta_enc"] and r["collapsed_fixed"] > r["collapsed_learnable"]]
    predicted_ok = all(r["collapsed_fixed"] == r["predicted_fixed"] and r["collapsed_learnable"] == r["predicted_learnable"]
                       for r in decided)
    return {"instances": len(rows), "decided": len(decided), "premise_met": len(premise),
            "violations": len(violations), "fixed_collapses_more_beyond_premise": len(more),
            "counts_match_closed_forms": predicted_ok,
            "example_beyond_premise": more[0] if more else None}
