"""Evaluate a sympy (matrix) expression on batched torch tensors.

The objective of a theorem is written once, in sympy.  This module lowers that
expression tree to torch operations, node by node, through a lookup table
(``_HANDLERS``) -- the way CVXPY keeps its canonicalisers beside the engine
instead of inside the atoms.  Every tensor may carry any number of leading
batch dimensions (instances x restarts); matrices are ``(*batch, m, n)`` and
scalars ``(*batch,)`` or plain Python numbers.  The same code runs under
``torch.func.vmap`` (no in-place ops, no ``.item()``), which is how the
minimiser obtains per-problem Hessians.
"""
from __future__ import annotations

import functools
import operator
from typing import Callable, Mapping

import sympy as sp
import torch
from sympy.matrices.expressions import (
    Determinant,
    Identity,
    Inverse,
    MatAdd,
    MatMul,
    MatPow,
    MatrixSymbol,
    Trace,
    Transpose,
    ZeroMatrix,
)

from .errors import SpecError

Value = "torch.Tensor | float"


@functools.lru_cache(maxsize=4096)
def _size(size: sp.Expr, dims: tuple) -> int:
    """A matrix dimension's value (memoised: sympy's subs costs ~1 ms, and every evaluation of an objective
    sizes its identity matrices again -- a tenth of a Theorem 3 check's CPU time before)."""
    return int(size.subs(dict(dims)))


