"""The data-form ELBO check: the paper's reduction to a whitened matrix objective, under test.

Each paper first writes its loss from the data -- (3) for the VAE, (5) for the CVAE: expectations
over the samples, the Gaussian encoder's expectations in closed form -- and only then whitens the
data to reach the matrix objective the theorems solve.  This module minimises the data form
itself, in torch float64, batched over instances x restarts, and compares it with the matrix form:

1. identity: at random parameters, data loss - constant = matrix objective at the whitened image;
2. minimum: the certified minimum of the data form - constant = the matrix form's certified minimum;
3. minimiser: the whitened image of the data-form minimiser has the same spectra (``compare``) as
   the matrix-form minimiser.

Interface (what a model provides to take part, as ``Model.data_form``)::

    DataForm(
        equation="(5)",                        # the paper's data-form loss
        parameters=(Variable(W1), ...),        # data-form parameters: MatrixSymbols sized by the
                                               #   model's dimensions, kinds as verifier.spec.Variable
        raw=lambda instance: {...} | None,     # numpy arrays (N x D0 data, whitening maps, fixed
                                               #   Sigma, ...), or None where the instance has no raw
                                               #   data (a spectrum): the check is then SKIPPED
        loss=lambda data, params: tensor,      # data: raw arrays (B, ...) and hyperparameters (B,)
                                               #   by name; params: parameter matrices (B, ...);
                                               #   returns the data-form loss (B,)
        whiten=lambda data, params: {...},     # the model's whitened variables (B, ...) by name
        constant=lambda data, dims: tensor,    # data loss - matrix objective (B,), e.g. -beta d1
    )

The check is the claim kind :class:`verifier.spec.DataFormAgreement`; :func:`check_data_form` is
its checker.  ``raw`` arrays of one group of instances must share their shapes (they are stacked).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable

import numpy as np
import torch

from .errors import SpecError
from .lowering import evaluate
from .numeric import (
    STALL_LIMIT, Derivatives, MinimiserSettings, Parametrisation, certify_points, pseudo_newton_step,
)

from .status import Status

VERIFIED, REFUTED, INCONCLUSIVE, SKIPPED = Status.VERIFIED, Status.REFUTED, Status.INCONCLUSIVE, Status.SKIPPED

# Relative tolerance of the identity (1): both sides are sums of O(1) terms evaluated in float64.
IDENTITY_RTOL = 1e-9


@dataclass(frozen=True)
class DataForm:
    equation: str
    parameters: tuple
    raw: Callable
    loss: Callable
    whiten: Callable
    constant: Callable


@dataclass
class DataFormResult:
    point: dict[str, torch.Tensor]      # best restart per instance, data-form parameters (B, ...)
    loss: torch.Tensor                  # (B,)
    grad_norm: torch.Tensor             # (B,)
    min_hessian_eig: torch.Tensor       # (B,)
    min_curvature: torch.Tensor         # (B,) smallest Hessian eigenvalue above the null cutoff (nan: none)
    certified: torch.Tensor             # (B,) bool
    identity_gap: torch.Tensor          # (B,) largest |data loss - constant - matrix objective| at the starts
    identity_ref: torch.Tensor          # (B,) the size of the losses compared there


class _DataDerivatives(Derivatives):
    """Loss, gradient and Hessian of the data-form loss (the engine's batched autograd, another loss)."""

    def __init__(self, form: DataForm, param: Parametrisation, dims, dtype, device, block: int):
        super().__init__(None, param, dims, dtype, device, block)
        self.form = form

    def loss(self, x: torch.Tensor, env: dict) -> torch.Tensor:
        return self.form.loss(env, self.param.matrices(x))


def data_form_derivatives(form: DataForm, dims: dict, dtype, device,
                          block: int = MinimiserSettings().hessian_block) -> tuple[Parametrisation, _DataDerivatives]:
    """The data form's parametrisation (its own variables, not the model's) and its batched derivatives."""
    param = Parametrisation(SimpleNamespace(variables=form.parameters), dims)
    return param, _DataDerivatives(form, param, dims, dtype, device, block)


def minimise_data_form(model, dims: dict, data: dict[str, torch.Tensor], matrix_data: dict[str, torch.Tensor],
                       scale: torch.Tensor, seeds: list[int], settings: MinimiserSettings = MinimiserSettings(),
                       ) -> DataFormResult:
    """Minimise ``model.data_form.loss`` for a batch of B instances from ``settings.restarts`` starts each.

    ``data``: raw arrays and hyperparameters (leading dim B); ``matrix_data``: the matrix objective's
    data and hyperparameters (leading dim B), used for the identity check at the starting points.
    """
    form: DataForm = model.data_form
    B, R = scale.shape[0], settings.restarts
    dtype, device = scale.dtype, scale.device
    param, deriv = data_form_derivatives(form, dims, dtype, device, settings.hessian_block)
    env = {k: v.repeat_interleave(R, dim=0) for k, v in data.items()}
    menv = {k: v.repeat_interleave(R, dim=0) for k, v in matrix_data.items()}
    pscale = scale.repeat_interleave(R)

    # Starting points as the matrix-form minimiser draws them: entries ~ scale^(1/4)/sqrt(d),
    # log-variances around the prior's.
    init = scale.clamp_min(1e-300) ** 0.25 / math.sqrt(max(dims.values()))
    log_center = 2 * torch.log(data["eta_enc"]) if "eta_enc" in data else torch.zeros_like(scale)
    starts = []
    for b, seed in enumerate(seeds):
        gen = torch.Generator().manual_seed(int(seed) * 7919 + settings.seed + 1)
        for _ in range(R):
            starts.append(param.initial(gen, float(init[b]), float(log_center[b]), dtype, device))
    x = torch.stack(starts)

    # (1) the identity at the (random) starting points
    with torch.no_grad():
        f0 = deriv.loss(x, env)
        whitened = form.whiten(env, param.matrices(x))
        m0 = evaluate(model.objective, {**menv, **whitened}, dims, dtype=dtype, device=device)
        gap = (f0 - form.constant(env, dims) - m0).abs()
        ref = f0.abs() + m0.abs() + pscale

    x, f, g, H = _levenberg_marquardt(deriv, x, env, pscale, settings)
    f_all = torch.where(torch.isfinite(f), f, torch.full_like(f, float("inf"))).reshape(B, R)
    best = f_all.argmin(dim=1)
    pick = torch.arange(B, device=device) * R + best
    cert = certify_points(g[pick], H[pick], scale, settings)
    worst = (gap / ref).reshape(B, R).argmax(dim=1)
    at = torch.arange(B, device=device) * R + worst
    return DataFormResult(param.matrices(x[pick]), f_all[torch.arange(B), best], cert.grad_norm,
                          cert.min_hessian_eig, cert.min_curvature, cert.certified, gap[at], ref[at])


def _levenberg_marquardt(deriv, x, env, pscale, settings: MinimiserSettings):
    """Damped Newton on every problem at once (the step rule of verifier.numeric, without its bookkeeping)."""
    eye = torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
    mu = 1e-3 * pscale
    f, g, H = deriv(x, env, hessian=True)
    gnorm = g.norm(dim=-1)
    stalls = torch.zeros_like(gnorm, dtype=torch.long)
    noise_factor = 16 * torch.finfo(x.dtype).eps
    for _ in range(settings.max_iterations):
        stationary = gnorm <= settings.grad_rtol * pscale
        finished = (gnorm <= 1e-4 * settings.grad_rtol * pscale) | (stationary & (stalls >= STALL_LIMIT))
        live = (~finished).nonzero().squeeze(-1)
        if live.numel() == 0:
            break
        sub = {k: v[live] for k, v in env.items()}
        L, info = torch.linalg.cholesky_ex(H[live] + mu[live, None, None] * eye)
        pd = info == 0
        L = torch.where(pd[:, None, None], L, eye.expand_as(L))
        x_new = x[live] - torch.cholesky_solve(g[live].unsqueeze(-1), L).squeeze(-1)
        f_new, g_new, _ = deriv(x_new, sub, hessian=False)
        gn_new = g_new.norm(dim=-1)
        fl, noise = f[live], noise_factor * f[live].abs()
        accept = pd & torch.isfinite(f_new) & ((f_new < fl) | ((f_new <= fl + noise) & (gn_new < gnorm[live])))
        progress = accept & ((f_new < fl - noise) | (gn_new <= 0.5 * gnorm[live]))
        x[live] = torch.where(accept[:, None], x_new, x[live])
        f[live] = torch.where(accept, f_new, fl)
        g[live] = torch.where(accept[:, None], g_new, g[live])
        gnorm[live] = torch.where(accept, gn_new, gnorm[live])
        mu[live] = torch.where(accept, mu[live] * 0.3, mu[live] * 10.0).clamp(1e-16 * pscale[live], 1e16 * pscale[live])
        stalls[live] = torch.where(progress, torch.zeros_like(stalls[live]), stalls[live] + 1)
        moved = live[accept]
        if moved.numel():
            _, _, H[moved] = deriv(x[moved], {k: v[moved] for k, v in env.items()}, hessian=True)
    return x, f, g, H


# --------------------------------------------------------------------------- the checker


def _spectrum(kind: str, m: torch.Tensor) -> torch.Tensor:
    if kind == "singular_values":
        return torch.linalg.svdvals(m)
    if kind == "sqrt_eigenvalues":
        return torch.sqrt(torch.linalg.eigvalsh(0.5 * (m + m.mT)).clamp_min(0)).flip(-1)
    raise SpecError(f"DataFormAgreement: compare kind {kind!r} is not 'singular_values' or 'sqrt_eigenvalues'")


def check_data_form(claim, ev) -> list:
    """Checker of :class:`verifier.spec.DataFormAgreement` (registered in verifier.checks.CHECKERS)."""
    from .checks import Outcome     # the engine's outcome type; imported here to keep the modules acyclic

    model = ev.batch.theorem.model
    if model.data_form is None:
        raise SpecError(f"claim {claim.name!r} needs a data form, but the model {model.name!r} has none "
                        f"(Model.data_form, see verifier/data_form.py)")
    form: DataForm = model.data_form
    b = ev.batch
    out: list = [None] * b.size
    groups: dict[tuple, list] = {}
    for i, inst in enumerate(b.instances):
        raw = form.raw(inst)
        if raw is None:
            out[i] = Outcome(SKIPPED, "the instance gives a spectrum, not data: there is no data form to minimise")
            continue
        groups.setdefault(tuple(sorted((k, np.shape(v)) for k, v in raw.items())), []).append((i, raw))
    for members in groups.values():
        idx = [i for i, _ in members]
        t = lambda a: torch.as_tensor(np.asarray(a), dtype=b.scale.dtype, device=b.scale.device)
        data = {k: t([raw[k] for _, raw in members]) for k in members[0][1]}
        hyper = {h.symbol.name: b.data[h.symbol.name][idx] for h in model.hyperparameters}
        data.update(hyper)
        matrix_data = {k: v[idx] for k, v in b.data.items()}
        res = minimise_data_form(model, b.dims, data, matrix_data, b.scale[idx],
                                 [b.instances[i].seed for i in idx])
        constant = form.constant(data, b.dims)
        whitened = form.whiten(data, res.point)
        # computed on first use only: the Newton step is needed only where a comparison is in doubt
        after_step = functools.cache(lambda: whitened_after_newton_step(form, b.dims, data, res.point))
        for j, i in enumerate(idx):
            out[i] = _compare(claim, ev, i, res, j, float(constant[j]), {k: v[j] for k, v in whitened.items()},
                              lambda j=j: {k: v[j] for k, v in after_step().items()}, Outcome)
    return out


def whitened_after_newton_step(form: DataForm, dims: dict, data: dict, point: dict) -> dict:
    """The data-form points (B, ...) moved by one pseudo-inverse Newton step, then whitened.

    Where the data have a direction of tiny variance (an eigenvalue of E[x x^T] ~1e-9), the data form's
    curvature along it falls below the null cutoff, so |grad| / curvature does not bound how far the point
    lies from its minimiser there -- but the whitening multiplies that direction back up, and the compared
    matrices move with it. The Newton step measures that distance where the curvature is real."""
    any_tensor = next(iter(data.values()))
    param, deriv = data_form_derivatives(form, dims, any_tensor.dtype, any_tensor.device)
    return form.whiten(data, param.matrices(pseudo_newton_step(deriv, param.flatten(point), data)))


def _compare(claim, ev, i: int, res: DataFormResult, j: int, constant: float, whitened: dict,
             after_step: Callable, Outcome):
    b = ev.batch
    data_min = float(res.loss[j]) - constant
    matrix_min = float(ev.result.loss[i])
    tol = float(ev.loss_tol[i])
    gap, gref = float(res.identity_gap[j]), float(res.identity_ref[j])
    metrics = {"data_form_min_minus_constant": data_min, "matrix_form_min": matrix_min, "loss_gap": data_min - matrix_min,
               "loss_tol": tol, "identity_gap": gap, "identity_tol": IDENTITY_RTOL * gref, "constant": constant,
               "data_form_grad_norm": float(res.grad_norm[j]), "data_form_min_hessian_eig": float(res.min_hessian_eig[j])}
    if gap > IDENTITY_RTOL * gref:
        return Outcome(REFUTED, f"at a random point the data form {claim.equation or ''} minus the constant "
                                f"{constant:.6g} differs from the matrix objective by {gap:.3e} "
                                f"> {IDENTITY_RTOL * gref:.1e}", metrics)
    if not bool(res.certified[j]):
        return Outcome(INCONCLUSIVE, f"data-form minimiser not certified (|grad|={float(res.grad_norm[j]):.2e}, "
                                     f"min Hessian eig={float(res.min_hessian_eig[j]):.2e})", metrics)
    if not bool(ev.result.certified[i]):
        return Outcome(INCONCLUSIVE, "matrix-form minimiser not certified", metrics)
    if abs(data_min - matrix_min) > tol:
        return Outcome(REFUTED, f"certified minima differ: data form - constant = {data_min:.15g}, matrix form = "
                                f"{matrix_min:.15g} (gap {data_min - matrix_min:.3e} > {tol:.1e})", metrics)
    if ev.boundary(i):
        return Outcome(VERIFIED, f"minima agree (gap {data_min - matrix_min:.1e} <= {tol:.1e}); spectra not "
                                 f"compared: an index sits at its case boundary", metrics)
    # Each certified point lies within |grad| / curvature of its exact minimiser (Evidence.position_uncertainty);
    # the compared matrices (U1, Sigma) are parameters of both forms, so their spectra move by at most that
    # (Weyl; sqrt(exp(x)) by at most ref/2 per unit of x), as in check_spectrum.  Where that is not enough,
    # NEWTON_STEP_FACTOR x the data-form spectrum's change under one Newton step is admitted too
    # (whitened_after_newton_step: flat data directions), as RelationAtPrecision does.
    from .checks import NEWTON_STEP_FACTOR, newton_distance
    uncertainty = ev.position_uncertainty(i) + newton_distance(float(res.grad_norm[j]), float(res.min_curvature[j]))
    worst = 0.0
    for kind, name in claim.compare:
        s_data = _spectrum(kind, whitened[name]).sort(descending=True).values
        s_mat = _spectrum(kind, ev.result.point[name][i]).sort(descending=True).values
        diff = float((s_data - s_mat).abs().max())
        ref = max(float(s_mat.abs().max()), float(s_data.abs().max()), ev.value_scale(i) * 1e-3)
        rtol = ev.tol.value_rtol + float(b.sensitivity[i])
        precision = uncertainty * max(1.0, ref)
        if diff > rtol * ref + precision:
            s_stepped = _spectrum(kind, after_step()[name]).sort(descending=True).values
            change = NEWTON_STEP_FACTOR * float((s_data - s_stepped).abs().max())
            precision += change
            metrics[f"newton_step_change_{name}"] = change
        stol = rtol * ref + precision
        metrics[f"spectrum_error_{name}"] = diff
        metrics[f"spectrum_tolerance_{name}"] = stol
        metrics["position_uncertainty"] = uncertainty
        worst = max(worst, diff / stol)
        if diff > stol and precision > ev.tol.precision_limit * ev.value_scale(i):
            return Outcome(INCONCLUSIVE, f"the {kind} of {name} differ by {diff:.2e}, but the minima are too shallow "
                                         f"to locate either minimiser closer than {precision:.1e}", metrics)
        if diff > stol:
            return Outcome(REFUTED, f"the whitened data-form minimiser has {kind} of {name} "
                                    f"{[round(v, 9) for v in s_data.tolist()]}, the matrix form "
                                    f"{[round(v, 9) for v in s_mat.tolist()]} (error {diff:.3e} > {stol:.1e})", metrics)
    return Outcome(VERIFIED, f"minima agree (gap {data_min - matrix_min:.1e} <= {tol:.1e}), identity gap {gap:.1e}, "
                             f"spectra of {[n for _, n in claim.compare]} agree (worst {worst:.2f} x tolerance)", metrics)
