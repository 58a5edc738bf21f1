"""The replace-style operations of a variant, each shown to change the verdict as it should: a wrong
replacement REFUTED, a right one VERIFIED (small searches, no symbolic step: the numeric search decides)."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from theorems.linear_vae import beta, eta_dec, eta_enc, omega, sigma_p, theta
from theorems.theorem1_vae_fixed_sigma import THEOREM as T1
from theorems.theorem4_vae_learnable_sigma import THEOREM as T4, omega_star, threshold
from verifier.errors import SpecError, UnknownClaimError
from verifier.spec import Constant, RankCount
from verifier.strategies import instances, threshold_values
from verifier.verdicts import check_theorem


def status(theorem, claim, examples=12):
    return check_theorem(theorem, instances=examples, claims=[claim], symbolic=False, seed=0).claims[0].status


def test_replace_closed_form_restates_the_claims_that_compare_it():
    wrong = sp.Max(0, theta**2 - beta * eta_dec**2) / eta_enc          # the square root dropped
    variant = T4.replace_closed_form(omega, wrong, name="no_root")
    text = variant.claim("omega").statement
    assert sp.sstr(wrong) in text and "a variant of theorem4" in text and T4.claim("omega").statement in text
    assert variant.claim("lambda").statement == T4.claim("lambda").statement      # other claims keep theirs
    assert status(variant, "omega") == "REFUTED"
    factored = sp.sqrt(sp.Max(0, theta - threshold) * (theta + threshold)) / eta_enc
    assert status(T4.replace_closed_form(omega, factored, name="factored"), "omega") == "VERIFIED"


def test_replace_claim_puts_the_new_claim_in_the_old_ones_place():
    def rank(name, active):
        return RankCount(name, "discussion after Theorem 4", "rank U* = rank V* = #{i : active}",
                         matrices=("U", "V"), active=active)
    wrong = T4.replace_claim("rank", rank("rank_from_zero", sp.StrictGreaterThan(theta, 0)), name="wrong_rank")
    assert [c.name for c in wrong.claims].index("rank_from_zero") == [c.name for c in T4.claims].index("rank")
    assert status(wrong, "rank_from_zero") == "REFUTED"
    squared = rank("rank_squared", sp.StrictGreaterThan(theta**2, beta * eta_dec**2))
    assert status(T4.replace_claim("rank", squared, name="squared"), "rank_squared") == "VERIFIED"
    with pytest.raises(UnknownClaimError, match="has no claim 'ranks'"):
        T4.replace_claim("ranks", squared)
    with pytest.raises(SpecError, match="new_claim"):
        T4.replace_claim("rank", "rank U* = 1")


def test_replace_predicate_changes_which_indices_a_rank_claim_counts_active():
    assert status(T4.replace_predicate("rank", sp.StrictGreaterThan(theta, threshold / 2), name="half"),
                  "rank") == "REFUTED"
    assert status(T4.replace_predicate("rank", sp.StrictGreaterThan(theta**2, beta * eta_dec**2), name="sq"),
                  "rank") == "VERIFIED"
    with pytest.raises(SpecError, match="has no per-index predicate"):
        T4.replace_predicate("omega", theta > 0)
    with pytest.raises(SpecError, match=r"uses \['x'\]"):
        T4.replace_predicate("rank", sp.Symbol("x") > 0)


def test_replace_thresholds_aims_the_instances_where_a_closed_form_is_wrong():
    # omega* wrong (0) only for 2 t < theta < 2.2 t, far from the threshold t the instances are aimed at
    band = sp.Piecewise((omega_star, theta <= 2 * threshold), (0, theta < sp.Rational(11, 5) * threshold),
                        (omega_star, True))
    aimed = sp.Rational(21, 10) * threshold
    wrong = T4.replace_closed_form(omega, band, name="band").replace_thresholds(aimed)
    hyper = {"beta": 4.0, "eta_enc": 1.0, "eta_dec": 0.5}
    assert threshold_values(wrong, hyper, {}, 3) == pytest.approx([2.1] * 3)
    assert status(wrong, "omega") == "REFUTED"
    assert status(T4.replace_thresholds(aimed, name="aimed"), "omega") == "VERIFIED"
    with pytest.raises(SpecError, match="no threshold given"):
        T4.replace_thresholds()


def test_replace_statement_changes_the_text_only():
    variant = T4.replace_statement("omega", "omega_i* as in (30)", name="restated")
    assert variant.claim("omega").statement == "omega_i* as in (30)" and variant.variant_of == "theorem4"
    assert variant.claim("omega").quantity == T4.claim("omega").quantity


def _unit_sigma(theorem, latent):
    return st.just({"sigma": (1.0,) * latent["d1"]})


def test_a_constant_per_index_source_is_one_value_at_every_index():
    unit = T1.replace_strategies(vectors=_unit_sigma, name="unit_sigma").only_claims("optimum", "omega", "rank")
    assert status(unit.replace_indexed(sigma_p, Constant(1.0)), "omega") == "VERIFIED"
    assert status(unit.replace_indexed(sigma_p, Constant(2.0)), "omega") == "REFUTED"
    with pytest.raises(SpecError, match="a finite number"):
        Constant(float("nan"))
    with pytest.raises(SpecError, match="a finite number"):
        Constant("1.0")


def test_a_theorem_replaces_one_strategy_part_and_keeps_the_others():
    fixed = {"beta": 2.0, "eta_enc": 1.0, "eta_dec": 0.5}
    variant = T4.replace_strategies(hyperparameters=lambda theorem: st.just(fixed), name="fixed_hyper")

    @settings(max_examples=15, deadline=None, database=None)
    @given(instances(variant))
    def drawn(instance):
        assert instance.hyper == fixed                       # the part replaced
        assert "spectrum" in instance.to_json()["data"] or "X" in instance.to_json()["data"]   # the default data

    drawn()
    assert status(variant, "omega") == "VERIFIED"
    with pytest.raises(SpecError, match="no strategy part of that name"):
        T4.replace_strategies(hyperparameter=lambda theorem: st.just(fixed))
    assert np.isfinite(threshold_values(variant, fixed, {}, 2)).all()
