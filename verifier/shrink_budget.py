"""A fixed budget of shrink steps, so that a seed always reports the same shrunk counterexample.

Hypothesis stops shrinking after a wall-clock limit (five minutes); what it has reached by then
depends on the machine's load, so the same seed could report different instances, and a shrink
whose candidates each minimise a batch could take those five minutes on every refuted claim.  The
search instead gives the shrinker a fixed number of pipeline calls.  Once they are spent, the next
new candidate ends Hypothesis's run with :class:`ShrinkBudgetSpent` -- a ``BaseException``, which
Hypothesis does not take for a test failure and lets through -- and the search reports the smallest
refuting instance seen (:meth:`ShrinkBudget.smallest`): the same one on any machine.  Candidates
already seen to fail fail again without being recomputed (the pipeline is deterministic).
"""
from __future__ import annotations

# Batches the shrinker may evaluate after the first confirmed refutation.  Shrinking a failing batch
# of the registered theorems takes ~30-500 candidate batches to converge; most progress (deleting the
# batch's other instances, lowering dimensions, rounding values) comes in the first few dozen, and
# each candidate minimises a batch (~0.1-1 s), so 100 bounds a refuted claim's shrink to about a minute.
SHRINK_BATCHES = 100


class ShrinkBudgetSpent(BaseException):
    """Ends a Hypothesis search whose shrink budget is spent (not an ``Exception``: no test failure)."""


class ShrinkBudget:
    """Counts the shrinker's pipeline calls and keeps the refutations seen (by ``Instance.key``)."""

    def __init__(self, batches: int | None = None):
        batches = SHRINK_BATCHES if batches is None else batches
        if batches < 0:
            raise ValueError(f"a shrink budget is a number of batches >= 0, not {batches}")
        self.batches = batches
        self.used = 0
        self.failed: dict[str, tuple] = {}     # instance key -> (instance, outcome)

    @property
    def spent(self) -> bool:
        return self.used >= self.batches

    def known_failure(self, instances):
        """The (instance, outcome) already recorded for one of ``instances``, or None."""
        for instance in instances:
            failure = self.failed.get(instance.key())
            if failure is not None:
                return failure
        return None

    def record(self, instance, outcome) -> None:
        self.failed.setdefault(instance.key(), (instance, outcome))

    def smallest(self) -> tuple:
        """The recorded (instance, outcome) with the fewest latent dimensions, then the shortest JSON."""
        return min(self.failed.values(), key=lambda f: (sum(f[0].latent.values()), len(f[0].key()), f[0].key()))
