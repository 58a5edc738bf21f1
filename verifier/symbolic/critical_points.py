"""Every real critical point of g on every face of its domain, exactly (lex Groebner bases, then their real
solutions variable by variable: verifier.symbolic.triangular).

Each face's basis runs under a CPU-time budget the kernel enforces (verifier.budget); past it the
enumeration is incomplete and says why, so that nothing built on it can be VERIFIED.
"""
from __future__ import annotations

import contextlib
import contextvars
import itertools

import mpmath
import sympy as sp
from sympy.polys.polyerrors import BasePolynomialError

from ..budget import BudgetExceeded, call_with_budget
from ..cache import DISABLED, EvidenceCache, engine_parts, key, short, warn
from ..error_model import SYMBOLIC_GLOBAL_RTOL
from .arithmetic import evaluate, real
from .problem import Problem
from .triangular import NotTriangular, real_solutions



def critical_points(problem: Problem, point: dict) -> tuple[list[dict], str]:
    """All real critical points of g at the parameter values ``point`` on every face of the domain (some
    [0, inf) variables = 0).

    Returns the points (60-digit values) and '' or the reason the enumeration is incomplete.
    """
    g_here = problem.g.xreplace(point)
    # A face's partial derivatives are g's, taken once (Problem.gradient), at the point and on the face:
    # differentiating every face of every sample again was most of the enumeration's sympy time.
    gradient_here = {v: d.xreplace(point) for v, d in problem.gradient.items()}
    closed_vars = [v for v in problem.variables if not problem.is_open(v)]
    points, incomplete = [], []
    for k in range(len(closed_vars) + 1):
        for zeros in itertools.combinations(closed_vars, k):
            free = [v for v in problem.variables if v not in zeros]
            on_face = {v: sp.Integer(0) for v in zeros}
            if not free:
                points.append({v: mpmath.mpf(0) for v in problem.variables})
                continue
            gradient_face = [gradient_here[v].xreplace(on_face) for v in free]
            found, why = _kept_face_critical_points(g_here.xreplace(on_face), free, gradient_face)
            if why:
                incomplete.append(f"face {', '.join(f'{v}=0' for v in zeros) or 'interior'}: {why}")
            for values in found:
                points.append({**{v: mpmath.mpf(0) for v in zeros}, **values})
    return points, "; ".join(incomplete)


# ---------------------------------------------------------------- faces kept in the evidence cache

# Where the faces' critical points are kept between runs (faces_kept_in): a face's points are exact given its
# function, so a variant whose objective is unchanged -- a closed form edited -- takes them from the cache.
_FACE_CACHE: contextvars.ContextVar = contextvars.ContextVar("face_cache", default=(DISABLED, {}))


@contextlib.contextmanager
def faces_kept_in(cache: EvidenceCache):
    """While the body runs, every face's critical points are taken from ``cache`` where it holds them and kept
    there when computed.  Only a complete enumeration is kept: one cut short by its CPU budget depends on the
    machine."""
    parts = engine_parts() if cache.enabled else {}
    token = _FACE_CACHE.set((cache, parts))
    try:
        yield
    finally:
        _FACE_CACHE.reset(token)


def _kept_face_critical_points(g_face: sp.Expr, free: list, gradient_face: list) -> tuple[list[dict], str]:
    """``_face_critical_points``, through the cache ``faces_kept_in`` set (if any).  A face's points are
    keyed by its function alone: its partial derivatives ``gradient_face`` follow from it."""
    cache, parts = _FACE_CACHE.get()
    if not cache.enabled:
        return _face_critical_points(g_face, free, gradient_face)
    entry_key = key(kind="face", g=sp.srepr(g_face), free=[sp.srepr(v) for v in free], **parts)
    stored = cache.get("face", entry_key)
    if stored is not None:
        try:
            return [dict(zip(free, (_mpf_from(v) for v in point), strict=True)) for point in stored], ""
        except (TypeError, ValueError) as exc:          # valid JSON, but not a list of points: computed again
            warn(f"cached face {short(entry_key)} does not fit ({exc}); enumerating it again")
    found, why = _face_critical_points(g_face, free, gradient_face)
    if not why:
        cache.put("face", entry_key, [[_mpf_json(p[v]) for v in free] for p in found])
    return found, why


def _mpf_json(value: mpmath.mpf) -> list:
    """A finite mpf exactly: its sign, mantissa and exponent (value = (-1)^sign * mantissa * 2^exponent)."""
    mantissa, exponent = value.man_exp
    return [int(value < 0), str(mantissa), int(exponent)]


def _mpf_from(entry: list) -> mpmath.mpf:
    """The mpf stored, to the bit (at its own precision, whatever the working precision now)."""
    negative, mantissa, exponent = entry
    mantissa = int(mantissa)
    with mpmath.workprec(max(mantissa.bit_length(), 53)):
        value = mpmath.mpf((mantissa, int(exponent)))
        return -value if negative else value


# Budget of one face's Groebner basis: with large rational coefficients (Theorem 5's reduced problem at
# some sampled parameters) lex bases can take many minutes.  Past the budget the enumeration is
# incomplete, and the sample is INCONCLUSIVE -- never VERIFIED.  It is counted in CPU time, not
# wall-clock time, so that a loaded machine (pytest's workers, the report's) decides as an idle one, and
# enforced by the kernel in a worker process (verifier.budget), so that no exception handler can swallow it.
FACE_CPU_SECONDS = 8


