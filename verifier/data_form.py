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

The check is the claim kind :class:`verifier.spec.DataFormAgreement`, judged by
:mod:`verifier.judge.data_form_agreement` (its tolerances are the error model's).  ``raw`` arrays of one group of instances must share their shapes (they are stacked).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable

import numpy as np
import torch

from .lowering import evaluate
from .ladder import ladder, replace_rows
from .numeric import (
    Derivatives, MinimiserSettings, Parametrisation, best_restarts, damped_newton, diverged, pseudo_newton_step,
)


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


def data_form_inputs(model, batch) -> tuple[list[tuple[list[int], dict[str, torch.Tensor]]], list[int]]:
    """The data form's inputs for the instances of ``batch`` (``verifier.batch``): for each group of instances
    whose data share their shapes, (their indices, their raw arrays and the model's hyperparameters as tensors
    with the group as leading dimension); and the indices of the instances that give a spectrum, not data."""
    groups: dict[tuple, list] = {}
    without_data = []
    for i, inst in enumerate(batch.instances):
        raw = model.data_form.raw(inst)
        if raw is None:
            without_data.append(i)
        else:
            groups.setdefault(tuple(sorted((k, np.shape(v)) for k, v in raw.items())), []).append((i, raw))
    tensor = lambda a: torch.as_tensor(np.asarray(a), dtype=batch.scale.dtype, device=batch.scale.device)
    inputs = []
    for members in groups.values():
        idx = [i for i, _ in members]
        data = {k: tensor([raw[k] for _, raw in members]) for k in members[0][1]}
        data.update({h.symbol.name: batch.data[h.symbol.name][idx] for h in model.hyperparameters})
        inputs.append((idx, data))
    return inputs, without_data


def minimise_data_form(model, dims: dict, data: dict[str, torch.Tensor], matrix_data: dict[str, torch.Tensor],
                       scale: torch.Tensor, seeds: list[int], settings: MinimiserSettings = MinimiserSettings(),
                       ) -> DataFormResult:
    """Minimise ``model.data_form.loss`` for a batch of B instances from ``settings.restarts`` starts each, with
    verifier.numeric's damped Newton loop; an instance left uncertified climbs numeric.ladder (more restarts,
    more iterations, other start scales), as the matrix form's minimiser does in the pipeline.

    ``data``: raw arrays and hyperparameters (leading dim B); ``matrix_data``: the matrix objective's
    data and hyperparameters (leading dim B), used for the identity check at the starting points.
    """
    result = _minimise_from_starts(model, dims, data, matrix_data, scale, seeds, settings)
    for rung in ladder(settings):
        rows = (~result.certified & ~diverged(result.loss, scale)).nonzero().flatten()
        if rows.numel() == 0:
            break
        better = _minimise_from_starts(model, dims, {k: v[rows] for k, v in data.items()},
                                       {k: v[rows] for k, v in matrix_data.items()}, scale[rows],
                                       [seeds[i] for i in rows.tolist()], rung.settings, rung.start_factor)
        replace_rows(result, rows, better, better.certified)
    return result


def _minimise_from_starts(model, dims, data, matrix_data, scale, seeds, settings: MinimiserSettings,
                          start_factor: float = 1.0) -> DataFormResult:
    form: DataForm = model.data_form
    B, R = scale.shape[0], settings.restarts
    dtype, device = scale.dtype, scale.device
    param, deriv = data_form_derivatives(form, dims, dtype, device, settings.hessian_block)
    env = {k: v.repeat_interleave(R, dim=0) for k, v in data.items()}
    menv = {k: v.repeat_interleave(R, dim=0) for k, v in matrix_data.items()}
    pscale = scale.repeat_interleave(R)

    # Starting points as the matrix-form minimiser draws them: entries ~ scale^(1/4)/sqrt(d),
    # log-variances around the prior's.
    init = start_factor * scale.clamp_min(1e-300) ** 0.25 / math.sqrt(max(dims.values()))
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

    run = damped_newton(deriv, x, env, pscale, settings)
    pick, f_all, cert = best_restarts(run, scale, settings)
    worst = (gap / ref).reshape(B, R).argmax(dim=1)
    at = torch.arange(B, device=device) * R + worst
    return DataFormResult(param.matrices(run.x[pick]), f_all.reshape(-1)[pick], cert.grad_norm,
                          cert.min_hessian_eig, cert.min_curvature, cert.certified, gap[at], ref[at])




def whitened_after_newton_step(form: DataForm, dims: dict, data: dict, point: dict) -> dict:
    """The data-form points (B, ...) moved by one pseudo-inverse Newton step, then whitened.

    Where the data have a direction of tiny variance (an eigenvalue of E[x x^T] ~1e-9), the data form's
    curvature along it falls below the null cutoff, so |grad| / curvature does not bound how far the point
    lies from its minimiser there -- but the whitening multiplies that direction back up, and the compared
    matrices move with it. The Newton step measures that distance where the curvature is real."""
    any_tensor = next(iter(data.values()))
    param, deriv = data_form_derivatives(form, dims, any_tensor.dtype, any_tensor.device)
    return form.whiten(data, param.matrices(pseudo_newton_step(deriv, param.flatten(point), data)))
