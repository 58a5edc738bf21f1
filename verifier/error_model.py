"""The error model: every tolerance and allowance of the engine, each with its reason and its scale.

Nothing else in the engine writes a tolerance.  A checker computes a claim's :class:`Tolerance` from
named parts *before* it judges (never widened after a first REFUTED), and the outcome prints and stores
those parts.  The module is torch-free, so input validation can read ``LOSS_RTOL`` from here.

Scales (each instance's own; a relative tolerance is multiplied by one of them):

- the **loss scale** ``scale``: the data term's size (||Z||_F^2 / eta_dec^2 and the like) plus |L*|;
- the **value scale** ``scale ** (1/4)``: a natural unit of singular values (UV ~ Z, ||Z||^2 ~ scale);
- the **reference** of a quantity: the larger of the compared values, or the sum of a relation's terms;
- the **sensitivity**: how much the closed forms move under a relative change ``BOUNDARY_PERTURBATION``
  of their inputs (large beside a case split, where sqrt(max(0, .)) is not Lipschitz);
- the **certified point's uncertainty**: |grad| / curvature, the Newton step that would close the
  gap between the certified point and the exact minimiser (:func:`newton_distance`);
- the **statistics' rounding**: how far the whitened samples' second moment is from I (a model
  measures it; at least float64's epsilon).

Gates, one order for every claim kind (:func:`verifier.judge.evidence.gate` applies it):

1. *premise*: an instance outside the claim's premise (its ``when`` conditions, an implication's or a
   restriction's premise, data that do not fit it) is SKIPPED "premise not met" -- it says nothing;
2. *at the boundary*: at an index on its case boundary the optimum is degenerate, so a claim about its
   structure is SKIPPED there (undecided); the loss comparisons still apply;
3. *uncertified*: a claim that needs the optimum is INCONCLUSIVE where the minimiser's point is not
   certified or the claimed point lies below it;
4. *judged* against the claim's tolerance.

A checker may refute before gate 3 only on evidence that stands without the minimiser (the claimed
point's own gradient; the data-form identity at random points).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

# --------------------------------------------------------------------------- relative tolerances (x a scale)

# Two losses are equal within this x the loss scale: a certified float64 minimum is exact to ~1e-12 of
# the scale, and no wrong closed form we know of comes within 1e-6 of it.  It also bounds the
# certifiable range of inputs (validation.LARGEST_SPREAD = LOSS_RTOL ** -0.5).
LOSS_RTOL = 1e-9

# The minimiser's certificate (MinimiserSettings' defaults): stationary when ||grad|| <= GRAD_RTOL x scale,
# a minimum when lambda_min(H) >= -HESSIAN_RTOL x scale (Hessian entries are second derivatives of a loss
# of that scale; eigenvalues below HESSIAN_RTOL x scale are the objective's symmetries, its null cutoff).
GRAD_RTOL = 1e-9
HESSIAN_RTOL = 1e-8

# The damped Newton loop's rounding of a loss: LOSS_ROUNDING_ULPS ulps of the larger of |loss| and the loss
# scale.  The loss is a sum of terms of the scale's size that may cancel (a loss near 0 with terms of 0.4), so
# |loss| alone understates its rounding; a step that raises the loss by less than this is not worse.
LOSS_ROUNDING_ULPS = 16
# Restarts whose losses agree within RESTART_TIE_RTOL x the loss scale reached the same minimum up to rounding
# (a certified float64 minimum is exact to ~1e-12 of the scale): a certified one among them is kept over an
# uncertified one that rounding put lower.  Far below LOSS_RTOL, so no real gap is hidden by the choice.
RESTART_TIE_RTOL = 1e-12

# The identity "data-form loss - constant = matrix objective" at random points: both sides are sums of
# O(1) terms evaluated in float64, so they agree to a few hundred ulps of their size.
IDENTITY_RTOL = 1e-9

# How many times its change under one pseudo-inverse Newton step a quantity at the certified point may
# be off: at a quadratic minimum one step lands on the minimiser, so the change is the point's error;
# the factor covers the step's own error in a shallow or flat valley.
NEWTON_STEP_FACTOR = 10.0

# A convex certificate's loss gap below this x the loss scale counts as zero: the interior-point solvers
# reach ~1e-9 relative accuracy at these sizes, far below any wrong closed form's gap.
CERTIFICATE_RTOL = 1e-8
# The solver's solution M = UV has rank the number of its singular values above this x the largest (or 1).
CERTIFICATE_RANK_RTOL = 1e-6

# --------------------------------------------------------------------------- the case boundary

# Relative perturbation of the per-index inputs (and hyperparameters) used to measure the sensitivity.
BOUNDARY_PERTURBATION = 1e-9
# Instances whose closed forms move more than this have them evaluated with EXTENDED_DIGITS digits
# (batch.instantiate); below Tolerances.boundary_sensitivity, so every instance judged at a case
# boundary is among them.
EXTENDED_PRECISION_SENSITIVITY = 1e-6
EXTENDED_DIGITS = 50
# An index exactly on its threshold, whatever the closed forms' sizes: sqrt(max(0, .)) is not Lipschitz there,
# so its change under a KINK_PROBE_RATIO x smaller perturbation shrinks only ~sqrt(KINK_PROBE_RATIO) x, where a
# Lipschitz closed form's shrinks KINK_PROBE_RATIO x.  A change that shrinks less than KINK_SHRINK_LIMIT x
# (between the two) marks a kink: infinite sensitivity, at the case boundary.  (The size of the change alone
# missed one: theta = sqrt(beta1) sigma1 exactly, with sigma1 = 1/6, moved lambda* by 7e-6 < 1e-5 of its largest
# value, and the degenerate optimum's 2e-5 was judged as a value.)  Changes below KINK_FLOOR are the closed
# forms' own rounding, which follows no scaling law.
KINK_PROBE_RATIO = 100.0
KINK_SHRINK_LIMIT = 30.0
KINK_FLOOR = 1e-12

# --------------------------------------------------------------------------- symbolic comparisons (60 digits)

# The symbolic checks (verifier/symbolic/) evaluate exact expressions with 60 digits, so a true equality holds
# to ~1e-55 of its size; each threshold below sits many orders above that and far below any real difference.
# Two values of the reduced objective g are equal within this x max(1, |g|) (the claimed point against every
# real critical point of every face).
SYMBOLIC_GLOBAL_RTOL = 1e-30
# A KKT residual at most SYMBOLIC_ZERO_RTOL x its scale is 0; above SYMBOLIC_NONZERO_RTOL x it a definite
# violation; in between undecided (INCONCLUSIVE), never rounded either way.
SYMBOLIC_ZERO_RTOL = 1e-40
SYMBOLIC_NONZERO_RTOL = 1e-20
# The real solutions of a critical-point system are extended variable by variable at 100 digits
# (symbolic.triangular): a root's imaginary part, a polynomial's value at a root, or the gap between two roots
# is 0 when it is SYMBOLIC_ROOT_ZERO_DIGITS digits below its scale -- half the digits carried, so rounding
# (~1e-100) and a double root's split (~1e-50 at worst) are zero while any real difference (far above 1e-30,
# SYMBOLIC_GLOBAL_RTOL) is not.
SYMBOLIC_ROOT_ZERO_DIGITS = 50
# Continuity across a case boundary, from values a relative step of 1e-45 (symbolic.sampling.CONTINUITY_STEP)
# either side: a continuous closed form (at worst a square root of the distance) moves by ~sqrt(1e-45) ~ 3e-23,
# so a change below CONTINUITY_RTOL x (1 + |value|) is continuous; one above JUMP_RTOL x it is a jump.
CONTINUITY_RTOL = 1e-15
JUMP_RTOL = 1e-6

# --------------------------------------------------------------------------- floors of references

# A spectrum's reference is at least this x the value scale: a spectrum that is all zeros (complete
# collapse) is compared to the instance's unit, not to 0.
VALUE_REFERENCE_FLOOR = 1e-3
# float64 resolution of a quantity of the loss scale's size: below it a residual is rounding.
FLOAT_RESOLUTION = 1e-15
# A guard against dividing by zero where a ratio only orders outcomes (never a tolerance).
TINY = 1e-300


# Names of the parts that measure the certified point's imprecision (rather than a relative tolerance).
POINT_UNCERTAINTY = "certified point's uncertainty"
NEWTON_STEP_CHANGE = "newton_step_factor x change under one Newton step"


@dataclass(frozen=True)
class Tolerances:
    """The engine's relative tolerances; each is multiplied by its scale (field metadata names it)."""
    loss_rtol: float = field(default=LOSS_RTOL, metadata={"scale": "loss scale", "reason": "two losses equal"})
    claimed_grad_rtol: float = field(default=1e-7, metadata={
        "scale": "loss scale", "reason": "the claimed optimum is stationary (closed forms rounded to float64)"})
    value_rtol: float = field(default=1e-6, metadata={
        "scale": "reference", "reason": "closed-form values vs the certified spectrum"})
    relation_rtol: float = field(default=1e-6, metadata={
        "scale": "the relation's terms", "reason": "a matrix relation at the certified point"})
    zero_rtol: float = field(default=1e-6, metadata={
        "scale": "reference", "reason": "a singular value or line norm below it is zero"})
    nonzero_rtol: float = field(default=1e-3, metadata={
        "scale": "reference", "reason": "above it non-zero; between zero_rtol and it undecided"})
    boundary_sensitivity: float = field(default=1e-5, metadata={
        "scale": "relative", "reason": "closed forms moving more than this are at a case boundary"})
    precision_limit: float = field(default=1e-4, metadata={
        "scale": "value scale", "reason": "a certified point less precise than this settles no value"})
    identity_rtol: float = field(default=IDENTITY_RTOL, metadata={
        "scale": "the losses compared", "reason": "the data-form identity at random points"})
    newton_step_factor: float = field(default=NEWTON_STEP_FACTOR, metadata={
        "scale": "change under one Newton step", "reason": "a quantity's imprecision at the certified point"})

    def describe(self) -> str:
        return ", ".join(f"{f.name}={getattr(self, f.name):g}" for f in fields(self))

    def loosened(self, factor: float, *names: str) -> "Tolerances":
        """These tolerances with the named ones multiplied by ``factor`` (a deliberately wrong error model)."""
        unknown = sorted(set(names) - {f.name for f in fields(self)})
        if unknown:
            raise ValueError(f"Tolerances has no field(s) {unknown}")
        return Tolerances(**{f.name: getattr(self, f.name) * (factor if f.name in names else 1.0)
                             for f in fields(self)})


