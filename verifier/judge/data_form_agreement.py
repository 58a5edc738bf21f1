"""The checker of DataFormAgreement: the data-form loss (the paper's (3), (5), ... before whitening),
minimised by :mod:`verifier.data_form`, against the matrix form the theorems solve -- the identity at
random points, the certified minima, and the spectra of the whitened data-form minimiser."""
from __future__ import annotations

from .. import error_model
from ..data_form import (
    DataForm, DataFormResult, data_form_inputs, minimise_data_form, whitened_after_newton_step,
)
from ..error_model import NEWTON_STEP_CHANGE, POINT_UNCERTAINTY, VALUE_REFERENCE_FLOOR, Tolerance
from ..errors import SpecError
from ..minimiser_cache import row_from_json, row_json, split_rows, stack_rows
from ..spec import DataFormAgreement
from .evidence import INCONCLUSIVE, REFUTED, VERIFIED, Evidence, Outcome, gate, spectrum
from .spectra import spectrum_tolerance, too_shallow


def check_data_form(claim: DataFormAgreement, ev: Evidence) -> list[Outcome]:
    model = ev.batch.theorem.model
    if model.data_form is None:
        raise SpecError(f"claim {claim.name!r} needs a data form, but the model {model.name!r} has none "
                        f"(Model.data_form, see verifier/data_form.py)")
    form: DataForm = model.data_form
    b = ev.batch
    out: list = [None] * b.size
    groups, without_data = data_form_inputs(model, b)
    for i in without_data:
        out[i] = gate(ev, i, applies=(False, "the instance gives a spectrum, not data: there is no data "
                                             "form to minimise"))
    for idx, data in groups:
        matrix_data = {k: v[idx] for k, v in b.data.items()}
        res = _minimised(ev, data, matrix_data, idx)
        constant = form.constant(data, b.dims)
        whitened = form.whiten(data, res.point)
        stepped = _whitened_after_newton_step(form, b.dims, data, res, whitened)
        for j, i in enumerate(idx):
            out[i] = compare(claim, ev, i, res, j, float(constant[j]), {k: v[j] for k, v in whitened.items()},
                             {k: v[j] for k, v in stepped.items()})
    return out


def _minimised(ev: Evidence, data: dict, matrix_data: dict, idx: list[int]) -> DataFormResult:
    """The data form minimised on the instances ``idx`` of the batch (their raw ``data`` and ``matrix_data``):
    taken from the evidence's store where it holds them, the rest minimised together (each problem is advanced
    on its own, so a sub-batch gives the same bits) and stored."""
    b = ev.batch
    seeds = [b.instances[i].seed for i in idx]

    def compute(todo: list[int]) -> list[dict]:
        pick = lambda d: {k: v[todo] for k, v in d.items()} if len(todo) < len(idx) else d
        return split_rows(minimise_data_form(b.theorem.model, b.dims, pick(data), pick(matrix_data),
                                             b.scale[idx][todo], [seeds[j] for j in todo], ev.data_form_settings))

    rows, _ = ev.data_form_store.fetch_or_compute([b.instances[i] for i in idx], b.scale[idx].tolist(), compute,
                                                  row_json, lambda obj: row_from_json(obj, b.scale.device))
    return stack_rows(DataFormResult, rows)


def _whitened_after_newton_step(form: DataForm, dims: dict, data: dict, res: DataFormResult,
                                whitened: dict) -> dict:
    """The whitened data-form points after one Newton step, for the certified ones (only they are compared;
    the others keep their ``whitened`` point)."""
    stepped = {k: v.clone() for k, v in whitened.items()}
    judged = res.certified.nonzero().flatten()
    if judged.numel():
        pick = lambda d: {k: v[judged] for k, v in d.items()}
        for k, v in whitened_after_newton_step(form, dims, pick(data), pick(res.point)).items():
            stepped[k][judged] = v
    return stepped


