"""cvxpy certificates: the convex optimum agrees with Theorem 1's closed forms and exposes wrong ones."""
import dataclasses

import pytest
import sympy as sp
from hypothesis import given

from theorems.linear_vae import beta, c, omega, sigma_p, theta
from verifier.certificates import certify, nuclear_norm_certificate, per_index_certificate
from verifier.judge import INCONCLUSIVE, REFUTED, VERIFIED
from verifier.errors import UsageError
from verifier.instances import Instance
from verifier.loader import load_spec
from verifier.strategies import instances

THEOREM1 = load_spec("theorem1")
threshold = sp.sqrt(beta) * c * sigma_p


def _instance(sigma, spectrum, D0, beta_=0.5, eta_enc=1.0, eta_dec=1.3):
    return Instance.from_json({"latent": {"d1": len(sigma)},
                               "hyper": {"beta": beta_, "eta_enc": eta_enc, "eta_dec": eta_dec},
                               "vectors": {"sigma": list(sigma)}, "data": {"spectrum": list(spectrum), "D0": D0}})


def _isotropic(inst: Instance) -> Instance:
    sigma = inst.vectors["sigma"]
    return dataclasses.replace(inst, vectors={"sigma": (sigma[0],) * len(sigma)})


@given(instances(THEOREM1))
def test_per_index_certificate_verifies_theorem1_closed_forms(inst):
    cert = per_index_certificate(THEOREM1, inst)
    assert cert.status == VERIFIED, cert


@given(instances(THEOREM1).map(_isotropic))
def test_nuclear_norm_certificate_verifies_isotropic_theorem1(inst):
    cert = nuclear_norm_certificate(THEOREM1, inst)
    if cert.solver_status != "optimal":      # no solver was accurate (never seen yet): such a solve bounds nothing
        assert cert.status != REFUTED, cert
        return
    # The relaxation drops rank M <= d1; where it is not exact the verdict must not be VERIFIED.
    assert cert.status == (VERIFIED if cert.exact else INCONCLUSIVE), cert
    assert cert.claimed_loss >= cert.convex_optimum - cert.tolerance     # p* is a lower bound


def test_minimiser_and_closed_form_reach_the_convex_optimum():
    inst = _instance([0.7, 0.7, 0.7], [3.0, 1.0, 0.2], D0=4)
    cert = certify(THEOREM1, inst, with_minimiser=True)[0]
    assert cert.problem.startswith("isotropic")
    assert cert.minimiser_loss == pytest.approx(cert.convex_optimum, abs=cert.tolerance)
    assert cert.claimed_loss == pytest.approx(cert.convex_optimum, abs=cert.tolerance)


def test_relaxation_not_exact_when_more_active_indices_than_latents():
    # d1 = 1 latent, two singular values above the threshold sqrt(beta) c sigma = 0.64: the
    # soft-thresholded minimiser has rank 2 > d1, so p* is only a lower bound.
    inst = _instance([0.7], [3.0, 2.0], D0=2)
    cert = nuclear_norm_certificate(THEOREM1, inst)
    assert not cert.exact and cert.status == INCONCLUSIVE
    assert cert.claimed_loss > cert.convex_optimum


@pytest.mark.parametrize("name, wrong_omega", [
    ("sqrt(beta) dropped from the threshold",
     sp.sqrt(sp.Max(0, sp.sqrt(beta) * c / sigma_p * (theta - c * sigma_p)))),
    ("theta^2 for theta", sp.sqrt(sp.Max(0, sp.sqrt(beta) * c / sigma_p * (theta**2 - threshold)))),
    ("no square root", sp.Max(0, sp.sqrt(beta) * c / sigma_p * (theta - threshold))),
])
@pytest.mark.parametrize("sigma", [(0.7, 0.7, 0.7), (0.4, 0.7, 1.2)])
def test_certificates_expose_a_wrong_closed_form(name, wrong_omega, sigma):
    mutant = THEOREM1.replace_closed_form(omega, wrong_omega, name="mutant")
    inst = _instance(sigma, [3.0, 1.0, 0.45], D0=4, beta_=0.5)
    for cert in certify(mutant, inst):
        assert cert.status == REFUTED and cert.gap > cert.tolerance, (name, cert)
    for cert in certify(THEOREM1, inst):
        assert cert.status == VERIFIED, cert


def test_scs_agrees_with_clarabel():
    inst = _instance([0.9, 0.9], [2.0, 0.5], D0=3, beta_=2.0)
    a = nuclear_norm_certificate(THEOREM1, inst, solver="CLARABEL")
    b = nuclear_norm_certificate(THEOREM1, inst, solver="SCS")
    assert (a.solver, a.solver_status, b.solver, b.solver_status) == ("CLARABEL", "optimal", "SCS", "optimal")
    assert a.status == VERIFIED
    assert b.convex_optimum == pytest.approx(a.convex_optimum, rel=1e-5)


def test_found_instance_where_clarabel_may_be_inaccurate_is_verified():
    """Found by the thorough profile: CLARABEL stopped at 'optimal_inaccurate' with p* 1.2e-6 (2.8e-8 of the
    loss scale) above the claimed loss, an INCONCLUSIVE certificate for a true closed form; the next solver
    (SCS) solves it to optimality and certifies it."""
    inst = Instance.from_json({"latent": {"d1": 2}, "hyper": {"beta": 1.0, "eta_enc": 0.5, "eta_dec": 1.0},
                               "vectors": {"sigma": [1.0, 1.0]}, "data": {"spectrum": [3.99609375, 2.0], "D0": 2}})
    cert = nuclear_norm_certificate(THEOREM1, inst)
    assert cert.status == VERIFIED and cert.solver_status == "optimal", cert


def test_a_solve_short_of_optimal_hands_over_to_the_next_solver(monkeypatch):
    from verifier import certificates
    monkeypatch.setitem(certificates.SOLVER_OPTIONS, "CLARABEL", {"max_iter": 3})    # stops at its limit
    inst = _instance([0.9, 0.9], [2.0, 0.5], D0=3, beta_=2.0)
    for cert in certify(THEOREM1, inst):
        assert (cert.status, cert.solver, cert.solver_status) == (VERIFIED, "SCS", "optimal"), cert


def test_with_no_optimal_solve_the_inaccurate_one_is_reported_and_certifies_nothing(monkeypatch):
    from verifier import certificates
    monkeypatch.setitem(certificates.SOLVER_OPTIONS, "CLARABEL", {"max_iter": 3})
    monkeypatch.setitem(certificates.SOLVER_OPTIONS, "SCS", {"max_iters": 2, "eps": 1e-10})
    cert = nuclear_norm_certificate(THEOREM1, _instance([0.9, 0.9], [2.0, 0.5], D0=3, beta_=2.0))
    assert (cert.solver, cert.solver_status) == ("SCS", "optimal_inaccurate"), cert
    assert cert.status == INCONCLUSIVE and "solver inaccurate" in cert.detail


def test_certificates_refuse_what_they_cannot_certify():
    with pytest.raises(UsageError, match="no convex certificate is known"):
        per_index_certificate(load_spec("theorem4"), _instance([1.0], [2.0], D0=1))
    with pytest.raises(UsageError, match="needs isotropic Sigma"):
        nuclear_norm_certificate(THEOREM1, _instance([1.0, 2.0], [2.0], D0=1))
    with pytest.raises(UsageError, match="solver='ECOS'"):
        nuclear_norm_certificate(THEOREM1, _instance([1.0], [2.0], D0=1), solver="ECOS")
