"""Shrinking a proof step's counterexample, as Hypothesis shrinks a claim's: once a step fails on a
random instance, the same sampler is run again with every dimension its builders take from
:func:`dims` capped (latent dimensions at 1, then 2, then 3; data dimensions at the latent cap, then one
more) and with simple values for its uniform draws (0.5, 1, 1.5, ...; the sampler's own values only
where they give a smaller instance), and the first instance on which the printed step still fails and
its verified correction holds is kept; the instance is then cut down to the entries the two statements
read.  Every candidate is built by the step's own sampler, so it meets the step's hypotheses as the
random ones do, and it is kept only if the printed step fails on it exactly as judged before (an
exception on a candidate disqualifies it).  The verdict never changes: only which failing instance is
shown.  How small a step's counterexample can be is the step's own ``ProofStep.min_dim``
(tests/test_proof_shrink.py holds every failing step to it).
"""
from __future__ import annotations

import contextvars
from typing import Callable

import numpy as np

# (largest latent dimension, how many more a data dimension may have), smallest first
CAPS = ((1, 0), (1, 1), (2, 0), (2, 1), (3, 0), (3, 1))
TRIES = 12                       # draws with simple values per cap
PLAIN_TRIES = 16                 # then draws with the sampler's own values
_CAP: contextvars.ContextVar[tuple[int, int] | None] = contextvars.ContextVar("proof_dimension_cap", default=None)
# Simple numbers, simplest first: halves, then quarters, then tenths.
_SIMPLE = [k / 2 for k in range(1, 21)] + [k / 4 for k in range(1, 41, 2)] + [k / 10 for k in range(1, 100)]


def dims(**defaults: int) -> dict[str, int]:
    """A builder's dimensions: its defaults, or while a counterexample is shrunk each capped (names in
    capitals, the data dimensions, at the latent cap or one more, so that d <= D still holds)."""
    capped = _CAP.get()
    if capped is None:
        return defaults
    cap, extra = capped
    return {k: min(v, cap + extra if k[0].isupper() else cap) for k, v in defaults.items()}


class SimpleValues:
    """A numpy Generator whose ``uniform`` draws are simple numbers of [low, high) (distinct within one
    draw), picked among the ``choices`` simplest there; every other draw (normal matrices, integers) is
    the wrapped generator's own."""

    def __init__(self, rng: np.random.Generator, choices: int = 4):
        self._rng, self._choices = rng, choices

    def __getattr__(self, name):
        return getattr(self._rng, name)

    def uniform(self, low=0.0, high=1.0, size=None):
        count = 1 if size is None else int(np.prod(size))
        pool = [v for v in _SIMPLE if low <= v < high][:max(self._choices, count)]
        if len(pool) < count:
            return self._rng.uniform(low, high, size)
        picked = self._rng.choice(pool, size=count, replace=False)
        return float(picked[0]) if size is None else picked.reshape(size)


def _draws(seed: int, cap: int, extra: int, simple: bool):
    """The generators tried at one cap: simple values among 4 (four times), 8, 8, 16, 16, ... choices, or
    the sampler's own."""
    if simple:
        for attempt in range(TRIES):
            yield SimpleValues(np.random.default_rng([seed, cap, extra, attempt]), 4 << max(0, attempt - 2) // 2)
    else:
        for attempt in range(TRIES, TRIES + PLAIN_TRIES):
            yield np.random.default_rng([seed, cap, extra, attempt])


def _first_failing(sampler: Callable, fails: Callable[[dict], bool], seed: int, caps, simple: bool):
    for cap, extra in caps:
        for rng in _draws(seed, cap, extra, simple):
            token = _CAP.set((cap, extra))
            try:
                inst = sampler(rng)
                if fails(inst):
                    return inst, (cap, extra)
            except Exception:               # noqa: BLE001 - a sampler that needs its own sizes, a degenerate draw
                continue
            finally:
                _CAP.reset(token)
    return None, None


def _numbers(data) -> int:
    """How many numbers an instance holds."""
    if isinstance(data, dict):
        return sum(_numbers(v) for v in data.values())
    return int(np.size(data))


def smallest_failing(sampler: Callable, fails: Callable[[dict], bool], seed: int, size: Callable = _numbers):
    """``(instance, simple)``: the smallest instance, smallest cap first, that ``sampler`` builds and
    ``fails`` holds on, and whether its uniform draws are simple values; or None.  Values that are not
    simple are taken only where they give an instance of smaller ``size`` (a failure that needs a value
    no simple one gives still gets the smallest dimensions)."""
    simple, at = _first_failing(sampler, fails, seed, CAPS, True)
    plain, _ = _first_failing(sampler, fails, seed, CAPS[:CAPS.index(at)] if at else CAPS, False)
    if plain is not None and (simple is None or size(plain) < size(simple)):
        return plain, False
    return (simple, True) if simple is not None else None


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
    """``inst`` cut down to the entries ``fails`` reads, if it still holds on them alone; else ``inst``."""
    log: set = set()
    try:
        if not fails(_Reads(inst, (), log)):
            return inst
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

    def printed_fails_corrected_holds(inst):
        return fails(inst) and not fails_for(step.corrected, inst)

    how = []
    if step.corrected is not None:
        small = smallest_failing(sampler, printed_fails_corrected_holds, seed,
                                 size=lambda i: _numbers(own_entries(i, printed_fails_corrected_holds)))
        if small is not None:
            found, simple = small
            how.append("dimensions and values shrunk" if simple else "dimensions shrunk")
    # the entries both statements read, kept only if the printed one still fails and the correction holds
    cut = own_entries(found, fails if step.corrected is None else printed_fails_corrected_holds)
    if _leaves(cut) < _leaves(found):
        how.append("only the entries the step reads")
    return cut, ", ".join(how) or "not shrunk (no simpler instance fails)"
