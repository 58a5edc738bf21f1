"""Batched minimisation of a matrix objective, with a convergence certificate.

Every instance of a batch gets ``restarts`` random starting points; all
instance x restart problems are advanced together, one tensor operation per
step.  The method is a damped Newton (Levenberg-Marquardt) iteration: exact
per-problem Hessians (the objectives have at most a few hundred parameters at
the sizes we verify), a Cholesky solve of ``H + mu I``
with ``mu`` raised until the shifted Hessian is positive definite (at once, with
no evaluation at a step that would be rejected for want of it) and the step
lowers the loss.  It converges quadratically at non-degenerate minima and
linearly where the theorem's optimum is degenerate (an index exactly at its
threshold), which is why the loop keeps polishing past the gradient tolerance.

The certificate is the gradient norm and, for small problems, the smallest
Hessian eigenvalue at the returned point -- both relative to the instance's
loss scale.  Nothing is certified that was not measured.

Speed (see ``benchmarks/``): the problems of a batch are independent, so the
gradient of the summed loss is every problem's gradient at once, and the Hessian
is its Jacobian, taken a block of directions at a time with one batched backward
pass per block (``is_grads_batched``) -- no per-problem ``vmap(hessian)``
retracing.  Only problems that are still running are advanced, and new Hessians
are kept only where a step was accepted: in small batches whose steps are being
accepted taken with the trial point's gradient, otherwise afterwards for the
accepted problems alone (``HESSIAN_WITH_TRIAL_ENTRIES``).  On CPU the loop runs with one intra-op
thread by default: its tensors are tiny, and more threads only contend (badly so
when other processes share the cores); parallelism comes from batching.
"""
from __future__ import annotations

import contextlib
import zlib
from dataclasses import dataclass

import sympy as sp
import torch

from . import kernels
from .damping import Damping
from .error_model import GRAD_RTOL, HESSIAN_RTOL, LOSS_ROUNDING_ULPS, RESTART_TIE_RTOL, UNBOUNDED_FACTOR
from .lowering import evaluate

# A trial point's Hessian is taken with its gradient, from one graph, and kept where the step is accepted, when
# the iteration has at most this many Hessian entries (live problems x parameters^2) and most of its problems'
# last steps were accepted.  In small batches a call costs mostly its fixed overhead, and one call an iteration
# instead of two saves it; in large ones the Hessian's own work dominates (P batched backward directions a
# problem), and it is taken after the step for the accepted problems alone.  While the damping is being raised
# most trials are rejected, and their Hessians would be wasted.  Measured per call (docs/benchmarks.md, "One
# call an iteration"): taking it with the trial point paid up to 12 100-28 224 entries, lost from 48 400-112 896.
HESSIAN_WITH_TRIAL_ENTRIES = 2 ** 15



@dataclass(frozen=True)
class MinimiserSettings:
    restarts: int = 4
    max_iterations: int = 1000       # most problems converge in 5-50; flat valleys of the MHVAE can take ~900
    grad_rtol: float = GRAD_RTOL     # certified stationary when ||grad|| <= grad_rtol * scale (error model)
    hessian_rtol: float = HESSIAN_RTOL   # certified minimum when lambda_min(H) >= -hessian_rtol * scale
    hessian_max_params: int = 600    # above this the Hessian eigenvalue certificate is skipped
    seed: int = 0
    device: str = "cpu"
    cpu_threads: int | None = 1      # intra-op threads on CPU while minimising; None keeps torch's setting
    hessian_block: int = 64          # Hessian directions per batched backward pass (memory vs. passes)


