"""Symbolic checks of a theorem: matrix gradients, the per-index reduction, and its closed forms.

Three public entry points:

* :func:`matrix_gradients` (``gradients``) derives the gradient of a model's matrix objective with
  respect to each variable matrix by sympy matrix calculus (term by term, with the
  rule d log|S| = tr(S^{-1} dS) that sympy 1.14 lacks).
* :func:`reduced_objective` (``reduction``) substitutes the theorem's 1x1 reduction into the matrix
  objective: the scalar per-index objective g(variables; parameters) the proof arrives at.
* :func:`check_closed_forms` (``closed_forms``) checks the theorem's closed forms against g, branch by
  branch (``problem``: the branches are where the Max(0, .) and Piecewise cases of the closed forms
  switch, found from the closed forms themselves; ``sampling``: exact rational points in each):

  - ``stationarity`` (``kkt``): in each branch the closed-form point satisfies the KKT conditions of
    min g over the variables' domains (v >= 0; v > 0 for variables declared positive, such
    as standard deviations): dg/dv = 0 where v* > 0 and dg/dv >= 0 where v* = 0.
  - ``global_minimum`` (``global_min``, ``critical_points``): at sampled rational parameter points
    inside each branch, exactly on each boundary and at theta = 0, every real critical point of g on
    every face of the domain is computed exactly (a lex Groebner basis with the poles saturated away, then
    its real solutions variable by variable: ``triangular``), g is compared at all
    of them in 60-digit arithmetic, and g is probed far away (and near the open edges) for coercivity.
  - ``continuity`` (``continuity``): on each branch boundary the closed forms of the two sides agree.

A refuted finding names the closed forms it blames (``blame``): those that are no coordinate of an
exact minimiser of g at its counterexample, so that a wrong omega* refutes omega's claims and the
optimum, not lambda's.

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
from .closed_forms import check_closed_forms
from .findings import INCONCLUSIVE, REFUTED, VERIFIED, SymbolicFinding
from .gradients import matrix_gradients
from .reduction import reduced_objective

__all__ = ["INCONCLUSIVE", "REFUTED", "VERIFIED", "SymbolicFinding", "check_closed_forms", "matrix_gradients",
           "reduced_objective"]
