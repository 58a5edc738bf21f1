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


def _draw(theorem, dims_strategy, size: int, seed: int) -> list:
    _, instance_strategy = model_strategies(theorem)
    strategy = dims_strategy.flatmap(
        lambda ld: st.lists(instance_strategy(theorem, *ld), min_size=size, max_size=size))
    found = []

    @settings(max_examples=1, deadline=None, database=None, phases=(Phase.generate,),
              suppress_health_check=list(HealthCheck))
    @hypothesis_seed(seed)
    @given(strategy)
    def take(batch):
        if not found:
            found.append(batch)

    take()
    return found[0]


def parameter_count(theorem, instance) -> int:
    """Number of scalar unknowns the minimiser works on for this instance."""
    from verifier.batch import statistics_of
    from verifier.numeric import Parametrisation
    _, dims = statistics_of(theorem, instance)
    return Parametrisation(theorem.model, {sp.Symbol(str(k), integer=True, positive=True): v
                                           for k, v in dims.items()}).size
