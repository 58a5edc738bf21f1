"""The Levenberg-Marquardt bookkeeping of the batched Newton loop (``numeric.damped_newton``): each problem's
damping mu, its iterations and its stalls, and the damping raised where a shifted Hessian is not positive
definite."""
from __future__ import annotations

import torch

# Iterations without progress after which a problem within the gradient tolerance stops.
STALL_LIMIT = 6


class Damping:
    """Every problem's damping mu and its counts of iterations and stalls (N,), with the rules that change them.

    Where the shifted Hessian H + mu I is not positive definite, the plain loop would solve with an identity
    factor, evaluate the objective at that point and reject the step for want of a positive definite factor.
    :meth:`positive_definite` records each such iteration as the loop recorded it (an iteration, a stall, mu
    raised) without the evaluation, and tries the factor again at once: the same points, counts and
    certificates, to the bit, less a derivative call -- the loop's whole cost in small batches -- per rejected
    factor (a fifth to a quarter of all calls in the registered theorems' checks).  A problem that stalls at a
    stationary point or reaches the iteration cap meanwhile stops there, as the loop would stop it."""

    def __init__(self, pscale: torch.Tensor, max_iterations: int):
        self.pscale, self.max_iterations = pscale, max_iterations
        self.mu = 1e-3 * pscale
        self.stalls = torch.zeros(pscale.shape, dtype=torch.long, device=pscale.device)
        self.ran = torch.zeros(pscale.shape, dtype=torch.long, device=pscale.device)

    def ended(self, stationary: torch.Tensor, at=slice(None)) -> torch.Tensor:
        """Where the problems ``at`` stop for their counts: stalled within the gradient tolerance (``stationary``,
        over every problem), or at the iteration cap."""
        return (stationary[at] & (self.stalls[at] >= STALL_LIMIT)) | (self.ran[at] >= self.max_iterations)

    def record(self, at: torch.Tensor, accepted: torch.Tensor, progress: torch.Tensor) -> None:
        """An iteration's outcome for the problems ``at``: mu lowered after an accepted step and raised tenfold
        after a rejected one (within 1e-16 .. 1e16 x the loss scale); the stalls reset by progress, else counted."""
        mu, scale, stalls = self.mu[at], self.pscale[at], self.stalls[at]
        self.mu[at] = torch.where(accepted, mu * 0.3, mu * 10.0).clamp(1e-16 * scale, 1e16 * scale)
        self.stalls[at] = torch.where(progress, torch.zeros_like(stalls), stalls + 1)

    def positive_definite(self, H, live, stationary, eye):
        """(the live problems that take a step now, their Cholesky factors of H + mu I)."""
        L, info = torch.linalg.cholesky_ex(H[live] + self.mu[live, None, None] * eye)
        stopped = torch.zeros_like(live, dtype=torch.bool)
        failed = (info != 0).nonzero().squeeze(-1)          # positions in ``live``
        while failed.numel():
            rejected = live[failed]
            self.ran[rejected] += 1
            no = torch.zeros_like(rejected, dtype=torch.bool)
            self.record(rejected, accepted=no, progress=no)
            ends = self.ended(stationary, rejected)
            stopped[failed[ends]] = True
            failed = failed[~ends]
            if failed.numel():
                L[failed], info = torch.linalg.cholesky_ex(H[live[failed]] + self.mu[live[failed], None, None] * eye)
                failed = failed[info != 0]
        return live[~stopped], L[~stopped]