def compare(claim, ev: Evidence, i: int, res: DataFormResult, j: int, constant: float, whitened: dict,
            after_step: dict) -> Outcome:
    """Instance i of the matrix-form evidence against member j of the data-form result: ``whitened`` is the
    data-form minimiser's whitened image, ``after_step`` that image after one Newton step."""
    data_min = float(res.loss[j]) - constant
    matrix_min = float(ev.result.loss[i])
    loss_tol = ev.loss_tolerance(i)
    identity_tol = Tolerance({"identity_rtol x the losses compared": ev.tol.identity_rtol * float(res.identity_ref[j])})
    gap = float(res.identity_gap[j])
    metrics = {"data_form_min_minus_constant": data_min, "matrix_form_min": matrix_min, "loss_gap": data_min - matrix_min,
               "loss_tol": loss_tol.total, "identity_gap": gap, "identity_tol": identity_tol.total, "constant": constant,
               "data_form_grad_norm": float(res.grad_norm[j]), "data_form_min_hessian_eig": float(res.min_hessian_eig[j]),
               **loss_tol.metrics("loss_tol"), **identity_tol.metrics("identity_tol")}
    # The identity needs no minimiser: it refutes before the gates (the error model's exception).
    if not identity_tol.admits(gap):
        return Outcome(REFUTED, f"at a random point the data form {claim.equation or ''} minus the constant "
                                f"{constant:.6g} differs from the matrix objective by {gap:.3e} "
                                f"> {identity_tol.describe()}", metrics)
    # The minima are compared at a case boundary too; only the spectra are not (gate 2, below).
    if not bool(res.certified[j]):
        return Outcome(INCONCLUSIVE, f"data-form minimiser not certified (|grad|={float(res.grad_norm[j]):.2e}, "
                                     f"min Hessian eig={float(res.min_hessian_eig[j]):.2e})", metrics)
    if not bool(ev.result.certified[i]):
        return Outcome(INCONCLUSIVE, "matrix-form minimiser not certified", metrics)
    if not loss_tol.admits(abs(data_min - matrix_min)):
        return Outcome(REFUTED, f"certified minima differ: data form - constant = {data_min:.15g}, matrix form = "
                                f"{matrix_min:.15g} (gap {data_min - matrix_min:.3e} > {loss_tol.describe()})", metrics)
    if ev.boundary(i):
        return Outcome(VERIFIED, f"minima agree (gap {data_min - matrix_min:.1e} <= {loss_tol.describe()}); spectra "
                                 f"not compared: an index sits at its case boundary", metrics)
    # Each certified point lies within |grad| / curvature of its exact minimiser; the compared matrices
    # (U1, Sigma) are parameters of both forms, so their spectra move by at most that (as in
    # check_spectrum).  Where the data have a direction of tiny variance the data form's curvature along it
    # is below the null cutoff, yet the whitening scales it back up: newton_step_factor x the whitened
    # spectrum's change under one Newton step measures that imprecision.
    uncertainty = ev.position_uncertainty(i) + error_model.newton_distance(float(res.grad_norm[j]),
                                                                           float(res.min_curvature[j]))
    metrics["position_uncertainty"] = uncertainty
    worst = 0.0
    for kind, name in claim.compare:
        s_data = spectrum(kind, whitened[name], symmetrise=True).sort(descending=True).values
        s_mat = spectrum(kind, ev.result.point[name][i], symmetrise=True).sort(descending=True).values
        s_stepped = spectrum(kind, after_step[name], symmetrise=True).sort(descending=True).values
        diff = float((s_data - s_mat).abs().max())
        ref = max(float(s_mat.abs().max()), float(s_data.abs().max()), ev.value_scale(i) * VALUE_REFERENCE_FLOOR)
        change = ev.tol.newton_step_factor * float((s_data - s_stepped).abs().max())
        base = spectrum_tolerance(ev, i, ref, uncertainty)
        tol = Tolerance({**base.parts, NEWTON_STEP_CHANGE: change})
        metrics[f"newton_step_change_{name}"] = change
        metrics[f"spectrum_error_{name}"] = diff
        metrics[f"spectrum_tolerance_{name}"] = tol.total
        metrics.update(tol.metrics(f"spectrum_tolerance_{name}"))
        worst = max(worst, diff / tol.total)
        if not tol.admits(diff) and too_shallow(ev, i, diff, tol):
            imprecision = base.parts[POINT_UNCERTAINTY] + change
            return Outcome(INCONCLUSIVE, f"the {kind} of {name} differ by {diff:.2e}, but the minima are too shallow "
                                         f"to locate either minimiser closer than {imprecision:.1e}", metrics)
        if not tol.admits(diff):
            return Outcome(REFUTED, f"the whitened data-form minimiser has {kind} of {name} "
                                    f"{[round(v, 9) for v in s_data.tolist()]}, the matrix form "
                                    f"{[round(v, 9) for v in s_mat.tolist()]} (error {diff:.3e} > {tol.describe()})",
                           metrics)
    return Outcome(VERIFIED, f"minima agree (gap {data_min - matrix_min:.1e} <= {loss_tol.describe()}), identity gap "
                             f"{gap:.1e}, spectra of {[n for _, n in claim.compare]} agree (worst {worst:.2f} x "
                             f"tolerance)", metrics)

