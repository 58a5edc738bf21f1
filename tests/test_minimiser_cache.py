"""Minimisations and the faces' critical points kept in the evidence cache (verifier/minimiser_cache.py,
verifier/symbolic/critical_points.py): what makes the edit-and-check-again loop of a variant fast.

The premise of keeping minimisations per instance is that an instance's result does not depend on the
batch it was minimised in; it is checked here bit for bit.  Then: a cached run gives exactly the verdicts
of a fresh one, a variant re-judges the stored points and still refutes a wrong closed form, a corrupt
entry is recomputed, and a refutation's replay never reads the store."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch
from hypothesis import HealthCheck, given, seed, settings

from verifier.cache import DISABLED, EvidenceCache
from verifier.loader import load_spec
from verifier.minimiser_cache import row_from_json, row_json, split_rows, stack_rows
from verifier.pipeline import Pipeline
from verifier.strategies import instance_batches
from verifier.symbolic_cache import symbolic_findings
from verifier.verdicts import check_theorem


def _drawn(theorem, count: int, max_dim: int, draw_seed: int) -> list:
    lists = []

    @settings(max_examples=count, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @seed(draw_seed)
    @given(instance_batches(theorem, 6, max_dim))
    def collect(instances):
        lists.append(instances)

    collect()
    return list({inst.key(): inst for batch in lists for inst in batch}.values())


def _as_text(result) -> str:
    """Everything one instance's evaluation reports, as text (equal only if equal to the bit)."""
    return json.dumps({"minimiser": result.minimiser, "claimed": result.claimed,
                       "outcomes": {k: [o.status, o.detail, o.metrics] for k, o in result.outcomes.items()}},
                      sort_keys=True, default=str)


@pytest.mark.parametrize("name", ["theorem1", "theorem2", "theorem4", "theorem3", "theorem5", "appendix_c"])
def test_an_instance_minimised_alone_gives_the_bits_it_gives_in_a_batch(name):
    """What a stored minimisation is keyed by (the instance and its loss scale) decides it: alone or in a batch,
    the same bits.  (The claimed point's value, from which the scale comes, may differ in its last bit with the
    batch's shape -- torch's fractional powers take another kernel on longer tensors -- and then the key differs
    too; such instances are not compared, and most are.)"""
    theorem = load_spec(name)
    instances = _drawn(theorem, 4, 3, draw_seed=7)[:10]
    together = Pipeline(theorem).run(instances)
    compared = 0
    for inst, res in zip(instances, together):
        alone = Pipeline(theorem).run([inst])[0]
        if alone.claimed["loss"] == res.claimed["loss"]:
            compared += 1
            assert json.dumps(alone.minimiser, sort_keys=True) == json.dumps(res.minimiser, sort_keys=True), inst
    assert compared >= len(instances) // 2


def _json(verdict) -> dict:
    out = verdict.to_json()
    out.pop("elapsed_s")
    return out


def test_a_cached_check_gives_the_verdicts_of_a_fresh_one_and_says_where_they_came_from(tmp_path):
    theorem, cache = load_spec("theorem1"), EvidenceCache(tmp_path)
    run = lambda c: _json(check_theorem(theorem, instances=8, max_dim=2, seed=3, symbolic=False,
                                        pipeline=Pipeline(theorem, evidence_cache=c)))
    fresh, cold, warm = run(DISABLED), run(cache), run(cache)
    assert fresh.pop("minimiser_evidence").endswith("computed (the evidence cache is off)")
    assert cold.pop("minimiser_evidence").endswith(", 0 instances' taken from the evidence cache")
    assert warm.pop("minimiser_evidence") == (f"0 minimisations computed, {cold['instances_evaluated']} "
                                              f"instances' taken from the evidence cache")
    assert fresh == cold == warm
    assert {p.parent.name for p in tmp_path.rglob("*.json")} == {"minimised", "data_form"}


def test_a_variant_rejudges_the_stored_points_and_still_refutes_a_wrong_closed_form(tmp_path):
    theorem, cache = load_spec("theorem4"), EvidenceCache(tmp_path)
    symbol, form = theorem.closed_forms[0]
    wrong = theorem.replace_closed_form(symbol, 2 * form, name="theorem4_doubled")
    check = lambda th, c: check_theorem(th, instances=8, max_dim=2, seed=1, symbolic=False,
                                        pipeline=Pipeline(th, evidence_cache=c))
    assert check(theorem, cache).status == "VERIFIED"
    cached = check(wrong, cache)
    assert cached.status == "REFUTED"
    assert _json(cached)["minimiser_evidence"].split(", ")[1] != "0 instances' taken from the evidence cache"
    fresh = _json(check(wrong, DISABLED))
    cached = _json(cached)
    for verdict in (fresh, cached):
        verdict.pop("minimiser_evidence"), verdict.pop("instances_evaluated")
    assert fresh == cached


