"""The per-index problem: g, its variables and parameters, the closed forms and where they switch.

The branches are where the Max(0, .) and Piecewise cases of the closed forms switch, found from the
closed forms themselves, not from the theorem's stated thresholds.  Supported closed forms: Max/Min
of two arguments and Piecewise with one inequality per piece, switching at values of one per-index
parameter (theta); anything else is a SpecError.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import mpmath
import sympy as sp

from ..errors import SpecError
from ..spec import Constant
from .arithmetic import fmt, real
from .reduction import reduced_objective


@dataclass
class Problem:
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
    # claimed_point's results by parameter point: the global-minimum check asks again at the points the
    # stationarity check evaluated, and each exact evaluation of a closed form costs tens of milliseconds
    claimed_at: dict = field(default_factory=dict, repr=False, compare=False)

    def is_open(self, v: sp.Symbol) -> bool:
        """Domain (0, inf) for variables declared positive (standard deviations), else [0, inf)."""
        return bool(v.is_positive)


@dataclass
class Branch:
    truth: tuple[bool, ...]                  # value of each condition on this branch
    positions: set = field(default_factory=set)   # '>'/'<' of split against each boundary, as seen
    samples: list = field(default_factory=list)

    def label(self, problem: Problem) -> str:
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


def build_problem(theorem) -> Problem:
    # a per-index quantity that is one number at every index (Constant) is that number, not a parameter
    constants = {s: sp.nsimplify(src.value) for s, src in theorem.indexed if isinstance(src, Constant)}
    g = reduced_objective(theorem).xreplace(constants)
    variables = tuple(theorem.reduction.variables)
    closed = {}
    for v in variables:
        try:
            closed[v] = sp.sympify(theorem.closed_form(v)).xreplace(constants)
        except KeyError:
            raise SpecError(f"{theorem.name}: the reduction variable {v} has no closed form; closed forms "
                            f"exist for {[str(s) for s, _ in theorem.closed_forms]}") from None
    hyper = [h.symbol for h in theorem.model.hyperparameters]
    indexed = [s for s, _ in theorem.indexed if s not in variables and s not in constants]
    parameters = tuple(hyper + indexed)
    stray = g.free_symbols - set(variables) - set(parameters)
    if stray:
        raise SpecError(f"{theorem.name}: g = {g} uses {sorted(map(str, stray))}, which are neither reduction "
                        f"variables nor parameters {[str(p) for p in parameters]}")
    for v, expr in closed.items():
        if expr.free_symbols - set(parameters):
            raise SpecError(f"{theorem.name}: the closed form of {v} = {expr} uses "
                            f"{sorted(map(str, expr.free_symbols - set(parameters)))}, which are not parameters")
    conditions = unique(c for v in variables for c in _switch_conditions(closed[v]))
    split = _split_parameter(theorem, indexed, conditions)
    boundaries = _boundaries(theorem, split, conditions)
    gradient = {v: sp.diff(g, v) for v in variables}
    terms = {v: sp.Add.make_args(sp.expand(d)) for v, d in gradient.items()}
    return Problem(theorem.name, g, variables, parameters, split, closed, conditions, boundaries, gradient, terms)


def unique(items) -> tuple:
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
    """Distinct values of ``split`` where some condition changes, solved exactly.

    A root that is never positive (the edge theta = 0, or -sqrt(beta) eta_dec from a condition written
    in theta^2) separates no two branches of the domain: the same split written either way has the
    same boundaries (theta = 0 itself is checked as the edge of the domain)."""
    roots = []
    for cond in conditions:
        try:
            found = sp.solve(sp.Eq(cond.lhs - cond.rhs, 0), split)
        except NotImplementedError as exc:
            raise SpecError(f"{theorem.name}: cannot solve the switch condition {cond} for {split}: {exc}") from None
        for r in found:
            if sp.sympify(r).is_nonpositive:
                continue
            if not any(sp.simplify(r - known) == 0 for known in roots):
                roots.append(r)
    return tuple(roots)


def select_pieces(expr: sp.Expr, truth: Mapping) -> sp.Expr:
    """The closed form on one branch: every Max/Min/Piecewise replaced by the piece that holds there."""
    if isinstance(expr, sp.Piecewise):
        for value, cond in expr.args:
            if cond is sp.true or truth[cond]:
                return select_pieces(value, truth)
        raise SpecError(f"no piece of {expr} holds on the branch {truth}: the closed form is undefined there")
    if isinstance(expr, (sp.Max, sp.Min)):
        a, b = expr.args
        return select_pieces(a if truth[_max_min_condition(expr, expr)] else b, truth)
    if not expr.args:
        return expr
    return expr.func(*[select_pieces(a, truth) for a in expr.args])


def value_at(expr: sp.Expr, point: Mapping) -> sp.Expr:
    """``expr.xreplace(point)``, exactly, with a Piecewise's conditions decided first and only the piece that
    holds substituted: ``xreplace`` evaluates every piece's value before the Piecewise keeps one, and exact
    radicals at rational points cost most of a claimed point (Theorem 5's closed forms: 0.8-2 s of its
    check).  Where a condition is not decided at the point (an unevaluated relation), the whole expression is
    substituted, as before."""
    if isinstance(expr, sp.Piecewise):
        for value, cond in expr.args:
            holds = cond.xreplace(point)
            if holds is sp.true:
                return value_at(value, point)
            if holds is not sp.false:
                break
    return expr.xreplace(point)


def parameters_text(problem: Problem, point: Mapping) -> dict:
    return {str(p): fmt(point[p]) for p in problem.parameters}


def claimed_point(problem: Problem, point: Mapping) -> tuple[dict | None, str, tuple[str, ...]]:
    """The closed-form values at ``point`` as 60-digit reals; or None, why they are unusable (the first
    reason) and the closed forms that are not a finite real inside their domain there."""
    at = tuple(sorted(point.items(), key=lambda item: str(item[0])))
    if at not in problem.claimed_at:
        problem.claimed_at[at] = _claimed_point(problem, point)
    values, why, unusable = problem.claimed_at[at]
    return (None if values is None else dict(values)), why, unusable


def _claimed_point(problem: Problem, point: Mapping) -> tuple[dict | None, str, tuple[str, ...]]:
    values, reasons, unusable = {}, [], []
    for v in problem.variables:
        exact = value_at(problem.closed[v], point)
        value = real(exact)
        if value is None:
            reasons.append(f"{v}* = {exact} is not a finite real number")
        elif value < 0 or (problem.is_open(v) and value <= 0):
            reasons.append(f"{v}* = {mpmath.nstr(value, 20)} lies outside the domain {v} "
                           f"{'>' if problem.is_open(v) else '>='} 0")
        else:
            values[v] = value
            continue
        unusable.append(str(v))
    if unusable:
        return None, reasons[0], tuple(unusable)
    return values, "", ()
