"""Closed forms that use the dimensions and reductions over the indices (SpectrumReduction): computed from
the instance, judged by the numeric search (a wrong use REFUTED, a right one VERIFIED), and left to it by
the symbolic per-index check, which says so instead of printing VERIFIED."""
import dataclasses

import pytest
import sympy as sp

from theorems.linear_vae import D0, d0, omega
from theorems.theorem4_vae_learnable_sigma import THEOREM as T4, omega_star
from verifier.batch import group_by_dims, instantiate
from verifier.errors import SpecError
from verifier.instances import Instance
from verifier.spec import SpectrumReduction
from verifier.symbolic import check_closed_forms
from verifier.verdicts import check_theorem

total, kept, tail, count = sp.symbols("total kept tail count", positive=True)
REDUCED = dataclasses.replace(T4, indexed=T4.indexed + (
    (total, SpectrumReduction("Z", "sum", power=2)),               # ||Z||_F^2
    (kept, SpectrumReduction("Z", "sum", within="d1", power=2)),   # the theta_i^2 the latent keeps
    (tail, SpectrumReduction("Z", "sum", after="d1", power=2)),    # the discarded ones
    (count, SpectrumReduction("Z", "count"))))                     # d0, the rank of Z


def status(theorem, examples=16):
    return check_theorem(theorem, instances=examples, claims=["omega"], symbolic=False, seed=0).claims[0].status


def test_reductions_are_computed_from_the_whole_spectrum():
    inst = Instance({"d1": 2}, {"beta": 1.0, "eta_enc": 1.0, "eta_dec": 1.0}, spectrum=(3.0, 2.0, 1.0), D0=4)
    (group,) = group_by_dims(REDUCED, [inst])
    values = {s.name: v[0].tolist() for s, v in instantiate(REDUCED, group).indexed.items()}
    assert values["total"] == [14.0, 14.0] and values["kept"] == [13.0, 13.0] and values["tail"] == [1.0, 1.0]
    assert values["count"] == [3.0, 3.0]
    mean = dataclasses.replace(REDUCED, indexed=T4.indexed + ((tail, SpectrumReduction("Z", "mean", after="d1")),))
    (group,) = group_by_dims(mean, [dataclasses.replace(inst, spectrum=(3.0, 2.0, 1.0, 0.5))])
    assert instantiate(mean, group).indexed[tail][0].tolist() == [0.75, 0.75]
    with pytest.raises(SpecError, match="reduce"):
        SpectrumReduction("Z", "median")
    with pytest.raises(SpecError, match="after="):
        SpectrumReduction("Z", after="d1", within="d1")


def test_a_sum_over_the_kept_and_discarded_indices_in_a_closed_form():
    right = REDUCED.replace_closed_form(omega, omega_star * total / (kept + tail), name="kept_and_tail")
    wrong = REDUCED.replace_closed_form(omega, omega_star * total / kept, name="kept_only")
    assert status(right) == "VERIFIED"
    assert status(wrong) == "REFUTED"
    (finding,) = check_closed_forms(right)
    assert finding.status == "NOT APPLICABLE" and "only the numeric search judges them" in finding.evidence


def test_dimensions_and_a_count_in_a_closed_form():
    assert status(REDUCED.replace_closed_form(omega, omega_star * count / d0, name="count_is_d0")) == "VERIFIED"
    assert status(REDUCED.replace_closed_form(omega, omega_star * count / D0, name="count_is_D0")) == "REFUTED"
    on_rank = sp.Piecewise((omega_star, sp.GreaterThan(D0, d0)), (0, True))
    assert status(T4.replace_closed_form(omega, on_rank, name="D0_at_least_d0")) == "VERIFIED"
    strict = sp.Piecewise((omega_star, sp.StrictGreaterThan(D0, d0)), (0, True))
    assert status(T4.replace_closed_form(omega, strict, name="D0_above_d0"), examples=24) == "REFUTED"
