"""Claims about values: a closed-form spectrum or scalar at the certified optimum (ClosedFormSpectrum,
ClosedFormValue), and a bound
between two per-index quantities of the data (IndexBound)."""
from __future__ import annotations

import torch

from ..error_model import NEWTON_STEP_CHANGE, POINT_UNCERTAINTY, VALUE_REFERENCE_FLOOR, Tolerance
from ..spec import ClosedFormSpectrum, ClosedFormValue, IndexBound
from .evidence import INCONCLUSIVE, Evidence, Outcome, gate, spectrum, verdict


def spectrum_tolerance(ev: Evidence, i: int, ref: float, uncertainty: float) -> Tolerance:
    """A spectrum's allowance at instance i: value_rtol and the closed forms' sensitivity, both x ``ref``,
    and the certified point(s)' uncertainty -- singular values move by at most the parameters' move (Weyl;
    sqrt(exp(x)) by at most ref/2 per unit of x), which dominates where the minimum is shallow."""
    return Tolerance({"value_rtol x reference": ev.tol.value_rtol * ref,
                      "boundary sensitivity x reference": float(ev.batch.sensitivity[i]) * ref,
                      POINT_UNCERTAINTY: uncertainty * max(1.0, ref)})


def too_shallow(ev: Evidence, i: int, error: float, tol: Tolerance) -> bool:
    """Whether the error exceeds the rest of the tolerance while the certified point's imprecision (its
    uncertainty and its change under a Newton step) is beyond precision_limit x the value scale: the minimum
    is too shallow to locate the optimum well enough to settle the value (INCONCLUSIVE, not REFUTED)."""
    imprecision = tol.parts.get(POINT_UNCERTAINTY, 0.0) + tol.parts.get(NEWTON_STEP_CHANGE, 0.0)
    return imprecision > ev.tol.precision_limit * ev.value_scale(i) and error > tol.total - imprecision


def check_spectrum(claim: ClosedFormSpectrum, ev: Evidence) -> list[Outcome]:
    return _compare_spectrum(claim.measured, ev.batch.closed[claim.quantity], ev)


def check_value(claim: ClosedFormValue, ev: Evidence) -> list[Outcome]:
    """One number: the closed form's value (its first index; it is the same at every one) against the scalar."""
    return _compare_spectrum(claim.measured, ev.batch.closed[claim.quantity][:, :1], ev)


def _compare_spectrum(measured_as: tuple[str, str], claimed: torch.Tensor, ev: Evidence) -> list[Outcome]:
    kind, name = measured_as
    measured = spectrum(kind, ev.result.point[name])
    out = []
    for i in range(ev.batch.size):
        m = measured[i].sort(descending=True).values
        c = claimed[i].sort(descending=True).values
        n = max(len(m), len(c))
        m = torch.nn.functional.pad(m, (0, n - len(m)))
        c = torch.nn.functional.pad(c, (0, n - len(c)))
        diff = (m - c).abs()
        error = float(diff.max())
        ref = max(float(c.abs().max()), float(m.abs().max()), ev.value_scale(i) * VALUE_REFERENCE_FLOOR)
        tol = spectrum_tolerance(ev, i, ref, ev.position_uncertainty(i))
        metrics = {"max_error": error, "D_MA": float(diff.mean()), "tolerance": tol.total,
                   "position_uncertainty": tol.parts[POINT_UNCERTAINTY], **tol.metrics(),
                   "claimed": c.tolist(), "measured": m.tolist()}
        stopped = gate(ev, i, metrics=metrics)
        if stopped is not None:
            out.append(stopped)
        elif not tol.admits(error) and too_shallow(ev, i, error, tol):
            out.append(Outcome(INCONCLUSIVE, f"max error {error:.2e}, but the minimum is too shallow to locate the "
                                             f"optimum closer than {tol.parts[POINT_UNCERTAINTY]:.1e}",
                               metrics))
        else:
            out.append(verdict(error, tol, f"max error {error:.2e} (D_MA {float(diff.mean()):.2e})",
                               f"closed form {[round(x, 9) for x in c.tolist()]} vs certified optimum "
                               f"{[round(x, 9) for x in m.tolist()]}: max error {error:.3e}", metrics))
    return out


def _source_values(source, mats) -> torch.Tensor:
    """A per-index data source (SingularValues of a statistics matrix) or a number, as a 1-d tensor."""
    if isinstance(source, (int, float)):
        return torch.tensor([float(source)], dtype=torch.float64)
    matrix = getattr(source, "matrix", None)
    if matrix is None or matrix not in mats:
        raise ValueError(f"IndexBound: the source {source!r} names no statistics matrix; known: {sorted(mats)}")
    return torch.as_tensor(torch.linalg.svdvals(torch.as_tensor(mats[matrix], dtype=torch.float64)))


def check_index_bound(claim: IndexBound, ev: Evidence) -> list[Outcome]:
    """lhs_i <= rhs_i for every index, on the instance's statistics (zero-padded to a common length).
    The tolerance is value_rtol x the largest value on either side, or of ``claim.reference``; no
    minimiser is read, so no gate but the premise applies (and the claim has none)."""
    out = []
    for i in range(ev.batch.size):
        mats = ev.group[i][1]
        lhs, rhs = _source_values(claim.lhs, mats), _source_values(claim.rhs, mats)
        n = max(len(lhs), len(rhs))
        pad = lambda v: v.expand(n) if len(v) == 1 else torch.nn.functional.pad(v, (0, n - len(v)))
        lhs, rhs = pad(lhs), pad(rhs)
        ref = max(float(lhs.abs().max()), float(rhs.abs().max()))
        if claim.reference is not None:
            ref = max(ref, float(_source_values(claim.reference, mats).abs().max()))
        tol = Tolerance({"value_rtol x reference": ev.tol.value_rtol * ref})
        excess = float((lhs - rhs).max())
        metrics = {"largest_excess": excess, "tolerance": tol.total, **tol.metrics(),
                   "lhs": lhs.tolist(), "rhs": rhs.tolist()}
        k = int((lhs - rhs).argmax())
        out.append(verdict(excess, tol, f"max_i (lhs_i - rhs_i) = {excess:.2e}",
                           f"index {k + 1}: {float(lhs[k]):.9g} > {float(rhs[k]):.9g}, excess {excess:.3e}", metrics))
    return out
