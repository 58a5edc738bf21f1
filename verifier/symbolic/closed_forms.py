"""The symbolic checks of a theorem's closed forms against its reduced per-index objective g."""
from __future__ import annotations

import random

import mpmath
import sympy as sp

from ..errors import SpecError
from ..spec import SpectrumReduction
from ..status import Status
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


def _beyond_the_per_index_problem(theorem) -> str:
    """Why the per-index problem cannot decide the closed forms ('' when it can): a closed form of a reduction
    variable that uses a dimension (an integer, which the exact rational samples would not respect) or a
    reduction over the indices (which ties the indices together: held as a free parameter, a relation among
    reductions would be refuted that holds on every instance)."""
    beyond = set(theorem.model.latent_dims) | set(theorem.model.data_dims)
    beyond |= {s for s, src in theorem.indexed if isinstance(src, SpectrumReduction)}
    forms = dict(theorem.closed_forms)
    used = sorted({str(d) for var in theorem.reduction.variables
                   for d in sp.sympify(forms.get(var, 0)).free_symbols & beyond})
    if not used:
        return ""
    return (f"the closed forms use {used} (dimensions or reductions over the indices), which the per-index "
            f"problem does not decide; only the numeric search judges them")


def _check_closed_forms(theorem, seed: int) -> list[SymbolicFinding]:
    beyond = _beyond_the_per_index_problem(theorem)
    if beyond:
        return [SymbolicFinding("per-index problem", "every branch", Status.NOT_APPLICABLE, "not run", beyond)]
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
