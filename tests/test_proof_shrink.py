"""Shrinking of proof-step counterexamples: the verdict stays, the counterexample shown is small, holds
only the entries the step reads, and still replays to the same failure."""
import json

import numpy as np

import proofs_check as pc
from proofs_check._shrink import SimpleValues, own_entries


def _step(proof, equation):
    return next(s for s in pc.PROOFS[proof] if s.equation == equation)


def test_a_vae_step_shows_a_small_instance_without_the_mhvae_hyperparameters():
    step = _step("D.1", "(15) last")
    result = pc.evaluate(step, seed=0)
    assert result.status == "REFUTED" and result.corrected
    cx = result.counterexample
    assert "shrunk" in cx["shrunk"] and len(json.dumps(cx)) < 600
    assert not {"beta1", "beta2", "sigma1", "sigma2"} & set(cx["values"])    # the VAE step reads none of them
    assert len(cx["values"]["theta"]) < 4                                      # fewer than the sampler's d0 = 4
    lhs, rhs = pc.replay(step, cx)
    assert np.isclose(lhs, cx["lhs"]) and abs(lhs - rhs) > 1e-3


def test_minimiser_step_keeps_failing_the_same_way():
    step = _step("E", "(38)")
    cx = pc.evaluate(step, seed=0).counterexample
    f, lo, hi, x = pc.replay(step, cx)
    assert np.isfinite(cx["f_claimed"]) and f(np.array([cx["found"]]))[0] < f(np.array([x]))[0]


def test_simple_values_are_simple_distinct_and_in_range():
    rng = SimpleValues(np.random.default_rng(0))
    draw = rng.uniform(0.2, 3.0, 3)
    assert len(set(draw)) == 3 and all(0.2 <= v < 3.0 and (2 * v).is_integer() for v in draw)
    assert rng.standard_normal((2, 2)).shape == (2, 2)


def test_own_entries_keeps_what_is_read_and_only_if_it_still_fails():
    inst = {"a": 1.0, "b": 2.0, "nested": {"x": 3.0, "y": 4.0}}
    assert own_entries(inst, lambda i: i["a"] + i["nested"]["x"] > 0) == {"a": 1.0, "nested": {"x": 3.0}}
    assert own_entries(inst, lambda i: len(dict(i)) == 3) == inst          # read through a copy: kept whole
