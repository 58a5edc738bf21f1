"""Confirm a refutation before it is reported: the search's float64 evidence, checked again another way.

A REFUTED outcome of the search is a claim about the paper, so it is reported only once it survives a
check the first computation cannot share an error with:

- **a lower loss** (a global-minimum claim): the lower point must be finite and certified (an uncertified
  one -- a diverging restart, a saddle -- is no counterexample; it says why it is uncertified), and both
  the claimed point's and the minimiser's losses are evaluated again with ``EXTENDED_DIGITS`` digits
  (sympy/mpmath, from the float64 points and data as given); the gap must survive;
- **a claimed point that is not stationary**: the derivative of the loss along its float64 gradient,
  by a central difference in ``EXTENDED_DIGITS``-digit arithmetic, must exceed the gradient tolerance;
- **a closed-form spectrum** that misses the minimiser's: the closed form evaluated again with
  ``EXTENDED_DIGITS`` digits must miss it too, and
- **anything else** (that spectrum, a relation, a rank, ...): an independent minimisation (the ladder's
  first rung: more restarts from other random starts, in a fresh pipeline) must refute it again, by more
  than its point's distance to the exact minimiser along every real curvature -- including curvature
  below the certificate's null cutoff (beside a threshold), which the checkers leave out -- weighed by
  how far that distance moves the compared values (a symmetry moves none). A difference within that is
  settled by the claimed optimum: VERIFIED where it is verified on the instance; so is a difference that
  the independent minimisation does not find again, at no lower point, where it lies within the search's
  own point's distance so weighed.

A difference that does not survive is no counterexample: the outcome becomes the confirmation's own
(VERIFIED where its check passes -- the gap vanishes at 50 digits, or the independent minimiser found a
lower certified point at which the claim holds -- else INCONCLUSIVE with the cause).
"""
from __future__ import annotations

from dataclasses import replace

import mpmath
import numpy as np
import sympy as sp
import torch

from .batch import EXTENDED_DIGITS, extended_precision_closed_form_values, group_by_dims, instantiate, statistics_of
from .error_model import SENSITIVITY_PROBE
from .judge import INCONCLUSIVE, REFUTED, VERIFIED, Outcome, spectrum
from .lowering import evaluate
from .ladder import ladder
from .numeric import Derivatives, Parametrisation
from .pipeline import InstanceResult, Pipeline
from .spec import Claim, ClosedFormSpectrum, DataFormAgreement, GlobalMinimum, Restricted, Theorem

# The central difference's step, relative to the point's size: its truncation error (~step^2) and its
# rounding (~10^-EXTENDED_DIGITS / step) both stay ~1e-30 relative, far below any gradient tolerance.
DIFFERENCE_STEP = sp.Rational(1, 10**20)


def _matrix(values) -> sp.ImmutableMatrix:
    """Float64 entries as EXTENDED_DIGITS-digit numbers, exactly; a sympy matrix (already extended) as it is."""
    if isinstance(values, sp.MatrixBase):
        return sp.ImmutableMatrix(values)
    array = np.atleast_2d(np.asarray(values, dtype=np.float64))
    return sp.ImmutableMatrix(array.shape[0], array.shape[1],
                              [sp.Float(float(v), EXTENDED_DIGITS) for v in array.flatten()])


def extended_loss(theorem: Theorem, instance, point: dict) -> sp.Float | None:
    """The model's objective at ``point`` (matrices by name, as floats) on ``instance``'s data, evaluated with
    EXTENDED_DIGITS digits from the float64 values as given; None where it is not a finite real number."""
    model = theorem.model
    mats, dims = statistics_of(theorem, instance)
    values = {m: _matrix(mats[m.name]) for m in model.data}
    values.update({h.symbol: sp.Float(float(instance.hyper[h.symbol.name]), EXTENDED_DIGITS)
                   for h in model.hyperparameters})
    values.update({v.symbol: _matrix(point[v.symbol.name]) for v in model.variables})
    expr = model.objective.xreplace(values).xreplace(dims)
    expr = expr.replace(lambda e: isinstance(e, sp.Identity), lambda e: sp.ImmutableMatrix(sp.eye(int(e.rows))))
    try:
        value = sp.N(expr.doit(), EXTENDED_DIGITS)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not (value.is_real and value.is_finite) or not isinstance(value, sp.Float):
        return None
    return value


