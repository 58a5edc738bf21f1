"""The search's own output: Hypothesis's reports (e.g. "spent more than five minutes ... to shrink") go to
stderr, so that `verifier check --json` keeps stdout parseable."""
from hypothesis.reporting import report

from theorems import theorem4_vae_learnable_sigma as t4
from verifier.pipeline import Pipeline
from verifier import verdicts
from verifier.verdicts import search_claim


class _ReportingPipeline(Pipeline):
    def run(self, instances, climb=True):
        report("WARNING: Hypothesis has spent more than five minutes working to shrink a failing example")
        return super().run(instances, climb)


def test_hypothesis_reports_go_to_stderr(capsys, monkeypatch):
    # Hypothesis runs the pipeline in a search only where an outcome is REFUTED (else the search is tallied from
    # the lookahead's lists, outside Hypothesis): forced here, so that its report is made inside the search.
    monkeypatch.setattr(verdicts, "_tally_unless_refuted", lambda *args: None)
    pipeline = _ReportingPipeline(t4.THEOREM)
    search_claim(pipeline, t4.THEOREM.claim("omega"), batches=1, batch_size=1, max_dim=2, seed=0)
    out, err = capsys.readouterr()
    assert "five minutes" in err and "five minutes" not in out
