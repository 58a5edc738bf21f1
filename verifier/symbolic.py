"""Symbolic checks of a theorem: matrix gradients, the per-index reduction, and its closed forms.

Three public entry points:

* :func:`matrix_gradients` derives the gradient of a model's matrix objective with
  respect to each variable matrix by sympy matrix calculus (term by term, with the
  rule d log|S| = tr(S^{-1} dS) that sympy 1.14 lacks).
* :func:`reduced_objective` substitutes the theorem's 1x1 reduction into the matrix
  objective: the scalar per-index objective g(variables; parameters) the proof arrives at.
* :func:`check_closed_forms` checks the theorem's closed forms against g, branch by
  branch (the branches are where the Max(0, .) and Piecewise cases of the closed forms
  switch, found from the closed forms themselves, not from the theorem's stated thresholds):

  - ``stationarity``: in each branch the closed-form point satisfies the KKT conditions of
    min g over the variables' domains (v >= 0; v > 0 for variables declared positive, such
    as standard deviations): dg/dv = 0 where v* > 0 and dg/dv >= 0 where v* = 0.
  - ``global_minimum``: at sampled rational parameter points inside each branch, exactly on
    each boundary and at theta = 0, every real critical point of g on every face of the
    domain is computed exactly (Groebner basis + sympy solve), g is compared at all of them
    in 60-digit arithmetic, and g is probed far away (and near the open edges) for coercivity.
  - ``continuity``: on each branch boundary the closed forms of the two sides agree.

Sampled parameters are rationals (log-uniform in about [0.2, 4.5], small denominators);
split values are rationals placed strictly inside each interval between boundaries, and a
boundary point is made exact by solving the boundary equation for one hyperparameter.
Supported closed forms: Max/Min of two arguments and Piecewise with one inequality per
piece, switching at values of one per-index parameter (theta); anything else is a SpecError.

Honesty rules, applied to every finding:

* VERIFIED with method "sympy simplify (exact)" means sympy reduced the condition to an
  identity that holds on the whole branch.  Anything sampled is worded as "at N sampled
  points": it is evidence at those points, never a proof.
* REFUTED always carries a concrete counterexample (exact parameter values, and the
  measured violation or the better point).  A closed form that is not a finite real
  number inside the domain (0/0 at theta = 0, say) is REFUTED: it names no point.
* A check that sympy cannot decide and the numerics cannot settle (values neither clearly
  zero nor clearly non-zero, an incomplete critical-point enumeration, coercivity not
  seen) is INCONCLUSIVE, never VERIFIED.
"""
from __future__ import annotations

import functools
import itertools
import math
import operator
import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Mapping

import mpmath
import sympy as sp
from sympy.matrices.expressions import Determinant, Inverse, MatrixExpr, MatrixSymbol, ZeroMatrix
from sympy.polys.polyerrors import BasePolynomialError

from .budget import BudgetExceeded, call_with_budget
from .errors import SpecError
from .status import Status

VERIFIED, REFUTED, INCONCLUSIVE = Status.VERIFIED, Status.REFUTED, Status.INCONCLUSIVE

# Numeric settings (all in decimal digits / relative to the scale of the quantity compared).
DPS = 60                       # working precision of every numeric evaluation
ZERO_RTOL = 1e-40              # |x| <= this * scale counts as 0 at 60 digits
NONZERO_RTOL = 1e-20           # |x| > this * scale is a definite violation; in between: undecided
GLOBAL_RTOL = 1e-30            # g(claimed) vs the best candidate
CONTINUITY_STEP = sp.Rational(1, 10**45)   # relative step either side of a boundary
CONTINUITY_RTOL = 1e-15        # a jump below this (times scale) is continuous ...
JUMP_RTOL = 1e-6               # ... above this it is a discontinuity; in between: undecided

# Sample sizes (the whole check must stay within ~20 s on 2 cores).
STATIONARITY_DRAWS = 40        # parameter draws; each gives one point in every branch it can reach
GLOBAL_INTERIOR_POINTS = 6     # global-minimum points per branch
GLOBAL_BOUNDARY_POINTS = 4     # global-minimum points exactly on each boundary
GLOBAL_ZERO_POINTS = 2         # global-minimum points at theta = 0 (edge of the domain)
CONTINUITY_POINTS = 8          # numeric continuity points per boundary
COERCIVITY_DIRECTIONS = 8


@dataclass(frozen=True)
class SymbolicFinding:
    check: str            # "stationarity", "global_minimum", "continuity"
    branch: str           # human-readable branch condition
    status: str           # "VERIFIED" | "REFUTED" | "INCONCLUSIVE"
    method: str
    evidence: str
    counterexample: dict | None = None   # parameter values (strings of rationals/floats) where it fails

    def __str__(self) -> str:
        text = f"[{self.status}] {self.check} | {self.branch} | {self.method} | {self.evidence}"
        if self.counterexample:
            text += f" | counterexample: {self.counterexample}"
        return text


# =========================================================================== matrix gradients


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


# =========================================================================== reduced objective