def _float_gradient(theorem: Theorem, instance, point: dict) -> dict[str, np.ndarray]:
    """The float64 gradient of the objective at ``point`` with respect to every variable, as full matrices."""
    mats, dims = statistics_of(theorem, instance)
    t = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float64))[None]
    env = {m.name: t(mats[m.name]) for m in theorem.model.data}
    env.update({h.symbol.name: t(instance.hyper[h.symbol.name]) for h in theorem.model.hyperparameters})
    leaves = {k: t(v).requires_grad_(True) for k, v in point.items()}
    loss = evaluate(theorem.model.objective, {**env, **leaves}, dims, dtype=torch.float64, device="cpu")
    grads = torch.autograd.grad(loss.sum(), list(leaves.values()), allow_unused=True, materialize_grads=True)
    return {k: g[0].numpy() for k, g in zip(leaves, grads)}


def extended_directional_derivative(theorem: Theorem, instance, point: dict) -> tuple[float, float] | None:
    """(d/dt L(point + t u) at t = 0 with u the unit float64 gradient, by an EXTENDED_DIGITS central
    difference; the float64 gradient's norm), None where the loss cannot be evaluated there."""
    grad = _float_gradient(theorem, instance, point)
    norm = float(np.sqrt(sum(float((g ** 2).sum()) for g in grad.values())))
    if norm == 0.0:
        return 0.0, 0.0
    size = max(1.0, max(float(np.abs(np.asarray(v)).max()) for v in point.values()))
    with mpmath.workdps(EXTENDED_DIGITS):
        h = sp.Float(DIFFERENCE_STEP * size, EXTENDED_DIGITS)
        moved = []
        for sign in (1, -1):
            shifted = {k: _matrix(v) + sign * h * _matrix(grad[k]) / sp.Float(norm, EXTENDED_DIGITS)
                       for k, v in point.items()}
            moved.append(extended_loss(theorem, instance, shifted))
    if None in moved:
        return None
    return float((moved[0] - moved[1]) / (2 * h)), norm


def _compared_spectra(claim: Claim) -> list[tuple[str, str]]:
    """The (kind, matrix) spectra of the minimiser's point that ``claim`` compares: a closed-form spectrum's
    measured one, a data-form agreement's matrices (parameters of the matrix form too); none for other kinds."""
    if isinstance(claim, ClosedFormSpectrum):
        return [claim.measured]
    if isinstance(claim, DataFormAgreement):
        return list(claim.compare)
    return []