@dataclass(frozen=True)
class Tolerance:
    """One comparison's allowance: the sum of named ``parts``, at least its largest ``floor``.

    A floor is an allowance that replaces the sum rather than adding to it (e.g. 'every term of the
    relation is at the zero tolerance': then the relation reads 0 = 0)."""
    parts: dict
    floors: dict = field(default_factory=dict)

    @property
    def total(self) -> float:
        # An undefined part (nan: a closed form undefined on the instance) leaves the sum undefined, so the
        # comparison fails -- unless a floor applies, which replaces the sum.
        summed = math.fsum(self.parts.values())
        floor = max((v for v in self.floors.values() if v > 0), default=None)
        if floor is None:
            return summed
        return floor if math.isnan(summed) else max(summed, floor)

    def admits(self, error: float) -> bool:
        return error <= self.total

    def describe(self) -> str:
        named = " + ".join(f"{name} {value:.1e}" for name, value in self.parts.items() if value)
        text = f"{self.total:.1e} = {named or '0'}"
        floors = [f"{name} {value:.1e}" for name, value in self.floors.items() if value]
        return text + (f", at least {', '.join(floors)}" if floors else "")

    def metrics(self, prefix: str = "tolerance") -> dict:
        """The total and every part as flat numeric metrics (the JSON output keeps the worst of each)."""
        out = {prefix: self.total}
        out.update({f"{prefix} part: {name}": value for name, value in self.parts.items()})
        out.update({f"{prefix} floor: {name}": value for name, value in self.floors.items()})
        return out


