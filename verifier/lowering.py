"""Evaluate a sympy (matrix) expression on batched torch tensors.

The objective of a theorem is written once, in sympy.  This module lowers that
expression tree to torch operations, node by node, through a lookup table
(``_BUILDERS``) -- the way CVXPY keeps its canonicalisers beside the engine
instead of inside the atoms.  Every tensor may carry any number of leading
batch dimensions (instances x restarts); matrices are ``(*batch, m, n)`` and
scalars ``(*batch,)`` or plain Python numbers.  No in-place ops and no
``.item()``, so the same code runs under the batched backward passes that give
the minimiser its Hessians (``numeric.Derivatives``) and under ``torch.func``'s
transforms.
"""
from __future__ import annotations

import collections
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
from .matrix_functions import batched_matmul, inverse_or_nan, log_det_spd

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

    def tensor(self, value) -> torch.Tensor:
        return torch.as_tensor(value, dtype=self.dtype, device=self.device)

    def __call__(self, expr: sp.Basic):
        try:
            evaluator = compiled(expr)
        except TypeError:                 # an unhashable (mutable) expression: built afresh, not memoised
            evaluator = compiled.__wrapped__(expr)
        self.shared_values: dict[int, object] = {}     # this evaluation's repeated subexpressions, by slot
        return evaluator(self)


Evaluator = Callable[[Lowering], "torch.Tensor | float"]


@functools.lru_cache(maxsize=1024)
def compiled(expr: sp.Basic) -> Evaluator:
    """``expr`` as a tree of Python closures, one per node, that evaluates it in a :class:`Lowering`.

    Built once per expression (memoised): walking the sympy tree on every evaluation -- dispatching on each
    node's type and reading its ``args`` -- cost more than the torch operations at small sizes (a third of
    an MHVAE check's search).  A subexpression that occurs more than once (the MHVAE's objective holds 50
    matrix products and sums, 25 of them distinct) is computed once per evaluation and its value reused:
    the same operations on the same inputs, so every value is bit for bit the tree walk's, and autograd
    has half the graph to differentiate (its gradient then sums the uses at one node, which can move a
    gradient's last bit).  An unsupported node is a SpecError here, before any evaluation."""
    memo: dict = {}
    repeated = _repeated_subexpressions(expr)

    def build(node: sp.Basic) -> Evaluator:
        fn = memo.get(node)
        if fn is None:
            fn = _builder(node)(node, build)
            if node in repeated:
                fn = _computed_once(fn, slot=len(memo))
            memo[node] = fn
        return fn
    return build(expr)


def _repeated_subexpressions(expr: sp.Basic) -> set:
    """The compound nodes (not symbols or numbers) that occur more than once in ``expr``; none for an
    expression whose nodes cannot be hashed."""
    try:
        counts = collections.Counter(node for node in sp.preorder_traversal(expr) if node.args)
    except TypeError:
        return set()
    return {node for node, count in counts.items() if count > 1}


def _computed_once(evaluate_node: Evaluator, slot: int) -> Evaluator:
    def once(low: Lowering):
        value = low.shared_values.get(slot)
        if value is None:
            value = low.shared_values[slot] = evaluate_node(low)
        return value
    return once


def _builder(expr: sp.Basic):
    for kind in type(expr).__mro__:
        builder = _BUILDERS.get(kind)
        if builder is not None:
            return builder
    raise SpecError(f"the expression node {type(expr).__name__} ({expr}) cannot be evaluated "
                    f"numerically; supported nodes: {', '.join(sorted(k.__name__ for k in _BUILDERS))}")


def _as_matrix_scalar(x):
    """Broadcast a batched scalar against batched matrices."""
    if isinstance(x, torch.Tensor):
        return x[..., None, None]
    return x


def _symbol(expr: sp.Symbol, build) -> Evaluator:
    name = expr.name

    def symbol(low: Lowering):
        if name in low.env:
            return low.env[name]
        if expr in low.dims:              # a dimension (D0, d1, ...) in an objective or a closed form
            return float(low.dims[expr])
        raise SpecError(f"no value for the symbol {name}; known: {sorted(low.env)} and the dimensions "
                        f"{sorted(map(str, low.dims))}")
    return symbol


def _constant(expr: sp.Expr, build) -> Evaluator:
    value = float(expr)
    return lambda low: value


def _matmul(expr: MatMul, build) -> Evaluator:
    scalars = [build(a) for a in expr.args if not a.is_Matrix]
    mats = [build(a) for a in expr.args if a.is_Matrix]

    def matmul(low: Lowering):
        scalar_values = [s(low) for s in scalars]
        out = functools.reduce(batched_matmul, [m(low) for m in mats])
        for s in scalar_values:
            out = out * _as_matrix_scalar(s)
        return out
    return matmul


def _trace(expr: Trace, build) -> Evaluator:
    """tr M; of a product, tr(X L) = sum of X * L^T, without the product's last factor multiplied out.  Its
    derivatives are then elementwise too: in the Hessian's batched backward pass a ``bmm`` whose one operand
    is the same for every direction copies both into one long batch (an expand, two clones, three views), where
    an elementwise product broadcasts (Theorem 5 at d = 3: 946 operations a Hessian call with the product
    multiplied out, 895 without; Appendix C 879 and 802).  The sum's order differs from the product's diagonal:
    the value moves by rounding."""
    (arg,) = expr.args
    if isinstance(arg, MatMul):
        mats = [a for a in arg.args if a.is_Matrix]
        if len(mats) >= 2:
            scalars = [build(a) for a in arg.args if not a.is_Matrix]
            head, last = build(mats[0] if len(mats) == 2 else MatMul(*mats[:-1])), build(mats[-1])

            def trace_of_product(low: Lowering):
                out = (head(low) * last(low).mT).sum((-2, -1))
                for s in scalars:
                    out = out * s(low)
                return out
            return trace_of_product
    matrix = build(arg)
    return lambda low: torch.diagonal(matrix(low), dim1=-2, dim2=-1).sum(-1)


