"""No dead ends: an uncertified instance climbs the ladder, and an INCONCLUSIVE verdict says where and why."""
import math

from theorems import theorem4_vae_learnable_sigma as t4
from verifier.judge import INCONCLUSIVE, VERIFIED
from verifier.instances import Instance
from verifier.ladder import diagnose, ladder
from verifier.numeric import MinimiserSettings
from verifier.pipeline import Pipeline, PipelineSettings
from verifier.verdicts import check_theorem, replay_command

INSTANCE = Instance.from_json({"latent": {"d1": 2}, "hyper": {"beta": 0.5, "eta_enc": 1.0, "eta_dec": 1.0},
                               "vectors": {}, "data": {"spectrum": [2.0, 1.1, 0.3], "D0": 3}, "seed": 0})
SETTINGS = MinimiserSettings()


def test_the_ladder_certifies_what_a_short_first_run_could_not():
    short = MinimiserSettings(restarts=1, max_iterations=6)   # a first run too short to certify
    res = Pipeline(t4.THEOREM, PipelineSettings(minimiser=short)).run([INSTANCE])[0]
    rungs = res.minimiser["ladder"]
    assert len(rungs) >= 2 and not any(r["certified"] for r in rungs[:-1]) and rungs[-1]["certified"], rungs
    assert res.minimiser["certified"] and res.minimiser["diagnosis"] == ""
    assert res.outcomes["omega"].status == VERIFIED, res.outcomes["omega"].detail


def test_each_rung_is_a_stronger_independent_minimisation():
    rungs = ladder(SETTINGS)
    assert len({r.settings.seed for r in rungs} | {SETTINGS.seed}) == len(rungs) + 1    # other starts each time
    assert all(r.settings.restarts > SETTINGS.restarts for r in rungs)
    assert max(r.settings.max_iterations for r in rungs) > SETTINGS.max_iterations
    assert {r.start_factor for r in rungs} > {1.0}


def test_the_diagnosis_names_the_cause():
    scale, tol = 10.0, SETTINGS.grad_rtol * 10.0
    assert diagnose(1e3, -1.0, float("nan"), [5.0, -3e53], scale, 40, SETTINGS).startswith("unbounded below")
    assert diagnose(1e3, -1.0, float("nan"), [math.inf] * 4, scale, 40, SETTINGS).startswith("unbounded below")
    assert diagnose(tol / 2, -0.5, 0.3, [1.0], scale, 40, SETTINGS).startswith("saddle")
    assert diagnose(10 * tol, 1e-12, 1e-9, [1.0], scale, 1000, SETTINGS).startswith("flat direction")
    assert diagnose(10 * tol, 0.2, 0.2, [1.0], scale, 1000, SETTINGS).startswith("not converged")


def test_an_inconclusive_verdict_shows_its_instance_why_and_a_replay():
    # a gradient tolerance float64 cannot reach: no rung certifies anything
    unreachable = MinimiserSettings(restarts=1, max_iterations=2, grad_rtol=1e-300)
    settings = PipelineSettings(minimiser=unreachable)
    verdict = check_theorem(t4.THEOREM, instances=2, claims=["omega"], symbolic=False, settings=settings)
    (claim,) = verdict.claims
    assert claim.status == INCONCLUSIVE
    assert "could not be certified; the first: minimiser not certified" in claim.detail
    assert "after climbing the ladder" in claim.detail and "not converged" in claim.detail
    assert claim.counterexample is not None
    replay = replay_command("theorem4", "omega", claim.counterexample, settings)
    assert replay.startswith("verifier check theorem4 --claim omega --instance ")