def reduced_objective(theorem) -> sp.Expr:
    """The scalar per-index objective g: the theorem's 1x1 reduction substituted into the model."""
    model = theorem.model
    reduction = dict(theorem.reduction.matrices)
    matrices = [v.symbol for v in model.variables] + list(model.data)
    missing = [m.name for m in matrices if m.name not in reduction]
    if missing:
        raise SpecError(f"{theorem.name}: the reduction gives no scalar for the matrices {missing}; "
                        f"it gives {sorted(reduction)}")
    ones = {d: 1 for d in model.latent_dims + model.data_dims}
    objective = model.objective.xreplace(ones)
    # a 1x1 identity (the two-latent objectives use U2 W2 - I) is the scalar 1
    objective = objective.replace(lambda e: isinstance(e, sp.Identity), lambda e: sp.ImmutableMatrix([[1]]))
    scalars = {MatrixSymbol(m.name, 1, 1): sp.ImmutableMatrix([[sp.sympify(reduction[m.name])]]) for m in matrices}
    g = objective.xreplace(scalars).doit()
    if isinstance(g, sp.MatrixBase):
        g = g[0, 0]
    g = sp.sympify(g)
    g = g.replace(lambda e: isinstance(e, Determinant) and isinstance(e.arg, sp.MatrixBase), lambda e: e.arg.det())
    leftover = [a for a in sp.preorder_traversal(g) if isinstance(a, (MatrixExpr, sp.MatrixBase))]
    if leftover:
        raise SpecError(f"{theorem.name}: the 1x1 reduction leaves matrix expressions {leftover[:3]} in g = {g}")
    return g


# =========================================================================== the per-index problem


@dataclass
class _Problem:
    """g, its variables and parameters, the closed forms and where they switch."""
    name: str
    g: sp.Expr
    variables: tuple[sp.Symbol, ...]
    parameters: tuple[sp.Symbol, ...]
    split: sp.Symbol                         # the parameter the branches are intervals of (theta)
    closed: dict[sp.Symbol, sp.Expr]
    conditions: tuple[sp.Basic, ...]         # the inequalities the closed forms switch on
    boundaries: tuple[sp.Expr, ...]          # split = boundary, as expressions of the other parameters
    gradient: dict[sp.Symbol, sp.Expr]
    gradient_terms: dict[sp.Symbol, tuple[sp.Expr, ...]]   # the Add terms of each dg/dv, for its scale

    def is_open(self, v: sp.Symbol) -> bool:
        """Domain (0, inf) for variables declared positive (standard deviations), else [0, inf)."""
        return bool(v.is_positive)


@dataclass
class _Branch:
    truth: tuple[bool, ...]                  # value of each condition on this branch
    positions: set = field(default_factory=set)   # '>'/'<' of split against each boundary, as seen
    samples: list = field(default_factory=list)

    def label(self, problem: _Problem) -> str:
        if len(self.positions) == 1:
            (pos,) = self.positions
            parts = [f"{problem.split} {p} {sp.sstr(b)}" for p, b in zip(pos, problem.boundaries) if p]
            if parts:
                return " and ".join(parts)
        if not problem.conditions:
            return "all parameters"
        return " and ".join(sp.sstr(c if t else _negate(c)) for c, t in zip(problem.conditions, self.truth))


def _negate(condition):
    return condition.negated if hasattr(condition, "negated") else sp.Not(condition)


def _build_problem(theorem) -> _Problem:
    g = reduced_objective(theorem)
    variables = tuple(theorem.reduction.variables)
    closed = {}
    for v in variables:
        try:
            closed[v] = sp.sympify(theorem.closed_form(v))
        except KeyError:
            raise SpecError(f"{theorem.name}: the reduction variable {v} has no closed form; closed forms "
                            f"exist for {[str(s) for s, _ in theorem.closed_forms]}") from None
    hyper = [h.symbol for h in theorem.model.hyperparameters]
    indexed = [s for s, _ in theorem.indexed if s not in variables]
    parameters = tuple(hyper + indexed)
    stray = g.free_symbols - set(variables) - set(parameters)
    if stray:
        raise SpecError(f"{theorem.name}: g = {g} uses {sorted(map(str, stray))}, which are neither reduction "
                        f"variables nor parameters {[str(p) for p in parameters]}")
    for v, expr in closed.items():
        if expr.free_symbols - set(parameters):
            raise SpecError(f"{theorem.name}: the closed form of {v} = {expr} uses "
                            f"{sorted(map(str, expr.free_symbols - set(parameters)))}, which are not parameters")
    conditions = _unique(c for v in variables for c in _switch_conditions(closed[v]))
    split = _split_parameter(theorem, indexed, conditions)
    boundaries = _boundaries(theorem, split, conditions)
    gradient = {v: sp.diff(g, v) for v in variables}
    terms = {v: sp.Add.make_args(sp.expand(d)) for v, d in gradient.items()}
    return _Problem(theorem.name, g, variables, parameters, split, closed, conditions, boundaries, gradient, terms)


def _unique(items) -> tuple:
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return tuple(out)


def _switch_conditions(expr: sp.Expr):
    """The inequalities a closed form switches on: Max/Min of two arguments and Piecewise conditions."""
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Piecewise):
            for _, cond in node.args:
                if cond is sp.true:
                    continue
                if not isinstance(cond, sp.core.relational.Relational):
                    raise SpecError(f"the Piecewise condition {cond} in {expr} is not a single inequality; "
                                    f"write one inequality per piece")
                yield cond
        elif isinstance(node, (sp.Max, sp.Min)):
            yield _max_min_condition(node, expr)


def _max_min_condition(node, expr):
    if len(node.args) != 2:
        raise SpecError(f"{node} in {expr}: Max/Min with {len(node.args)} arguments; nest two-argument ones")
    a, b = node.args
    return sp.StrictGreaterThan(a, b, evaluate=False) if isinstance(node, sp.Max) else \
        sp.StrictLessThan(a, b, evaluate=False)


