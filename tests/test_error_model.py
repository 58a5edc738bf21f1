"""The error model and the judge registry: every claim kind has exactly one checker, every tolerance is
computed from named parts and shown with the verdict, and a deliberately loosened error model lets a known
wrong closed form through that the real one refutes (so the error model can fail)."""
import inspect

import pytest

from theorems import theorem1_vae_fixed_sigma as t1
from verifier import error_model, spec, validation
from verifier.instances import Instance
from verifier.judge import CHECKERS, REFUTED, VERIFIED, Tolerance, Tolerances
from verifier.numeric import MinimiserSettings
from verifier.pipeline import PipelineSettings
from verifier.verdicts import check_instance
from test_mutants import MUTANTS


def test_every_claim_kind_has_exactly_one_checker():
    kinds = {cls for _, cls in inspect.getmembers(spec, inspect.isclass)
             if issubclass(cls, spec.Claim) and cls is not spec.Claim and cls.__module__.startswith(spec.__name__ + ".")}
    assert kinds == set(CHECKERS), (sorted(k.__name__ for k in kinds - set(CHECKERS)),
                                    sorted(k.__name__ for k in set(CHECKERS) - kinds))
    assert len(set(CHECKERS.values())) == len(CHECKERS)          # no checker serves two kinds


def test_the_engine_takes_its_tolerances_from_the_error_model():
    assert validation.LOSS_RTOL is error_model.LOSS_RTOL == Tolerances().loss_rtol
    assert MinimiserSettings().grad_rtol == error_model.GRAD_RTOL
    assert MinimiserSettings().hessian_rtol == error_model.HESSIAN_RTOL
    assert Tolerances().newton_step_factor == error_model.NEWTON_STEP_FACTOR


def test_a_tolerance_is_the_sum_of_its_parts_at_least_its_floor():
    tol = Tolerance({"a": 1e-6, "b": 2e-6}, floors={"zero": 0.0})
    assert tol.total == pytest.approx(3e-6) and tol.admits(3e-6) and not tol.admits(3.1e-6)
    assert Tolerance({"a": 1e-6}, floors={"zero": 5e-6}).total == 5e-6
    assert tol.metrics() == {"tolerance": tol.total, "tolerance part: a": 1e-6, "tolerance part: b": 2e-6,
                             "tolerance floor: zero": 0.0}
    assert "a 1.0e-06 + b 2.0e-06" in tol.describe()


def test_loosened_names_only_existing_tolerances():
    loose = Tolerances().loosened(1e6, "value_rtol")
    assert loose.value_rtol == pytest.approx(1.0) and loose.loss_rtol == Tolerances().loss_rtol
    with pytest.raises(ValueError, match="no field"):
        Tolerances().loosened(10, "value_tol")


# beta = 0.25 puts the mutant's threshold sigma' c at 1/sqrt(beta) = 2 times the printed sqrt(beta) sigma' c, and
# theta_2 between the two: the mutant collapses index 2 where the paper keeps it active (omega_2 0 vs 0.387).
INSTANCE = {"latent": {"d1": 2}, "hyper": {"beta": 0.25, "eta_enc": 1.0, "eta_dec": 1.0},
            "vectors": {"sigma": [1.0, 1.0]}, "data": {"spectrum": [2.0, 0.8], "D0": 2}, "seed": 0}


def _omega(theorem, tolerances):
    settings = PipelineSettings(minimiser=MinimiserSettings(), tolerances=tolerances)
    (claim,) = check_instance(theorem, Instance.from_json(INSTANCE), settings=settings, claims=["omega"]).claims
    return claim


def test_a_loosened_error_model_lets_a_known_mutant_through():
    mutant = MUTANTS["threshold_off_by_sqrt_beta"]
    real = _omega(mutant, Tolerances())
    assert real.status == REFUTED, real.detail
    loose = _omega(mutant, Tolerances().loosened(1e6, "value_rtol"))
    assert loose.status == VERIFIED, loose.detail
    # the printed theorem is verified by the real error model on the same instance, with its parts shown
    printed = _omega(t1.THEOREM, Tolerances())
    assert printed.status == VERIFIED, printed.detail
    assert "value_rtol x reference" in printed.detail
    assert printed.worst["tolerance part: value_rtol x reference"] > 0


def test_the_gates_have_one_order_premise_boundary_certificate():
    from types import SimpleNamespace
    from verifier.judge import AT_BOUNDARY, INCONCLUSIVE, SKIPPED, gate
    everything_wrong = SimpleNamespace(boundary=lambda i: True, at_optimum=lambda i: (False, "not certified"))
    assert gate(everything_wrong, 0, premise=(False, "sigma distinct")).detail == "premise not met: sigma distinct"
    stopped = gate(everything_wrong, 0)
    assert (stopped.status, stopped.detail) == (SKIPPED, AT_BOUNDARY)
    stopped = gate(everything_wrong, 0, judged_at_boundary=True)
    assert (stopped.status, stopped.detail) == (INCONCLUSIVE, "not certified")
    assert gate(everything_wrong, 0, judged_at_boundary=True, needs_optimum=False) is None


def test_an_undefined_part_fails_the_comparison_unless_a_floor_applies():
    assert not Tolerance({"a": float("nan")}).admits(0.0)
    assert not Tolerance({"a": float("nan")}, floors={"zero": 0.0}).admits(0.0)
    assert Tolerance({"a": float("nan")}, floors={"zero": 1e-6}).admits(1e-7)