def _face_critical_points(g_face: sp.Expr, free: list, gradient_face: list) -> tuple[list[dict], str]:
    """Real critical points with every free variable > 0, from a lex Groebner basis; ``gradient_face``: the
    partial derivatives of ``g_face`` along ``free``, in order.

    The extra equation y * prod(free) = 1 (Rabinowitsch) removes the solutions with a free
    variable equal to 0, which belong to smaller faces and would make the system positive-dimensional.
    When the basis exceeds its budget and g(x) = h(x^2) (the paper's reduced objectives are
    functions of squared singular values), the system h'(u) = 0 of half the degree is tried:
    on x > 0, dg/dx = 2x h'(x^2).  That turns Theorem 5's minutes into seconds.
    """
    plain = [sp.Dummy(str(v)) for v in free]
    to_plain = dict(zip(free, plain))
    expr = g_face.xreplace(to_plain)
    points, why = _positive_critical_points(expr, plain, [d.xreplace(to_plain) for d in gradient_face])
    if not why.startswith("the Groebner basis took"):
        return [dict(zip(free, p)) for p in points], why
    squares = [sp.Dummy(f"{x}_sq", positive=True) for x in plain]
    h = expr.xreplace({x: sp.sqrt(u) for x, u in zip(plain, squares)})
    if any(isinstance(a, sp.Pow) and a.base in squares and not a.exp.is_integer for a in sp.preorder_traversal(h)):
        return [], why
    points, why_sq = _positive_critical_points(h, squares)
    if why_sq:
        return [], f"{why}; in the squared variables: {why_sq}"
    return [dict(zip(free, (mpmath.sqrt(v) for v in p))) for p in points], ""


def _lex_solutions(equations: list, gens: list) -> tuple[list, str]:
    """The solutions of a polynomial system from its lex Groebner basis ('' or why there are none listed)."""
    basis = sp.groebner(equations, *gens, order="lex")
    if list(basis.exprs) == [1]:
        return [], ""
    if not basis.is_zero_dimensional:
        return [], "the critical set is not finite"
    try:
        return real_solutions(list(basis.exprs), gens), ""
    except NotTriangular:
        return sp.solve_poly_system(list(basis.exprs), *gens), ""


def _positive_critical_points(expr: sp.Expr, plain: list, partials: list | None = None) -> tuple[list[tuple], str]:
    """Solutions of grad expr = 0 with every variable real and > 0 (values in order of ``plain``);
    ``partials``: d expr / d x for x in ``plain`` where the caller has them (None: differentiated here)."""
    equations, poles = [], set()
    partials = [sp.diff(expr, x) for x in plain] if partials is None else partials
    y = sp.Dummy("y")
    gens = [y, *plain]
    for x, partial in zip(plain, partials, strict=True):
        numerator, denominator = sp.fraction(sp.together(partial))
        try:
            # built as the polynomial groebner takes: handed the expression, it expanded it a second time
            equations.append(sp.Poly(numerator, *gens))
        except sp.PolynomialError:
            return [], f"dg/d{x} has a non-polynomial numerator {numerator}"
        poles |= _pole_factors(denominator, plain)
    # y * prod(free) * prod(poles) = 1: the solutions with a free variable at 0 belong to smaller faces, and
    # those where a denominator of the gradient vanishes are no critical points of g at all -- yet they can
    # form a curve (complex: 841 lambda^2 + 900 = 0 in Theorem 3's g), which made every MHVAE system look
    # positive-dimensional ("the critical set is not finite") before the poles were removed.
    equations.append(sp.Poly(y * sp.Mul(*plain) * sp.Mul(*sorted(poles, key=sp.default_sort_key)) - 1, *gens))
    try:
        solutions, why = call_with_budget(FACE_CPU_SECONDS, _lex_solutions, equations, gens)
    except (NotImplementedError, BasePolynomialError) as exc:
        return [], f"sympy cannot solve the critical-point system ({type(exc).__name__}: {exc})"
    except BudgetExceeded:
        return [], f"the Groebner basis took more than {FACE_CPU_SECONDS} s of CPU time"
    out = []
    for solution in solutions or []:
        values = []
        for value in solution[1:]:
            coordinate = value if isinstance(value, mpmath.mpf) else real(value)
            if coordinate is None or coordinate <= 0:
                break
            values.append(coordinate)
        else:
            out.append(tuple(values))
    return out, why


def _pole_factors(denominator: sp.Expr, plain: list) -> set:
    """The distinct non-constant polynomial factors of a denominator (empty when it is not a polynomial in
    ``plain``: then nothing is removed, as before, and a spurious component leaves the system not finite)."""
    try:
        _, factors = sp.factor_list(sp.Poly(denominator, *plain))
    except (sp.PolynomialError, BasePolynomialError):
        return set()
    return {f.as_expr() for f, _ in factors if f.total_degree() > 0}


def least(g_here: sp.Expr, variables: tuple, points: list[dict]) -> tuple[mpmath.mpf | None, list[dict]]:
    """The least finite g among ``points`` and the points that attain it (within SYMBOLIC_GLOBAL_RTOL)."""
    evaluated = [(evaluate(g_here, variables, tuple(p[v] for v in variables)), p) for p in points]
    evaluated = [(value, p) for value, p in evaluated if value is not None]
    if not evaluated:
        return None, []
    best = min(value for value, _ in evaluated)
    tolerance = SYMBOLIC_GLOBAL_RTOL * max(1, abs(best))
    return best, [p for value, p in evaluated if value <= best + tolerance]