def _split_parameter(theorem, indexed, conditions) -> sp.Symbol:
    if not indexed:
        raise SpecError(f"{theorem.name}: no per-index parameter (theta) is left once the reduction "
                        f"variables are removed from {[str(s) for s, _ in theorem.indexed]}")
    # Conditions free of every per-index parameter split the hyperparameters into regimes (Theorem 3:
    # sigma1^2 vs (beta2/beta1) eta_dec^2); they have no boundary in theta and are sampled as drawn.
    per_index = [c for c in conditions if any(c.has(s) for s in indexed)]
    for s in indexed:
        if all(c.has(s) for c in per_index):
            return s
    raise SpecError(f"{theorem.name}: the closed forms switch on {[str(c) for c in conditions]}; no per-index "
                    f"parameter among {[str(s) for s in indexed]} appears in all of them, so the branches "
                    f"are not intervals of one parameter (unsupported)")


def _boundaries(theorem, split, conditions) -> tuple[sp.Expr, ...]:
    """Distinct values of ``split`` where some condition changes, solved exactly."""
    roots = []
    for cond in conditions:
        try:
            found = sp.solve(sp.Eq(cond.lhs - cond.rhs, 0), split)
        except NotImplementedError as exc:
            raise SpecError(f"{theorem.name}: cannot solve the switch condition {cond} for {split}: {exc}") from None
        for r in found:
            if not any(sp.simplify(r - known) == 0 for known in roots):
                roots.append(r)
    return tuple(roots)


def _select_pieces(expr: sp.Expr, truth: Mapping) -> sp.Expr:
    """The closed form on one branch: every Max/Min/Piecewise replaced by the piece that holds there."""
    if isinstance(expr, sp.Piecewise):
        for value, cond in expr.args:
            if cond is sp.true or truth[cond]:
                return _select_pieces(value, truth)
        raise SpecError(f"no piece of {expr} holds on the branch {truth}: the closed form is undefined there")
    if isinstance(expr, (sp.Max, sp.Min)):
        a, b = expr.args
        return _select_pieces(a if truth[_max_min_condition(expr, expr)] else b, truth)
    if not expr.args:
        return expr
    return expr.func(*[_select_pieces(a, truth) for a in expr.args])


# =========================================================================== sampling


def _random_positive(rng: random.Random) -> sp.Rational:
    """A log-uniform positive rational in about [0.22, 4.5] with a small denominator."""
    return _rational(math.exp(rng.uniform(-1.5, 1.5)), 64)


def _rational(x: float, max_denominator: int) -> sp.Rational:
    f = Fraction(x).limit_denominator(max_denominator)
    return sp.Rational(f.numerator, f.denominator)


def _mp(expr) -> mpmath.mpf | mpmath.mpc:
    with mpmath.workdps(DPS + 20):
        return mpmath.mpmathify(sp.N(expr, DPS + 20))


def _strictly_inside(lo, hi, rng: random.Random) -> sp.Rational:
    """A rational strictly between two real numbers (hi may be +inf)."""
    for denominator in (10**4, 10**8, 10**16, 10**32):
        if hi == mpmath.inf:
            x = lo * (1 + mpmath.mpf(rng.uniform(0.05, 2.0))) if lo > 0 else mpmath.mpf(math.exp(rng.uniform(-1.5, 1.5)))
        else:
            x = lo + (hi - lo) * mpmath.mpf(rng.uniform(0.1, 0.9))
        f = Fraction(mpmath.nstr(x, 40, strip_zeros=False, min_fixed=-mpmath.inf, max_fixed=mpmath.inf))
        q = Fraction(f).limit_denominator(denominator)
        q = sp.Rational(q.numerator, q.denominator)
        if lo < _mp(q) and (hi == mpmath.inf or _mp(q) < hi):
            return q
    raise SpecError(f"cannot place a rational strictly between {lo} and {hi}")


def _truth(problem: _Problem, point: Mapping) -> tuple[bool, ...]:
    """Which switch conditions hold at a point (exactly; 80-digit arithmetic where sympy leaves one open)."""
    values = []
    for cond in problem.conditions:
        value = cond.xreplace(point)
        if value not in (sp.true, sp.false):
            difference = _mp(value.lhs - value.rhs)
            value = {sp.StrictGreaterThan: difference > 0, sp.GreaterThan: difference >= 0,
                     sp.StrictLessThan: difference < 0, sp.LessThan: difference <= 0}.get(type(value))
            if value is None:
                raise SpecError(f"cannot decide the condition {cond} at {point}")
        values.append(bool(value))
    return tuple(values)


def _boundary_values(problem: _Problem, base: Mapping) -> list[tuple[int, mpmath.mpf]]:
    """(boundary index, value) for the boundaries that are real and positive at these parameters."""
    out = []
    for j, b in enumerate(problem.boundaries):
        value = _mp(b.xreplace(base))
        if isinstance(value, mpmath.mpc):
            if abs(value.imag) > mpmath.mpf(10) ** (-DPS):
                continue
            value = value.real
        if value > 0:
            out.append((j, value))
    return sorted(out, key=lambda jv: jv[1])


@dataclass
class _Samples:
    branches: dict                     # truth tuple -> _Branch
    boundary_points: dict              # boundary index -> list of exact points (split exactly on it)
    zero_points: list                  # points with split = 0
    neighbours: dict                   # boundary index -> set of (truth below, on, above)


