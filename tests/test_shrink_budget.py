"""The shrinker's fixed budget of pipeline calls (verifier/shrink_budget.py): a seed reports the same shrunk
counterexample however loaded the machine, because shrinking ends by a count, not by Hypothesis's clock."""
import pytest

from theorems.theorem1_vae_fixed_sigma import THEOREM as T1
from verifier import shrink_budget, verdicts
from verifier.shrink_budget import ShrinkBudget
from verifier.status import Status
from verifier.verdicts import check_theorem


def test_a_budget_is_a_count_of_batches():
    with pytest.raises(ValueError, match="batches >= 0"):
        ShrinkBudget(-1)
    budget = ShrinkBudget(1)
    assert not budget.spent
    budget.used += 1
    assert budget.spent


class _Spy(ShrinkBudget):
    made: list = []

    def __init__(self, batches=None):
        super().__init__(batches)
        _Spy.made.append(self)


def _remark2(monkeypatch, batches: int):
    """Remark 2 (an erratum: its threshold drops a sqrt(beta)) checked with a shrink budget of ``batches``."""
    _Spy.made = []
    monkeypatch.setattr(shrink_budget, "SHRINK_BATCHES", batches)
    monkeypatch.setattr(verdicts, "ShrinkBudget", _Spy)
    (claim,) = check_theorem(T1, instances=16, seed=5, claims=["remark2"], symbolic=False).claims
    assert claim.status == Status.REFUTED, claim.detail
    (budget,) = [b for b in _Spy.made if b.failed]
    return claim, budget


def test_the_shrinker_spends_at_most_its_budget_and_reports_the_smallest_refutation_seen(monkeypatch):
    unshrunk, none_spent = _remark2(monkeypatch, 0)
    assert none_spent.used == 0 and len(none_spent.failed) == 1       # only the first, confirmed refutation
    shrunk, spent = _remark2(monkeypatch, 100)
    assert spent.used <= 100 and spent.spent        # this shrink takes ~500 candidates to converge
    assert shrunk.counterexample.key() == spent.smallest()[0].key()
    # the budget does work: the shrunk instance is smaller than the first one found
    assert len(shrunk.counterexample.key()) < len(unshrunk.counterexample.key())


def test_the_smallest_refutation_has_the_fewest_latent_dimensions_then_the_shortest_json():
    from verifier.instances import Instance

    def inst(d1, theta):
        return Instance.from_json({"latent": {"d1": d1}, "hyper": {"beta": 1.0}, "data": {"spectrum": theta, "D0": 2}})
    budget = ShrinkBudget()
    for i in (inst(3, [1.0, 0.5]), inst(2, [1.234567, 0.5]), inst(2, [1.5, 0.5])):
        budget.record(i, "refuted")
    assert budget.smallest()[0].latent == {"d1": 2} and budget.smallest()[0].spectrum == (1.5, 0.5)
    assert budget.known_failure([inst(1, [1.0]), inst(3, [1.0, 0.5])])[0].latent == {"d1": 3}
    assert budget.known_failure([inst(1, [1.0])]) is None