def newton_distance(grad_norm: float, curvature: float) -> float:
    """|grad| / curvature: how far a certified point may lie from its exact minimiser (0 without curvature)."""
    return grad_norm / curvature if curvature > 0 else 0.0


# The rank rule, the ladder's diagnosis, the minimiser's divergence stop, the symbolic blame's match and the
# confirmation's sensitivity probe (each used in one module, kept here so every allowance has one home).
# The rank cutoff's constant (error model: the rank of data).  1 is numpy.linalg.matrix_rank's choice.
RANK_CUTOFF_FACTOR = 1.0
# diagnose(): a direction whose curvature is below FLAT_RTOL x the loss scale is called flat -- along it the
# gradient decays by only that factor per Newton step, so the loop runs out of iterations first.
FLAT_RTOL = 1e-6
# A loss below -UNBOUNDED_FACTOR x the instance's loss scale is no minimum of a bounded objective (the scale
# includes |claimed optimum|, and every registered objective's minima lie within a few scales of 0): the problem
# is running off to -infinity, so the loop stops it and the ladder calls the objective unbounded below there.
UNBOUNDED_FACTOR = 1e6
# A closed form agrees with a minimiser's coordinate when they differ by at most this * (1 + |coordinate|):
# both are exact numbers evaluated at 60 digits, so a right closed form agrees to ~1e-55, and a wrong
# one that came within 1e-20 of the minimiser at a sampled rational point would be a coincidence.
MATCH_RTOL = 1e-20
# The probe of a spectrum's sensitivity along one eigendirection, relative to the point's size: small enough
# that a symmetry's change (second order: ~probe x the point's size) excuses nothing, large enough that
# float64 rounding (~1e-16 / probe) stays far below any tolerance.
SENSITIVITY_PROBE = 1e-6