def _sample(problem: _Problem, rng: random.Random) -> _Samples:
    branches: dict = {}
    boundary_points = {j: [] for j in range(len(problem.boundaries))}
    neighbours = {j: set() for j in range(len(problem.boundaries))}
    zero_points = []
    others = [p for p in problem.parameters if p != problem.split]
    for draw in range(STATIONARITY_DRAWS):
        base = {p: _random_positive(rng) for p in others}
        edges = _boundary_values(problem, base)
        if any(abs(a[1] - b[1]) <= abs(b[1]) * mpmath.mpf(10) ** -30 for a, b in zip(edges, edges[1:])):
            continue   # two boundaries coincide at this draw: no gap between them to sample
        bounds = [mpmath.mpf(0)] + [v for _, v in edges] + [mpmath.inf]
        for lo, hi in zip(bounds, bounds[1:]):
            point = {**base, problem.split: _strictly_inside(lo, hi, rng)}
            _add_to_branch(problem, branches, point)
        if draw < CONTINUITY_POINTS:
            for j, _ in edges:
                exact = _exact_boundary_point(problem, base, j)
                boundary_points[j].append(exact)
                neighbours[j].add(_neighbour_truths(problem, exact))
        if draw < GLOBAL_ZERO_POINTS and problem.split.is_nonnegative and not problem.split.is_positive:
            zero_points.append({**base, problem.split: sp.Integer(0)})
    return _Samples(branches, boundary_points, zero_points, neighbours)


def _add_to_branch(problem, branches, point):
    truth = _truth(problem, point)
    branch = branches.setdefault(truth, _Branch(truth))
    theta = _mp(point[problem.split])
    positions = []
    for b in problem.boundaries:
        value = _mp(b.xreplace(point))
        positions.append(None if isinstance(value, mpmath.mpc) else (">" if theta > value else "<"))
    branch.positions.add(tuple(positions))
    branch.samples.append(point)


def _exact_boundary_point(problem: _Problem, base: Mapping, j: int) -> dict:
    """Parameters with split exactly on boundary j, rational where a parameter can be solved for."""
    b = problem.boundaries[j]
    value = sp.simplify(b.xreplace(base))
    if value.is_Rational:
        return {**base, problem.split: value}
    target = _rational(float(_mp(value).real), 10**4)
    # choose a rational split value and solve the boundary equation for one other parameter
    for p in sorted(b.free_symbols & set(base), key=str):
        rest = {q: v for q, v in base.items() if q != p}
        try:
            solutions = sp.solve(sp.Eq(b.xreplace(rest), target), p)
        except NotImplementedError:
            continue
        for s in solutions:
            if s.is_Rational and s > 0:
                point = {**rest, p: s, problem.split: target}
                if sp.simplify(b.xreplace(point) - target) == 0:
                    return point
    return {**base, problem.split: value}   # exact but algebraic


def _neighbour_truths(problem: _Problem, point: Mapping) -> tuple:
    """The switch conditions just below, exactly on, and just above a boundary point."""
    theta = point[problem.split]
    below = _truth(problem, {**point, problem.split: theta * (1 - CONTINUITY_STEP)})
    above = _truth(problem, {**point, problem.split: theta * (1 + CONTINUITY_STEP)})
    return below, _truth(problem, point), above


# =========================================================================== numeric helpers


def _real(expr) -> mpmath.mpf | None:
    """A closed numeric expression as a 60-digit real, or None when it is not a finite real number."""
    if expr.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    try:
        value = _mp(expr)
    except (TypeError, ValueError):
        return None
    if isinstance(value, mpmath.mpc):
        if abs(value.imag) > mpmath.mpf(10) ** (-DPS) * (1 + abs(value.real)):
            return None
        value = value.real
    if not mpmath.isfinite(value):
        return None
    return value


def _fmt(value) -> str:
    if isinstance(value, sp.Basic) and value.is_Rational:
        return str(value)
    if isinstance(value, sp.Basic):
        return mpmath.nstr(_mp(value), 25)
    return mpmath.nstr(value, 25)


def _parameters_text(problem: _Problem, point: Mapping) -> dict:
    return {str(p): _fmt(point[p]) for p in problem.parameters}


@functools.lru_cache(maxsize=1024)
def _lambdified(expr: sp.Expr, symbols: tuple):
    return sp.lambdify(symbols, expr, modules="mpmath")


def _evaluate(expr: sp.Expr, symbols: tuple, values: tuple) -> mpmath.mpf | None:
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


def _claimed_point(problem: _Problem, point: Mapping) -> tuple[dict | None, str]:
    """The closed-form values at ``point`` as 60-digit reals, or None and why they are unusable."""
    values = {}
    for v in problem.variables:
        value = _real(problem.closed[v].xreplace(point))
        if value is None:
            return None, f"{v}* = {problem.closed[v].xreplace(point)} is not a finite real number"
        if value < 0 or (problem.is_open(v) and value <= 0):
            return None, f"{v}* = {mpmath.nstr(value, 20)} lies outside the domain {v} {'>' if problem.is_open(v) else '>='} 0"
        values[v] = value
    return values, ""


# =========================================================================== stationarity (KKT)


