"""The premise-directed search: a claim whose premise the ordinary search rarely meets is tested on
instances that meet it, so that it is verified or refuted rather than reported as never met.

Theorem 3's "z1 need not collapse" speaks only of a low-rank but non-zero V1* (0 < rank < d1), which
none of the instances of the quick settings below meets (seed 0); the directed search draws them."""
import dataclasses

from hypothesis import HealthCheck, given, settings

from theorems import theorem3_mhvae_fixed_sigma1 as t3
from verifier.judge import REFUTED, VERIFIED, has_premise, premise_holds
from verifier.numeric import MinimiserSettings
from verifier.pipeline import Pipeline, PipelineSettings
from verifier.batch import group_by_dims, instantiate
from verifier.spec import PartialRank, ZeroLines
from verifier.strategies import instance_batches
from verifier.verdicts import check_theorem

QUICK = dict(instances=24, max_dim=3, symbolic=False, seed=0,
             settings=PipelineSettings(minimiser=MinimiserSettings(restarts=3)))

# The claim z1_no_collapse contradicts: "z1 collapses", i.e. V1* has d1 - rank zero rows whenever it
# is low-rank.  With Sigma1 isotropic the certified minimiser lands on a rotated optimum, so it is false.
Z1_COLLAPSES = ZeroLines("z1_collapses_mutant", "mutant of the discussion after Theorem 3",
                         "V1* has d1 - rank(V1*) zero rows when 0 < rank < d1",
                         when=(PartialRank(t3.lambda_positive),), matrix="V1", axis="rows")


def test_a_rare_premise_is_met_by_the_directed_search():
    (claim,) = check_theorem(t3.THEOREM, claims=["z1_no_collapse"], **QUICK).claims
    assert claim.status == VERIFIED, claim.detail
    assert claim.directed > 0 and claim.counts[VERIFIED] > 0
    assert "the premise held on 0 of the first search's instances" in claim.detail


def test_the_directed_search_refutes_a_false_claim_with_a_rare_premise():
    # Without the directed search these settings give INCONCLUSIVE (the premise is never met); most of
    # the time here is Hypothesis shrinking the counterexample.
    theorem = dataclasses.replace(t3.THEOREM, name="theorem3_z1_collapses", claims=(Z1_COLLAPSES,))
    (claim,) = check_theorem(theorem, **{**QUICK, "instances": 8}).claims
    assert claim.status == REFUTED, claim.detail
    assert claim.counterexample is not None


def test_premise_holds_agrees_with_the_checkers_skips():
    claim = t3.THEOREM.claim("z1_no_collapse")
    assert has_premise(claim) and not has_premise(t3.THEOREM.claim("optimum"))
    pipeline = Pipeline(t3.THEOREM, QUICK["settings"])

    @settings(max_examples=10, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(instance_batches(t3.THEOREM, 4, 3))
    def agree(instances):
        for group in group_by_dims(t3.THEOREM, instances):
            batch = instantiate(t3.THEOREM, group)
            for inst, met in zip(batch.instances, premise_holds(claim, batch)):
                outcome = pipeline.run([inst])[0].outcomes[claim.name]
                skipped_for_premise = outcome.detail.startswith("premise not met")
                assert met != skipped_for_premise, (inst, outcome.detail)
    agree()


def test_each_instance_is_decided_once_per_claim_and_as_a_fresh_pipeline_decides_it(monkeypatch):
    # A directed search's shrinker asks the pipeline again about every list it tries, most of whose instances it
    # has already seen: each (claim, instance) is instantiated once, and the answer is a fresh pipeline's.
    from verifier import pipeline as pipeline_module
    instantiated = []
    original = pipeline_module.instantiate
    monkeypatch.setattr(pipeline_module, "instantiate",
                        lambda theorem, group, **kw: instantiated.extend(g[0].key() for g in group) or
                        original(theorem, group, **kw))
    lists = []

    @settings(max_examples=6, database=None, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(instance_batches(t3.THEOREM, 4, 3))
    def draw(instances):
        lists.append(instances)
    draw()
    # Two claims whose premises differ (the optimum has none: only the case-boundary gate applies), asked in turn.
    claims = (t3.THEOREM.claim("optimum"), t3.THEOREM.claim("z1_no_collapse"))
    pipeline = Pipeline(t3.THEOREM, QUICK["settings"])
    asked = [(claim, lists[i][:j] + lists[0]) for i in range(len(lists)) for j in (2, 4) for claim in claims]
    kept = {claim.name: 0 for claim in claims}
    for claim, instances in asked:
        met = pipeline.meeting_premise(claim, instances)
        assert met == Pipeline(t3.THEOREM, QUICK["settings"]).meeting_premise(claim, instances)
        kept[claim.name] += len(met)
    assert kept["optimum"] > kept["z1_no_collapse"]
    unique = lambda instances: {inst.key() for inst in instances}
    by_fresh_pipelines = sum(len(unique(instances)) for _, instances in asked)
    by_one_pipeline = sum(len(unique(i for c, insts in asked if c is claim for i in insts)) for claim in claims)
    assert len(instantiated) == by_fresh_pipelines + by_one_pipeline
