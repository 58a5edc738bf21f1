"""Exact-to-60-digit arithmetic on sympy expressions: every numeric comparison of the symbolic checks.

Closed numeric expressions become mpmath reals at DPS digits (None when not a finite real), and
rationals with small denominators are made from floats for sampled parameters.
"""
from __future__ import annotations

import functools
from fractions import Fraction

import mpmath
import sympy as sp

DPS = 60                       # working precision of every numeric evaluation


def rational(x: float, max_denominator: int) -> sp.Rational:
    f = Fraction(x).limit_denominator(max_denominator)
    return sp.Rational(f.numerator, f.denominator)


def rational_near(x: mpmath.mpf, digits: int, max_denominator: int) -> sp.Rational:
    """The rational with denominator at most ``max_denominator`` nearest ``x`` written to ``digits`` digits."""
    written = mpmath.nstr(x, digits, strip_zeros=False, min_fixed=-mpmath.inf, max_fixed=mpmath.inf)
    q = Fraction(written).limit_denominator(max_denominator)
    return sp.Rational(q.numerator, q.denominator)


def mp(expr) -> mpmath.mpf | mpmath.mpc:
    with mpmath.workdps(DPS + 20):
        return mpmath.mpmathify(sp.N(expr, DPS + 20))


def real(expr) -> mpmath.mpf | None:
    """A closed numeric expression as a 60-digit real, or None when it is not a finite real number."""
    if expr.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    try:
        value = mp(expr)
    except (TypeError, ValueError):
        return None
    if isinstance(value, mpmath.mpc):
        if abs(value.imag) > mpmath.mpf(10) ** (-DPS) * (1 + abs(value.real)):
            return None
        value = value.real
    if not mpmath.isfinite(value):
        return None
    return value


def fmt(value) -> str:
    if isinstance(value, sp.Basic) and value.is_Rational:
        return str(value)
    if isinstance(value, sp.Basic):
        return mpmath.nstr(mp(value), 25)
    return mpmath.nstr(value, 25)


@functools.lru_cache(maxsize=1024)
def _lambdified(expr: sp.Expr, symbols: tuple):
    return sp.lambdify(symbols, expr, modules="mpmath")


def evaluate(expr: sp.Expr, symbols: tuple, values: tuple) -> mpmath.mpf | None:
    with mpmath.workdps(DPS):
        try:
            value = _lambdified(expr, symbols)(*values)
        except (ValueError, ZeroDivisionError, TypeError):
            return None
        value = mpmath.mpmathify(value)
        if isinstance(value, mpmath.mpc):
            if abs(value.imag) > mpmath.mpf(10) ** (-DPS + 5) * (1 + abs(value.real)):
                return None
            value = value.real
        return value if mpmath.isfinite(value) else None


def simplest(expr: sp.Expr) -> sp.Expr:
    """simplify, and once more after expanding: 0 if either form reaches it."""
    first = sp.simplify(expr)
    if first == 0:
        return first
    second = sp.simplify(sp.expand(first))
    return second if second == 0 else first
