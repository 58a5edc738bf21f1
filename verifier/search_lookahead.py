"""The search's draws, ahead of the search: a claim's search runs the lists it is about to be given together,
so that lists sharing their dimensions are minimised in one tensor batch (the search still judges exactly
the instances it draws, from the pipeline's cache), and the settings every search draws under."""
from __future__ import annotations

import sys

from hypothesis import HealthCheck, Phase, given, seed as hypothesis_seed, settings as hsettings
from hypothesis.reporting import with_reporter

from .hypothesis_pool import without_local_constants
from .pipeline import Pipeline


def to_stderr(value) -> None:
    """Hypothesis's reports (e.g. that shrinking is taking minutes) go to stderr: stdout carries the verdicts,
    which ``--json`` must keep parseable."""
    print(value, file=sys.stderr)


# A search runs the lists it is about to draw together, at least this many instances at a time, so that the
# instances of several lists that share their dimensions are minimised in one tensor batch: Hypothesis draws
# lists of ~1-6, and at small d a tensor op's cost is mostly its dispatch (a gradient of Theorem 2 at d = 5:
# 3.3 ms for one problem, 4.1 ms for ten; docs/benchmarks.md).
LOOKAHEAD_INSTANCES = 64


def search_settings(batches: int):
    """The settings of every search (and of the draw that looks ahead of it: the same, so the same draws)."""
    return hsettings(max_examples=batches, deadline=None, database=None, derandomize=False,
                     phases=(Phase.generate, Phase.shrink), report_multiple_bugs=False, print_blob=False,
                     suppress_health_check=list(HealthCheck))


def drawn_lists(drawn, batches: int, seed: int) -> list[list]:
    """The lists of instances a search of ``batches`` examples at ``seed`` is given while no example fails,
    drawn only (nothing is minimised): Hypothesis's generation depends on the seed and on the outcomes, and
    every outcome is a pass until one fails."""
    lists: list[list] = []

    @search_settings(batches)
    @hypothesis_seed(seed)
    @given(drawn)
    def collect(instances):
        lists.append(instances)

    with without_local_constants(), with_reporter(to_stderr):
        collect()
    return lists


class Lookahead:
    """Runs the lists a search will be given, LOOKAHEAD_INSTANCES at a time, ahead of the search (the
    pipeline's cache keeps the results; the search still judges exactly the instances it draws)."""

    def __init__(self, pipeline: Pipeline, lists: list[list]):
        self.pipeline, self.lists = pipeline, lists
        self.position: dict[tuple, int] = {}
        for n, instances in enumerate(lists):
            self.position.setdefault(tuple(inst.key() for inst in instances), n)
        if pipeline.remote is not None:    # on a cluster, all of them at once (verifier.distributed)
            pipeline.remote.prefetch(pipeline.settings, self.planned())

    def run_ahead(self, instances) -> None:
        n = self.position.get(tuple(inst.key() for inst in instances))
        if n is None or self.pipeline.has(instances):
            return
        self.pipeline.run(self._ahead_of(n))

    def _ahead_of(self, n: int) -> list:
        ahead: list = []
        for upcoming in self.lists[n:]:
            ahead.extend(upcoming)
            if len(ahead) >= LOOKAHEAD_INSTANCES:
                break
        return ahead

    def planned(self) -> list[list]:
        """What ``run_ahead`` will have the pipeline compute while no example fails, from its cache as it is
        now: each list of instances as ``Pipeline.run`` will compute it (those not yet cached, once each)."""
        done = {inst.key() for instances in self.lists for inst in instances if self.pipeline.has([inst])}
        planned = []
        for n, instances in enumerate(self.lists):
            if all(inst.key() in done for inst in instances):
                continue
            ahead = self._ahead_of(n)
            planned.append(list({inst.key(): inst for inst in ahead if inst.key() not in done}.values()))
            done.update(inst.key() for inst in ahead)
        return planned


def lookahead_for(pipeline: Pipeline, drawn, key: tuple, batches: int, seed: int) -> Lookahead:
    """The lookahead of a search, its draws kept on the pipeline per strategy (claims share them)."""
    if key not in pipeline.drawn:
        pipeline.drawn[key] = drawn_lists(drawn, batches, seed)
    return Lookahead(pipeline, pipeline.drawn[key])