def test_a_corrupt_minimisation_is_computed_again_with_a_warning(tmp_path, capsys):
    theorem, cache = load_spec("theorem4"), EvidenceCache(tmp_path)
    [instance] = _drawn(theorem, 1, 2, draw_seed=3)[:1]
    first = Pipeline(theorem, evidence_cache=cache).run([instance])[0]
    [entry] = (tmp_path / "minimised").glob("*.json")
    stored = json.loads(entry.read_text())
    stored["value"]["loss"] = "not a float"
    entry.write_text(json.dumps(stored))
    again = Pipeline(theorem, evidence_cache=cache)
    assert _as_text(again.run([instance])[0]) == _as_text(first) and again.minimised == 1
    assert "does not fit" in capsys.readouterr().err
    assert json.loads(entry.read_text())["value"]["loss"] != "not a float"        # written again


def test_a_tampered_store_cannot_make_a_refutation(tmp_path):
    """A refutation is confirmed (a lower loss re-evaluated with 50 digits at the point) and replayed in a
    pipeline without the store before it is reported, so stored losses made lower refute nothing."""
    theorem, cache = load_spec("theorem4"), EvidenceCache(tmp_path)
    pipeline = Pipeline(theorem, evidence_cache=cache)
    assert pipeline.sibling(pipeline.settings).store.enabled
    assert not pipeline.sibling(pipeline.settings, stored=False).store.enabled
    check = lambda: check_theorem(theorem, instances=8, max_dim=2, seed=1, symbolic=False,
                                  pipeline=Pipeline(theorem, evidence_cache=cache))
    assert check().status == "VERIFIED"
    for entry in (tmp_path / "minimised").glob("*.json"):
        stored = json.loads(entry.read_text())
        loss = float.fromhex(stored["value"]["loss"])
        stored["value"]["loss"] = (loss - 10 * abs(loss) - 1).hex()
        entry.write_text(json.dumps(stored))
    assert "REFUTED" not in [c.status for c in check().claims]


def test_a_result_of_per_instance_tensors_round_trips_to_the_bit():
    result = SimpleNamespace(a=torch.tensor([[1.0, float("nan")], [2.0, 1 / 3]], dtype=torch.float64),
                             b=torch.tensor([True, False]), c={"M": torch.randn(2, 2, 3, dtype=torch.float64)})
    rows = [row_from_json(json.loads(json.dumps(row_json(row))), "cpu") for row in split_rows(result)]
    back = stack_rows(SimpleNamespace, rows)
    assert torch.equal(back.b, result.b) and torch.equal(back.c["M"], result.c["M"])
    assert torch.equal(back.a.isnan(), result.a.isnan()) and back.a[1, 1].item() == 1 / 3
    assert back.a.dtype == torch.float64 and back.b.dtype == torch.bool


def test_the_faces_critical_points_are_reused_by_a_variant_and_give_the_same_findings(tmp_path):
    theorem, cache = load_spec("theorem4"), EvidenceCache(tmp_path)
    symbol, form = theorem.closed_forms[0]
    variant = theorem.replace_closed_form(symbol, 2 * form, name="theorem4_doubled")
    symbolic_findings(theorem, 0, cache)
    faces = sorted(p.name for p in (tmp_path / "face").glob("*.json"))
    assert faces
    kept, how = symbolic_findings(variant, 0, cache)
    assert how.startswith("computed") and sorted(p.name for p in (tmp_path / "face").glob("*.json")) == faces
    assert kept == symbolic_findings(variant, 0, DISABLED)[0]


def test_a_face_entry_that_does_not_fit_is_enumerated_again_with_a_warning(tmp_path, capsys):
    theorem, cache = load_spec("theorem4"), EvidenceCache(tmp_path)
    symbol, form = theorem.closed_forms[0]
    first = symbolic_findings(theorem, 0, cache)[0]
    for entry in (tmp_path / "face").glob("*.json"):
        stored = json.loads(entry.read_text())
        stored["value"] = [["not", "a", "point"]]
        entry.write_text(json.dumps(stored))
    variant = theorem.replace_closed_form(symbol, form, name="theorem4_renamed")     # not its findings' key
    again = symbolic_findings(variant, 0, cache)[0]
    assert [(f.check, f.status) for f in again] == [(f.check, f.status) for f in first]
    assert "does not fit" in capsys.readouterr().err
