"""Per-claim blame of the symbolic checks, and case splits written in equivalent conventions.

A refuted symbolic finding names the closed forms that are wrong at its counterexample (none of the exact
minimiser's coordinates there); a claim about one closed form is refuted only by a finding that blames it.
A case split written another way that agrees at the threshold (>= for >, Max for Piecewise, a condition in
theta^2, a guard at theta = 0) is judged as the original, symbolically and on an instance on the threshold.
"""
import pytest
import sympy as sp

from theorems.linear_vae import beta, eta_dec, eta_enc, lam, omega, sigma_p, theta
from theorems.theorem1_vae_fixed_sigma import THEOREM as THEOREM1
from theorems.theorem4_vae_learnable_sigma import THEOREM as THEOREM4, threshold
from verifier.instances import Instance
from verifier.symbolic import INCONCLUSIVE, REFUTED, VERIFIED, SymbolicFinding, check_closed_forms
from verifier.verdicts import check_instance, check_theorem

# omega* halved, lambda* and sigma'* as printed
WRONG_OMEGA = THEOREM4.replace_closed_form(
    omega, sp.sqrt(sp.Max(0, theta**2 - beta * eta_dec**2)) / (2 * eta_enc), name="wrong_omega")


@pytest.fixture(scope="module")
def wrong_omega_findings():
    return check_closed_forms(WRONG_OMEGA, seed=0)


def test_a_wrong_omega_is_blamed_alone(wrong_omega_findings):
    refuted = [f for f in wrong_omega_findings if f.status == REFUTED]
    assert {f.check for f in refuted} >= {"stationarity", "global_minimum"}
    assert [f.blamed for f in refuted] == [("omega",)] * len(refuted), [str(f) for f in refuted]
    assert all("wrong closed form(s): omega*" in f.evidence for f in refuted)
    # the counterexample shows the minimiser the closed forms were compared with
    assert all("minimiser lambda" in f.counterexample for f in refuted if f.check == "stationarity")


def test_a_wrong_omega_refutes_omegas_claims_not_lambdas_or_sigmas(wrong_omega_findings):
    verdict = check_theorem(WRONG_OMEGA, instances=4, max_dim=3, claims=["optimum", "omega", "lambda", "sigma"],
                            findings=wrong_omega_findings)
    status = {c.claim.name: c.status for c in verdict.claims}
    assert status == {"optimum": REFUTED, "omega": REFUTED, "lambda": VERIFIED, "sigma": VERIFIED}, \
        {c.claim.name: c.detail for c in verdict.claims}
    by_name = {c.claim.name: c for c in verdict.claims}
    # lambda's verdict carries the refuted findings as evidence, and they do not count against it
    assert any(f.status == REFUTED for f in by_name["lambda"].symbolic)


def _finding(blamed):
    return SymbolicFinding("stationarity", "theta > c", REFUTED, "60-digit arithmetic", "KKT fails",
                           {"beta": "1"}, blamed)


@pytest.mark.parametrize("blamed, lambda_status", [
    (("omega",), VERIFIED),          # blamed on another closed form
    ((), VERIFIED),                  # each right on its own, only the combination wrong
    (("lambda",), REFUTED),
    (None, INCONCLUSIVE),            # undecided: no longer evidence for lambda
])
def test_a_finding_counts_against_the_closed_forms_it_blames(blamed, lambda_status):
    verdict = check_theorem(THEOREM1, instances=4, max_dim=3, claims=["optimum", "lambda"],
                            findings=[_finding(blamed)])
    status = {c.claim.name: c.status for c in verdict.claims}
    assert status == {"optimum": REFUTED, "lambda": lambda_status}, {c.claim.name: c.detail for c in verdict.claims}


# The same closed forms with their case splits written differently; each agrees with Theorem 4 on the threshold.
CONVENTIONS = {
    "sigma: > for >=": (sigma_p, sp.Piecewise(
        (sp.sqrt(beta) * eta_enc * eta_dec / theta, sp.StrictGreaterThan(theta, threshold)), (eta_enc, True))),
    "omega: Piecewise with >= for Max": (omega, sp.Piecewise(
        (sp.sqrt(theta**2 - beta * eta_dec**2) / eta_enc, sp.GreaterThan(theta, threshold)), (0, True))),
    "omega: the split written in theta^2": (omega, sp.Piecewise(
        (sp.sqrt(theta**2 - beta * eta_dec**2) / eta_enc, sp.GreaterThan(theta**2, beta * eta_dec**2)), (0, True))),
    "lambda: Max under a guard at theta = 0": (lam, sp.Piecewise(
        (eta_enc / theta * sp.sqrt(sp.Max(0, theta**2 - beta * eta_dec**2)), sp.StrictGreaterThan(theta, 0)),
        (0, True))),
}


def _variant(name):
    symbol, expr = CONVENTIONS[name]
    return THEOREM4.replace_closed_form(symbol, expr)


@pytest.mark.parametrize("name", sorted(CONVENTIONS))
def test_an_equivalent_case_split_is_verified_symbolically(name):
    findings = check_closed_forms(_variant(name), seed=0)
    assert [str(f) for f in findings if f.status != VERIFIED] == []
    # the threshold itself is judged, exactly, whichever way the split is written
    assert any(f.check == "global_minimum" and f.branch == f"theta = {sp.sstr(threshold)}" for f in findings)
    assert any(f.check == "continuity" for f in findings)


# theta on Theorem 4's threshold 1/sqrt(8) as float64 gives it: theta^2 - beta eta_dec^2 = +1.7e-17 (and the
# float just below, where it is negative): each form of the split must decide alike, not by float rounding.
ON_THRESHOLD = [{"latent": {"d1": 1}, "hyper": {"beta": 0.5, "eta_enc": 2.0, "eta_dec": 0.5},
                 "data": {"D0": 1, "spectrum": [value]}, "seed": 0}
                for value in (0.3535533905932738, 0.35355339059327373)]


@pytest.mark.parametrize("name", sorted(CONVENTIONS))
@pytest.mark.parametrize("point", range(len(ON_THRESHOLD)))
def test_an_equivalent_case_split_is_judged_alike_on_the_threshold(name, point):
    claims = ["optimum", "omega", "lambda", "sigma"]
    instance = Instance.from_json(ON_THRESHOLD[point])
    base = {c.claim.name: c.status for c in check_instance(THEOREM4, instance, claims=claims).claims}
    variant = {c.claim.name: (c.status, c.detail) for c in check_instance(_variant(name), instance, claims=claims).claims}
    assert REFUTED not in base.values()
    assert {k: s for k, (s, _) in variant.items()} == base, variant
