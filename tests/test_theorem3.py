"""Theorem 3 (two-latent MHVAE, Sigma1 = sigma1^2 I fixed, diagonal Sigma2 learnable): every printed claim
against the certified minimiser, the beta2/beta1 errata, and mutants of the closed forms."""
import pytest
import sympy as sp
from hypothesis import given, strategies as st

from theorems import theorem3_mhvae_fixed_sigma1 as t3
from theorems.linear_vae import eta_dec, eta_enc, lam, omega, theta
from theorems.mhvae import beta1, beta2, sigma1
from verifier.judge import REFUTED, VERIFIED
from verifier.instances import Instance
from verifier.pipeline import Pipeline
from verifier.strategies import instance_batches
from verifier.verdicts import check_instance, check_theorem

T3 = t3.THEOREM
PRINTED_ERRATA = {c.erratum_of for c in T3.claims if c.erratum_of}
TRUE_CLAIMS = [c.name for c in T3.claims if c.name not in PRINTED_ERRATA]
PIPELINE = Pipeline(T3)

# The smallest counterexample the search finds for the printed W2*, Sigma2* (beta1 != beta2).
ERRATUM_INSTANCE = Instance.from_json({
    "latent": {"d1": 1, "d2": 1}, "hyper": {"eta_enc": 1.0, "eta_dec": 1.0, "beta1": 1.0, "beta2": 0.5,
                                            "sigma1": 2 ** 0.5},
    "data": {"spectrum": [0.17677669529663687] * 4, "D0": 4}, "seed": 0})


@given(data=st.data())
def test_no_true_claim_is_refuted(data):
    instances = data.draw(instance_batches(T3, max_batch=2, max_dim=3))
    for res in PIPELINE.run(instances):
        for name in TRUE_CLAIMS:
            outcome = res.outcomes[name]
            assert outcome.status != REFUTED, f"{name} refuted on {res.instance}: {outcome.detail}"


def test_printed_forms_with_c_squared_are_refuted_and_corrected_verified():
    names = sorted(PRINTED_ERRATA | {c.name for c in T3.claims if c.erratum_of})
    verdict = check_instance(T3, ERRATUM_INSTANCE, claims=names)
    status = {c.claim.name: c.status for c in verdict.claims}
    for printed in PRINTED_ERRATA:
        assert status[printed] == REFUTED, (printed, status)
    for c in T3.claims:
        if c.erratum_of:
            assert status[c.name] == VERIFIED, (c.name, status)


def test_printed_forms_hold_when_beta1_equals_beta2():
    """The printed c^2 I is the beta1 = beta2 case of c^2 (beta2/beta1) I."""
    equal = Instance.from_json({**ERRATUM_INSTANCE.to_json(),
                                "hyper": {**ERRATUM_INSTANCE.hyper, "beta2": 1.0, "sigma1": 2.0}})
    verdict = check_instance(T3, equal, claims=sorted(PRINTED_ERRATA))
    assert {c.status for c in verdict.claims} == {VERIFIED}, [(c.claim.name, c.detail) for c in verdict.claims]


def test_search_refutes_the_printed_W2_with_beta1_not_beta2():
    verdict = check_theorem(T3, instances=16, claims=["W2_star", "W2_star_corrected"], symbolic=False, seed=1)
    printed, corrected = verdict.claims
    assert printed.status == REFUTED
    assert printed.counterexample.hyper["beta1"] != printed.counterexample.hyper["beta2"]
    assert corrected.status == VERIFIED, corrected.detail


# ------------------------------------------------------------------ mutants of the closed forms
_ratio = beta2 / beta1
MUTANTS = {
    # (a)'s omega with c^2 for (beta2/beta1) c^2, the printed-style slip
    "omega_a_without_beta_ratio": T3.replace_closed_form(omega, sp.Piecewise(
        (sp.sqrt(sigma1**2 * theta**2 / (beta2 * eta_enc**2 * eta_dec**2) - eta_dec**2 / eta_enc**2), t3.case_a),
        (t3.omega_b, t3.case_b), (0, True)), name="omega_a_without_beta_ratio"),
    # (a)'s lambda with beta1 where beta2 belongs
    "lambda_a_beta1_for_beta2": T3.replace_closed_form(lam, sp.Piecewise(
        (sigma1 / (sp.sqrt(beta1) * eta_dec) * sp.sqrt(theta**2 - beta1 * eta_dec**2), t3.case_a),
        (0, t3.case_b), (t3.lambda_c, True)), name="lambda_a_beta1_for_beta2"),
    # (b)'s omega without its square root
    "omega_b_without_root": T3.replace_closed_form(omega, sp.Piecewise(
        (t3.omega_a, t3.case_a), ((sigma1**2 - eta_dec**2 * _ratio) / eta_enc**2, t3.case_b), (0, True)),
        name="omega_b_without_root"),
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_is_refuted(name):
    verdict = check_theorem(MUTANTS[name], instances=24, claims=["optimum"], symbolic=False, seed=0)
    (claim,) = verdict.claims
    assert claim.status == REFUTED, f"{name} was not refuted: {claim.detail}"
    assert claim.counterexample is not None


# ------------------------------------------------------------------ App. F.1: the other dimension orders
from theorems.mhvae import OTHER_ORDERS, _triples  # noqa: E402
from theorems.theorem3_dimension_orders import THEOREM as ORDERS  # noqa: E402

ORDERS_PIPELINE = Pipeline(ORDERS)
_SPECTRUM = {0.8: [3.0, 1.2, 0.5, 0.3], 1.5: [3.0, 0.5, 0.3, 0.2]}   # away from every threshold of each regime


@pytest.mark.parametrize("label", [label for label, _ in OTHER_ORDERS])
@pytest.mark.parametrize("sigma1_value", sorted(_SPECTRUM), ids=lambda s: f"sigma1={s}")
def test_other_dimension_order(label, sigma1_value):
    """Both regimes of sigma1^2 vs (beta2/beta1) eta_dec^2 (= 2 here), beta1 != beta2, in each order."""
    relation = dict(OTHER_ORDERS)[label]
    dd0, dd1, dd2 = _triples(relation, 4)[-1]
    inst = Instance.from_json({"latent": {"d1": dd1, "d2": dd2},
                               "hyper": {"beta1": 1.0, "beta2": 2.0, "eta_enc": 1.0, "eta_dec": 1.0,
                                         "sigma1": sigma1_value},
                               "data": {"spectrum": _SPECTRUM[sigma1_value][:dd0], "D0": dd0}, "seed": 0})
    res = ORDERS_PIPELINE.run([inst])[0]
    for name in ("optimum", f"lambda[{label}]", f"omega[{label}]", "z2_collapse", "W2_star_corrected"):
        assert res.outcomes[name].status == VERIFIED, (name, res.outcomes[name].detail)
    others = [f"{q}[{lbl}]" for lbl, _ in OTHER_ORDERS if lbl != label for q in ("lambda", "omega")]
    assert all(res.outcomes[n].status == "SKIPPED" for n in others)