@dataclass
class MinimiserResult:
    point: dict[str, torch.Tensor]     # best restart per instance, as model matrices (B, ...)
    loss: torch.Tensor                 # (B,)
    grad_norm: torch.Tensor            # (B,)
    min_hessian_eig: torch.Tensor      # (B,), nan where not computed
    # (B,) smallest Hessian eigenvalue above the null cutoff hessian_rtol * scale, nan where none or not
    # computed: the eigenvalues below it belong to the objective's symmetries (rotations of a latent
    # space), along which no invariant of the point moves.
    min_curvature: torch.Tensor
    certified: torch.Tensor            # (B,) bool: gradient (and Hessian, where computed) certificate holds
    restart_losses: torch.Tensor       # (B, R)
    iterations: int                    # iterations of the whole batch (the slowest problem)
    iterations_per_instance: torch.Tensor | None = None   # (B,) iterations the returned restart ran
    tolerance_reached_at: torch.Tensor | None = None      # (B,) first iteration within grad tolerance, -1 never


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

    def flatten(self, matrices: dict[str, torch.Tensor]) -> torch.Tensor:
        """The inverse of :meth:`matrices`: model matrices (B, ...) by name as parameter vectors (B, P)."""
        parts = []
        for name, kind, rows, cols, off, size in self.entries:
            m = matrices[name]
            parts.append(torch.log(torch.diagonal(m, dim1=-2, dim2=-1)) if kind == "positive_diagonal"
                         else m.reshape(m.shape[0], -1))
        return torch.cat(parts, dim=-1)

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