class Confirmer:
    """Confirms the refutations of one search (and its shrunk counterexample); an independent pipeline's
    minimisations are cached per instance, so a counterexample confirmed twice is minimised once more."""

    def __init__(self, pipeline: Pipeline):
        self.theorem = pipeline.theorem
        rung = ladder(pipeline.settings.minimiser)[0]
        self.independent = pipeline.sibling(replace(pipeline.settings, minimiser=rung.settings))
        self.independent_name = rung.name
        self.loss_rtol = pipeline.settings.tolerances.loss_rtol
        self.precision_limit = pipeline.settings.tolerances.precision_limit
        self.newton_step_factor = pipeline.settings.tolerances.newton_step_factor

    def confirm(self, claim: Claim, result: InstanceResult) -> Outcome:
        """The outcome to count for ``claim`` on ``result``'s instance, whose outcome is REFUTED."""
        outcome = result.outcomes[claim.name]
        inner = claim.inner if isinstance(claim, Restricted) else claim
        m = outcome.metrics
        if isinstance(inner, GlobalMinimum) and {"claimed_grad_norm", "grad_tol", "loss_gap"} <= set(m):
            if m["claimed_grad_norm"] > m["grad_tol"]:
                return self._not_stationary(result, outcome)
            return self._lower_loss(result, outcome)
        return self._independently(claim, result, outcome)

    def _lower_loss(self, result: InstanceResult, outcome: Outcome) -> Outcome:
        m, minimiser = dict(outcome.metrics), result.minimiser
        if not minimiser["certified"]:
            return Outcome(INCONCLUSIVE, f"{outcome.detail}, but the lower point is not certified, so it is no "
                                         f"counterexample: {minimiser['diagnosis']}", m)
        claimed = extended_loss(self.theorem, result.instance, result.claimed["matrices"])
        found = extended_loss(self.theorem, result.instance, minimiser["matrices"])
        if claimed is None or found is None:
            return Outcome(INCONCLUSIVE, f"{outcome.detail}, but a loss could not be evaluated with "
                                         f"{EXTENDED_DIGITS} digits to confirm it", m)
        gap, tol = float(claimed - found), m["loss_tol"]
        m.update(claimed_loss_extended=float(claimed), minimiser_loss_extended=float(found), loss_gap_extended=gap)
        if gap > tol:
            return Outcome(REFUTED, f"{outcome.detail}; confirmed with {EXTENDED_DIGITS} digits at the certified "
                                    f"point: gap {gap:.3e} > tol {tol:.1e}", m)
        if gap >= -tol:
            return Outcome(VERIFIED, f"the float64 gap ({m['loss_gap']:.3e}) vanishes with {EXTENDED_DIGITS} digits "
                                     f"(gap {gap:.2e} <= {tol:.1e}): no counterexample", m)
        return Outcome(INCONCLUSIVE, f"with {EXTENDED_DIGITS} digits the claimed optimum is lower than the "
                                     f"certified point (gap {gap:.3e}), against the float64 evaluation", m)

    def _not_stationary(self, result: InstanceResult, outcome: Outcome) -> Outcome:
        m = dict(outcome.metrics)
        measured = extended_directional_derivative(self.theorem, result.instance, result.claimed["matrices"])
        if measured is None:
            return Outcome(INCONCLUSIVE, f"{outcome.detail}, but the loss could not be evaluated with "
                                         f"{EXTENDED_DIGITS} digits beside the claimed point to confirm it", m)
        slope, _ = measured
        m["claimed_slope_extended"] = slope
        if slope > m["grad_tol"]:
            return Outcome(REFUTED, f"{outcome.detail}; confirmed with {EXTENDED_DIGITS} digits: the loss falls at "
                                    f"rate {slope:.3e} along the gradient", m)
        return Outcome(INCONCLUSIVE, f"{outcome.detail}, but with {EXTENDED_DIGITS} digits the slope along the "
                                     f"gradient is only {slope:.3e} <= {m['grad_tol']:.1e}: the float64 gradient is "
                                     f"rounding, and the stationarity is undecided", m)

    def _within_soft_uncertainty(self, result: InstanceResult, outcome: Outcome, claim: Claim) -> str | None:
        """Why ``outcome``'s difference is not beyond doubt, or None where it is: the certified point lies
        |g.v| / c from its exact minimiser along each eigendirection v of curvature c -- including real
        curvature below the certificate's null cutoff (beside a threshold), which the checker's uncertainty
        leaves out -- and that distance counts by how far it moves the compared spectrum (its sensitivity
        along v, by a one-sided difference): a symmetry of the objective (a latent rotation, whose curvature is
        the Hessian's rounding) moves no singular value, so it excuses nothing however flat it is (the spectra
        compared: a closed-form spectrum's measured one, or a data-form agreement's matrices).  Only
        eigenvalues at the Hessian's own rounding (P eps max|eig|) are excluded outright."""
        errors = [v for k, v in outcome.metrics.items() if k == "max_error" or k.startswith("spectrum_error_")]
        if not errors:
            return None
        param, x, g, H = self._point_derivatives(result)
        curvatures, directions = torch.linalg.eigh(H)
        floor = len(curvatures) * float(np.finfo(np.float64).eps) * float(curvatures.abs().max())
        soft = (curvatures > floor).nonzero().flatten().tolist()
        if not soft:
            return None
        ref = max([1.0] + [abs(v) for k in ("claimed", "measured") for v in outcome.metrics.get(k, [])])
        inner = claim.inner if isinstance(claim, Restricted) else claim
        compared = _compared_spectra(inner)
        if compared:
            h = SENSITIVITY_PROBE * max(1.0, float(x.norm()))
            moved = lambda point: torch.cat([spectrum(kind, param.matrices(point[None])[name])[0]
                                             for kind, name in compared])
            here = moved(x)
            # one-sided, the larger side: a singular value at 0 is a kink, which a central difference would halve
            sensitivity = lambda v: max(float((moved(x + h * v) - here).abs().max()),
                                        float((moved(x - h * v) - here).abs().max())) / h
            # as the judge's Newton-step allowances: newton_step_factor x the change under that step
            uncertainty = self.newton_step_factor * sum(
                float(abs(g @ directions[:, j])) / float(curvatures[j]) * sensitivity(directions[:, j]) for j in soft)
        else:
            # No way to move the compared quantity here: the distance itself, and only within the reach of the
            # quadratic model it comes from (beyond precision_limit x the values it is no distance at all).
            uncertainty = float(g.norm()) / float(curvatures[soft[0]]) * ref
            if uncertainty > self.precision_limit * ref:
                return None
        if max(errors) > uncertainty:
            return None
        return (f"the difference {max(errors):.2e} lies within {uncertainty:.1e}, how far the certified point's "
                f"distance to its exact minimiser along its soft directions (|grad| {float(g.norm()):.1e}, least "
                f"curvature {float(curvatures[soft[0]]):.1e}, below the null cutoff) moves the compared values")

    def _point_derivatives(self, result: InstanceResult):
        """The parametrisation, the minimiser's point x (P,), the gradient (P,) and the Hessian (P, P) there."""
        model = self.theorem.model
        mats, dims = statistics_of(self.theorem, result.instance)
        t = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float64))[None]
        env = {m.name: t(mats[m.name]) for m in model.data}
        env.update({h.symbol.name: t(result.instance.hyper[h.symbol.name]) for h in model.hyperparameters})
        param = Parametrisation(model, dims)
        derivatives = Derivatives(model.objective, param, dims, torch.float64, "cpu", block=64)
        x = param.flatten({k: t(v) for k, v in result.minimiser["matrices"].items()})
        _, g, H = derivatives(x, env, hessian=True)
        return param, x[0], g[0], 0.5 * (H[0] + H[0].mT)

    def _settled_by_the_optimum(self, result: InstanceResult, outcome: Outcome, doubt: str) -> Outcome:
        """A difference within doubt: VERIFIED where the claimed optimum itself is verified on the instance
        (stationary, and as low as the certified minimiser), else INCONCLUSIVE."""
        optimum = [c.name for c in self.theorem.claims if isinstance(c, GlobalMinimum)]
        verified = [n for n in optimum if result.outcomes[n].status == VERIFIED]
        if verified:
            return Outcome(VERIFIED, f"{outcome.detail}, but {doubt}; the claimed optimum is verified there "
                                     f"({result.outcomes[verified[0]].detail})", outcome.metrics)
        return Outcome(INCONCLUSIVE, f"{outcome.detail}, but {doubt}", outcome.metrics)

    def _closed_form_at_extended_precision(self, claim: ClosedFormSpectrum, result: InstanceResult,
                                           outcome: Outcome) -> Outcome | None:
        """None where the closed form's values, evaluated again with EXTENDED_DIGITS digits, still miss the
        measured spectrum by more than the tolerance; else VERIFIED: the mismatch was the float64 closed form's."""
        group = group_by_dims(self.theorem, [result.instance])[0]
        batch = instantiate(self.theorem, group)
        hyper = {h.symbol.name: batch.data[h.symbol.name] for h in self.theorem.model.hyperparameters}
        closed = extended_precision_closed_form_values(self.theorem, hyper, batch.indexed, batch.dims, batch.closed,
                                                       [0])[claim.quantity][0]
        measured = torch.as_tensor(outcome.metrics["measured"], dtype=torch.float64)
        claimed = closed.sort(descending=True).values
        n = max(len(measured), len(claimed))
        pad = lambda v: torch.nn.functional.pad(v, (0, n - len(v)))
        error = float((pad(measured) - pad(claimed)).abs().max())
        if error > outcome.metrics["tolerance"]:
            return None
        return Outcome(VERIFIED, f"the closed form evaluated with {EXTENDED_DIGITS} digits agrees: max error "
                                 f"{error:.2e} <= {outcome.metrics['tolerance']:.1e} (the float64 one was off: "
                                 f"{outcome.detail})", {**outcome.metrics, "max_error_extended": error})

    def _independently(self, claim: Claim, result: InstanceResult, outcome: Outcome) -> Outcome:
        inner = claim.inner if isinstance(claim, Restricted) else claim
        if isinstance(inner, ClosedFormSpectrum) and {"measured", "tolerance"} <= set(outcome.metrics):
            vanished = self._closed_form_at_extended_precision(inner, result, outcome)
            if vanished is not None:
                return vanished
        again = self.independent.run([result.instance])[0]
        second = again.outcomes[claim.name]
        how = f"an independent minimisation ({self.independent_name}, other random starts)"
        if second.status == REFUTED:
            doubt = self._within_soft_uncertainty(again, second, claim)
            if doubt is None:
                return Outcome(REFUTED, f"{outcome.detail}; confirmed by {how}", outcome.metrics)
            return self._settled_by_the_optimum(result, second, doubt)
        first, found = result.minimiser["loss"], again.minimiser["loss"]
        margin = self.loss_rtol * max(abs(first), abs(found), 1.0)
        if second.status == VERIFIED and again.minimiser["certified"] and found < first - margin:
            return Outcome(VERIFIED, f"{second.detail} (the search's point, refuted there, was a local minimum: "
                                     f"{how} found a lower certified point)", second.metrics)
        # Not refuted again, at no lower point: the search's difference is no counterexample where it lies within
        # its own point's distance to the exact minimiser (beside a threshold the two points differ along a
        # valley flatter than the null cutoff), as a difference found twice is (above).
        doubt = self._within_soft_uncertainty(result, outcome, claim)
        if doubt is not None:
            return self._settled_by_the_optimum(result, outcome, doubt)
        return Outcome(INCONCLUSIVE, f"refuted at the search's minimiser ({outcome.detail}) but not by {how} "
                                     f"({second.status}: {second.detail})", second.metrics)
