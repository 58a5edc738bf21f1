"""docs/new-model.md's worked example, run as written: probabilistic PCA (a model the project does not ship),
stated with the public API only -- the true statement VERIFIED, the wrong variant (which imports its sibling
spec file) REFUTED with a counterexample and a replay line, an instance outside the model's domain UNBOUNDED."""
import json
from pathlib import Path

from verifier.cli import main

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "ppca"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_true_statement_is_verified(capsys):
    code, out, _ = run(capsys, "check", str(EXAMPLE / "ppca.py"), "--examples", "12", "--device", "cpu", "--json")
    verdict = json.loads(out)
    assert code == 0 and verdict["status"] == "VERIFIED", verdict["claims"]
    assert [c["claim"] for c in verdict["claims"]] == ["optimum", "W", "s2"]
    assert all(c["counts"].get("VERIFIED", 0) > 0 for c in verdict["claims"])


def test_the_wrong_variant_is_refuted_with_a_replay_line(capsys):
    code, out, _ = run(capsys, "check", str(EXAMPLE / "ppca_sum.py"), "--examples", "8", "--device", "cpu",
                       "--claim", "s2")
    assert code == 1 and "REFUTED" in out and "replay: verifier check" in out, out


def test_an_instance_with_q_at_the_datas_rank_is_unbounded(capsys):
    instance = {"latent": {"q": 2}, "hyper": {}, "vectors": {}, "data": {"spectrum": [2.0, 1.0], "D0": 3}}
    code, out, _ = run(capsys, "check", str(EXAMPLE / "ppca.py"), "--instance", json.dumps(instance),
                       "--device", "cpu")
    assert code == 5 and "UNBOUNDED" in out, out
    assert "the instance lies outside the model's validity domain (q < d0)" in out, out


def test_the_page_shows_the_whole_spec_module_as_it_is_checked():
    # a reader with only the page has every import, keyword and the statistics function
    page = (EXAMPLE.parent.parent / "new-model.md").read_text()
    listing = page.split("<!-- ppca.py -->\n```python\n", 1)[1].split("```", 1)[0]
    assert listing == (EXAMPLE / "ppca.py").read_text()


def test_a_theorem_without_thresholds_draws_round_the_datas_unit():
    # no case split to aim at: thresholds=() is a valid spec, not a crash
    import dataclasses
    from verifier.loader import load_spec
    from verifier.verdicts import check_theorem
    theorem = load_spec(str(EXAMPLE / "ppca.py"))
    verdict = check_theorem(dataclasses.replace(theorem, thresholds=()), instances=8, symbolic=False, seed=0)
    assert verdict.status == "VERIFIED", [(c.claim.name, c.detail) for c in verdict.claims]
