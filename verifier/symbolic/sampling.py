"""Where the symbolic checks look: exact rational parameter points in every branch and on every boundary.

Sampled parameters are rationals (log-uniform in about [0.2, 4.5], small denominators); split values
are rationals placed strictly inside each interval between boundaries, and a boundary point is made
exact by solving the boundary equation for one hyperparameter.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Mapping

import mpmath
import sympy as sp

from ..errors import SpecError
from .arithmetic import DPS, mp, rational, rational_near
from .problem import Branch, Problem

CONTINUITY_STEP = sp.Rational(1, 10**45)   # relative step either side of a boundary

# Sample sizes (the whole check must stay within ~20 s on 2 cores).
STATIONARITY_DRAWS = 40        # parameter draws; each gives one point in every branch it can reach
GLOBAL_INTERIOR_POINTS = 6     # global-minimum points per branch
GLOBAL_BOUNDARY_POINTS = 4     # global-minimum points exactly on each boundary
GLOBAL_ZERO_POINTS = 2         # global-minimum points at theta = 0 (edge of the domain)
CONTINUITY_POINTS = 8          # numeric continuity points per boundary


def random_positive(rng: random.Random) -> sp.Rational:
    """A log-uniform positive rational in about [0.22, 4.5] with a small denominator."""
    return rational(math.exp(rng.uniform(-1.5, 1.5)), 64)


def _strictly_inside(lo, hi, rng: random.Random) -> sp.Rational:
    """A rational strictly between two real numbers (hi may be +inf)."""
    for denominator in (10**4, 10**8, 10**16, 10**32):
        if hi == mpmath.inf:
            x = lo * (1 + mpmath.mpf(rng.uniform(0.05, 2.0))) if lo > 0 else mpmath.mpf(math.exp(rng.uniform(-1.5, 1.5)))
        else:
            x = lo + (hi - lo) * mpmath.mpf(rng.uniform(0.1, 0.9))
        q = rational_near(x, 40, denominator)
        if lo < mp(q) and (hi == mpmath.inf or mp(q) < hi):
            return q
    raise SpecError(f"cannot place a rational strictly between {lo} and {hi}")


def _truth(problem: Problem, point: Mapping) -> tuple[bool, ...]:
    """Which switch conditions hold at a point (exactly; 80-digit arithmetic where sympy leaves one open)."""
    values = []
    for cond in problem.conditions:
        value = cond.xreplace(point)
        if value not in (sp.true, sp.false):
            difference = mp(value.lhs - value.rhs)
            value = {sp.StrictGreaterThan: difference > 0, sp.GreaterThan: difference >= 0,
                     sp.StrictLessThan: difference < 0, sp.LessThan: difference <= 0}.get(type(value))
            if value is None:
                raise SpecError(f"cannot decide the condition {cond} at {point}")
        values.append(bool(value))
    return tuple(values)


def _boundary_values(problem: Problem, base: Mapping) -> list[tuple[int, mpmath.mpf]]:
    """(boundary index, value) for the boundaries that are real and positive at these parameters."""
    out = []
    for j, b in enumerate(problem.boundaries):
        value = mp(b.xreplace(base))
        if isinstance(value, mpmath.mpc):
            if abs(value.imag) > mpmath.mpf(10) ** (-DPS):
                continue
            value = value.real
        if value > 0:
            out.append((j, value))
    return sorted(out, key=lambda jv: jv[1])


@dataclass
class Samples:
    branches: dict                     # truth tuple -> Branch
    boundary_points: dict              # boundary index -> list of exact points (split exactly on it)
    zero_points: list                  # points with split = 0
    neighbours: dict                   # boundary index -> set of (truth below, on, above)


def sample(problem: Problem, rng: random.Random) -> Samples:
    branches: dict = {}
    boundary_points = {j: [] for j in range(len(problem.boundaries))}
    neighbours = {j: set() for j in range(len(problem.boundaries))}
    zero_points = []
    others = [p for p in problem.parameters if p != problem.split]
    for draw in range(STATIONARITY_DRAWS):
        base = {p: random_positive(rng) for p in others}
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
    return Samples(branches, boundary_points, zero_points, neighbours)


def _add_to_branch(problem, branches, point):
    truth = _truth(problem, point)
    branch = branches.setdefault(truth, Branch(truth))
    theta = mp(point[problem.split])
    positions = []
    for b in problem.boundaries:
        value = mp(b.xreplace(point))
        positions.append(None if isinstance(value, mpmath.mpc) else (">" if theta > value else "<"))
    branch.positions.add(tuple(positions))
    branch.samples.append(point)


def _exact_boundary_point(problem: Problem, base: Mapping, j: int) -> dict:
    """Parameters with split exactly on boundary j, rational where a parameter can be solved for."""
    b = problem.boundaries[j]
    value = sp.simplify(b.xreplace(base))
    if value.is_Rational:
        return {**base, problem.split: value}
    target = rational(float(mp(value).real), 10**4)
    # choose a rational split value and solve the boundary equation for one other parameter
    candidates = sorted(b.free_symbols & set(base), key=str)
    for solve_for in (_rational_root, _solved_root):
        for p in candidates:
            rest = {q: v for q, v in base.items() if q != p}
            for s in solve_for(b.xreplace(rest), p, base[p], target):
                point = {**rest, p: s, problem.split: target}
                if sp.simplify(b.xreplace(point) - target) == 0:
                    return point
    return {**base, problem.split: value}   # exact but algebraic


ROOT_DPS = 120                 # digits of the numeric root, twice those of the rationals it is read back as
ROOT_DENOMINATOR = 10**50


def _rational_root(lhs: sp.Expr, p: sp.Symbol, start: sp.Rational, target: sp.Rational) -> list:
    """The root of lhs(p) = target nearest ``start`` (Newton's method at 120 digits), read back as a rational.

    Where the boundary is a power law in p (sqrt(beta) c sigma, (beta1 beta2)^(1/4) ..., or a Max of such),
    the root is rational and this finds it in milliseconds; ``sp.solve`` on a Max of fourth roots took
    minutes and found none, leaving an algebraic point on which the critical-point enumeration exceeds its
    budget.  The caller accepts the rational only if it satisfies the equation exactly."""
    if lhs.free_symbols - {p}:
        return []                          # not an equation in p alone: left to sympy's solver
    f = sp.lambdify([p], lhs - target, modules="mpmath")
    with mpmath.workdps(ROOT_DPS):
        try:
            root = mpmath.findroot(f, mpmath.mpf(start.p) / start.q, tol=mpmath.mpf(10) ** (20 - ROOT_DPS))
        except (ValueError, ZeroDivisionError, TypeError):
            return []
        if isinstance(root, mpmath.mpc) or not root > 0:
            return []
        return [rational_near(root, ROOT_DPS, ROOT_DENOMINATOR)]


def _solved_root(lhs: sp.Expr, p: sp.Symbol, start: sp.Rational, target: sp.Rational) -> list:
    """The positive rational solutions of lhs(p) = target that sympy's solver finds (slow: the fallback)."""
    try:
        solutions = sp.solve(sp.Eq(lhs, target), p)
    except NotImplementedError:
        return []
    return [s for s in solutions if s.is_Rational and s > 0]


def _neighbour_truths(problem: Problem, point: Mapping) -> tuple:
    """The switch conditions just below, exactly on, and just above a boundary point."""
    theta = point[problem.split]
    below = _truth(problem, {**point, problem.split: theta * (1 - CONTINUITY_STEP)})
    above = _truth(problem, {**point, problem.split: theta * (1 + CONTINUITY_STEP)})
    return below, _truth(problem, point), above
