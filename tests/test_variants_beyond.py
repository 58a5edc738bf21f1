"""The variants beyond the paper: the fixed-Sigma CVAE, the MHVAE with both Sigmas learnable, the report section."""
import json

import numpy as np
import pytest

from theorems.variant_cvae_fixed_sigma import THEOREM as CVAE_FIXED
from theorems.variant_mhvae_both_learnable import THEOREM as MHVAE_BOTH
from verifier.experiments import mhvae_both_learnable as both
from verifier.experiments.cvae_fixed_vs_learnable import compare, paired_instance, summarise
from verifier.experiments.cvae_mutants import WITNESSES, mutants
from verifier.instances import Instance
from verifier.verdicts import check_instance, check_theorem

CORE = ["optimum", "omega", "rank"]


def test_fixed_sigma_cvae_verifies_on_drawn_instances():
    v = check_theorem(CVAE_FIXED, instances=6, max_dim=3, seed=0, claims=CORE, symbolic=False)
    assert {c.claim.name: c.status for c in v.claims} == dict.fromkeys(CORE, "VERIFIED")


@pytest.mark.parametrize("name", sorted(WITNESSES))
def test_fixed_sigma_cvae_mutants_are_refuted_where_the_derived_form_is_verified(name):
    right = check_instance(CVAE_FIXED, WITNESSES[name], claims=["optimum", "omega"])
    wrong = check_instance(mutants()[name], WITNESSES[name], claims=["optimum", "omega"])
    assert [c.status for c in right.claims] == ["VERIFIED", "VERIFIED"]
    assert [c.status for c in wrong.claims] == ["REFUTED", "REFUTED"]


def test_fixed_sigma_symbolic_check_of_the_closed_form_and_of_a_mutant():
    from verifier.symbolic import check_closed_forms
    assert {f.status for f in check_closed_forms(CVAE_FIXED, seed=0)} == {"VERIFIED"}
    assert "REFUTED" in {f.status for f in check_closed_forms(mutants()["threshold_without_sqrt_beta"], seed=0)}


def test_fixed_sigma_collapses_no_more_below_eta_enc_and_more_above():
    rows = compare([paired_instance((1.5, 0.8), (0.5, 0.7)), paired_instance((1.5, 0.8), (1.3, 1.6))])
    below, above = rows
    assert below["certified"] and above["certified"]
    # learnable Sigma: theta_2 = 0.8 <= beta eta_dec^2 = 1 collapses one dimension
    assert below["collapsed_learnable"] == above["collapsed_learnable"] == 1
    assert below["collapsed_fixed"] == 0                      # 0.8 > 0.7^2: both active
    assert above["collapsed_fixed"] == 2                      # 1.5 < 1.3^2: both collapse
    s = summarise(rows)
    assert s["violations"] == 0 and s["fixed_collapses_more_beyond_premise"] == 1 and s["counts_match_closed_forms"]


def _instance(b1, b2, theta=(1.5, 0.5), d=2):
    return Instance({"d1": d, "d2": d}, {"beta1": b1, "beta2": b2, "eta_enc": 1.0, "eta_dec": 1.0}, {},
                    spectrum=theta, D0=len(theta))


@pytest.mark.parametrize("b1, b2", [(2.0, 1.0), (1.5, 1.0), (1.0, 1.0), (1.0, 2.0)])
def test_both_learnable_loss_along_the_path_falls_without_bound_exactly_when_beta1_exceeds_beta2(b1, b2):
    inst = _instance(b1, b2)
    losses = both.path_losses(inst, [10.0 ** -k for k in (2, 4, 6, 8)])
    assert both.path_slope(inst) == pytest.approx((b1 - b2) * 2, abs=1e-6)
    steps = np.diff(losses)
    if b1 > b2:
        assert np.all(steps < -10 * (b1 - b2))                # keeps falling by (b1 - b2) d log(100) per step
        assert losses[-1] < both.loss_at(inst, both.closed_form_point(inst)) - 1   # below the bounded-case minimum
    else:                                                     # bounded: never below the derived minimum
        assert min(losses) >= both.loss_at(inst, both.closed_form_point(inst)) - 1e-9
        assert abs(losses[-1] - losses[-2]) < 1e-6 or steps[-1] > 0


def test_both_learnable_symbolic_evidence():
    s = both.symbolic_evidence()
    assert s["slope_is_beta1_minus_beta2"] and s["q_separates"] and s["w2_elimination"]


def test_both_learnable_spec_verifies_and_a_wrong_prior_is_refuted():
    import sympy as sp
    from theorems.linear_vae import eta_dec, eta_enc, omega, theta
    from theorems.variant_mhvae_both_learnable import beta1
    claims = ["optimum", "omega", "z2_collapses_U2"]
    v = check_theorem(MHVAE_BOTH, instances=4, max_dim=2, seed=1, claims=claims, symbolic=False)
    assert {c.claim.name: c.status for c in v.claims} == dict.fromkeys(claims, "VERIFIED")
    # Theorem 4 copied with eta_enc (the prior of z2) where z1's prior N(0, eta_dec^2 I) belongs
    wrong = MHVAE_BOTH.replace_closed_form(omega, sp.sqrt(sp.Max(0, theta**2 - beta1 * eta_dec**2)) / eta_enc)
    inst = Instance({"d1": 2, "d2": 2}, {"beta1": 0.5, "kappa": 1.0, "eta_enc": 2.0, "eta_dec": 1.0}, {},
                    spectrum=(1.5, 0.5), D0=2)
    assert [c.status for c in check_instance(wrong, inst, claims=["omega"]).claims] == ["REFUTED"]


def test_both_learnable_sweep_matches_the_derivation_in_each_region():
    points = both.sweep(size="quick")
    summary = both.summarise(points)
    assert all(summary["as_derived"].values()), summary
    assert summary["counts"]["beta1 < beta2"].get("closed form", 0) >= 6


def test_unbounded_path_rejects_a_non_positive_eps():
    from verifier.errors import UsageError
    with pytest.raises(UsageError, match="eps"):
        both.unbounded_path(_instance(2.0, 1.0), 0.0)


def test_variants_section_is_well_formed():
    from verifier.experiments.variants_section import variants_section
    from verifier.report.sections import ReportSettings, Section
    s = variants_section(ReportSettings("quick"), examples=2, symbolic=False)
    assert isinstance(s, Section) and s.key == "variants" and s.ok, s.data.get("failed")
    assert s.markdown.count("\n| ") >= 20 and "| variant | claim | verdict | evidence |" in s.markdown
    assert {f.name for f in s.figures} == {"variants_mhvae_both_learnable"}
    json.dumps(s.data)                                        # JSON-serialisable
    verdicts = {(r["variant"], r["claim"]): r["verdict"] for r in s.data["rows"]}
    assert all(v == "REFUTED" for (variant, _), v in verdicts.items() if variant.endswith("mutant"))
    assert verdicts[("MHVAE both Sigmas learnable", "unbounded below iff beta1 > beta2")] == "VERIFIED"
