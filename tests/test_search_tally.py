"""A search that no example fails is tallied from the lookahead's lists without running Hypothesis again
(verifier.verdicts): it must count exactly what the Hypothesis search counts -- the same lists, in the same
order, each instance as the search counts it -- and leave any claim with a REFUTED outcome to the search."""
import pytest

from theorems import theorem1_vae_fixed_sigma as t1
from theorems import theorem4_vae_learnable_sigma as t4
from verifier import verdicts
from verifier.pipeline import Pipeline


def _searches(theorem, seed: int, batches: int = 10):
    """Each claim's search result, as (counts, worst, refutation's instance key, uncertified instance key)."""
    pipeline = Pipeline(theorem)
    out = {}
    for claim in theorem.claims:
        counts, worst, ref, uncertified = verdicts.search_claim(pipeline, claim, batches=batches, batch_size=6,
                                                                max_dim=3, seed=seed)
        out[claim.name] = (dict(counts), worst, ref and ref.instance.key(), uncertified and uncertified[0].key())
    return out, len(pipeline.results())


@pytest.mark.parametrize("theorem, seed", [(t4.THEOREM, 3), (t1.THEOREM, 5)])
def test_the_tally_counts_what_the_hypothesis_search_counts(monkeypatch, theorem, seed):
    tallied, evaluated = _searches(theorem, seed)
    monkeypatch.setattr(verdicts, "_tally_unless_refuted", lambda *args: None)     # Hypothesis for every claim
    searched, evaluated_by_search = _searches(theorem, seed)
    assert tallied == searched
    assert evaluated == evaluated_by_search                   # the same instances computed, no more
    assert any(sum(counts.values()) for counts, *_ in tallied.values())


def test_a_refuted_claim_is_left_to_the_search_which_shrinks_it():
    counts, _, refutation, _ = verdicts.search_claim(Pipeline(t1.THEOREM), t1.THEOREM.claim("remark2"), batches=10,
                                                     batch_size=6, max_dim=3, seed=0)
    assert refutation is not None and "REFUTED" not in counts      # found, confirmed and shrunk by Hypothesis


def test_a_premise_directed_search_is_tallied_as_its_hypothesis_run_counts(monkeypatch):
    """The directed search draws only instances that meet the premise (decided as they are drawn): tallied from
    those lists, it counts what its Hypothesis run counts."""
    from theorems import theorem3_mhvae_fixed_sigma1 as t3
    from verifier.numeric import MinimiserSettings
    from verifier.pipeline import PipelineSettings
    settings = PipelineSettings(minimiser=MinimiserSettings(restarts=3))
    claim = t3.THEOREM.claim("z1_no_collapse")

    def directed():
        pipeline = Pipeline(t3.THEOREM, settings)
        counts, worst, ref, _ = verdicts.search_claim(pipeline, claim, batches=4, batch_size=6, max_dim=3, seed=1,
                                                      directed=True)
        return dict(counts), worst, ref, len(pipeline.results())

    tallied = directed()
    monkeypatch.setattr(verdicts, "_tally_unless_refuted", lambda *args: None)
    assert tallied == directed() and tallied[0].get("VERIFIED", 0) > 0