class Lowering:
    """Evaluation context: tensors for the symbols, integers for the dimensions."""

    def __init__(self, env: Mapping[str, torch.Tensor | float], dims: Mapping[sp.Symbol, int],
                 *, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"):
        self.env = env
        self.dims = {sp.Symbol(str(k)) if not isinstance(k, sp.Symbol) else k: int(v) for k, v in dims.items()}
        self._dims_key = tuple(sorted(self.dims.items(), key=lambda kv: str(kv[0])))
        self.dtype = dtype
        self.device = device

    def dim(self, size: sp.Expr) -> int:
        try:
            return _size(sp.sympify(size), self._dims_key)
        except (TypeError, ValueError) as exc:
            raise SpecError(f"cannot size a matrix: dimension {size} is not given (known: "
                            f"{sorted(map(str, self.dims))})") from exc

    def __call__(self, expr: sp.Basic):
        for kind in type(expr).__mro__:
            handler = _HANDLERS.get(kind)
            if handler is not None:
                return handler(self, expr)
        raise SpecError(f"the expression node {type(expr).__name__} ({expr}) cannot be evaluated "
                        f"numerically; supported nodes: {', '.join(sorted(k.__name__ for k in _HANDLERS))}")


def _as_matrix_scalar(x):
    """Broadcast a batched scalar against batched matrices."""
    if isinstance(x, torch.Tensor):
        return x[..., None, None]
    return x


def _symbol(low: Lowering, expr: sp.Symbol):
    if expr.name in low.env:
        return low.env[expr.name]
    if expr in low.dims:                  # a dimension (D0, d1, ...) in an objective or a closed form
        return float(low.dims[expr])
    raise SpecError(f"no value for the symbol {expr.name}; known: {sorted(low.env)} and the dimensions "
                    f"{sorted(map(str, low.dims))}")


def _matmul(low: Lowering, expr: MatMul):
    scalars = [low(a) for a in expr.args if not a.is_Matrix]
    mats = [low(a) for a in expr.args if a.is_Matrix]
    out = functools.reduce(torch.matmul, mats)
    for s in scalars:
        out = out * _as_matrix_scalar(s)
    return out


def _matadd(low: Lowering, expr: MatAdd):
    return functools.reduce(operator.add, (low(a) for a in expr.args))


def _mul(low: Lowering, expr: sp.Mul):
    return functools.reduce(operator.mul, (low(a) for a in expr.args))


def _add(low: Lowering, expr: sp.Add):
    return functools.reduce(operator.add, (low(a) for a in expr.args))


def _pow(low: Lowering, expr: sp.Pow):
    base, exp = low(expr.base), low(expr.exp)
    if exp == 0.5 and isinstance(base, torch.Tensor):
        return torch.sqrt(base)
    if isinstance(base, torch.Tensor) or isinstance(exp, torch.Tensor):
        return torch.as_tensor(base, dtype=low.dtype, device=low.device) ** exp
    return base ** exp


def _log(low: Lowering, expr: sp.log):
    (arg,) = expr.args
    if isinstance(arg, Determinant):
        # log|S| of a covariance (positive definite) through its Cholesky factor: in torch 2.13
        # vmap(hessian(slogdet)) returns NaN for some batch entries, the Cholesky route does not.
        # A matrix that is not positive definite gets NaN (a rejected step), not an exception.
        chol, info = torch.linalg.cholesky_ex(low(arg.arg))
        logdet = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
        return torch.where(info == 0, logdet, torch.full_like(logdet, float("nan")))
    return torch.log(torch.as_tensor(low(arg), dtype=low.dtype, device=low.device))


def _max(low: Lowering, expr: sp.Max):
    vals = [torch.as_tensor(low(a), dtype=low.dtype, device=low.device) for a in expr.args]
    return functools.reduce(torch.maximum, vals)


def _min(low: Lowering, expr: sp.Min):
    vals = [torch.as_tensor(low(a), dtype=low.dtype, device=low.device) for a in expr.args]
    return functools.reduce(torch.minimum, vals)


def _piecewise(low: Lowering, expr: sp.Piecewise):
    out = None
    for value, cond in reversed(expr.args):
        v = torch.as_tensor(low(value), dtype=low.dtype, device=low.device)
        if cond is sp.true:
            out = v
            continue
        c = torch.as_tensor(low(cond), device=low.device)
        out = torch.where(c, v, out if out is not None else torch.full_like(v, float("nan")))
    return out


def _relational(op: Callable):
    def handler(low: Lowering, expr):
        return op(torch.as_tensor(low(expr.lhs), dtype=low.dtype, device=low.device), low(expr.rhs))
    return handler


def _and(low, expr):
    return functools.reduce(torch.logical_and, (low(a) for a in expr.args))


def _or(low, expr):
    return functools.reduce(torch.logical_or, (low(a) for a in expr.args))


def _inverse(m: torch.Tensor) -> torch.Tensor:
    """The inverse, nan where a matrix is singular: an objective with an inverse of its variables (a model
    covariance W W^T + s2 I) meets singular points as the minimiser explores (s2 = exp(x) rounding to 0), and
    there its loss is undefined -- a step the minimiser rejects, not an error."""
    inverse, info = torch.linalg.inv_ex(m)
    return torch.where((info != 0)[..., None, None], torch.full_like(inverse, float("nan")), inverse)


_HANDLERS: dict[type, Callable] = {
    MatrixSymbol: _symbol,
    sp.Symbol: _symbol,
    sp.Number: lambda low, e: float(e),
    sp.NumberSymbol: lambda low, e: float(e),
    Identity: lambda low, e: torch.eye(low.dim(e.rows), dtype=low.dtype, device=low.device),
    ZeroMatrix: lambda low, e: torch.zeros(low.dim(e.rows), low.dim(e.cols), dtype=low.dtype, device=low.device),
    MatMul: _matmul,
    MatAdd: _matadd,
    Transpose: lambda low, e: low(e.arg).mT,
    Inverse: lambda low, e: _inverse(low(e.arg)),
    MatPow: lambda low, e: torch.linalg.matrix_power(low(e.base), int(e.exp)),
    Trace: lambda low, e: torch.diagonal(low(e.arg), dim1=-2, dim2=-1).sum(-1),
    Determinant: lambda low, e: torch.linalg.det(low(e.arg)),
    sp.Mul: _mul,
    sp.Add: _add,
    sp.Pow: _pow,
    sp.log: _log,
    sp.exp: lambda low, e: torch.exp(torch.as_tensor(low(e.args[0]), dtype=low.dtype, device=low.device)),
    sp.Abs: lambda low, e: torch.abs(torch.as_tensor(low(e.args[0]), dtype=low.dtype, device=low.device)),
    sp.Max: _max,
    sp.Min: _min,
    sp.Piecewise: _piecewise,
    sp.StrictGreaterThan: _relational(torch.gt),
    sp.GreaterThan: _relational(torch.ge),
    sp.StrictLessThan: _relational(torch.lt),
    sp.LessThan: _relational(torch.le),
    sp.And: _and,
    sp.Or: _or,
}


def evaluate(expr: sp.Basic, env: Mapping[str, torch.Tensor | float], dims: Mapping[sp.Symbol, int],
             *, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"):
    """Evaluate ``expr`` with ``env`` (symbol name -> tensor) and ``dims`` (dimension symbol -> int)."""
    return Lowering(env, dims, dtype=dtype, device=device)(expr)
