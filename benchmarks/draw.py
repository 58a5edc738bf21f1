"""Benchmark instances: a batch of a theorem's Hypothesis-drawn instances at a given size.

The size ``d`` is every latent dimension and (for the default data strategy) D0 = d0 = d,
so that the number of parameters grows with d.  Models with their own dimension strategy
(paired or two-latent data) keep it, and only draws whose largest latent dimension is d
are kept; where that strategy stops below d, every dimension is set to d.  Everything flows from ``seed``.
"""
from __future__ import annotations

import sympy as sp
from hypothesis import HealthCheck, Phase, given, seed as hypothesis_seed, settings, strategies as st

from verifier.strategies import model_strategies, dimensions


def _dimensions(theorem, d: int, uniform: bool = False):
    dims_strategy, _ = model_strategies(theorem)
    if uniform or dims_strategy is dimensions:
        return st.just(({str(s): d for s in theorem.model.latent_dims}, {str(s): d for s in theorem.model.data_dims}))
    return dims_strategy(theorem, d).filter(lambda ld: max(ld[0].values()) == d)


class NotDrawable(Exception):
    """The theorem's strategies have no instance of this size (e.g. the MHVAE's latents stop at 3)."""


def draw_batch(theorem, d: int, size: int, seed: int = 0) -> list:
    """``size`` instances of ``theorem`` sharing their dimensions (largest latent dimension d): from the
    model's own dimension strategy, else with every dimension d; NotDrawable when neither gives one."""
    errors = []
    for uniform in (False, True):
        try:
            return _draw(theorem, _dimensions(theorem, d, uniform), size, seed)
        except Exception as exc:            # noqa: BLE001 - Unsatisfiable, or a strategy that cannot build d
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
    raise NotDrawable(f"{theorem.name} at d={d}: " + "; ".join(errors))


# Instances per Hypothesis example: a list of thousands would overrun Hypothesis's draw buffer, so a large
# batch is drawn as lists of this size at the first list's dimensions, from the examples of one search (of
# up to DRAW_ROUNDS searches under other seeds, where the first repeats itself too often: 4096 at d = 5).
DRAW_CHUNK = 64
DRAW_ROUNDS = 4


def _draw(theorem, dims_strategy, size: int, seed: int) -> list:
    ((dims, first),) = _draw_lists(theorem, dims_strategy, min(size, DRAW_CHUNK), seed, 1)
    unique = {inst.key(): inst for inst in first}            # a drawn list may repeat an instance
    instances, known = list(unique.values()), set(unique)
    for round_ in range(DRAW_ROUNDS):
        if len(instances) >= size:
            break
        # Hypothesis's first example is its simplest whatever the seed, so each round's chunks come from one
        # search; a list may repeat instances drawn before (a quarter of them at d = 5), so a short round is
        # followed by another search under another seed
        chunks = 2 * -(-(size - len(instances)) // DRAW_CHUNK) + 2
        for _, more in _draw_lists(theorem, st.just(dims), DRAW_CHUNK, seed + 7919 * round_, chunks):
            fresh = [inst for inst in more if inst.key() not in known]
            known.update(inst.key() for inst in fresh)
            instances += fresh
    if len(instances) < size:
        raise NotDrawable(f"{theorem.name}: only {len(instances)} distinct instances of {size} at {dims}")
    return instances[:size]


def _draw_lists(theorem, dims_strategy, size: int, seed: int, examples: int) -> list[tuple]:
    """The first ``examples`` examples of (the dimensions drawn, ``size`` instances at them)."""
    _, instance_strategy = model_strategies(theorem)
    strategy = dims_strategy.flatmap(
        lambda ld: st.tuples(st.just(ld), st.lists(instance_strategy(theorem, *ld), min_size=size, max_size=size)))
    found = []

    @settings(max_examples=examples, deadline=None, database=None, phases=(Phase.generate,),
              suppress_health_check=list(HealthCheck))
    @hypothesis_seed(seed)
    @given(strategy)
    def take(drawn):
        if len(found) < examples:
            found.append(drawn)

    take()
    return found


def parameter_count(theorem, instance) -> int:
    """Number of scalar unknowns the minimiser works on for this instance."""
    from verifier.batch import statistics_of
    from verifier.numeric import Parametrisation
    _, dims = statistics_of(theorem, instance)
    return Parametrisation(theorem.model, {sp.Symbol(str(k), integer=True, positive=True): v
                                           for k, v in dims.items()}).size
