"""Shrinking of proof-step counterexamples: the verdict stays, the counterexample shown is small, holds
only the entries the step reads, and still replays to the same failure."""
import dataclasses
import json

import numpy as np
import pytest

import proofs_check as pc
from proofs_check import _shrink
from proofs_check._numeric import from_jsonable
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


# ------------------------------------------------------------------ every failing step, held to its own minimum
# At minimum 1 a counterexample is a few 1 x 1 and 2 x 2 matrices and scalars (~20 numbers of ~20
# characters) and the record's own fields: 600 characters.
CHARS_AT_MIN_1 = 600
MHVAE_ONLY = {"beta1", "beta2", "sigma1", "sigma2"}
VAE_ONLY = {"beta"}


def _arrays(values: dict):
    for k, v in values.items():
        if isinstance(v, dict):
            yield from _arrays(v)
        elif isinstance(v, list):
            yield k, np.asarray(v, dtype=float)


def size_problems(step, cx: dict) -> list[str]:
    """What makes ``cx`` larger than ``step`` needs: a dimension above ``step.min_dim + 1`` (the shrinker
    tries each latent dimension with data dimensions equal to it and one more), a JSON longer than the
    budget (600 characters at minimum 1, scaled with the square of the largest dimension allowed, as a
    matrix's entries are), or a hyperparameter of the other model family."""
    allowed = step.min_dim + 1
    problems = [f"{k} has shape {a.shape}" for k, a in _arrays(cx.get("values", {})) if any(n > allowed for n in a.shape)]
    budget = CHARS_AT_MIN_1 * (allowed / 2) ** 2
    if len(json.dumps(cx)) > budget:
        problems.append(f"JSON of {len(json.dumps(cx))} characters > {budget:.0f}")
    foreign = MHVAE_ONLY if step.proof in ("D.1", "D.2", "E") else VAE_ONLY if step.proof.startswith("F") else set()
    if foreign & set(cx.get("values", {})):
        problems.append(f"hyperparameters {sorted(foreign & set(cx['values']))} the step does not use")
    return problems


@pytest.fixture(scope="module")
def refuted():
    """Every refuted step of every proof, with its result (each proof run once, seed 0)."""
    return [(s, r) for name in pc.PROOFS for s, r in pc.run_proof(name) if r.status == "REFUTED"]


def test_every_failing_step_shows_a_counterexample_no_larger_than_it_needs(refuted):
    assert refuted
    problems = {f"{s.proof} {s.equation}": size_problems(s, r.counterexample) for s, r in refuted}
    assert not {k: v for k, v in problems.items() if v}


def _needed(judge, step, values, key):
    """Whether judging the step (printed, then corrected) on ``values`` without ``key`` fails for want of it."""
    without = {k: v for k, v in values.items() if k != key}
    try:
        judge(step.printed, without)
        if step.corrected is not None:
            judge(step.corrected, without)
    except KeyError:
        return True
    return False


def test_every_shown_counterexample_fails_as_printed_holds_corrected_and_shows_only_what_is_read(refuted):
    for step, result in refuted:
        cx = result.counterexample
        if "values" not in cx or "elbo" in cx:
            continue        # symbolic steps (no instance) and ELBO reductions (the data are not shown)
        judge = step.check.judge
        values = from_jsonable(cx["values"])
        assert judge(step.printed, values), step.equation
        assert step.corrected is None or not judge(step.corrected, values), step.equation
        assert all(_needed(judge, step, values, key) for key in values), step.equation


def test_the_size_check_catches_an_unshrunk_counterexample(monkeypatch):
    step = _step("D.1", "(19) V")
    assert not size_problems(step, pc.evaluate(step, seed=0).counterexample)
    monkeypatch.setattr(_shrink, "CAPS", ())                         # no smaller instance is searched for
    monkeypatch.setattr(_shrink, "own_entries", lambda inst, fails: inst)  # nor the instance cut down
    unshrunk = pc.evaluate(step, seed=0).counterexample
    problems = size_problems(step, unshrunk)
    assert any("shape" in p for p in problems) and any("JSON" in p for p in problems)
    assert any("hyperparameters" in p for p in problems)


def test_a_step_needing_larger_dimensions_is_allowed_them_and_no_more():
    step = _step("D.1", "(17) equality")
    cx = pc.evaluate(step, seed=0).counterexample
    assert step.min_dim == 3 and not size_problems(step, cx)
    assert size_problems(dataclasses.replace(step, min_dim=1), cx)   # its 3 x 3 Sigma' would be too large at 1
