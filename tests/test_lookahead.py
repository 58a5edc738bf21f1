"""The search's lookahead (verifier.verdicts): the lists it runs ahead are the lists the search is then given,
so it changes how instances are batched into tensor ops, never which instances are judged."""
from theorems import theorem4_vae_learnable_sigma as t4
from verifier import search_lookahead, verdicts
from verifier.pipeline import Pipeline
from verifier.strategies import instance_batches


class _RecordingPipeline(Pipeline):
    """Records, for each call the search makes itself, whether the lookahead had already run it."""
    in_lookahead = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.search_calls_cached = []

    def run(self, instances, climb=True):
        if not self.in_lookahead:
            self.search_calls_cached.append(self.has(instances, climb))
        return super().run(instances, climb)


def test_the_lookahead_runs_what_the_search_is_then_given(monkeypatch):
    batches, batch_size, max_dim, seed = 6, 4, 2, 3
    drawn = search_lookahead.drawn_lists(instance_batches(t4.THEOREM, batch_size, max_dim), batches, seed)
    pipeline = _RecordingPipeline(t4.THEOREM)
    given = []
    run_ahead = search_lookahead.Lookahead.run_ahead

    def recording_run_ahead(self, instances):
        given.append([inst.key() for inst in instances])
        pipeline.in_lookahead = True
        try:
            run_ahead(self, instances)
        finally:
            pipeline.in_lookahead = False

    monkeypatch.setattr(search_lookahead.Lookahead, "run_ahead", recording_run_ahead)
    counts, _, refutation, _ = verdicts.search_claim(pipeline, t4.THEOREM.claim("omega"), batches=batches,
                                                     batch_size=batch_size, max_dim=max_dim, seed=seed)
    assert refutation is None and sum(counts.values()) > 0
    assert given[:len(drawn)] == [[inst.key() for inst in lst] for lst in drawn]
    assert pipeline.search_calls_cached and all(pipeline.search_calls_cached)


def test_a_repeated_instance_is_minimised_once():
    (instances,) = search_lookahead.drawn_lists(instance_batches(t4.THEOREM, 2, 2), 1, 0)[:1]
    pipeline = Pipeline(t4.THEOREM)
    results = pipeline.run(instances + instances)
    assert pipeline.minimised == len({inst.key() for inst in instances})
    assert [r.instance.key() for r in results] == [inst.key() for inst in instances + instances]
