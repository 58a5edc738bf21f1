"""Which closed form is wrong: per-claim blame for a refuted symbolic check.

The KKT and global-minimum checks judge the closed forms together, at the point they assemble; when
one fails, the claims it bears on are not all wrong (a wrong omega* makes dg/dlambda fail as well).
At the counterexample, which holds exact rational parameters, every real critical point of g on every
face of the domain is computed exactly, and those of least g are the minimisers: a closed form v* is
wrong there when it is no minimiser's v-coordinate, whatever the other closed forms say.  When that
enumeration is incomplete the blame is undecided (None), never guessed.
"""
from __future__ import annotations

from typing import Mapping

import mpmath

from ..error_model import MATCH_RTOL
from .arithmetic import fmt
from .critical_points import critical_points, least
from .problem import Problem



def blame(problem: Problem, point: Mapping, claimed: Mapping, candidates: list[dict] | None = None,
          incomplete: str = "") -> tuple[tuple[str, ...] | None, str, dict]:
    """The closed forms that are wrong at ``point`` (None: undecided), a clause saying so, and the
    minimiser compared with (for the counterexample).  ``candidates``/``incomplete``: the critical
    points of g at ``point`` when the caller has enumerated them already."""
    g_here = problem.g.xreplace(point)
    if candidates is None:
        candidates, incomplete = critical_points(problem, point)
    if incomplete:
        return None, f"which closed form is wrong is undecided: the critical points are incomplete ({incomplete})", {}
    _, minimisers = least(g_here, tuple(problem.variables), candidates)
    if not minimisers:
        return None, "which closed form is wrong is undecided: no critical point has a finite g", {}
    wrong = tuple(str(v) for v in problem.variables
                  if not any(_agrees(claimed[v], m[v]) for m in minimisers))
    nearest = min(minimisers, key=lambda m: sum(not _agrees(claimed[v], m[v]) for v in problem.variables))
    shown = {f"minimiser {v}": fmt(nearest[v]) for v in problem.variables}
    if not wrong:
        return (), ("each closed form is some minimiser's coordinate, but together they are no minimiser "
                    f"(the minimisers: {len(minimisers)})"), shown
    right = [f"{v}*" for v in problem.variables if str(v) not in wrong]
    text = f"wrong closed form(s): {', '.join(f'{v}*' for v in wrong)}"
    if right:
        text += f" ({', '.join(right)} agree with the exact minimiser)"
    return wrong, text, shown


def _agrees(value: mpmath.mpf, coordinate: mpmath.mpf) -> bool:
    return abs(value - coordinate) <= MATCH_RTOL * (1 + abs(coordinate))