def _fold(op: Callable, *, as_tensors: bool = False):
    """A node that folds ``op`` over its arguments' values (as tensors of the context's dtype if asked)."""
    def builder(expr: sp.Basic, build) -> Evaluator:
        parts = [build(a) for a in expr.args]
        if as_tensors:
            return lambda low: functools.reduce(op, [low.tensor(p(low)) for p in parts])
        return lambda low: functools.reduce(op, (p(low) for p in parts))
    return builder


def _unary(op: Callable, *, as_tensor: bool = False):
    """A node that applies ``op`` to the value of its one argument (made a tensor first if asked)."""
    def builder(expr: sp.Basic, build) -> Evaluator:
        arg = build(expr.args[0])
        if as_tensor:
            return lambda low: op(low.tensor(arg(low)))
        return lambda low: op(arg(low))
    return builder


def _pow(expr: sp.Pow, build) -> Evaluator:
    base_fn, exp_fn = build(expr.base), build(expr.exp)

    def power(low: Lowering):
        base, exp = base_fn(low), exp_fn(low)
        if exp == 0.5 and isinstance(base, torch.Tensor):
            return torch.sqrt(base)
        if isinstance(base, torch.Tensor) or isinstance(exp, torch.Tensor):
            return low.tensor(base) ** exp
        return base ** exp
    return power


def _log(expr: sp.log, build) -> Evaluator:
    (arg,) = expr.args
    if isinstance(arg, Determinant):
        # log|S| of a covariance (positive definite) through its Cholesky factor: in torch 2.13
        # vmap(hessian(slogdet)) returns NaN for some batch entries, the Cholesky route does not.
        matrix = build(arg.arg)
        return lambda low: log_det_spd(matrix(low))
    inner = build(arg)
    return lambda low: torch.log(low.tensor(inner(low)))


def _piecewise(expr: sp.Piecewise, build) -> Evaluator:
    pieces = [(build(value), None if cond is sp.true else build(cond)) for value, cond in reversed(expr.args)]

    def piecewise(low: Lowering):
        out = None
        for value, cond in pieces:
            v = low.tensor(value(low))
            if cond is None:
                out = v
                continue
            c = torch.as_tensor(cond(low), device=low.device)
            out = torch.where(c, v, out if out is not None else torch.full_like(v, float("nan")))
        return out
    return piecewise


def _relational(op: Callable):
    def builder(expr: sp.Basic, build) -> Evaluator:
        lhs, rhs = build(expr.lhs), build(expr.rhs)
        return lambda low: op(low.tensor(lhs(low)), rhs(low))
    return builder


def _sized(make: Callable):
    """A constant matrix whose size is read from the context's dimensions at evaluation."""
    def builder(expr: sp.Basic, build) -> Evaluator:
        return lambda low: make(low, low.dim(expr.rows), low.dim(expr.cols))
    return builder


def _matrix_power(expr: MatPow, build) -> Evaluator:
    """A^k; a negative power (sympy writes A^-1 A^-1 as A^-2) through the inverse, so that a singular A gives
    NaN, as an inverse does, rather than torch's error."""
    base, exponent = build(expr.base), int(expr.exp)
    if exponent < 0:
        return lambda low: torch.linalg.matrix_power(inverse_or_nan(base(low)), -exponent)
    return lambda low: torch.linalg.matrix_power(base(low), exponent)


_BUILDERS: dict[type, Callable] = {
    MatrixSymbol: _symbol,
    sp.Symbol: _symbol,
    sp.Number: _constant,
    sp.NumberSymbol: _constant,
    Identity: _sized(lambda low, rows, cols: torch.eye(rows, dtype=low.dtype, device=low.device)),
    ZeroMatrix: _sized(lambda low, rows, cols: torch.zeros(rows, cols, dtype=low.dtype, device=low.device)),
    MatMul: _matmul,
    MatAdd: _fold(operator.add),
    Transpose: _unary(lambda m: m.mT),
    Inverse: _unary(inverse_or_nan),
    MatPow: _matrix_power,
    Trace: _trace,
    Determinant: _unary(torch.linalg.det),
    sp.Mul: _fold(operator.mul),
    sp.Add: _fold(operator.add),
    sp.Pow: _pow,
    sp.log: _log,
    sp.exp: _unary(torch.exp, as_tensor=True),
    sp.Abs: _unary(torch.abs, as_tensor=True),
    sp.Max: _fold(torch.maximum, as_tensors=True),
    sp.Min: _fold(torch.minimum, as_tensors=True),
    sp.Piecewise: _piecewise,
    sp.StrictGreaterThan: _relational(torch.gt),
    sp.GreaterThan: _relational(torch.ge),
    sp.StrictLessThan: _relational(torch.lt),
    sp.LessThan: _relational(torch.le),
    sp.And: _fold(torch.logical_and),
    sp.Or: _fold(torch.logical_or),
}


def evaluate(expr: sp.Basic, env: Mapping[str, torch.Tensor | float], dims: Mapping[sp.Symbol, int],
             *, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"):
    """Evaluate ``expr`` with ``env`` (symbol name -> tensor) and ``dims`` (dimension symbol -> int)."""
    return Lowering(env, dims, dtype=dtype, device=device)(expr)
