"""The ladder an uncertified instance climbs before it may be called INCONCLUSIVE, and why it stayed uncertified.

A first minimisation that certifies no restart is not yet evidence: the instance is minimised again, rung by
rung (each an independent run: other random starts), and only when the last rung fails is it reported, with
its cause in words (:func:`diagnose`) -- unbounded below, a saddle, a flat direction, or not converged.
The pipeline climbs it for the matrix objective, the data form's minimiser for its own.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from .error_model import FLAT_RTOL, UNBOUNDED_FACTOR
from .numeric import MinimiserSettings


@dataclass(frozen=True)
class Rung:
    """One step of the ladder an uncertified instance climbs before it may be called INCONCLUSIVE."""
    name: str
    settings: MinimiserSettings
    start_factor: float = 1.0        # the random starts' entry scale, relative to the usual one


def ladder(settings: MinimiserSettings) -> tuple[Rung, ...]:
    """Stronger, independent minimisations, cheapest first: more restarts (other random starts: each rung
    has its own seed), then more iterations too (the MHVAE's flat valleys), then starts far smaller and far
    larger than the usual scale (a start near a saddle's basin, or one that never leaves the plateau round
    the origin). float64 is torch's widest type, so "higher precision" is the confirmation's job
    (verifier.confirmation), not a rung's."""
    more = replace(settings, restarts=4 * settings.restarts, seed=settings.seed + 7001)
    longer = replace(more, max_iterations=4 * settings.max_iterations, seed=settings.seed + 7002)
    return (Rung(f"{more.restarts} restarts", more),
            Rung(f"{longer.restarts} restarts of {longer.max_iterations} iterations", longer),
            Rung("starts at 1/10 of the usual scale", replace(more, seed=settings.seed + 7003), 0.1),
            Rung("starts at 10x the usual scale", replace(more, seed=settings.seed + 7004), 10.0))


def replace_rows(result, rows: torch.Tensor, better, take: torch.Tensor) -> None:
    """In ``result`` (a dataclass of per-instance tensors, leading dim B), the instances ``rows`` (b,) take the
    rows of ``better`` (the same dataclass for those b instances) where ``take`` (b,) holds. Fields whose shape
    differs beyond the leading dim (every restart's loss, with another number of restarts) are kept."""
    chosen = rows[take]
    if chosen.numel() == 0:
        return
    for name, old in vars(result).items():
        new = getattr(better, name)
        pairs = old.items() if isinstance(old, dict) else [(None, old)]
        for key, tensor in pairs:
            fresh = new[key] if key is not None else new
            if isinstance(tensor, torch.Tensor) and tensor.shape[1:] == fresh.shape[1:]:
                tensor[chosen] = fresh[take].to(tensor.dtype)


def diagnose(grad_norm: float, min_hessian_eig: float, min_curvature: float, restart_losses,
             scale: float, iterations: int, settings: MinimiserSettings) -> str:
    """Why a point is not certified, in words: unbounded below, a saddle, a flat direction, or not converged."""
    finite = [v for v in restart_losses if math.isfinite(v)]
    if not finite or min(finite) < -UNBOUNDED_FACTOR * scale:
        low = f"{min(finite):.3g}" if finite else "non-finite values"
        return (f"unbounded below: the loss decreased without bound on this instance (restarts reached {low}, "
                f"the loss scale is {scale:.3g})")
    stationary = grad_norm <= settings.grad_rtol * scale
    if stationary and min_hessian_eig < -settings.hessian_rtol * scale:
        return (f"saddle: the gradient vanishes (|grad| = {grad_norm:.2e}) but the Hessian has negative "
                f"curvature {min_hessian_eig:.3e} < -{settings.hessian_rtol * scale:.1e}")
    if not stationary and (math.isnan(min_curvature) or min_curvature < FLAT_RTOL * scale):
        return (f"flat direction: |grad| = {grad_norm:.2e} > {settings.grad_rtol * scale:.1e} after {iterations} "
                f"iterations, with curvature {min_curvature:.2e} along the slowest direction")
    return (f"not converged: |grad| = {grad_norm:.2e} > {settings.grad_rtol * scale:.1e} after {iterations} "
            f"iterations (min Hessian eigenvalue {min_hessian_eig:.2e})")