def _check_stationarity(problem: _Problem, branch: _Branch) -> SymbolicFinding:
    label = branch.label(problem)
    exact, exact_text = _exact_kkt(problem, branch)
    numeric = _numeric_kkt(problem, branch)
    n = len(branch.samples)
    if numeric.status == REFUTED:
        return SymbolicFinding("stationarity", label, REFUTED,
                               f"60-digit arithmetic at {n} sampled points", numeric.evidence, numeric.counterexample)
    if exact:
        if numeric.status == VERIFIED:
            return SymbolicFinding("stationarity", label, VERIFIED,
                                   f"sympy simplify (exact); cross-checked in 60-digit arithmetic at {n} sampled points",
                                   exact_text)
        # the identity and the numbers disagree: trust neither
        return SymbolicFinding("stationarity", label, INCONCLUSIVE, "sympy simplify (exact) vs 60-digit arithmetic",
                               f"sympy: {exact_text}; numerics: {numeric.evidence}")
    if numeric.status == VERIFIED:
        return SymbolicFinding("stationarity", label, VERIFIED,
                               f"60-digit arithmetic at {n} sampled points (sympy could not decide)",
                               f"verified at {n} sampled points, not proved: {numeric.evidence}; sympy: {exact_text}")
    return SymbolicFinding("stationarity", label, INCONCLUSIVE,
                           f"sympy simplify and 60-digit arithmetic at {n} sampled points",
                           f"sympy: {exact_text}; numerics: {numeric.evidence}")


def _slack_substitution(problem: _Problem, branch: _Branch) -> tuple[dict, str]:
    """Put the branch condition into the symbols: split = b(1+t) above one boundary b, b/(1+t) below it."""
    if len(branch.positions) != 1 or len(problem.boundaries) != 1:
        return {}, ""
    (pos,) = branch.positions
    (b,) = problem.boundaries
    if pos[0] is None or not b.is_positive:
        return {}, ""
    t = sp.Symbol(_fresh_name("t", problem), positive=True)
    value = b * (1 + t) if pos[0] == ">" else b / (1 + t)
    return {problem.split: value}, f"with {problem.split} = {sp.sstr(value)}, {t} > 0"


def _fresh_name(stem: str, problem: _Problem) -> str:
    taken = {str(s) for s in problem.g.free_symbols | set(problem.parameters)}
    return next(name for name in (stem + "_" * k for k in itertools.count()) if name not in taken)


def _exact_kkt(problem: _Problem, branch: _Branch) -> tuple[bool, str]:
    """True when sympy proves every KKT condition on the whole branch; else False and why."""
    truth = dict(zip(problem.conditions, branch.truth))
    slack, slack_text = _slack_substitution(problem, branch)
    pieces = {v: _select_pieces(problem.closed[v], truth) for v in problem.variables}
    facts = []
    for v in problem.variables:
        value = _simplest(pieces[v].xreplace(slack))
        derivative = _simplest(problem.gradient[v].xreplace(pieces).xreplace(slack))
        if value == 0 and not problem.is_open(v):
            if not _sympy_decides(derivative, "is_nonnegative"):
                return False, f"cannot show dg/d{v} = {derivative} >= 0 at {v}* = 0 {slack_text}".strip()
            facts.append(f"{v}* = 0, dg/d{v} = {derivative} >= 0")
        elif _sympy_decides(value, "is_positive"):
            if derivative != 0:
                return False, f"dg/d{v} simplifies to {derivative}, not to 0, at {v}* = {value} {slack_text}".strip()
            facts.append(f"{v}* = {value} > 0, dg/d{v} = 0")
        else:
            return False, f"cannot decide the sign of {v}* = {value} {slack_text}".strip()
    return True, "; ".join(facts) + (f" ({slack_text})" if slack_text else " (no slack substitution)")


def _simplest(expr: sp.Expr) -> sp.Expr:
    """simplify, and once more after expanding: 0 if either form reaches it."""
    first = sp.simplify(expr)
    if first == 0:
        return first
    second = sp.simplify(sp.expand(first))
    return second if second == 0 else first


def _sympy_decides(expr: sp.Expr, assumption: str) -> bool:
    """True only when sympy's assumptions prove it, for the expression or its expanded/factored forms."""
    return any(getattr(form, assumption) is True for form in _forms(expr))


def _forms(expr):
    yield expr
    yield sp.expand(expr)
    yield sp.factor(expr)
    # sqrt(f) is positive when f is; expanding under the root lets the assumptions see it
    yield expr.replace(lambda e: isinstance(e, sp.Pow), lambda e: sp.Pow(sp.factor(sp.expand(e.base)), e.exp))


@dataclass
class _Result:
    status: str
    evidence: str
    counterexample: dict | None = None


def _numeric_kkt(problem: _Problem, branch: _Branch) -> _Result:
    symbols = tuple(problem.variables) + tuple(problem.parameters)
    worst = mpmath.mpf(0)
    undecided = []
    for point in branch.samples:
        claimed, why = _claimed_point(problem, point)
        if claimed is None:
            return _Result(REFUTED, f"the claimed point is not feasible: {why}", _parameters_text(problem, point))
        with mpmath.workdps(DPS):
            values = tuple(claimed[v] for v in problem.variables) + tuple(mpmath.mpf(point[p].p) / point[p].q
                                                                          if point[p].is_Rational else _mp(point[p])
                                                                          for p in problem.parameters)
        for v in problem.variables:
            derivative = _evaluate(problem.gradient[v], symbols, values)
            scale = _gradient_scale(problem, v, symbols, values)
            if derivative is None or scale is None:
                undecided.append(f"dg/d{v} not a finite real at {_parameters_text(problem, point)}")
                continue
            relative = derivative / scale
            at_zero = claimed[v] == 0 and not problem.is_open(v)
            violation = -relative if at_zero else abs(relative)
            worst = max(worst, violation)
            if violation > NONZERO_RTOL:
                ce = _parameters_text(problem, point)
                ce.update({f"claimed {u}": _fmt(claimed[u]) for u in problem.variables})
                ce[f"dg/d{v}"] = _fmt(derivative)
                rule = "dg/d{v} >= 0 at {v}* = 0" if at_zero else "dg/d{v} = 0 at {v}* > 0"
                return _Result(REFUTED, f"KKT condition {rule.format(v=v)} fails: dg/d{v} = "
                               f"{mpmath.nstr(derivative, 15)} (relative {mpmath.nstr(relative, 5)})", ce)
            if violation > ZERO_RTOL:
                undecided.append(f"dg/d{v} = {mpmath.nstr(derivative, 5)} is neither clearly 0 nor clearly not")
    if not branch.samples:
        return _Result(INCONCLUSIVE, "no sampled point falls in this branch")
    if undecided:
        return _Result(INCONCLUSIVE, "; ".join(undecided[:3]))
    return _Result(VERIFIED, f"largest relative KKT violation {mpmath.nstr(worst, 3)} "
                             f"(zero below {ZERO_RTOL:g}, violation above {NONZERO_RTOL:g})")


