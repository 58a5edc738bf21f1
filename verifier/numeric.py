"""Batched minimisation of a matrix objective, with a convergence certificate.

Every instance of a batch gets ``restarts`` random starting points; all
instance x restart problems are advanced together, one tensor operation per
step.  The method is a damped Newton (Levenberg-Marquardt) iteration: exact
per-problem Hessians from ``torch.func`` (the objectives have at most a few
hundred parameters at the sizes we verify), a Cholesky solve of ``H + mu I``
with ``mu`` raised until the shifted Hessian is positive definite and the step
lowers the loss.  It converges quadratically at non-degenerate minima and
linearly where the theorem's optimum is degenerate (an index exactly at its
threshold), which is why the loop keeps polishing past the gradient tolerance.

The certificate is the gradient norm and, for small problems, the smallest
Hessian eigenvalue at the returned point -- both relative to the instance's
loss scale.  Nothing is certified that was not measured.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import sympy as sp
import torch
from torch.func import grad, grad_and_value, hessian, vmap

from .lowering import evaluate


@dataclass(frozen=True)
class MinimiserSettings:
    restarts: int = 4
    max_iterations: int = 300
    grad_rtol: float = 1e-9          # certified stationary when ||grad|| <= grad_rtol * scale
    hessian_rtol: float = 1e-8       # certified minimum when lambda_min(H) >= -hessian_rtol * scale
    hessian_max_params: int = 600    # above this the Hessian eigenvalue certificate is skipped
    seed: int = 0
    device: str = "cpu"


@dataclass
class MinimiserResult:
    point: dict[str, torch.Tensor]     # best restart per instance, as model matrices (B, ...)
    loss: torch.Tensor                 # (B,)
    grad_norm: torch.Tensor            # (B,)
    min_hessian_eig: torch.Tensor      # (B,), nan where not computed
    certified: torch.Tensor            # (B,) bool: gradient (and Hessian, where computed) certificate holds
    restart_losses: torch.Tensor       # (B, R)
    iterations: int


class Parametrisation:
    """Flatten a model's variables into one vector per problem, and back."""

    def __init__(self, model, dims: dict):
        self.entries = []
        offset = 0
        for var in model.variables:
            rows, cols = (int(sp.sympify(s).subs(dims)) for s in var.symbol.shape)
            size = rows if var.kind == "positive_diagonal" else rows * cols
            self.entries.append((var.symbol.name, var.kind, rows, cols, offset, size))
            offset += size
        self.size = offset

    def matrices(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {}
        for name, kind, rows, cols, off, size in self.entries:
            chunk = x[..., off:off + size]
            if kind == "positive_diagonal":
                out[name] = torch.diag_embed(torch.exp(chunk))
            else:
                out[name] = chunk.reshape(*x.shape[:-1], rows, cols)
        return out

    def initial(self, generator: torch.Generator, scale: float, log_center: float, dtype, device) -> torch.Tensor:
        x = torch.randn(self.size, generator=generator, dtype=dtype)
        for name, kind, rows, cols, off, size in self.entries:
            if kind == "positive_diagonal":
                x[off:off + size] = log_center + 0.5 * x[off:off + size]
            else:
                x[off:off + size] *= scale
        return x.to(device)


def minimise(model, dims: dict, data: dict[str, torch.Tensor], scale: torch.Tensor, instance_seeds: list[int],
             settings: MinimiserSettings = MinimiserSettings(), init_scale: torch.Tensor | None = None,
             log_center: torch.Tensor | None = None) -> MinimiserResult:
    """Minimise ``model.objective`` over its variables for a batch of B instances.

    ``data`` maps names of data matrices and hyperparameters to tensors with leading dim B;
    ``scale`` (B,) is each instance's loss scale, used for the relative tolerances.
    """
    B, R = scale.shape[0], settings.restarts
    device, dtype = scale.device, scale.dtype
    param = Parametrisation(model, dims)
    objective = model.objective

    def f_single(x, env):
        return evaluate(objective, {**env, **param.matrices(x)}, dims, dtype=dtype, device=device)

    value_and_grad = vmap(grad_and_value(f_single))
    hess = vmap(hessian(f_single))

    env = {k: v.repeat_interleave(R, dim=0) for k, v in data.items()}
    pscale = scale.repeat_interleave(R)
    init_scale = torch.ones(B, dtype=dtype) if init_scale is None else init_scale
    log_center = torch.zeros(B, dtype=dtype) if log_center is None else log_center
    starts = []
    for b, seed in enumerate(instance_seeds):
        gen = torch.Generator().manual_seed(zlib.crc32(f"{settings.seed}:{seed}".encode()))
        for _ in range(R):
            starts.append(param.initial(gen, float(init_scale[b]), float(log_center[b]), dtype, device))
    x = torch.stack(starts)

    eye = torch.eye(param.size, dtype=dtype, device=device)
    mu = 1e-3 * pscale
    g, f = value_and_grad(x, env)
    H = hess(x, env)
    rejects = torch.zeros_like(pscale, dtype=torch.long)
    it = 0
    for it in range(1, settings.max_iterations + 1):
        gnorm = g.norm(dim=-1)
        # Stop a problem once its gradient is far below tolerance, or once it is within
        # tolerance and no step lowers the loss any more (float64 noise, a flat direction).
        stationary = gnorm <= settings.grad_rtol * pscale
        finished = (gnorm <= 1e-4 * settings.grad_rtol * pscale) | (stationary & (rejects >= 8))
        if bool(finished.all()):
            break
        L, info = torch.linalg.cholesky_ex(H + mu[:, None, None] * eye)
        pd = info == 0
        safe_L = torch.where(pd[:, None, None], L, eye.expand_as(L))
        step = -torch.cholesky_solve(g.unsqueeze(-1), safe_L).squeeze(-1)
        x_new = x + step
        g_new, f_new = value_and_grad(x_new, env)
        # Accept a step that lowers the loss, or -- once float64 can no longer resolve the
        # decrease -- one that keeps the loss within rounding and lowers the gradient.
        noise = 16 * torch.finfo(dtype).eps * f.abs()
        improves = (f_new < f) | ((f_new <= f + noise) & (g_new.norm(dim=-1) < gnorm))
        accept = pd & torch.isfinite(f_new) & improves & ~finished
        x = torch.where(accept[:, None], x_new, x)
        f = torch.where(accept, f_new, f)
        g = torch.where(accept[:, None], g_new, g)
        mu = torch.where(accept, mu * 0.3, mu * 10.0).clamp(1e-16 * pscale, 1e16 * pscale)
        rejects = torch.where(accept, torch.zeros_like(rejects), rejects + (~finished).long())
        if bool(accept.any()):
            H = torch.where(accept[:, None, None], hess(x, env), H)

    f_all = torch.where(torch.isfinite(f), f, torch.full_like(f, float("inf"))).reshape(B, R)
    best = f_all.argmin(dim=1)
    pick = torch.arange(B, device=device) * R + best
    xb, gb, Hb = x[pick], g[pick], H[pick]
    grad_norm = gb.norm(dim=-1)
    certified = grad_norm <= settings.grad_rtol * scale
    min_eig = torch.full((B,), float("nan"), dtype=dtype, device=device)
    if param.size <= settings.hessian_max_params:
        min_eig = torch.linalg.eigvalsh(Hb)[:, 0]
        certified = certified & (min_eig >= -settings.hessian_rtol * scale)
    return MinimiserResult(point=param.matrices(xb), loss=f_all[torch.arange(B), best], grad_norm=grad_norm,
                           min_hessian_eig=min_eig, certified=certified, restart_losses=f_all, iterations=it)
