"""Shrinking a proof step's counterexample, as Hypothesis shrinks a claim's: once a step fails on a
random instance, the same sampler is run again with every dimension its builders take from
:func:`dims` capped (1, then 2, then 3) and with simple values for its uniform draws (0.5, 1, 1.5, ...),
and the first instance on which the printed step still fails and its verified correction holds is
kept; the instance is then cut down to the entries the step reads.  Every candidate is built by the
step's own sampler, so it meets the step's hypotheses as the random ones do, and it is kept only if
the printed step fails on it exactly as judged before (an exception on a candidate disqualifies it).  The verdict never changes: only which failing instance
is shown.
"""
from __future__ import annotations

import contextvars
from typing import Callable

import numpy as np

CAPS = (1, 2, 3)                 # largest latent dimension tried, smallest first
TRIES = 6                        # draws per cap
_CAP: contextvars.ContextVar[int | None] = contextvars.ContextVar("proof_dimension_cap", default=None)
# Simple numbers, simplest first: halves, then quarters, then tenths.
_SIMPLE = [k / 2 for k in range(1, 21)] + [k / 4 for k in range(1, 41, 2)] + [k / 10 for k in range(1, 100)]


def dims(**defaults: int) -> dict[str, int]:
    """A builder's dimensions: its defaults, or while a counterexample is shrunk each capped (names in
    capitals, the data dimensions, at one more than the latent ones, so that d <= D still holds)."""
    cap = _CAP.get()
    if cap is None:
        return defaults
    return {k: min(v, cap + 1 if k[0].isupper() else cap) for k, v in defaults.items()}


class SimpleValues:
    """A numpy Generator whose ``uniform`` draws are simple numbers of [low, high) (distinct within one
    draw); every other draw (normal matrices, integers) is the wrapped generator's own."""

    def __init__(self, rng: np.random.Generator):
        self._rng = rng

    def __getattr__(self, name):
        return getattr(self._rng, name)

    def uniform(self, low=0.0, high=1.0, size=None):
        count = 1 if size is None else int(np.prod(size))
        pool = [v for v in _SIMPLE if low <= v < high][:max(4, count)]
        if len(pool) < count:
            return self._rng.uniform(low, high, size)
        picked = self._rng.choice(pool, size=count, replace=False)
        return float(picked[0]) if size is None else picked.reshape(size)


def smallest_failing(sampler: Callable, fails: Callable[[dict], bool], seed: int):
    """The first instance, smallest cap first, that ``sampler`` builds and ``fails`` holds on; or None."""
    for cap in CAPS:
        for attempt in range(TRIES):
            token = _CAP.set(cap)
            try:
                inst = sampler(SimpleValues(np.random.default_rng([seed, cap, attempt])))
                if fails(inst):
                    return inst
            except Exception:               # noqa: BLE001 - a sampler that needs its own sizes, a degenerate draw
                continue
            finally:
                _CAP.reset(token)
    return None


class _Reads(dict):
    """A dict that records which keys (paths, for nested dicts) are read."""

    def __init__(self, data: dict, path: tuple, log: set):
        super().__init__({k: _Reads(v, path + (k,), log) if isinstance(v, dict) else v for k, v in data.items()})
        self._path, self._log = path, log

    def __getitem__(self, key):
        self._log.add(self._path + (key,))
        return super().__getitem__(key)

    def get(self, key, default=None):
        if key in self:
            self._log.add(self._path + (key,))
        return super().get(key, default)


def _keep(data: dict, log: set, path: tuple = ()) -> dict:
    out = {}
    for k, v in data.items():
        if path + (k,) not in log:
            continue
        inner = _keep(v, log, path + (k,)) if isinstance(v, dict) else None
        out[k] = inner if inner else v          # a dict read as a whole (no entry of it read) stays whole
    return out


def entries_read(evaluate: Callable[[dict], object], data: dict) -> dict:
    """``data`` cut down to the entries ``evaluate(data)`` reads (for display; whole where that fails)."""
    log: set = set()
    try:
        evaluate(_Reads(data, (), log))
    except Exception:                       # noqa: BLE001 - shown whole
        return data
    return _keep(data, log) or data


def own_entries(inst: dict, fails: Callable[[dict], bool]) -> dict:
    """``inst`` cut down to the entries the step reads, if it still fails on them alone; else ``inst``."""
    log: set = set()
    try:
        fails(_Reads(inst, (), log))
        cut = _keep(inst, log)
        return cut if fails(cut) else inst
    except Exception:                       # noqa: BLE001 - read through a copy: keep every entry
        return inst


def _leaves(data: dict) -> int:
    return sum(_leaves(v) if isinstance(v, dict) else 1 for v in data.values())


def shrunk(step, sampler: Callable, fails_for: Callable[[object, dict], bool], seed: int,
           found: dict) -> tuple[dict, str]:
    """The counterexample to show in place of ``found``, and how it was shrunk (words).

    ``fails_for(statement, inst)`` judges a statement (``step.printed`` or ``step.corrected``) on an
    instance.  A smaller instance is taken only where the step's verified correction holds on it while
    the printed statement fails: that tells a sound smaller instance from one a step with fixed sizes
    would misread (a sum over the first three indices of a one-index instance).  A step without a
    correction keeps its instance, cut down to the entries it reads."""
    def fails(inst):
        return fails_for(step.printed, inst)

    how = []
    if step.corrected is not None:
        small = smallest_failing(sampler, lambda i: fails(i) and not fails_for(step.corrected, i), seed)
        if small is not None:
            found = small
            how.append("dimensions and values shrunk")
    cut = own_entries(found, fails)
    if _leaves(cut) < _leaves(found):
        how.append("only the entries the step reads")
    return cut, ", ".join(how) or "not shrunk (no simpler instance fails)"
