"""Matrix gradients of a model's objective, term by term.

sympy's matrix calculus silently returns 0 on some terms (log-determinants in sympy 1.14), so each
additive term is differentiated on its own, log|X| by the rule d log|X| = tr(X^{-1} dX), and a zero
returned for a term that uses the variable is an error, never a gradient.
"""
from __future__ import annotations

import functools
import operator

import sympy as sp
from sympy.matrices.expressions import Determinant, Inverse, MatrixExpr, MatrixSymbol, ZeroMatrix

from ..errors import SpecError


def matrix_gradients(model) -> dict[str, MatrixExpr]:
    """d objective / d M for each variable matrix M of ``model`` (name -> matrix expression).

    Convention: the gradient G has M's shape and d objective = tr(G^T dM), so the
    gradient of tr(A M) is A^T and that of log|M| is M^{-T}.
    """
    terms = sp.Add.make_args(sp.expand(model.objective))
    gradients = {}
    for variable in model.variables:
        M = variable.symbol
        parts = [_term_gradient(term, M) for term in terms if term.has(M)]
        parts = [p for p in parts if not _is_zero_matrix(p)]
        gradients[M.name] = functools.reduce(operator.add, parts) if parts else ZeroMatrix(*M.shape)
    return gradients


def _term_gradient(term: sp.Expr, M: MatrixSymbol) -> MatrixExpr:
    """The gradient of one additive term; a zero that sympy returns for a term using M is an error."""
    coefficient, dependent = term.as_independent(M, as_Add=False)
    if isinstance(dependent, sp.log) and isinstance(dependent.args[0], Determinant):
        return coefficient * _log_det_gradient(dependent.args[0].arg, M)
    if any(isinstance(a.args[0], Determinant) for a in term.atoms(sp.log) if a.has(M)):
        raise SpecError(f"cannot differentiate the term {term} with respect to {M}: log|.| of a matrix "
                        f"is supported only as (coefficient free of {M}) * log(Determinant(X))")
    gradient = term.diff(M)
    if _is_zero_matrix(gradient):
        # sympy 1.14 returns 0 for derivatives it does not know; a term that uses M has none
        raise SpecError(f"sympy returned 0 for the derivative of the term {term} with respect to {M}, "
                        f"which the term depends on; this term needs a rule of its own")
    if getattr(gradient, "shape", None) != M.shape:
        raise SpecError(f"the derivative of {term} with respect to {M} has shape "
                        f"{getattr(gradient, 'shape', 'scalar')}, not {M.shape}")
    return gradient


def _log_det_gradient(X: MatrixExpr, M: MatrixSymbol) -> MatrixExpr:
    """d log|X(M)| / dM via d log|X| = tr(X^{-1} dX): differentiate tr(K X) with K frozen, then K = X^{-1}."""
    frozen = MatrixSymbol("_K_frozen_inverse", X.shape[1], X.shape[0])
    gradient = sp.Trace(frozen * X).diff(M)
    if _is_zero_matrix(gradient):
        raise SpecError(f"sympy returned 0 for d tr(K {X}) / d{M}; cannot differentiate log|{X}|")
    return gradient.xreplace({frozen: Inverse(X)})


def _is_zero_matrix(expr) -> bool:
    return expr == 0 or isinstance(expr, ZeroMatrix) or bool(getattr(expr, "is_ZeroMatrix", False))