def _gradient_scale(problem, v, symbols, values):
    """Sum of |terms| of dg/dv: the size a cancellation to zero is measured against."""
    total = mpmath.mpf(0)
    for term in problem.gradient_terms[v]:
        value = _evaluate(term, symbols, values)
        if value is None:
            return None
        total += abs(value)
    return total if total > 0 else mpmath.mpf(1)


# =========================================================================== global minimum


def _check_global_minimum(problem: _Problem, label: str, points: list, rng: random.Random) -> SymbolicFinding:
    method = (f"exact real critical points on every face (Groebner basis + sympy solve) at {len(points)} "
              f"sampled rational parameter point(s); g compared in 60-digit arithmetic (rtol {GLOBAL_RTOL:g}); "
              f"coercivity probed numerically")
    if not points:
        return SymbolicFinding("global_minimum", label, INCONCLUSIVE, method, "no sampled point falls here")
    notes = []
    for point in points:
        result = _global_minimum_at(problem, point, rng)
        if result.status == REFUTED:
            return SymbolicFinding("global_minimum", label, REFUTED, method, result.evidence, result.counterexample)
        notes.append(result)
    unsettled = [r for r in notes if r.status != VERIFIED]
    if unsettled:
        return SymbolicFinding("global_minimum", label, INCONCLUSIVE, method,
                               "; ".join(r.evidence for r in unsettled[:2]))
    return SymbolicFinding("global_minimum", label, VERIFIED, method,
                           f"verified at {len(points)} sampled points, not proved: " + "; ".join(r.evidence for r in notes[:2])
                           + ("; ..." if len(notes) > 2 else ""))


def _global_minimum_at(problem: _Problem, point: Mapping, rng: random.Random) -> _Result:
    claimed, why = _claimed_point(problem, point)
    params = _parameters_text(problem, point)
    if claimed is None:
        return _Result(REFUTED, f"the claimed point is not feasible: {why}", params)
    g_here = problem.g.xreplace(point)
    variables = tuple(problem.variables)
    g_claimed = _evaluate(g_here, variables, tuple(claimed[v] for v in variables))
    if g_claimed is None:
        return _Result(REFUTED, "g is not finite at the claimed point", params)
    tolerance = GLOBAL_RTOL * max(1, abs(g_claimed))
    candidates, incomplete = _critical_points(problem, g_here)
    evaluated = []
    for cand in candidates:
        value = _evaluate(g_here, variables, tuple(cand[v] for v in variables))
        if value is not None:
            evaluated.append((value, cand))
    better = [(value, cand) for value, cand in evaluated if value < g_claimed - tolerance]
    if better:
        value, cand = min(better, key=lambda vc: vc[0])
        return _Result(REFUTED, f"a critical point has g = {mpmath.nstr(value, 20)} < g(claimed) = "
                                f"{mpmath.nstr(g_claimed, 20)}", _better_point(problem, params, claimed, cand,
                                                                                g_claimed, value))
    probe = _coercivity_probe(problem, g_here, claimed, g_claimed, tolerance, rng)
    if probe.status == REFUTED:
        probe.counterexample = {**params, **probe.counterexample}
        return probe
    best = min((value for value, _ in evaluated), default=None)
    where = f"at {params}"
    if incomplete:
        return _Result(INCONCLUSIVE, f"critical points not enumerable ({incomplete}) {where}")
    if best is None or g_claimed < best - tolerance:
        # the claimed point is below every critical point: it is not one, or some were missed
        return _Result(INCONCLUSIVE, f"g(claimed) = {mpmath.nstr(g_claimed, 20)} is not the value of any critical "
                                     f"point found (best {best and mpmath.nstr(best, 20)}): enumeration incomplete or "
                                     f"the minimum is not attained {where}")
    if probe.status != VERIFIED:
        return _Result(INCONCLUSIVE, f"{probe.evidence} {where}")
    return _Result(VERIFIED, f"{len(evaluated)} critical point(s), min g = g(claimed) = {mpmath.nstr(g_claimed, 15)} "
                             f"{where}")


def _better_point(problem, params, claimed, cand, g_claimed, value) -> dict:
    out = dict(params)
    out.update({f"claimed {v}": _fmt(claimed[v]) for v in problem.variables})
    out.update({f"better {v}": _fmt(cand[v]) for v in problem.variables})
    out.update({"g(claimed)": _fmt(g_claimed), "g(better)": _fmt(value)})
    return out


