"""Certified points in a shallow valley, built the same way on every machine.

Where the minimiser stops inside its certificate depends on the machine's rounding: the same Theorem 2
instance stops at |grad| 4.7e-9 on one CPU and 1.8e-13 on another, so a test that needs a certified
point some way from the exact minimiser cannot take the minimiser's. It builds one instead: the claimed
optimum of a theorem that holds (exact to rounding) moved along a soft direction of the Hessian, by a
fraction of the distance the gradient certificate admits there (|grad| = curvature x distance).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from verifier.batch import group_by_dims, instantiate
from verifier.judge import Evidence, Tolerances, claimed_loss_and_grad
from verifier.numeric import (
    Derivatives, MinimiserResult, MinimiserSettings, Parametrisation, certify_points,
)

# Directions whose curvature is within this factor of the softest one (above the null cutoff) are candidates.
SOFT_FACTOR = 10


@dataclass
class ShallowValley:
    evidence: Evidence         # as the pipeline would build it, with the moved point as the minimiser's
    curvature: float           # along the direction moved
    distance: float            # how far the point was moved
    grad_norm: float           # at the moved point
    grad_tolerance: float      # what the certificate admits


def _instantiated(theorem, instance):
    settings = MinimiserSettings()
    (group,) = group_by_dims(theorem, [instance])
    batch = instantiate(theorem, group)
    param = Parametrisation(theorem.model, batch.dims)
    deriv = Derivatives(theorem.model.objective, param, batch.dims, batch.scale.dtype, batch.scale.device,
                        settings.hessian_block)
    return settings, group, batch, param, deriv


def _evidence_at(x, settings, group, batch, param, deriv) -> tuple[Evidence, float]:
    """Evidence with the parameter vector x (1, P) as the minimiser's certified point, and |grad| there."""
    loss, grad, H = deriv(x, batch.data, hessian=True)
    cert = certify_points(grad, H, batch.scale, settings)
    result = MinimiserResult(point=param.matrices(x), loss=loss, grad_norm=cert.grad_norm,
                             min_hessian_eig=cert.min_hessian_eig, min_curvature=cert.min_curvature,
                             certified=cert.certified, restart_losses=loss[:, None], iterations=0)
    claimed_loss, claimed_grad = claimed_loss_and_grad(batch)
    return Evidence(batch, result, group, Tolerances(), claimed_loss, claimed_grad), float(cert.grad_norm[0])


def optimum_evidence(theorem, instance) -> Evidence:
    """Evidence whose certified point is the claimed optimum itself."""
    setup = _instantiated(theorem, instance)
    settings, group, batch, param, deriv = setup
    return _evidence_at(param.flatten(batch.claimed), *setup)[0]


def shallow_valley_evidence(theorem, instance, moved, fraction: float = 0.9) -> ShallowValley:
    """Evidence for ``instance`` whose certified point is the claimed optimum moved along the soft direction
    that changes ``moved(batch, matrices) -> float`` most, by ``fraction`` of what the certificate admits.

    ``moved`` is evaluated at each candidate point (the instantiated batch of one and the model's matrices
    there; ``batch.env(matrices)`` evaluates the spec's expressions). The Hessian's soft
    eigenspace can be degenerate, so the candidates' basis within it is the machine's: a test's margins
    must hold for any rotation of a degenerate pair (a factor of sqrt(2) on what the best one moves)."""
    setup = _instantiated(theorem, instance)
    settings, group, batch, param, deriv = setup
    x = param.flatten(batch.claimed)
    _, _, H = deriv(x, batch.data, hessian=True)
    eigenvalues, vectors = torch.linalg.eigh(H[0])
    cutoff = settings.hessian_rtol * float(batch.scale[0])
    grad_tolerance = settings.grad_rtol * float(batch.scale[0])
    above = [k for k in range(len(eigenvalues)) if float(eigenvalues[k]) > cutoff]
    softest = float(eigenvalues[above[0]])
    candidates = []
    for k in above:
        curvature = float(eigenvalues[k])
        if curvature > SOFT_FACTOR * softest:
            break
        distance = fraction * grad_tolerance / curvature
        point = x + distance * vectors[:, k]
        candidates.append((moved(batch, param.matrices(point)), curvature, distance, point))
    _, curvature, distance, point = max(candidates, key=lambda c: c[0])
    evidence, grad_norm = _evidence_at(point, *setup)
    return ShallowValley(evidence, curvature, distance, grad_norm, grad_tolerance)
