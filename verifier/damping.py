"""The Levenberg-Marquardt damping of the batched Newton loop (``numeric.damped_newton``) where a shifted
Hessian is not positive definite."""
from __future__ import annotations

import torch

# Iterations without progress after which a problem within the gradient tolerance stops.
STALL_LIMIT = 6


class Damping:
    """The damping of every problem, raised where the shifted Hessian H + mu I is not positive definite.

    The plain loop would solve such an iteration with an identity factor, evaluate the objective at that
    point and reject the step for want of a positive definite factor, raising mu tenfold.  Here each such
    iteration is counted as the loop counted it (the problem's iterations and stalls, mu raised) without
    the evaluation, and the factor is tried again at once: the same points, counts and certificates, to
    the bit, less a derivative call -- the loop's whole cost in small batches -- per rejected factor
    (a fifth to a quarter of all calls in the registered theorems' checks).  A problem that stalls at a stationary point or reaches the
    iteration cap meanwhile stops there, as the loop would stop it."""

    def __init__(self, mu: torch.Tensor, stalls: torch.Tensor, ran: torch.Tensor, pscale: torch.Tensor,
                 max_iterations: int):
        self.mu, self.stalls, self.ran = mu, stalls, ran          # the loop's own tensors, updated in place
        self.pscale, self.max_iterations = pscale, max_iterations

    def positive_definite(self, H, live, stationary, eye):
        """(the live problems that take a step now, their Cholesky factors of H + mu I)."""
        L, info = torch.linalg.cholesky_ex(H[live] + self.mu[live, None, None] * eye)
        stopped = torch.zeros_like(live, dtype=torch.bool)
        failed = (info != 0).nonzero().squeeze(-1)          # positions in ``live``
        while failed.numel():
            rejected = live[failed]
            self.ran[rejected] += 1
            self.stalls[rejected] += 1
            scale = self.pscale[rejected]
            self.mu[rejected] = (self.mu[rejected] * 10.0).clamp(1e-16 * scale, 1e16 * scale)
            ends = ((stationary[rejected] & (self.stalls[rejected] >= STALL_LIMIT))
                    | (self.ran[rejected] >= self.max_iterations))
            stopped[failed[ends]] = True
            failed = failed[~ends]
            if failed.numel():
                L[failed], info = torch.linalg.cholesky_ex(H[live[failed]] + self.mu[live[failed], None, None] * eye)
                failed = failed[info != 0]
        return live[~stopped], L[~stopped]