def _critical_points(problem: _Problem, g_here: sp.Expr) -> tuple[list[dict], str]:
    """All real critical points of g on every face of the domain (some [0, inf) variables = 0).

    Returns the points (60-digit values) and '' or the reason the enumeration is incomplete.
    """
    closed_vars = [v for v in problem.variables if not problem.is_open(v)]
    points, incomplete = [], []
    for k in range(len(closed_vars) + 1):
        for zeros in itertools.combinations(closed_vars, k):
            free = [v for v in problem.variables if v not in zeros]
            on_face = {v: sp.Integer(0) for v in zeros}
            if not free:
                points.append({v: mpmath.mpf(0) for v in problem.variables})
                continue
            found, why = _face_critical_points(g_here.xreplace(on_face), free)
            if why:
                incomplete.append(f"face {', '.join(f'{v}=0' for v in zeros) or 'interior'}: {why}")
            for values in found:
                points.append({**{v: mpmath.mpf(0) for v in zeros}, **values})
    return points, "; ".join(incomplete)


# Budget of one face's Groebner basis: with large rational coefficients (Theorem 5's reduced problem at
# some sampled parameters) lex bases can take many minutes.  Past the budget the enumeration is
# incomplete, and the sample is INCONCLUSIVE -- never VERIFIED.  It is counted in CPU time, not
# wall-clock time, so that a loaded machine (pytest's workers, the report's) decides as an idle one, and
# enforced by the kernel in a worker process (verifier.budget), so that no exception handler can swallow it.
FACE_CPU_SECONDS = 8


def _face_critical_points(g_face: sp.Expr, free: list) -> tuple[list[dict], str]:
    """Real critical points with every free variable > 0, from a lex Groebner basis.

    The extra equation y * prod(free) = 1 (Rabinowitsch) removes the solutions with a free
    variable equal to 0, which belong to smaller faces and would make the system positive-dimensional.
    When the basis exceeds its budget and g(x) = h(x^2) (the paper's reduced objectives are
    functions of squared singular values), the system h'(u) = 0 of half the degree is tried:
    on x > 0, dg/dx = 2x h'(x^2).  That turns Theorem 5's minutes into seconds.
    """
    plain = [sp.Dummy(str(v)) for v in free]
    expr = g_face.xreplace(dict(zip(free, plain)))
    points, why = _positive_critical_points(expr, plain)
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
    return sp.solve_poly_system(list(basis.exprs), *gens), ""


def _positive_critical_points(expr: sp.Expr, plain: list) -> tuple[list[tuple], str]:
    """Solutions of grad expr = 0 with every variable real and > 0 (values in order of ``plain``)."""
    equations = []
    for x in plain:
        numerator = sp.numer(sp.together(sp.diff(expr, x)))
        try:
            sp.Poly(numerator, *plain)
        except sp.PolynomialError:
            return [], f"dg/d{x} has a non-polynomial numerator {numerator}"
        equations.append(numerator)
    y = sp.Dummy("y")
    equations.append(y * sp.Mul(*plain) - 1)
    try:
        solutions, why = call_with_budget(FACE_CPU_SECONDS, _lex_solutions, equations, [y, *plain])
    except (NotImplementedError, BasePolynomialError) as exc:
        return [], f"sympy cannot solve the critical-point system ({type(exc).__name__}: {exc})"
    except BudgetExceeded:
        return [], f"the Groebner basis took more than {FACE_CPU_SECONDS} s of CPU time"
    out = []
    for solution in solutions or []:
        values = []
        for value in solution[1:]:
            real = _real(value)
            if real is None or real <= 0:
                break
            values.append(real)
        else:
            out.append(tuple(values))
    return out, why


def _coercivity_probe(problem, g_here, claimed, g_claimed, tolerance, rng) -> _Result:
    """g along rays to infinity (and towards the open edges v -> 0+) must rise above g(claimed)."""
    variables = tuple(problem.variables)
    scale = 1 + max(abs(x) for x in claimed.values())
    radii = [scale * mpmath.mpf(10) ** k for k in (2, 4, 8)]
    probes = []
    for _ in range(COERCIVITY_DIRECTIONS):
        direction = {v: mpmath.mpf(rng.uniform(0.01, 1) if problem.is_open(v) or rng.random() < 0.8 else 0)
                     for v in variables}
        if all(d == 0 for d in direction.values()):   # a ray needs a direction; faces are kept (one > 0)
            direction[rng.choice(variables)] = mpmath.mpf(1)
        probes.append([{v: r * d for v, d in direction.items()} for r in radii])
    for v in variables:
        if problem.is_open(v):   # the edge v -> 0+ lies outside the domain: g must blow up there
            probes.append([{**claimed, v: mpmath.mpf(10) ** -k} for k in (4, 8, 16)])
    not_rising = []
    for ray in probes:
        values = [_evaluate(g_here, variables, tuple(p[v] for v in variables)) for p in ray]
        for p, value in zip(ray, values):
            if value is not None and value < g_claimed - tolerance:
                ce = {f"probe {v}": _fmt(p[v]) for v in variables}
                ce.update({"g(claimed)": _fmt(g_claimed), "g(probe)": _fmt(value)})
                return _Result(REFUTED, f"a feasible point has g = {mpmath.nstr(value, 20)} < g(claimed) = "
                                        f"{mpmath.nstr(g_claimed, 20)}", ce)
        if any(value is None for value in values) or not (g_claimed < values[0] < values[1] < values[2]):
            not_rising.append(values)
    if not_rising:
        return _Result(INCONCLUSIVE, f"coercivity not seen: g does not rise on {len(not_rising)} of {len(probes)} probes")
    return _Result(VERIFIED, f"g rises above g(claimed) on all {len(probes)} far/edge probes")


# =========================================================================== continuity


