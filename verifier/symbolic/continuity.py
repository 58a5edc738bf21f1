"""Continuity: on each branch boundary the closed forms of the two sides and of the boundary agree.

Exactly (sympy, for each case pattern met at the sampled boundary points) and in 60-digit arithmetic
a relative step CONTINUITY_STEP either side of exact boundary points.  A jump is blamed on the closed
form that jumps.
"""
from __future__ import annotations

import mpmath
import sympy as sp

from ..error_model import CONTINUITY_RTOL, JUMP_RTOL
from .arithmetic import fmt, real, simplest
from .findings import INCONCLUSIVE, REFUTED, VERIFIED, Result, SymbolicFinding
from .problem import Problem, parameters_text, select_pieces, unique, value_at
from .sampling import CONTINUITY_STEP, Samples


def check_continuity(problem: Problem, j: int, samples: Samples) -> SymbolicFinding:
    b = problem.boundaries[j]
    label = f"{problem.split} = {sp.sstr(b)}"
    points = samples.boundary_points[j]
    exact, exact_text = _exact_continuity(problem, j, samples.neighbours[j])
    numeric = _numeric_continuity(problem, points)
    n = len(points)
    if numeric.status == REFUTED:
        return SymbolicFinding("continuity", label, REFUTED, f"60-digit arithmetic at {n} boundary points",
                               numeric.evidence, numeric.counterexample, numeric.blamed)
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


def _exact_continuity(problem: Problem, j: int, neighbours: set) -> tuple[bool, str]:
    """sympy: for each (below, on, above) case pattern seen at boundary j, the three pieces agree there."""
    b = problem.boundaries[j]
    if not neighbours:
        return False, "no sampled point on this boundary"
    facts = []
    for truths in sorted(neighbours):
        for v in problem.variables:
            left, at, right = (select_pieces(problem.closed[v], dict(zip(problem.conditions, truth)))
                               .xreplace({problem.split: b}) for truth in truths)
            if simplest(left - right) != 0:
                return False, (f"{v}: the one-sided limits {sp.simplify(left)} and {sp.simplify(right)} "
                               f"do not simplify to equal")
            if simplest(at - right) != 0:
                return False, f"{v}: the value on the boundary, {sp.simplify(at)}, does not simplify to the limit {sp.simplify(right)}"
            facts.append(f"{v} -> {sp.simplify(right)}")
    return True, (f"both sides and the boundary value agree, identically in the parameters, for the "
                  f"{len(neighbours)} case pattern(s) met at the sampled boundary points: " + ", ".join(unique(facts)))


def _numeric_continuity(problem: Problem, points: list) -> Result:
    if not points:
        return Result(INCONCLUSIVE, "no sampled point on this boundary")
    worst = mpmath.mpf(0)
    for point in points:
        theta = point[problem.split]
        for v in problem.variables:
            values = [real(value_at(problem.closed[v], {**point, problem.split: s}))
                      for s in (theta * (1 - CONTINUITY_STEP), theta, theta * (1 + CONTINUITY_STEP))]
            if any(x is None for x in values):
                return Result(INCONCLUSIVE, f"{v}* is not a finite real next to {parameters_text(problem, point)}")
            scale = 1 + max(abs(x) for x in values)
            jump = max(abs(values[0] - values[1]), abs(values[2] - values[1])) / scale
            worst = max(worst, jump)
            if jump > JUMP_RTOL:
                ce = parameters_text(problem, point)
                ce.update({f"{v} below": fmt(values[0]), f"{v} at": fmt(values[1]), f"{v} above": fmt(values[2])})
                return Result(REFUTED, f"{v}* jumps by {mpmath.nstr(jump, 5)} (relative) across the boundary", ce,
                              (str(v),))
            if jump > CONTINUITY_RTOL:
                return Result(INCONCLUSIVE, f"{v}* changes by {mpmath.nstr(jump, 5)} within a relative step "
                                             f"{float(CONTINUITY_STEP):g}: neither clearly continuous nor a jump")
    return Result(VERIFIED, f"largest relative change across a {float(CONTINUITY_STEP):g} step: {mpmath.nstr(worst, 3)}")