class Derivatives:
    """Loss, gradient and Hessian of every problem of a batch, by batched reverse-mode autograd.

    The problems are independent, so d(sum of losses)/dx holds each problem's gradient in its
    own row, and differentiating that gradient along a basis direction gives a Hessian row.
    """

    def __init__(self, objective, param: Parametrisation, dims: dict, dtype, device, block: int):
        self.objective, self.param, self.dims = objective, param, dims
        self.dtype, self.device, self.block = dtype, device, max(1, block)
        self.eye = torch.eye(param.size, dtype=dtype, device=device)

    def loss(self, x: torch.Tensor, env: dict) -> torch.Tensor:
        return evaluate(self.objective, {**env, **self.param.matrices(x)}, self.dims,
                        dtype=self.dtype, device=self.device)

    def __call__(self, x: torch.Tensor, env: dict, hessian: bool):
        """(loss (N,), gradient (N, P), Hessian (N, P, P) or None).  A lone problem is computed as a pair
        (``kernels.paired``), so that its bits are those it has in any batch."""
        if x.shape[0] == 1:
            f, g, H = self(*kernels.paired(x, env), hessian)
            return f[:1], g[:1], None if H is None else H[:1]
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            f = self.loss(x, env)
            (g,) = torch.autograd.grad(f.sum(), x, create_graph=hessian)
            H = self._hessian(x, g) if hessian else None
        return f.detach(), g.detach(), H

    def _hessian(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        N, P = x.shape
        if not g.requires_grad:          # the gradient does not depend on x: a linear objective
            return torch.zeros(N, P, P, dtype=x.dtype, device=x.device)
        rows = []
        for k in range(0, P, self.block):
            directions = self.eye[k:k + self.block, None, :].expand(-1, N, P)
            (block,) = torch.autograd.grad(g, x, grad_outputs=directions, is_grads_batched=True,
                                           retain_graph=True, allow_unused=True, materialize_grads=True)
            rows.append(block)
        H = torch.cat(rows).transpose(0, 1)
        return 0.5 * (H + H.mT)          # exact up to rounding; symmetric for Cholesky and eigvalsh


def minimise(model, dims: dict, data: dict[str, torch.Tensor], scale: torch.Tensor, instance_seeds: list[int],
             settings: MinimiserSettings = MinimiserSettings(), init_scale: torch.Tensor | None = None,
             log_center: torch.Tensor | None = None) -> MinimiserResult:
    """Minimise ``model.objective`` over its variables for a batch of B instances.

    ``data`` maps names of data matrices and hyperparameters to tensors with leading dim B;
    ``scale`` (B,) is each instance's loss scale, used for the relative tolerances.
    """
    with intra_op_threads(settings.cpu_threads, scale.device):
        return _minimise(model, dims, data, scale, instance_seeds, settings, init_scale, log_center)


@contextlib.contextmanager
def intra_op_threads(threads: int | None, device):
    """torch's intra-op threads on the CPU set to ``threads`` for the block (None: left as it is).

    The batched linear algebra here works on many small matrices; on the CPU a second thread only
    adds synchronisation (a batched 8x8 Cholesky takes ~10 us on one thread, ms on two when the
    cores are shared), so the engine runs single-threaded and leaves parallelism to processes."""
    previous = torch.get_num_threads()
    change = threads is not None and torch.device(device).type == "cpu" and threads != previous
    if change:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if change:
            torch.set_num_threads(previous)


def pseudo_newton_step(derivatives: Derivatives, x: torch.Tensor, env: dict) -> torch.Tensor:
    """x (B, P) moved by one Newton step with the Hessian's pseudo-inverse: where each point's exact minimiser
    lies, to first order. Directions of zero curvature (the objective's symmetries) are left alone; directions
    of small but real curvature, which |grad| / curvature above a null cutoff does not bound, are not."""
    if x.shape[0] == 1:                  # as in any batch (kernels.paired): a lone product by a column differs
        return pseudo_newton_step(derivatives, *kernels.paired(x, env))[:1]
    _, g, H = derivatives(x, env, hessian=True)
    return x - (torch.linalg.pinv(H, rtol=1e-12, hermitian=True) @ g.unsqueeze(-1)).squeeze(-1)


def hessian_eigenvalues(H: torch.Tensor) -> torch.Tensor:
    """Eigenvalues (ascending) of each symmetric matrix of a batch; nan rows where the matrix is not
    finite or LAPACK does not converge (one bad matrix must not take the batch's certificates with it)."""
    out = torch.full(H.shape[:2], float("nan"), dtype=H.dtype, device=H.device)
    finite = torch.isfinite(H).flatten(1).all(dim=1)
    if bool(finite.any()):
        try:
            out[finite] = torch.linalg.eigvalsh(H[finite])
        except torch.linalg.LinAlgError:
            for i in finite.nonzero().flatten().tolist():
                try:
                    out[i] = torch.linalg.eigvalsh(H[i])
                except torch.linalg.LinAlgError:
                    pass
    return out


@dataclass
class PointCertificate:
    """What a point is certified as, per problem: measured at the point, never assumed."""
    grad_norm: torch.Tensor          # (B,)
    min_hessian_eig: torch.Tensor    # (B,), nan where not computed
    min_curvature: torch.Tensor      # (B,), as MinimiserResult.min_curvature
    certified: torch.Tensor          # (B,) bool


def certify_points(grad: torch.Tensor, hessian: torch.Tensor, scale: torch.Tensor,
                   settings: MinimiserSettings) -> PointCertificate:
    """The gradient certificate at points with gradients (B, P) and Hessians (B, P, P), and the Hessian's
    where P <= settings.hessian_max_params -- both relative to each problem's loss scale (B,)."""
    grad_norm = grad.norm(dim=-1)
    certified = grad_norm <= settings.grad_rtol * scale
    min_eig = torch.full_like(grad_norm, float("nan"))
    curvature = min_eig.clone()
    if grad.shape[-1] <= settings.hessian_max_params:
        eigenvalues = hessian_eigenvalues(hessian)
        min_eig = eigenvalues[:, 0]
        certified = certified & (min_eig >= -settings.hessian_rtol * scale)
        curvature = smallest_curvature(eigenvalues, settings.hessian_rtol * scale)
    return PointCertificate(grad_norm, min_eig, curvature, certified)


def smallest_curvature(eigenvalues: torch.Tensor, cutoff: torch.Tensor) -> torch.Tensor:
    """Per row, the smallest eigenvalue above ``cutoff`` (B,); nan where there is none."""
    above = torch.where(eigenvalues > cutoff[:, None], eigenvalues, torch.full_like(eigenvalues, float("inf")))
    smallest = above.min(dim=1).values
    return torch.where(torch.isfinite(smallest), smallest, torch.full_like(smallest, float("nan")))


def _starting_points(param: Parametrisation, settings: MinimiserSettings, instance_seeds, init_scale, log_center,
                     dtype, device) -> torch.Tensor:
    starts = []      # drawn on the CPU (the same numbers on every device), moved in one transfer
    for b, seed in enumerate(instance_seeds):
        gen = torch.Generator().manual_seed(zlib.crc32(f"{settings.seed}:{seed}".encode()))
        for _ in range(settings.restarts):
            starts.append(param.initial(gen, float(init_scale[b]), float(log_center[b]), dtype, "cpu"))
    return torch.stack(starts).to(device)


def diverged(loss: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Where a loss lies below -UNBOUNDED_FACTOR x its scale: a problem that is running off to -infinity."""
    return loss < -UNBOUNDED_FACTOR * scale


@dataclass
class NewtonRun:
    """Where the damped Newton loop left every problem (N = instances x restarts)."""
    x: torch.Tensor                  # (N, P) final points
    loss: torch.Tensor               # (N,)
    grad: torch.Tensor               # (N, P)
    hessian: torch.Tensor            # (N, P, P) at the final points
    ran: torch.Tensor                # (N,) iterations each problem ran
    reached: torch.Tensor            # (N,) first iteration within the gradient tolerance, -1 never
    iterations: int                  # iterations of the whole batch (the slowest problem)


def damped_newton(derivatives: Derivatives, x: torch.Tensor, env: dict, pscale: torch.Tensor,
                  settings: MinimiserSettings) -> NewtonRun:
    """The damped Newton (Levenberg-Marquardt) loop on every problem at once, for any objective's
    :class:`Derivatives` (the matrix objective's, the data form's): ``x`` (N, P) the starting points,
    ``env`` the data (leading dim N), ``pscale`` (N,) each problem's loss scale."""
    N, P = x.shape
    device, dtype = x.device, x.dtype
    x = x.clone()
    eye = torch.eye(P, dtype=dtype, device=device)
    damping = Damping(pscale, settings.max_iterations)
    ran = damping.ran
    f, g, H = derivatives(x, env, hessian=True)
    gnorm = g.norm(dim=-1)
    reached = torch.where(gnorm <= settings.grad_rtol * pscale, 0, -1)
    last_accepted = torch.ones(N, dtype=torch.bool, device=device)
    noise_factor = LOSS_ROUNDING_ULPS * torch.finfo(dtype).eps
    while True:
        # Stop a problem once its gradient is far below tolerance, or once it is within tolerance
        # and has stalled: no step lowers the loss beyond rounding or halves the gradient.  (Counting
        # merely accepted steps let float64 noise in the gradient keep a problem alive to the cap.)
        # ... and once it has diverged: below -UNBOUNDED_FACTOR x its scale no minimum is left to find.
        # (The stall and the iteration cap are the damping's counts: ``Damping.ended``.)
        stationary = gnorm <= settings.grad_rtol * pscale
        finished = ((gnorm <= 1e-4 * settings.grad_rtol * pscale) | damping.ended(stationary)
                    | diverged(f, pscale))
        live = (~finished).nonzero().squeeze(-1)
        if live.numel() == 0:          # the one host sync per iteration: whether to go on
            break
        live, L = damping.positive_definite(H, live, stationary, eye)
        if live.numel() == 0:
            continue
        ran[live] += 1
        sub = {k: v[live] for k, v in env.items()}
        Hl, gl, fl = H[live], g[live], f[live]
        x_new = x[live] - torch.cholesky_solve(gl.unsqueeze(-1), L).squeeze(-1)
        with_trial = (live.numel() * P * P <= HESSIAN_WITH_TRIAL_ENTRIES
                      and 2 * int(last_accepted[live].sum()) >= live.numel())
        f_new, g_new, H_new = derivatives(x_new, sub, hessian=with_trial)
        gnorm_new = g_new.norm(dim=-1)
        # Accept a step that lowers the loss, or -- once float64 can no longer resolve the
        # decrease -- one that keeps the loss within rounding and lowers the gradient.
        noise = noise_factor * torch.maximum(fl.abs(), pscale[live])
        improves = (f_new < fl) | ((f_new <= fl + noise) & (gnorm_new < gnorm[live]))
        accept = torch.isfinite(f_new) & improves
        # Quadratic convergence, and the linear one at a degenerate (quartic) minimum, both cut
        # the gradient by more than half per step; noise-level dithering does not.
        progress = accept & ((f_new < fl - noise) | (gnorm_new <= 0.5 * gnorm[live]))
        x[live] = torch.where(accept[:, None], x_new, x[live])
        f[live] = torch.where(accept, f_new, fl)
        g[live] = torch.where(accept[:, None], g_new, gl)
        gnorm[live] = torch.where(accept, gnorm_new, gnorm[live])
        damping.record(live, accept, progress)
        now_within = (gnorm[live] <= settings.grad_rtol * pscale[live]) & (reached[live] < 0)
        reached[live] = torch.where(now_within, ran[live], reached[live])
        last_accepted[live] = accept
        if with_trial:
            H[live] = torch.where(accept[:, None, None], H_new, Hl)
        else:
            moved = live[accept]
            if moved.numel():
                _, _, H_moved = derivatives(x[moved], {k: v[moved] for k, v in env.items()}, hessian=True)
                H[moved] = H_moved

    # The loop's count as it was when every live problem took each iteration: one past the slowest
    # problem's last, or the cap.
    iterations = min((int(ran.max()) if N else 0) + 1, settings.max_iterations)
    return NewtonRun(x, f, g, H, ran, reached, iterations)


def best_restarts(run: NewtonRun, scale: torch.Tensor, settings: MinimiserSettings):
    """(index of each instance's kept restart among the B x R problems (B,), every restart's loss (B, R),
    +inf where not finite, and the certificate of the kept restarts).  The kept restart is the lowest finite
    one, or a certified one whose loss ties with it up to rounding (RESTART_TIE_RTOL): among restarts at the
    same minimum, the one that converged is the evidence."""
    B = scale.shape[0]
    f_all = torch.where(torch.isfinite(run.loss), run.loss, torch.full_like(run.loss, float("inf"))).reshape(B, -1)
    R = f_all.shape[1]
    cert_all = certify_points(run.grad, run.hessian, scale.repeat_interleave(R), settings)
    lowest = f_all.min(dim=1, keepdim=True).values
    tied = (f_all <= lowest + RESTART_TIE_RTOL * scale[:, None]) & cert_all.certified.reshape(B, R)
    tied_loss = torch.where(tied, f_all, torch.full_like(f_all, float("inf")))
    column = torch.where(tied.any(dim=1), tied_loss.argmin(dim=1), f_all.argmin(dim=1))
    pick = torch.arange(B, device=scale.device) * R + column
    cert = PointCertificate(cert_all.grad_norm[pick], cert_all.min_hessian_eig[pick], cert_all.min_curvature[pick],
                            cert_all.certified[pick])
    return pick, f_all, cert


def _minimise(model, dims, data, scale, instance_seeds, settings, init_scale, log_center) -> MinimiserResult:
    B, R = scale.shape[0], settings.restarts
    device, dtype = scale.device, scale.dtype
    param = Parametrisation(model, dims)
    derivatives = Derivatives(model.objective, param, dims, dtype, device, settings.hessian_block)

    env = {k: v.repeat_interleave(R, dim=0) for k, v in data.items()}
    pscale = scale.repeat_interleave(R)
    init_scale = torch.ones(B, dtype=dtype) if init_scale is None else init_scale
    log_center = torch.zeros(B, dtype=dtype) if log_center is None else log_center
    x = _starting_points(param, settings, instance_seeds, init_scale, log_center, dtype, device)
    run = damped_newton(derivatives, x, env, pscale, settings)
    pick, f_all, cert = best_restarts(run, scale, settings)
    return MinimiserResult(point=param.matrices(run.x[pick]), loss=f_all.reshape(-1)[pick],
                           grad_norm=cert.grad_norm, min_hessian_eig=cert.min_hessian_eig,
                           min_curvature=cert.min_curvature, certified=cert.certified,
                           restart_losses=f_all, iterations=run.iterations, iterations_per_instance=run.ran[pick],
                           tolerance_reached_at=run.reached[pick])