def _check_continuity(problem: _Problem, j: int, samples: _Samples) -> SymbolicFinding:
    b = problem.boundaries[j]
    label = f"{problem.split} = {sp.sstr(b)}"
    points = samples.boundary_points[j]
    exact, exact_text = _exact_continuity(problem, j, samples.neighbours[j])
    numeric = _numeric_continuity(problem, points)
    n = len(points)
    if numeric.status == REFUTED:
        return SymbolicFinding("continuity", label, REFUTED, f"60-digit arithmetic at {n} boundary points",
                               numeric.evidence, numeric.counterexample)
    if exact and numeric.status == VERIFIED:
        return SymbolicFinding("continuity", label, VERIFIED,
                               f"sympy simplify (exact); cross-checked in 60-digit arithmetic at {n} boundary points",
                               exact_text)
    if numeric.status == VERIFIED and not exact:
        return SymbolicFinding("continuity", label, VERIFIED,
                               f"60-digit arithmetic at {n} boundary points (sympy could not decide)",
                               f"verified at {n} sampled points, not proved: {numeric.evidence}; sympy: {exact_text}")
    return SymbolicFinding("continuity", label, INCONCLUSIVE, "sympy simplify and 60-digit arithmetic",
                           f"sympy: {exact_text}; numerics: {numeric.evidence}")


def _exact_continuity(problem: _Problem, j: int, neighbours: set) -> tuple[bool, str]:
    """sympy: for each (below, on, above) case pattern seen at boundary j, the three pieces agree there."""
    b = problem.boundaries[j]
    if not neighbours:
        return False, "no sampled point on this boundary"
    facts = []
    for truths in sorted(neighbours):
        for v in problem.variables:
            left, at, right = (_select_pieces(problem.closed[v], dict(zip(problem.conditions, truth)))
                               .xreplace({problem.split: b}) for truth in truths)
            if _simplest(left - right) != 0:
                return False, (f"{v}: the one-sided limits {sp.simplify(left)} and {sp.simplify(right)} "
                               f"do not simplify to equal")
            if _simplest(at - right) != 0:
                return False, f"{v}: the value on the boundary, {sp.simplify(at)}, does not simplify to the limit {sp.simplify(right)}"
            facts.append(f"{v} -> {sp.simplify(right)}")
    return True, (f"both sides and the boundary value agree, identically in the parameters, for the "
                  f"{len(neighbours)} case pattern(s) met at the sampled boundary points: " + ", ".join(_unique(facts)))


def _numeric_continuity(problem: _Problem, points: list) -> _Result:
    if not points:
        return _Result(INCONCLUSIVE, "no sampled point on this boundary")
    worst = mpmath.mpf(0)
    for point in points:
        theta = point[problem.split]
        for v in problem.variables:
            values = [_real(problem.closed[v].xreplace({**point, problem.split: s}))
                      for s in (theta * (1 - CONTINUITY_STEP), theta, theta * (1 + CONTINUITY_STEP))]
            if any(x is None for x in values):
                return _Result(INCONCLUSIVE, f"{v}* is not a finite real next to {_parameters_text(problem, point)}")
            scale = 1 + max(abs(x) for x in values)
            jump = max(abs(values[0] - values[1]), abs(values[2] - values[1])) / scale
            worst = max(worst, jump)
            if jump > JUMP_RTOL:
                ce = _parameters_text(problem, point)
                ce.update({f"{v} below": _fmt(values[0]), f"{v} at": _fmt(values[1]), f"{v} above": _fmt(values[2])})
                return _Result(REFUTED, f"{v}* jumps by {mpmath.nstr(jump, 5)} (relative) across the boundary", ce)
            if jump > CONTINUITY_RTOL:
                return _Result(INCONCLUSIVE, f"{v}* changes by {mpmath.nstr(jump, 5)} within a relative step "
                                             f"{float(CONTINUITY_STEP):g}: neither clearly continuous nor a jump")
    return _Result(VERIFIED, f"largest relative change across a {float(CONTINUITY_STEP):g} step: {mpmath.nstr(worst, 3)}")


# =========================================================================== entry point


def check_closed_forms(theorem, seed: int = 0) -> list[SymbolicFinding]:
    """Stationarity, global minimality and continuity of the theorem's closed forms for g.

    Deterministic given ``seed``; every sampled parameter point is a rational number.
    """
    with mpmath.workdps(DPS):   # every comparison below happens at 60 digits, not mpmath's default 15
        return _check_closed_forms(theorem, seed)


def _check_closed_forms(theorem, seed: int) -> list[SymbolicFinding]:
    problem = _build_problem(theorem)
    rng = random.Random(seed)
    samples = _sample(problem, rng)
    if not samples.branches:
        raise SpecError(f"{theorem.name}: no sampled parameter point falls in any branch of the closed forms")
    ordered = sorted(samples.branches.values(), key=lambda br: br.truth, reverse=True)
    findings = [_check_stationarity(problem, branch) for branch in ordered]
    for branch in ordered:
        findings.append(_check_global_minimum(problem, branch.label(problem),
                                              branch.samples[:GLOBAL_INTERIOR_POINTS], rng))
    for j, b in enumerate(problem.boundaries):
        findings.append(_check_global_minimum(problem, f"{problem.split} = {sp.sstr(b)}",
                                              samples.boundary_points[j][:GLOBAL_BOUNDARY_POINTS], rng))
    if samples.zero_points:
        findings.append(_check_global_minimum(problem, f"{problem.split} = 0 (edge of the domain)",
                                              samples.zero_points, rng))
    findings.extend(_check_continuity(problem, j, samples) for j in range(len(problem.boundaries)))
    return findings
