"""The real solutions of a zero-dimensional polynomial system from its lex Groebner basis, variable by variable.

A lex basis is triangular: its last variable has a univariate polynomial, and each earlier variable's
polynomials involve only it and the variables after it.  The last variable's real roots are isolated exactly
(``Poly.real_roots``); each is extended one variable at a time by the real roots, at ``SOLVE_DPS`` digits, of
that variable's polynomials with the later values put in, keeping the roots at which every polynomial of the
variable vanishes.  ``sp.solve_poly_system`` builds the same solutions as radicals, substituted back exactly,
which took minutes on Theorem 5's critical-point systems; here they take milliseconds.  The callers compare
values at 60 digits, well inside the 100 carried.

A zero-dimensional ideal's lex basis holds, for every variable, a polynomial whose leading term is a pure power
of it, so a partial solution always leaves a polynomial of positive degree to solve; where mpmath's root finder
does not converge (or a basis is not of this shape), :class:`NotTriangular` says so and the caller falls back to
``sp.solve_poly_system``.
"""
from __future__ import annotations

import functools

import mpmath
import sympy as sp

from ..error_model import SYMBOLIC_ROOT_ZERO_DIGITS

SOLVE_DPS = 100                 # digits carried while extending the solutions


class NotTriangular(ArithmeticError):
    """A partial solution that this back-substitution cannot extend (the caller solves the system otherwise)."""


def real_solutions(basis: list, gens: list) -> list[tuple]:
    """The real solutions (tuples of mpmath reals, in the order of ``gens``) of a zero-dimensional lex basis."""
    polys = [sp.Poly(e, *gens) for e in basis]
    blocks: list[list[sp.Poly]] = [[] for _ in gens]
    for p in polys:
        blocks[next(i for i, d in enumerate(p.degree_list()) if d > 0)].append(p)
    if not blocks[-1]:
        raise NotTriangular("no univariate polynomial in the last variable")
    last = gens[-1]
    univariate = functools.reduce(sp.Poly.gcd, [sp.Poly(p.as_expr(), last) for p in blocks[-1]])
    with mpmath.workdps(SOLVE_DPS):
        partial = [(mpmath.mpf(sp.N(r, SOLVE_DPS + 10)),) for r in dict.fromkeys(univariate.real_roots())]
        for k in reversed(range(len(gens) - 1)):
            block = [_coefficient_functions(p, gens[k], gens[k + 1:]) for p in blocks[k]]
            extended = []
            for values in partial:
                extended.extend((root, *values) for root in _common_real_roots(block, gens[k], values))
            partial = extended
    return partial


def _coefficient_functions(p: sp.Poly, v: sp.Symbol, later: tuple) -> list:
    """p's coefficients in ``v`` (highest first), each a function of the later variables' values (built once per
    block, evaluated at every partial solution)."""
    out = []
    for c in sp.Poly(p.as_expr(), v).all_coeffs():
        if c.is_Number:
            out.append(lambda *values, c=c: mpmath.mpf(c))
        else:
            f = sp.lambdify(later, c, "mpmath")
            out.append(lambda *values, f=f: mpmath.mpmathify(f(*values)))
    return out


def _is_zero(value, scale) -> bool:
    return abs(value) <= mpmath.mpf(10) ** -SYMBOLIC_ROOT_ZERO_DIGITS * scale


def _common_real_roots(block: list, v: sp.Symbol, later: tuple) -> list:
    """The real values of ``v`` at which every polynomial of ``block`` (its coefficient functions) vanishes, with
    the later variables' values ``later`` put in."""
    if not block:
        raise NotTriangular(f"no polynomial for {v}")
    equations = []
    for functions in block:
        coefficients = [f(*later) for f in functions]
        scale = max([abs(c) for c in coefficients] + [mpmath.mpf(1)])
        while coefficients and _is_zero(coefficients[0], scale):
            coefficients = coefficients[1:]          # a leading coefficient that vanishes here
        if coefficients:
            equations.append((coefficients, scale))
    solvable = [(c, s) for c, s in equations if len(c) > 1]
    if not solvable:
        if equations:                                  # a nonzero constant: this partial solution has no extension
            return []
        raise NotTriangular(f"every polynomial for {v} vanishes identically at a partial solution")
    coefficients, _ = min(solvable, key=lambda cs: len(cs[0]))
    try:
        roots = mpmath.polyroots(coefficients, maxsteps=200, extraprec=2 * SOLVE_DPS)
    except mpmath.libmp.libhyper.NoConvergence as exc:
        raise NotTriangular(f"the roots for {v} did not converge") from exc
    out = []
    for root in roots if isinstance(roots, list) else [roots]:
        root = mpmath.mpmathify(root)
        if isinstance(root, mpmath.mpc):
            if not _is_zero(root.imag, 1 + abs(root.real)):
                continue
            root = root.real
        if any(not _is_zero(mpmath.polyval(c, root), s * (1 + abs(root)) ** (len(c) - 1)) for c, s in equations):
            continue
        if all(not _is_zero(root - r, 1 + abs(r)) for r in out):   # a double root is one solution
            out.append(root)
    return out
