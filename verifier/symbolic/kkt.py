"""Stationarity: in each branch the closed-form point satisfies the KKT conditions of min g.

The domain is v >= 0 (v > 0 for variables declared positive, such as standard deviations):
dg/dv = 0 where v* > 0 and dg/dv >= 0 where v* = 0.  sympy is asked to prove the conditions on the
whole branch (exact); they are also evaluated in 60-digit arithmetic at the branch's sampled points.
A failure is blamed on the closed forms that are wrong there (verifier.symbolic.blame).
"""
from __future__ import annotations

import itertools

import mpmath
import sympy as sp

from ..error_model import SYMBOLIC_NONZERO_RTOL, SYMBOLIC_ZERO_RTOL
from .arithmetic import DPS, evaluate, fmt, mp, simplest
from .blame import blame
from .findings import INCONCLUSIVE, REFUTED, VERIFIED, Result, SymbolicFinding
from .problem import Branch, Problem, claimed_point, parameters_text, select_pieces


def check_stationarity(problem: Problem, branch: Branch) -> SymbolicFinding:
    label = branch.label(problem)
    exact, exact_text = _exact_kkt(problem, branch)
    numeric = _numeric_kkt(problem, branch)
    n = len(branch.samples)
    if numeric.status == REFUTED:
        return SymbolicFinding("stationarity", label, REFUTED, f"60-digit arithmetic at {n} sampled points",
                               numeric.evidence, numeric.counterexample, numeric.blamed)
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


def _slack_substitution(problem: Problem, branch: Branch) -> tuple[dict, str]:
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


def _fresh_name(stem: str, problem: Problem) -> str:
    taken = {str(s) for s in problem.g.free_symbols | set(problem.parameters)}
    return next(name for name in (stem + "_" * k for k in itertools.count()) if name not in taken)


def _exact_kkt(problem: Problem, branch: Branch) -> tuple[bool, str]:
    """True when sympy proves every KKT condition on the whole branch; else False and why."""
    truth = dict(zip(problem.conditions, branch.truth))
    slack, slack_text = _slack_substitution(problem, branch)
    pieces = {v: select_pieces(problem.closed[v], truth) for v in problem.variables}
    facts = []
    for v in problem.variables:
        value = simplest(pieces[v].xreplace(slack))
        derivative = simplest(problem.gradient[v].xreplace(pieces).xreplace(slack))
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


def _sympy_decides(expr: sp.Expr, assumption: str) -> bool:
    """True only when sympy's assumptions prove it, for the expression or its expanded/factored forms."""
    return any(getattr(form, assumption) is True for form in _forms(expr))


def _forms(expr):
    yield expr
    yield sp.expand(expr)
    yield sp.factor(expr)
    # sqrt(f) is positive when f is; expanding under the root lets the assumptions see it
    yield expr.replace(lambda e: isinstance(e, sp.Pow), lambda e: sp.Pow(sp.factor(sp.expand(e.base)), e.exp))


def _numeric_kkt(problem: Problem, branch: Branch) -> Result:
    symbols = tuple(problem.variables) + tuple(problem.parameters)
    worst = mpmath.mpf(0)
    undecided = []
    for point in branch.samples:
        claimed, why, unusable = claimed_point(problem, point)
        if claimed is None:
            return Result(REFUTED, f"the claimed point is not feasible: {why}", parameters_text(problem, point),
                          unusable)
        with mpmath.workdps(DPS):
            values = tuple(claimed[v] for v in problem.variables) + tuple(mpmath.mpf(point[p].p) / point[p].q
                                                                          if point[p].is_Rational else mp(point[p])
                                                                          for p in problem.parameters)
        for v in problem.variables:
            derivative = evaluate(problem.gradient[v], symbols, values)
            scale = _gradient_scale(problem, v, symbols, values)
            if derivative is None or scale is None:
                undecided.append(f"dg/d{v} not a finite real at {parameters_text(problem, point)}")
                continue
            relative = derivative / scale
            at_zero = claimed[v] == 0 and not problem.is_open(v)
            violation = -relative if at_zero else abs(relative)
            worst = max(worst, violation)
            if violation > SYMBOLIC_NONZERO_RTOL:
                ce = parameters_text(problem, point)
                ce.update({f"claimed {u}": fmt(claimed[u]) for u in problem.variables})
                ce[f"dg/d{v}"] = fmt(derivative)
                rule = "dg/d{v} >= 0 at {v}* = 0" if at_zero else "dg/d{v} = 0 at {v}* > 0"
                wrong, blame_text, minimiser = blame(problem, point, claimed)
                ce.update(minimiser)
                return Result(REFUTED, f"KKT condition {rule.format(v=v)} fails: dg/d{v} = "
                               f"{mpmath.nstr(derivative, 15)} (relative {mpmath.nstr(relative, 5)}); {blame_text}",
                              ce, wrong)
            if violation > SYMBOLIC_ZERO_RTOL:
                undecided.append(f"dg/d{v} = {mpmath.nstr(derivative, 5)} is neither clearly 0 nor clearly not")
    if not branch.samples:
        return Result(INCONCLUSIVE, "no sampled point falls in this branch")
    if undecided:
        return Result(INCONCLUSIVE, "; ".join(undecided[:3]))
    return Result(VERIFIED, f"largest relative KKT violation {mpmath.nstr(worst, 3)} "
                             f"(zero below {SYMBOLIC_ZERO_RTOL:g}, violation above {SYMBOLIC_NONZERO_RTOL:g})")


def _gradient_scale(problem, v, symbols, values):
    """Sum of |terms| of dg/dv: the size a cancellation to zero is measured against."""
    total = mpmath.mpf(0)
    for term in problem.gradient_terms[v]:
        value = evaluate(term, symbols, values)
        if value is None:
            return None
        total += abs(value)
    return total if total > 0 else mpmath.mpf(1)


# =========================================================================== global minimum
