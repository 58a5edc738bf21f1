"""Differentiable matrix functions for the batched objectives: NaN where undefined, and derivatives that the
minimiser's batched Hessian pass batches.

The Hessian of a batch is one backward pass over every direction at once (``numeric.Derivatives``: autograd's
``is_grads_batched``, torch's legacy vmap).  An operation whose derivative has no batching rule there runs once
per direction, and an operation that autograd records costs its dispatch in every pass; each function here
exists to avoid one or the other, with the value torch itself gives.  ``verifier.lowering`` evaluates the
objectives' nodes through them; a data form's loss may call :func:`log_det_spd` directly.
"""
from __future__ import annotations

import torch


def batched_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a @ b; two batches of matrices of the same batch shape by ``bmm`` itself (more than one batch dimension
    folded into one).  ``matmul`` reaches the same ``bmm`` behind an expand and a view of each operand and a view
    of the result, and autograd records and differentiates all five: they were a sixth of a Hessian call's
    operations (Theorem 5 at d = 3: 1 170 with ``matmul``, 946 with ``bmm``; the same values to the bit, while the
    Hessian's batched pass, given other layouts, can move a last bit).  Under the legacy vmap of that pass
    ``matmul`` has no batching rule at all and runs once per direction; ``bmm`` has one.  Other shapes (a matrix
    without a batch, batches that broadcast) go to ``matmul``."""
    if a.dim() >= 3 and a.shape[:-2] == b.shape[:-2]:
        if a.dim() == 3:
            return torch.bmm(a, b)
        product = torch.bmm(a.reshape(-1, *a.shape[-2:]), b.reshape(-1, *b.shape[-2:]))
        return product.reshape(*a.shape[:-1], b.shape[-1])
    return torch.matmul(a, b)


def log_det_spd(S: torch.Tensor) -> torch.Tensor:
    """log|S| of each symmetric positive definite matrix of a batch (*batch, n, n), NaN where one is not
    positive definite (a step the minimiser rejects, not an exception).

    The value is the Cholesky factor's (2 sum log diag L); the derivative is S^-1, given by hand
    (:class:`_SPDLogDet`). Autograd's own route differentiates the Cholesky, and the Hessian's batched
    backward pass (``is_grads_batched``) has no batching rule for its triangular solves: it loops over
    every direction, which made log|Sigma| a third to a half of a Hessian (Theorem 2 at d = 5: 9 113
    tensor operations per Hessian with it, 2 214 without)."""
    return _SPDLogDet.apply(S)


class _SPDLogDet(torch.autograd.Function):
    generate_vmap_rule = True        # torch.func.vmap batches it as it batches the operations inside

    @staticmethod
    def forward(S):
        chol, info = torch.linalg.cholesky_ex(S)
        logdet = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
        return torch.where(info == 0, logdet, torch.full_like(logdet, float("nan")))

    @staticmethod
    def setup_context(ctx, inputs, output):
        (S,) = inputs
        ctx.save_for_backward(S)
        ctx.save_for_forward(S)

    @staticmethod
    def backward(ctx, grad):
        (S,) = ctx.saved_tensors
        return grad[..., None, None] * _symmetric_inverse(S)

    @staticmethod
    def jvp(ctx, dS):                # forward mode (torch.func.jvp, jacfwd): d log|S| = tr(S^-1 dS)
        (S,) = ctx.saved_tensors
        return (_symmetric_inverse(S).mT * dS).sum((-2, -1))


def _symmetric_inverse(S: torch.Tensor) -> torch.Tensor:
    """S^-1 made exactly symmetric, as the Cholesky's own gradient is (it reads one triangle of S but
    treats S as symmetric); NaN where S is singular."""
    inverse = inverse_or_nan(S)
    return 0.5 * (inverse + inverse.mT)


def inverse_or_nan(m: torch.Tensor) -> torch.Tensor:
    """The inverse, nan where a matrix is singular: an objective with an inverse of its variables (a model
    covariance W W^T + s2 I) meets singular points as the minimiser explores (s2 = exp(x) rounding to 0), and
    there its loss is undefined -- a step the minimiser rejects, not an error (:class:`_Inverse`)."""
    return _Inverse.apply(m)


class _Inverse(torch.autograd.Function):
    """``torch.linalg.inv_ex`` with nan where singular, and torch's own derivative, -Y^H (G Y^H), in the same
    association and to the bit, multiplied by ``bmm``.

    Both choices keep the Hessian's batched backward pass (the legacy vmap under ``is_grads_batched``) from
    looping over every direction: the nan is added (x + (-0.0) is x to the bit), where a ``torch.where``'s
    derivative has no batching rule (Theorem 3 at d = 3: 1 962 tensor operations per Hessian with it, 1 845
    without); and torch's formula multiplies by ``matmul``, which has none either and looped twice (1 845 with
    it, 1 312 without)."""
    generate_vmap_rule = True        # torch.func.vmap batches it as it batches the operations inside

    @staticmethod
    def forward(m):
        inverse, info = torch.linalg.inv_ex(m)
        undefined = torch.where((info != 0)[..., None, None], float("nan"), -0.0).to(inverse.dtype)
        return inverse + undefined

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)
        ctx.save_for_forward(output)

    @staticmethod
    def backward(ctx, grad):
        (inverse,) = ctx.saved_tensors
        return -batched_matmul(inverse.mH, batched_matmul(grad, inverse.mH))

    @staticmethod
    def jvp(ctx, dm):                # forward mode (torch.func.jvp, jacfwd): d(M^-1) = -M^-1 dM M^-1
        (inverse,) = ctx.saved_tensors
        return -batched_matmul(inverse, batched_matmul(dm, inverse))
