"""Global minimality of the closed forms at sampled exact rational parameter points.

At each point (inside a branch, exactly on a boundary, at theta = 0) every real critical point of g
on every face of the domain is computed exactly (verifier.symbolic.critical_points), g is compared at
all of them in 60-digit arithmetic, and g is probed far away (and near the open edges) for
coercivity.  A better point is blamed on the closed forms that are wrong there.
"""
from __future__ import annotations

import random
from typing import Mapping

import mpmath

from .arithmetic import evaluate, fmt
from .blame import blame
from ..error_model import SYMBOLIC_GLOBAL_RTOL
from .critical_points import critical_points
from .findings import INCONCLUSIVE, REFUTED, VERIFIED, Result, SymbolicFinding
from .problem import Problem, claimed_point, parameters_text

COERCIVITY_DIRECTIONS = 8


def check_global_minimum(problem: Problem, label: str, points: list, rng: random.Random) -> SymbolicFinding:
    method = (f"exact real critical points on every face (lex Groebner basis, real roots variable by variable) at {len(points)} "
              f"sampled rational parameter point(s); g compared in 60-digit arithmetic (rtol {SYMBOLIC_GLOBAL_RTOL:g}); "
              f"coercivity probed numerically")
    if not points:
        return SymbolicFinding("global_minimum", label, INCONCLUSIVE, method, "no sampled point falls here")
    notes = []
    for point in points:
        result = _global_minimum_at(problem, point, rng)
        if result.status == REFUTED:
            return SymbolicFinding("global_minimum", label, REFUTED, method, result.evidence, result.counterexample,
                                   result.blamed)
        notes.append(result)
    unsettled = [r for r in notes if r.status != VERIFIED]
    if unsettled:
        return SymbolicFinding("global_minimum", label, INCONCLUSIVE, method,
                               "; ".join(r.evidence for r in unsettled[:2]))
    return SymbolicFinding("global_minimum", label, VERIFIED, method,
                           f"verified at {len(points)} sampled points, not proved: " + "; ".join(r.evidence for r in notes[:2])
                           + ("; ..." if len(notes) > 2 else ""))


def _global_minimum_at(problem: Problem, point: Mapping, rng: random.Random) -> Result:
    claimed, why, unusable = claimed_point(problem, point)
    params = parameters_text(problem, point)
    if claimed is None:
        return Result(REFUTED, f"the claimed point is not feasible: {why}", params, unusable)
    g_here = problem.g.xreplace(point)
    variables = tuple(problem.variables)
    g_claimed = evaluate(g_here, variables, tuple(claimed[v] for v in variables))
    if g_claimed is None:
        wrong, blame_text, minimiser = blame(problem, point, claimed)
        return Result(REFUTED, f"g is not finite at the claimed point; {blame_text}", {**params, **minimiser}, wrong)
    tolerance = SYMBOLIC_GLOBAL_RTOL * max(1, abs(g_claimed))
    candidates, incomplete = critical_points(problem, point)
    evaluated = []
    for cand in candidates:
        value = evaluate(g_here, variables, tuple(cand[v] for v in variables))
        if value is not None:
            evaluated.append((value, cand))
    better = [(value, cand) for value, cand in evaluated if value < g_claimed - tolerance]
    if better:
        value, cand = min(better, key=lambda vc: vc[0])
        wrong, blame_text, _ = blame(problem, point, claimed, candidates, incomplete)
        return Result(REFUTED, f"a critical point has g = {mpmath.nstr(value, 20)} < g(claimed) = "
                               f"{mpmath.nstr(g_claimed, 20)}; {blame_text}",
                      _better_point(problem, params, claimed, cand, g_claimed, value), wrong)
    probe = _coercivity_probe(problem, g_here, claimed, g_claimed, tolerance, rng)
    if probe.status == REFUTED:
        probe.counterexample = {**params, **probe.counterexample}
        probe.evidence += ("; which closed form is wrong is undecided: g falls below every critical point found, "
                           "so there is no minimiser to compare them with")
        return probe
    best = min((value for value, _ in evaluated), default=None)
    where = f"at {params}"
    if incomplete:
        return Result(INCONCLUSIVE, f"critical points not enumerable ({incomplete}) {where}")
    if best is None or g_claimed < best - tolerance:
        # the claimed point is below every critical point: it is not one, or some were missed
        return Result(INCONCLUSIVE, f"g(claimed) = {mpmath.nstr(g_claimed, 20)} is not the value of any critical "
                                     f"point found (best {best and mpmath.nstr(best, 20)}): enumeration incomplete or "
                                     f"the minimum is not attained {where}")
    if probe.status != VERIFIED:
        return Result(INCONCLUSIVE, f"{probe.evidence} {where}")
    return Result(VERIFIED, f"{len(evaluated)} critical point(s), min g = g(claimed) = {mpmath.nstr(g_claimed, 15)} "
                             f"{where}")


def _better_point(problem, params, claimed, cand, g_claimed, value) -> dict:
    out = dict(params)
    out.update({f"claimed {v}": fmt(claimed[v]) for v in problem.variables})
    out.update({f"better {v}": fmt(cand[v]) for v in problem.variables})
    out.update({"g(claimed)": fmt(g_claimed), "g(better)": fmt(value)})
    return out


def _coercivity_probe(problem, g_here, claimed, g_claimed, tolerance, rng) -> Result:
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
        values = [evaluate(g_here, variables, tuple(p[v] for v in variables)) for p in ray]
        for p, value in zip(ray, values):
            if value is not None and value < g_claimed - tolerance:
                ce = {f"probe {v}": fmt(p[v]) for v in variables}
                ce.update({"g(claimed)": fmt(g_claimed), "g(probe)": fmt(value)})
                return Result(REFUTED, f"a feasible point has g = {mpmath.nstr(value, 20)} < g(claimed) = "
                                        f"{mpmath.nstr(g_claimed, 20)}", ce)
        if any(value is None for value in values) or not (g_claimed < values[0] < values[1] < values[2]):
            not_rising.append(values)
    if not_rising:
        return Result(INCONCLUSIVE, f"coercivity not seen: g does not rise on {len(not_rising)} of {len(probes)} probes")
    return Result(VERIFIED, f"g rises above g(claimed) on all {len(probes)} far/edge probes")


# =========================================================================== continuity
