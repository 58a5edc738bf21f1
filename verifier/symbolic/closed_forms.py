"""The symbolic checks of a theorem's closed forms against its reduced per-index objective g."""
from __future__ import annotations

import random

import mpmath
import sympy as sp

from ..errors import SpecError
from .arithmetic import DPS
from .continuity import check_continuity
from .findings import SymbolicFinding
from .global_min import check_global_minimum
from .kkt import check_stationarity
from .problem import build_problem
from .sampling import GLOBAL_BOUNDARY_POINTS, GLOBAL_INTERIOR_POINTS, sample


def check_closed_forms(theorem, seed: int = 0) -> list[SymbolicFinding]:
    """Stationarity, global minimality and continuity of the theorem's closed forms for g.

    Deterministic given ``seed``; every sampled parameter point is a rational number.
    """
    with mpmath.workdps(DPS):   # every comparison below happens at 60 digits, not mpmath's default 15
        return _check_closed_forms(theorem, seed)


def _check_closed_forms(theorem, seed: int) -> list[SymbolicFinding]:
    problem = build_problem(theorem)
    rng = random.Random(seed)
    samples = sample(problem, rng)
    if not samples.branches:
        raise SpecError(f"{theorem.name}: no sampled parameter point falls in any branch of the closed forms")
    ordered = sorted(samples.branches.values(), key=lambda br: br.truth, reverse=True)
    findings = [check_stationarity(problem, branch) for branch in ordered]
    for branch in ordered:
        findings.append(check_global_minimum(problem, branch.label(problem),
                                              branch.samples[:GLOBAL_INTERIOR_POINTS], rng))
    for j, b in enumerate(problem.boundaries):
        findings.append(check_global_minimum(problem, f"{problem.split} = {sp.sstr(b)}",
                                              samples.boundary_points[j][:GLOBAL_BOUNDARY_POINTS], rng))
    if samples.zero_points:
        findings.append(check_global_minimum(problem, f"{problem.split} = 0 (edge of the domain)",
                                              samples.zero_points, rng))
    findings.extend(check_continuity(problem, j, samples) for j in range(len(problem.boundaries)))
    return findings
